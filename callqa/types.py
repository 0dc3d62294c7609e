"""Leaf types every stage reads and writes: words, segments, transcripts, the
ASR record kept with a transcript, a recording's metadata.

Imported by everything, importing nothing heavy (no recogniser, no spaCy, no
database), so that a page reading the database never loads the ASR stack.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from typing_extensions import TypeIs

from callqa.errors import TranscriptError

__all__ = [
    "SPEAKERS",
    "SUPPORTED_LANGUAGES",
    "AsrRecord",
    "AsrSegment",
    "ChannelLayout",
    "Direction",
    "MetadataSource",
    "RecordingMetadata",
    "Segment",
    "Severity",
    "Speaker",
    "SpeakerSplit",
    "Transcript",
    "Word",
    "load_transcript",
    "transcript_from_dict",
]

Speaker = Literal["manager", "client", "unknown"]
SPEAKERS: tuple[Speaker, ...] = get_args(Speaker)
ChannelLayout = Literal["manager-left", "client-left", "mono"]
Direction = Literal["inbound", "outbound"]
Severity = Literal["minor", "major", "critical"]  # of a stop-word
MetadataSource = Literal["sidecar", "manifest", "filename"]
SUPPORTED_LANGUAGES = ("ru", "en")  # of scripts and of the analysis


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class AsrSegment:
    """A stretch of one signal as the decoder returned it (up to 30 s, often several turns)."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()
    looped: bool = False  # a decoder loop was cut out of it: the words under the loop are lost


@dataclass(frozen=True)
class SpeakerSplit:
    """How the two voices of a mono call were told apart, and which one is the manager."""

    method: str | None  # None: the speaker encoder is not installed
    reliable: bool
    separation: float | None = None
    manager_voice: int | None = None  # None with `evidence`: both voices fit the manager's part equally
    evidence: dict[str, int] | None = None  # script items found with each voice as the manager; None: no decision was tried

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "reliable": self.reliable}
        if self.separation is not None:
            data["separation"] = self.separation
        if self.evidence is not None:
            data |= {"manager_voice": self.manager_voice, "evidence": self.evidence}
        return data


@dataclass(frozen=True)
class AsrRecord:
    """What produced a transcript: decoding options, versions, and where it ran. Stored with the call."""

    model: str | None = None
    device: str | None = None
    compute_type: str | None = None
    beam_size: int | None = None
    batch_size: int | None = None
    vad_threshold: float | None = None
    word_timestamps: bool | None = None
    hotwords: str | None = None
    pipeline_version: str | None = None
    speakers: SpeakerSplit | None = None  # mono calls only
    worker: str | None = None  # host:pid of the batch worker that transcribed it

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("speakers", "worker")}
        if self.speakers is not None:
            data["speakers"] = self.speakers.to_dict()
        if self.worker is not None:
            data["worker"] = self.worker
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AsrRecord:
        """From a stored or hand-written record: known keys only, so an old or foreign record still reads."""
        names = {f.name for f in fields(cls)} - {"speakers"}
        speakers = data.get("speakers")
        split = None
        if isinstance(speakers, dict):
            known = {f.name for f in fields(SpeakerSplit)}
            split = SpeakerSplit(**{"method": None, "reliable": False} | {k: v for k, v in speakers.items() if k in known})
        return cls(**{k: v for k, v in data.items() if k in names}, speakers=split)


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

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"speaker": self.speaker, "start": self.start, "end": self.end, "text": self.text}
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
    asr: AsrRecord | None = None  # None for a human transcript
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "duration": self.duration,
            "channel_layout": self.channel_layout,
            "asr": self.asr.to_dict() if self.asr else None,
            "warnings": self.warnings,
            "segments": [s.to_dict() for s in self.segments],
        }


@dataclass(frozen=True)
class RecordingMetadata:
    """What is known of a recording besides its audio, from its sidecar, the manifest or its file name."""

    call_id: str
    manager_id: str | None = None
    manager_name: str | None = None
    manager_ext: str | None = None
    team: str | None = None
    client_phone_hash: str | None = None
    started_at: datetime | None = None
    direction: Direction | None = None
    channels: ChannelLayout | None = None  # None: the caller falls back to the channels setting
    script: str | None = None
    sources: tuple[MetadataSource, ...] = ()  # those that described the recording


def _number(value: object) -> TypeIs[float]:
    """A finite JSON number (JSON has no NaN, but Python's reader accepts it; true/false are no numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_WORD_FIELDS = ("start", "end", "text", "probability")


def _parse_words(where: str, raw: object, problems: list[str]) -> list[Word]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{where}.words: must be a list of words")
        return []
    words = []
    for j, item in enumerate(raw):
        here = f"{where}.words[{j}]"
        if not isinstance(item, dict):
            problems.append(f"{here}: must be an object with {', '.join(_WORD_FIELDS)}")
            continue
        if unknown := sorted(set(item) - set(_WORD_FIELDS)):
            problems.append(f"{here}: unknown field(s) {', '.join(map(str, unknown))}")
        start, end, text, probability = (item.get(name) for name in _WORD_FIELDS)
        if not (_number(start) and _number(end) and _number(probability)) or not isinstance(text, str):
            problems.append(f"{here}: start, end and probability must be numbers, text a string")
            continue
        words.append(Word(float(start), float(end), text, float(probability)))
    return words


def _parse_segment(index: int, raw: object, problems: list[str]) -> Segment | None:
    where = f"segments[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object with speaker, start, end, text")
        return None
    speaker = raw.get("speaker", "unknown")
    if speaker not in SPEAKERS:
        problems.append(f"{where}.speaker: must be one of {', '.join(SPEAKERS)}, not {speaker!r}")
    start, end = raw.get("start"), raw.get("end")
    if not _number(start) or not _number(end):
        problems.append(f"{where}: start and end must be numbers of seconds")
        return None
    confidence = {name: raw.get(name) for name in ("avg_logprob", "no_speech_prob")}
    for name, value in confidence.items():
        if value is not None and not _number(value):
            problems.append(f"{where}.{name}: must be a number")
            confidence[name] = None
    if end < start:
        problems.append(f"{where}: end {end} is before start {start}")
    if not isinstance(raw.get("text"), str):
        problems.append(f"{where}.text: must be a string")
        return None
    words = _parse_words(where, raw.get("words"), problems)
    return Segment(
        speaker,
        float(start),
        float(end),
        raw["text"],
        confidence["avg_logprob"],
        confidence["no_speech_prob"],
        words,
        bool(raw.get("looped")),
        bool(raw.get("overlap")),
    )


def transcript_from_dict(data: object, source: str = "transcript") -> Transcript:
    """Validate a transcript in the contract's `segments` shape; all problems at once."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise TranscriptError(
            f"{source}: expected a JSON object with a 'segments' list",
            hint='shape: {"segments": [{"speaker": "manager", "start": 0.0, "end": 2.1, "text": "..."}]}',
        )
    problems: list[str] = []
    segments = [s for i, raw in enumerate(data["segments"]) if (s := _parse_segment(i, raw, problems))]
    if data.get("duration") is not None and not _number(data["duration"]):
        problems.append("duration: must be a number of seconds")
    warnings = data.get("warnings") or []
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        problems.append("warnings: must be a list of strings")
    if problems:
        raise TranscriptError(f"{source}: " + "; ".join(problems), hint="fix the listed segments")
    segments.sort(key=lambda s: (s.start, s.end))
    duration = data.get("duration") or (max((s.end for s in segments), default=0.0))
    asr = AsrRecord.from_dict(data["asr"]) if isinstance(data.get("asr"), dict) else None
    return Transcript(segments, float(duration), data.get("language"), data.get("channel_layout"), asr, list(warnings))


def load_transcript(path: Path | str) -> Transcript:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file", hint="check the path") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"{path.name}: not valid UTF-8 JSON ({exc})", hint="the transcript must be a JSON file") from None
    return transcript_from_dict(data, path.name)
