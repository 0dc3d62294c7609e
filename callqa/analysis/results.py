"""What the analysis of one call finds, and its JSON form (the `callqa analyze --json` contract)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from callqa.analysis.metrics import ConversationMetrics
from callqa.analysis.options import AnalysisOptions
from callqa.types import Severity, Transcript

__all__ = ["CallAnalysis", "HandlingPartResult", "ObjectionResult", "Scores", "StepResult", "StepStatus", "StopWordHit", "UncertainReason"]

StepStatus = Literal["found", "missing", "uncertain"]
UncertainReason = Literal["partial_evidence", "unreliable_speech", "call_follows_script"]


@dataclass
class StepResult:
    id: str
    status: StepStatus
    found: bool
    score: float
    start: float | None
    end: float | None
    evidence: str | None  # the words as said
    phrase: str | None  # the script phrase they matched
    context: str | None
    required: bool
    on_time: bool | None  # None when the step has no within_seconds or was not found
    in_order: bool | None  # None when not found
    # for an uncertain step, why a person should look: "partial_evidence" (a key word in passing, a wording half
    # said), "unreliable_speech" (the recogniser was unsure there) or "call_follows_script" (the rest of the call
    # follows the script, so other words are likelier than a skipped step)
    uncertain_because: UncertainReason | None = None


@dataclass
class StopWordHit:
    id: str
    speaker: str
    start: float
    text: str
    context: str
    severity: Severity
    score: float


@dataclass
class HandlingPartResult:
    id: str
    found: bool
    score: float
    start: float | None
    text: str | None
    phrase: str | None


@dataclass
class ObjectionResult:
    id: str
    start: float
    text: str
    context: str
    score: float
    handled: bool
    handling_found: list[str]
    handling_missing: list[str]
    handling: list[HandlingPartResult]
    answer: str | None = None  # the manager's own answer of substance that made it handled where no script part did


@dataclass
class Scores:
    script_compliance: float | None  # None: every step was uncertain
    objection_handling: float | None  # None: no objection was raised
    overall: float | None


@dataclass
class CallAnalysis:
    call_id: str
    duration: float
    transcript: Transcript
    steps: list[StepResult]
    stop_words: list[StopWordHit]
    objections: list[ObjectionResult]
    scores: Scores
    flags: list[str]
    metrics: ConversationMetrics
    reliability: dict[str, float | None]  # share of each side's speech the recogniser was sure of
    script_id: str
    script_version: int
    options: AnalysisOptions

    def to_dict(self) -> dict[str, Any]:
        """The `callqa analyze --json` contract (DESIGN.md), plus extra keys beside it."""
        return {
            "call_id": self.call_id,
            "duration": self.duration,
            "segments": [s.to_dict() for s in self.transcript.segments],
            "steps": [asdict(s) for s in self.steps],
            "stop_words": [asdict(h) for h in self.stop_words],
            "objections": [asdict(o) for o in self.objections],
            "scores": asdict(self.scores),
            "flags": self.flags,
            "metrics": asdict(self.metrics),
            "reliability": self.reliability,
            "script": {"id": self.script_id, "version": self.script_version},
            "language": self.transcript.language,
            "channel_layout": self.transcript.channel_layout,
            "asr": self.transcript.asr.to_dict() if self.transcript.asr else None,
            "warnings": self.transcript.warnings,
            "options": asdict(self.options),
        }
