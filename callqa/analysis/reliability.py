"""Which speech can be judged: a missing step is only held against the manager
where the recogniser was sure of what it heard."""

from __future__ import annotations

import zlib

from callqa.analysis.options import AnalysisOptions
from callqa.types import Segment, Transcript

__all__ = ["segment_is_reliable", "side_reliability"]


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def segment_is_reliable(seg: Segment, opts: AnalysisOptions) -> bool:
    """Whether the recogniser was sure enough of a segment to judge from it. Human transcripts always are."""
    if seg.looped:
        return False
    if seg.avg_logprob is not None and seg.avg_logprob < opts.min_avg_logprob:
        return False
    if seg.no_speech_prob is not None and seg.avg_logprob is not None and seg.no_speech_prob > opts.max_no_speech_prob:
        return False
    return len(seg.text) < 40 or _compression_ratio(seg.text) <= opts.max_compression_ratio


def side_reliability(transcript: Transcript, reliable: list[bool], speakers: tuple[str, ...], opts: AnalysisOptions) -> float | None:
    """Share of a side's speech time that is reliable; None when the side said (almost) nothing."""
    total = sure = 0.0
    for seg, ok in zip(transcript.segments, reliable):
        if seg.speaker in speakers:
            length = max(seg.end - seg.start, 0.0)
            total += length
            sure += length if ok else 0.0
    return round(sure / total, 3) if total >= opts.min_side_speech_seconds else None
