"""Analysis of one transcript against one script: steps, stop-words,
objections, scores and flags. Pure: no audio, no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from callqa.matching import Hit, PhraseSet, Turn, index_turns
from callqa.metrics import ConversationMetrics, conversation_metrics
from callqa.scripts import Script
from callqa.transcript import Transcript

__all__ = ["AnalysisOptions", "CallAnalysis", "analyze_transcript"]


@dataclass(frozen=True)
class AnalysisOptions:
    """Thresholds of the analysis; recorded with every result they produced."""

    step_threshold: float = 0.78  # similarity (0..1) of a step phrase to the words said
    stop_word_threshold: float = 0.92  # stricter: a false alarm costs a manager points
    objection_threshold: float = 0.8
    handling_threshold: float = 0.75
    handling_window_turns: int = 2  # manager turns after an objection searched for its handling
    handled_min_share: float = 0.5  # share of handling parts that makes an objection "handled"
    objection_weight: float = 0.3  # weight of objection handling in the overall score
    stop_word_penalty: dict = field(default_factory=lambda: {"minor": 0.01, "major": 0.03, "critical": 0.1})
    low_score_flag: float = 0.6  # overall below this flags the call for review


@dataclass
class StepResult:
    id: str
    found: bool
    score: float
    start: float | None
    evidence: str | None
    phrase: str | None
    required: bool
    on_time: bool | None  # None when the step has no within_seconds or was not found


@dataclass
class StopWordHit:
    id: str
    speaker: str
    start: float
    text: str
    severity: str
    score: float


@dataclass
class ObjectionResult:
    id: str
    start: float
    text: str
    handled: bool
    handling_found: list[str]
    handling_missing: list[str]
    handling_evidence: dict[str, str]


@dataclass
class Scores:
    script_compliance: float
    objection_handling: float | None  # None: no objection was raised
    overall: float


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
    script_id: str
    script_version: int
    options: AnalysisOptions

    def to_dict(self) -> dict:
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
            "script": {"id": self.script_id, "version": self.script_version},
            "language": self.transcript.language,
            "channel_layout": self.transcript.channel_layout,
            "asr": self.transcript.asr,
            "warnings": self.transcript.warnings,
            "options": asdict(self.options),
        }


def _by_speaker(turns: list[Turn], speaker: str) -> list[Turn]:
    # Unattributed speech (mono calls) is searched for both sides.
    return [t for t in turns if t.speaker in (speaker, "unknown")]


def _find_steps(script: Script, turns: list[Turn], opts: AnalysisOptions) -> list[StepResult]:
    results = []
    for step in script.steps:
        hit = PhraseSet(step.phrases, script.language).best(_by_speaker(turns, step.speaker), opts.step_threshold)
        on_time = None if hit is None or step.within_seconds is None else hit.start <= step.within_seconds
        results.append(StepResult(
            step.id, hit is not None, hit.score if hit else 0.0, hit.start if hit else None,
            hit.text if hit else None, hit.phrase if hit else None, step.required, on_time,
        ))
    return results


def _find_stop_words(script: Script, turns: list[Turn], opts: AnalysisOptions) -> list[StopWordHit]:
    manager = _by_speaker(turns, "manager")
    hits = [
        StopWordHit(word.id, turns[hit.turn].speaker, hit.start, hit.text, word.severity, hit.score)
        for word in script.stop_words
        for hit in PhraseSet([word.phrase], script.language).all(manager, opts.stop_word_threshold)
    ]
    return sorted(hits, key=lambda h: h.start)


def _find_objections(script: Script, turns: list[Turn], opts: AnalysisOptions) -> list[ObjectionResult]:
    client = _by_speaker(turns, "client")
    results = []
    for objection in script.objections:
        # Several phrases of one objection in one turn are one occurrence; keep the best.
        occurrences: dict[int, Hit] = {}
        for hit in PhraseSet(objection.client_phrases, script.language).all(client, opts.objection_threshold):
            if hit.turn not in occurrences or hit.score > occurrences[hit.turn].score:
                occurrences[hit.turn] = hit
        for occurrence in sorted(occurrences.values(), key=lambda h: h.start):
            after = [t for t in _by_speaker(turns, "manager") if t.index > occurrence.turn]
            window = after[: opts.handling_window_turns]
            found: dict[str, str] = {}
            for part in objection.handling:
                hit = PhraseSet(part.phrases, script.language).best(window, opts.handling_threshold)
                if hit:
                    found[part.id] = hit.text
            missing = [p.id for p in objection.handling if p.id not in found]
            handled = len(found) / len(objection.handling) >= opts.handled_min_share
            results.append(ObjectionResult(objection.id, occurrence.start, occurrence.text, handled, list(found), missing, found))
    return sorted(results, key=lambda o: o.start)


def _score(script: Script, steps, stop_words, objections, opts: AnalysisOptions) -> Scores:
    weights = {s.id: s.weight for s in script.steps}
    compliance = sum(weights[s.id] for s in steps if s.found) / sum(weights.values())
    handling = None
    if objections:
        parts = {o.id: len(o.handling) for o in script.objections}
        handling = sum(len(o.handling_found) / parts[o.id] for o in objections) / len(objections)
    overall = compliance if handling is None else (1 - opts.objection_weight) * compliance + opts.objection_weight * handling
    overall -= sum(opts.stop_word_penalty[h.severity] for h in stop_words)
    return Scores(round(compliance, 3), None if handling is None else round(handling, 3), round(min(max(overall, 0.0), 1.0), 3))


def _flags(transcript: Transcript, steps, stop_words, objections, scores: Scores, opts: AnalysisOptions) -> list[str]:
    flags = [f"missing_required_step:{s.id}" for s in steps if s.required and not s.found]
    flags += [f"late_step:{s.id}" for s in steps if s.on_time is False]
    flags += sorted({f"stop_word:{h.id}" for h in stop_words if h.severity != "minor"})
    flags += [f"objection_not_handled:{o.id}" for o in objections if not o.handled]
    if any(s.speaker == "unknown" for s in transcript.segments):
        flags.append("speaker_unknown")
    if transcript.warnings:
        flags.append("audio_warning")
    if scores.overall < opts.low_score_flag:
        flags.append("low_score")
    return flags


def analyze_transcript(transcript: Transcript, script: Script, call_id: str = "call", options: AnalysisOptions | None = None) -> CallAnalysis:
    """Check a transcript against a script."""
    opts = options or AnalysisOptions()
    turns = index_turns(transcript.segments, script.language)
    steps = _find_steps(script, turns, opts)
    stop_words = _find_stop_words(script, turns, opts)
    objections = _find_objections(script, turns, opts)
    scores = _score(script, steps, stop_words, objections, opts)
    flags = _flags(transcript, steps, stop_words, objections, scores, opts)
    return CallAnalysis(
        call_id, transcript.duration, transcript, steps, stop_words, objections, scores, flags,
        conversation_metrics(transcript), script.id, script.version, opts,
    )
