"""Conversation metrics that need no script: talk time and balance."""

from __future__ import annotations

from dataclasses import dataclass

from callqa.types import Transcript

__all__ = ["ConversationMetrics", "conversation_metrics"]


@dataclass(frozen=True)
class ConversationMetrics:
    manager_talk_seconds: float
    client_talk_seconds: float
    unknown_talk_seconds: float
    manager_talk_share: float | None  # of attributed talk; None when nobody is attributed


def conversation_metrics(transcript: Transcript) -> ConversationMetrics:
    talk = {"manager": 0.0, "client": 0.0, "unknown": 0.0}
    for seg in transcript.segments:
        talk[seg.speaker] += max(seg.end - seg.start, 0.0)
    attributed = talk["manager"] + talk["client"]
    share = round(talk["manager"] / attributed, 3) if attributed else None
    return ConversationMetrics(round(talk["manager"], 2), round(talk["client"], 2), round(talk["unknown"], 2), share)
