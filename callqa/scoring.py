"""Analysis of one transcript against one script: steps, stop-words,
objections, scores and flags. Pure: no audio, no database.

Every verdict carries its evidence (score, phrase, words as said, time), and
a required step that was not found in speech the recogniser was unsure of is
"uncertain", for a person to review, instead of counting against the manager.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field
from typing import Literal

from callqa.matching import CallIndex, Hit, MatchParams, PhraseBatch, PhraseSet
from callqa.metrics import ConversationMetrics, conversation_metrics
from callqa.nlp import lemmatize, short_names
from callqa.scripts import MANAGER_PLACEHOLDER, Script
from callqa.transcript import Segment, Transcript

__all__ = ["AnalysisOptions", "CallAnalysis", "analyze_transcript", "segment_is_reliable"]

_SIDES = {"manager": ("manager", "unknown"), "client": ("client", "unknown")}  # unattributed speech counts for both


@dataclass(frozen=True)
class AnalysisOptions:
    """Every threshold of the analysis; recorded with each result it produced."""

    step_threshold: float = 0.8  # share of a step phrase's words found (fuzzily) in one stretch of speech
    objection_threshold: float = 0.75
    handling_threshold: float = 0.7
    stop_word_threshold: float = 0.92  # stop-words: word forms, in order, no gaps; a false alarm costs points
    token_floor: float = 0.7  # a word counts as found from this similarity (0..1, rapidfuzz ratio) up...
    short_word_floor: float = 0.85  # ...or from this one for words of up to 4 letters, which differ by little, and one-word phrases
    extra_words: int = 2  # words that may sit inside a phrase (fillers, a name); half the phrase's length if more
    order_penalty: float = 0.9  # factor for a phrase said in another word order
    function_word_weight: float = 0.5  # weight of "на", "какой", "вы"... against 1 for content words
    handling_window_turns: int = 2  # manager turns after an objection searched for its handling...
    handling_window_seconds: float = 60.0  # ...that start within this many seconds of it
    handled_min_share: float = 0.5  # share of handling parts that makes an objection "handled"
    objection_weight: float = 0.3  # weight of objection handling in the overall score
    stop_word_penalty: dict = field(default_factory=lambda: {"minor": 0.01, "major": 0.03, "critical": 0.1})
    low_score_flag: float = 0.6  # overall below this flags the call for review
    # When the recogniser is unsure (per segment), a missing step is "uncertain":
    min_avg_logprob: float = -1.0
    max_no_speech_prob: float = 0.6
    max_compression_ratio: float = 2.4  # looped text ("что, что, что...") compresses well
    min_reliable_share: float = 0.6  # of a side's speech, below which all its missing steps are uncertain
    min_side_speech_seconds: float = 2.0  # less speech than this on a side: nothing can be judged
    near_miss: float = 0.5  # a sub-threshold match this good in unreliable speech makes a step uncertain


@dataclass
class StepResult:
    id: str
    status: Literal["found", "missing", "uncertain"]
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


@dataclass
class StopWordHit:
    id: str
    speaker: str
    start: float
    text: str
    context: str
    severity: str
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
            "reliability": self.reliability,
            "script": {"id": self.script_id, "version": self.script_version},
            "language": self.transcript.language,
            "channel_layout": self.transcript.channel_layout,
            "asr": self.transcript.asr,
            "warnings": self.transcript.warnings,
            "options": asdict(self.options),
        }


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


def _side_reliability(transcript: Transcript, reliable: list[bool], speakers: tuple[str, ...], opts: AnalysisOptions) -> float | None:
    """Share of a side's speech time that is reliable; None when the side said (almost) nothing."""
    total = sure = 0.0
    for seg, ok in zip(transcript.segments, reliable):
        if seg.speaker in speakers:
            length = max(seg.end - seg.start, 0.0)
            total += length
            sure += length if ok else 0.0
    return round(sure / total, 3) if total >= opts.min_side_speech_seconds else None


def _in_order(hits: list[Hit | None]) -> list[bool | None]:
    """Steps whose times follow the script's order: the longest run of found
    steps in increasing time is in order, the others were done out of order."""
    found = [(i, h.start) for i, h in enumerate(hits) if h is not None]
    best: list[list[int]] = []  # best[k]: longest increasing chain ending at found[k]
    for k, (_, t) in enumerate(found):
        prior = [best[j] for j in range(k) if found[j][1] <= t]
        best.append(max(prior, key=len, default=[]) + [k])
    chain = {found[k][0] for k in max(best, key=len, default=[])}
    return [None if h is None else i in chain for i, h in enumerate(hits)]


@dataclass(frozen=True)
class _CompiledScript:
    """A script's phrases compiled for search, built once per script and options."""

    steps: dict[str, PhraseBatch]  # per side
    stop_words: PhraseBatch
    objections: PhraseBatch
    handling: PhraseBatch
    not_after: dict[str, frozenset[str]]  # per stop-word: lemmas that make it another word


_compiled: dict[tuple, tuple[Script, _CompiledScript]] = {}


def _compile(script: Script, opts: AnalysisOptions, values: dict[str, tuple[str, ...]]) -> _CompiledScript:
    key = (id(script), tuple(sorted(values.items())), opts.step_threshold, opts.objection_threshold, opts.handling_threshold,
           opts.stop_word_threshold, opts.token_floor, opts.short_word_floor, opts.order_penalty, opts.function_word_weight, opts.extra_words)
    if key in _compiled and _compiled[key][0] is script:
        return _compiled[key][1]
    lang, places = script.language, {**script.placeholders, **values}
    step = MatchParams(opts.step_threshold, opts.token_floor, opts.short_word_floor, opts.order_penalty, opts.function_word_weight, opts.extra_words)
    detect = MatchParams(opts.objection_threshold, opts.token_floor, opts.short_word_floor, opts.order_penalty, opts.function_word_weight, opts.extra_words)
    handle = MatchParams(opts.handling_threshold, opts.token_floor, opts.short_word_floor, opts.order_penalty, opts.function_word_weight, opts.extra_words)
    stop = MatchParams(opts.stop_word_threshold, opts.token_floor, opts.short_word_floor, 0.0, opts.function_word_weight, extra_words=0)  # the words as written
    compiled = _CompiledScript(
        steps={side: PhraseBatch([(s.id, PhraseSet(s.phrases, lang, places), step) for s in script.steps if s.speaker == side], near=True)
               for side in _SIDES},
        stop_words=PhraseBatch([(w.id, PhraseSet([w.phrase], lang, forms=True), stop) for w in script.stop_words]),
        objections=PhraseBatch([(o.id, PhraseSet(o.client_phrases, lang, places), detect) for o in script.objections]),
        handling=PhraseBatch([((o.id, p.id), PhraseSet(p.phrases, lang, places), handle) for o in script.objections for p in o.handling]),
        not_after={w.id: frozenset(t.lemma for word in w.not_after for t in lemmatize(word, lang)) for w in script.stop_words},
    )
    if len(_compiled) > 64:
        _compiled.clear()
    _compiled[key] = (script, compiled)  # holding the script keeps its id from being reused
    return compiled


def _best(hits: list[Hit]) -> Hit | None:
    return min(hits, key=lambda h: (-h.score, h.start)) if hits else None


def _find_steps(script: Script, compiled: _CompiledScript, index: CallIndex, reliability: dict, opts: AnalysisOptions) -> list[StepResult]:
    found = {}
    for side, speakers in _SIDES.items():
        found |= index.search_many(compiled.steps[side], speakers)
    hits = [_best(found[step.id].hits) for step in script.steps]
    results = []
    for step, hit, in_order in zip(script.steps, hits, _in_order(hits)):
        if hit:
            on_time = None if step.within_seconds is None else hit.start <= step.within_seconds
            results.append(StepResult(step.id, "found", True, hit.score, hit.start, hit.end, hit.text, hit.phrase,
                                      hit.context, step.required, on_time, in_order))
            continue
        near, side = found[step.id], reliability[step.speaker]
        uncertain = side is None or side < opts.min_reliable_share or (near.near_unreliable and near.near_score >= opts.near_miss)
        results.append(StepResult(step.id, "uncertain" if uncertain else "missing", False, round(near.near_score, 3),
                                  None, None, None, None, None, step.required, None, None))
    return results


def _find_stop_words(script: Script, compiled: _CompiledScript, index: CallIndex) -> list[StopWordHit]:
    words = {w.id: w for w in script.stop_words}
    found = index.search_many(compiled.stop_words, _SIDES["manager"])

    def counts(word, hit: Hit) -> bool:
        if word.not_after:
            previous = index.word_before(hit)
            if previous is not None and previous.lemma in compiled.not_after[word.id]:
                return False  # "какого типа": the noun, not the filler
        return not word.filler or index.is_set_off(hit)

    hits = [
        StopWordHit(word_id, index.turns[hit.turn].speaker, hit.start, hit.text, hit.context, words[word_id].severity, hit.score)
        for word_id, result in found.items()
        for hit in result.hits
        if counts(words[word_id], hit)
    ]
    return sorted(hits, key=lambda h: h.start)


def _find_objections(script: Script, compiled: _CompiledScript, index: CallIndex, opts: AnalysisOptions) -> list[ObjectionResult]:
    raised = index.search_many(compiled.objections, _SIDES["client"])
    if not any(found.hits for found in raised.values()):
        return []
    answers = index.search_many(compiled.handling, _SIDES["manager"])
    manager_turns = [t for t in index.turns if t.speaker in _SIDES["manager"]]
    results = []
    for objection in script.objections:
        # Several phrases of one objection in one turn are one occurrence, the best; a later turn is a new one.
        occurrences: dict[int, Hit] = {}
        for hit in raised[objection.id].hits:
            if hit.turn not in occurrences or hit.score > occurrences[hit.turn].score:
                occurrences[hit.turn] = hit
        for occurrence in occurrences.values():
            window = [t.index for t in manager_turns
                      if t.index > occurrence.turn and t.start - occurrence.start <= opts.handling_window_seconds]
            window = set(window[: opts.handling_window_turns])
            parts = []
            for part in objection.handling:
                best = _best([h for h in answers[objection.id, part.id].hits if h.turn in window])
                parts.append(HandlingPartResult(part.id, best is not None, best.score if best else 0.0,
                                                best.start if best else None, best.text if best else None, best.phrase if best else None))
            found_ids = [p.id for p in parts if p.found]
            handled = len(found_ids) / len(parts) >= opts.handled_min_share
            results.append(ObjectionResult(objection.id, occurrence.start, occurrence.text, occurrence.context, occurrence.score,
                                           handled, found_ids, [p.id for p in parts if not p.found], parts))
    return sorted(results, key=lambda o: o.start)


def _score(script: Script, steps: list[StepResult], stop_words, objections, opts: AnalysisOptions) -> Scores:
    weights = {s.id: s.weight for s in script.steps}
    judged = [s for s in steps if s.status != "uncertain"]  # uncertain is not held against the manager
    compliance = sum(weights[s.id] for s in judged if s.found) / sum(weights[s.id] for s in judged) if judged else None
    handling = sum(len(o.handling_found) / len(o.handling) for o in objections) / len(objections) if objections else None
    handling_score = None if handling is None else round(handling, 3)
    if compliance is None:
        return Scores(None, handling_score, None)
    overall = compliance if handling is None else (1 - opts.objection_weight) * compliance + opts.objection_weight * handling
    overall -= sum(opts.stop_word_penalty[h.severity] for h in stop_words)
    return Scores(round(compliance, 3), handling_score, round(min(max(overall, 0.0), 1.0), 3))


def _flags(transcript: Transcript, steps, stop_words, objections, scores: Scores, opts: AnalysisOptions) -> list[str]:
    flags = [f"missing_required_step:{s.id}" for s in steps if s.required and s.status == "missing"]
    flags += [f"uncertain_step:{s.id}" for s in steps if s.required and s.status == "uncertain"]
    flags += [f"late_step:{s.id}" for s in steps if s.on_time is False]
    flags += [f"out_of_order_step:{s.id}" for s in steps if s.in_order is False]
    flags += sorted({f"stop_word:{h.id}" for h in stop_words if h.severity != "minor"})
    flags += [f"objection_not_handled:{o.id}" for o in objections if not o.handled]
    if any(s.speaker == "unknown" for s in transcript.segments):
        flags.append("speaker_unknown")
    if transcript.warnings:
        flags.append("audio_warning")
    if any(s.status == "uncertain" for s in steps if s.required):
        flags.append("needs_review")
    if scores.overall is not None and scores.overall < opts.low_score_flag:
        flags.append("low_score")
    return flags


def analyze_transcript(
    transcript: Transcript, script: Script, call_id: str = "call", options: AnalysisOptions | None = None, manager: str | None = None,
) -> CallAnalysis:
    """Check a transcript against a script. `manager`: the manager's name from
    the call's metadata, for the {manager} placeholder (full or first name)."""
    opts = options or AnalysisOptions()
    names = (manager or "").split()
    # "Анна Иванова", "Анна" or "Аня"
    values = {MANAGER_PLACEHOLDER: tuple(dict.fromkeys([" ".join(names), names[0], *short_names(names[0])]))} if names else {}
    reliable = [segment_is_reliable(s, opts) for s in transcript.segments]
    index = CallIndex(transcript.segments, script.language, reliable)
    reliability = {side: _side_reliability(transcript, reliable, speakers, opts) for side, speakers in _SIDES.items()}
    compiled = _compile(script, opts, values)
    steps = _find_steps(script, compiled, index, reliability, opts)
    stop_words = _find_stop_words(script, compiled, index)
    objections = _find_objections(script, compiled, index, opts)
    scores = _score(script, steps, stop_words, objections, opts)
    flags = _flags(transcript, steps, stop_words, objections, scores, opts)
    return CallAnalysis(
        call_id, transcript.duration, transcript, steps, stop_words, objections, scores, flags,
        conversation_metrics(transcript), reliability, script.id, script.version, opts,
    )
