"""Transcript stage: speaker-labelled segments, merged across channels.

A transcript is what every later stage reads, and it is stored, so a new
script version re-scores old calls without running ASR again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from callqa.asr import AsrSegment, Word
from callqa.errors import TranscriptError

__all__ = ["SPEAKERS", "Segment", "Transcript", "build_transcript", "load_transcript", "transcript_from_dict"]

Speaker = Literal["manager", "client", "unknown"]
SPEAKERS = ("manager", "client", "unknown")


@dataclass
class Segment:
    speaker: Speaker
    start: float
    end: float
    text: str
    avg_logprob: float | None = None  # None for transcripts written by people
    no_speech_prob: float | None = None
    words: list[Word] = field(default_factory=list)
    looped: bool = False  # the recogniser looped here; what was said under the loop is lost
    overlap: bool = False  # the other side was talking at the same time

    def to_dict(self) -> dict:
        data = {"speaker": self.speaker, "start": self.start, "end": self.end, "text": self.text}
        if self.avg_logprob is not None:
            data |= {"avg_logprob": round(self.avg_logprob, 3), "no_speech_prob": round(self.no_speech_prob or 0.0, 3)}
        data |= {flag: True for flag in ("looped", "overlap") if getattr(self, flag)}
        if self.words:
            data["words"] = [asdict(w) for w in self.words]
        return data


@dataclass
class Transcript:
    segments: list[Segment]
    duration: float
    language: str | None = None
    channel_layout: str | None = None
    asr: dict | None = None  # AsrOptions that produced it, None for a human transcript
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "language": self.language, "duration": self.duration, "channel_layout": self.channel_layout,
            "asr": self.asr, "warnings": self.warnings,
            "segments": [s.to_dict() for s in self.segments],
        }


UTTERANCE_PAUSE = 0.6  # seconds of silence between words that end an utterance
_SENTENCE_END = (".", "?", "!", "…")


def _utterances(speaker: Speaker, seg: AsrSegment) -> list[Segment]:
    """Split a decoder segment (up to 30 s, often several turns) at pauses and sentence ends."""
    if not seg.words:
        return [Segment(speaker, seg.start, seg.end, seg.text, seg.avg_logprob, seg.no_speech_prob, looped=seg.looped)]
    pieces: list[list[Word]] = [[]]
    for word in seg.words:
        previous = pieces[-1][-1] if pieces[-1] else None
        if previous and (word.start - previous.end > UTTERANCE_PAUSE or previous.text.endswith(_SENTENCE_END)):
            pieces.append([])
        pieces[-1].append(word)
    return [
        Segment(speaker, words[0].start, words[-1].end, " ".join(w.text for w in words), seg.avg_logprob, seg.no_speech_prob, words, seg.looped)
        for words in pieces
    ]


def build_transcript(channel_segments: dict[Speaker, list[AsrSegment]], duration: float, **meta) -> Transcript:
    """Merge per-speaker ASR segments into one time-ordered list of utterances."""
    segments = [
        utterance
        for speaker, asr_segments in channel_segments.items()
        for seg in asr_segments
        for utterance in _utterances(speaker, seg)
    ]
    segments.sort(key=lambda s: (s.start, s.end))
    _mark_overlaps(segments)
    return Transcript(segments, duration, **meta)


OVERLAP_MIN_S = 0.3  # shorter overlaps are turn-taking, or word timing slack


def _mark_overlaps(segments: list[Segment]) -> None:
    """Mark utterances during which the other side was talking too (time-ordered input)."""
    for i, seg in enumerate(segments):
        for other in segments[i + 1:]:
            if other.start >= seg.end - OVERLAP_MIN_S:
                break
            if other.speaker != seg.speaker and min(seg.end, other.end) - other.start >= OVERLAP_MIN_S:
                seg.overlap = other.overlap = True


def _parse_segment(index: int, raw: object, problems: list[str]) -> Segment | None:
    where = f"segments[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object with speaker, start, end, text")
        return None
    speaker = raw.get("speaker", "unknown")
    if speaker not in SPEAKERS:
        problems.append(f"{where}.speaker: must be one of {', '.join(SPEAKERS)}, not {speaker!r}")
    start, end = raw.get("start"), raw.get("end")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
        problems.append(f"{where}: start and end must be numbers of seconds")
        return None
    if end < start:
        problems.append(f"{where}: end {end} is before start {start}")
    if not isinstance(raw.get("text"), str):
        problems.append(f"{where}.text: must be a string")
        return None
    words = [Word(**w) for w in raw.get("words", [])]
    return Segment(speaker, float(start), float(end), raw["text"], raw.get("avg_logprob"), raw.get("no_speech_prob"), words,
                   bool(raw.get("looped")), bool(raw.get("overlap")))


def transcript_from_dict(data: object, source: str = "transcript") -> Transcript:
    """Validate a transcript in the contract's `segments` shape; all problems at once."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise TranscriptError(f"{source}: expected a JSON object with a 'segments' list", hint='shape: {"segments": [{"speaker": "manager", "start": 0.0, "end": 2.1, "text": "..."}]}')
    problems: list[str] = []
    segments = [s for i, raw in enumerate(data["segments"]) if (s := _parse_segment(i, raw, problems))]
    if problems:
        raise TranscriptError(f"{source}: " + "; ".join(problems), hint="fix the listed segments")
    segments.sort(key=lambda s: (s.start, s.end))
    duration = data.get("duration") or (max((s.end for s in segments), default=0.0))
    return Transcript(segments, float(duration), data.get("language"), data.get("channel_layout"), data.get("asr"), list(data.get("warnings", [])))


def load_transcript(path: Path | str) -> Transcript:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file", hint="check the path") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"{path.name}: not valid UTF-8 JSON ({exc})", hint="the transcript must be a JSON file") from None
    return transcript_from_dict(data, path.name)
