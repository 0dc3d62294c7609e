"""Decoder segments to utterances: each speaker's segments split at pauses and
sentence ends, merged across speakers into one time-ordered transcript, with
the utterances said over the other side marked."""

from __future__ import annotations

from typing import Any

from callqa.types import AsrSegment, Segment, Speaker, Transcript, Word

__all__ = ["build_transcript"]

UTTERANCE_PAUSE = 0.6  # seconds of silence between words that end an utterance
_SENTENCE_END = (".", "?", "!", "…")
OVERLAP_MIN_S = 0.3  # shorter overlaps are turn-taking, or word timing slack


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


def build_transcript(channel_segments: dict[Speaker, list[AsrSegment]], duration: float, **meta: Any) -> Transcript:
    """Merge per-speaker ASR segments into one time-ordered list of utterances."""
    segments = [utterance for speaker, asr_segments in channel_segments.items() for seg in asr_segments for utterance in _utterances(speaker, seg)]
    segments.sort(key=lambda s: (s.start, s.end))
    _mark_overlaps(segments)
    return Transcript(segments, duration, **meta)


def _mark_overlaps(segments: list[Segment]) -> None:
    """Mark utterances during which the other side was talking too (time-ordered input)."""
    for i, seg in enumerate(segments):
        for other in segments[i + 1 :]:
            if other.start >= seg.end - OVERLAP_MIN_S:
                break
            if other.speaker != seg.speaker and min(seg.end, other.end) - other.start >= OVERLAP_MIN_S:
                seg.overlap = other.overlap = True
