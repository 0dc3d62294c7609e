"""A call's scores and the flags that send it to review."""

from __future__ import annotations

from callqa.analysis.options import AnalysisOptions
from callqa.analysis.results import ObjectionResult, Scores, StepResult, StopWordHit
from callqa.scripts import Script
from callqa.types import Transcript

__all__ = ["flags", "scores"]


def scores(script: Script, steps: list[StepResult], stop_words: list[StopWordHit], objections: list[ObjectionResult], opts: AnalysisOptions) -> Scores:
    weights = {s.id: s.weight for s in script.steps}
    judged = [s for s in steps if s.status != "uncertain"]  # uncertain is not held against the manager
    compliance = sum(weights[s.id] for s in judged if s.found) / sum(weights[s.id] for s in judged) if judged else None
    handling = sum(len(o.handling_found) / len(o.handling) for o in objections) / len(objections) if objections else None
    handling_score = None if handling is None else round(handling, 3)
    if compliance is None:
        return Scores(None, handling_score, None)
    overall = compliance if handling is None else (1 - opts.objection_weight) * compliance + opts.objection_weight * handling
    overall -= sum(opts.stop_word_penalty.of(h.severity) for h in stop_words)
    return Scores(round(compliance, 3), handling_score, round(min(max(overall, 0.0), 1.0), 3))


def flags(
    transcript: Transcript,
    steps: list[StepResult],
    stop_words: list[StopWordHit],
    objections: list[ObjectionResult],
    call_scores: Scores,
    opts: AnalysisOptions,
) -> list[str]:
    found = [f"missing_required_step:{s.id}" for s in steps if s.required and s.status == "missing"]
    found += [f"uncertain_step:{s.id}" for s in steps if s.required and s.status == "uncertain"]
    found += [f"late_step:{s.id}" for s in steps if s.on_time is False]
    found += [f"out_of_order_step:{s.id}" for s in steps if s.in_order is False]
    found += sorted({f"stop_word:{h.id}" for h in stop_words if h.severity != "minor"})
    found += [f"objection_not_handled:{o.id}" for o in objections if not o.handled]
    if any(s.speaker == "unknown" for s in transcript.segments):
        found.append("speaker_unknown")
    if transcript.warnings:
        found.append("audio_warning")
    if any(s.status == "uncertain" for s in steps if s.required):
        found.append("needs_review")
    if call_scores.overall is not None and call_scores.overall < opts.low_score_flag:
        found.append("low_score")
    return found
