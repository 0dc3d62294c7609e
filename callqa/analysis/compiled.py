"""A script's phrases compiled for search: built once per script, options and
manager name, and cached on all three."""

from __future__ import annotations

from dataclasses import dataclass

from callqa.analysis.keywords import StepKeys, step_keys
from callqa.analysis.matching import MatchParams, PhraseBatch, PhraseSet
from callqa.analysis.nlp import lemmatize
from callqa.analysis.options import AnalysisOptions
from callqa.scripts import Script, StopWord, objection_phrases, step_phrases, stop_word_rules

__all__ = ["SIDES", "CompiledScript", "compile_script"]

SIDES = {"manager": ("manager", "unknown"), "client": ("client", "unknown")}  # unattributed speech counts for both


@dataclass(frozen=True)
class CompiledScript:
    steps: dict[str, PhraseBatch]  # per side
    stop_words: PhraseBatch
    objections: PhraseBatch
    handling: PhraseBatch
    stop_word_rules: dict[str, StopWord]  # per stop-word: how it is told from the ordinary word (see scripts.stop_word_rules)
    not_after: dict[str, frozenset[str]]  # per stop-word: lemmas that make it another word said before it...
    not_before: dict[str, frozenset[str]]  # ...or after it
    keys: dict[str, StepKeys]  # per step: the words specific to it, weighed (see keywords.py)
    wordings: dict[str, int]  # per step: how many wordings it is matched with (its own and its type's)


_compiled: dict[tuple, tuple[Script, CompiledScript]] = {}


def _params(threshold: float, opts: AnalysisOptions) -> MatchParams:
    return MatchParams(threshold, opts.token_floor, opts.short_word_floor, opts.order_penalty, opts.function_word_weight, opts.extra_words)


def compile_script(script: Script, opts: AnalysisOptions, values: dict[str, tuple[str, ...]]) -> CompiledScript:
    """`values`: placeholder values known for this call (the manager's names)."""
    key = (id(script), tuple(sorted(values.items())), opts)
    if key in _compiled and _compiled[key][0] is script:
        return _compiled[key][1]
    lang, places = script.language, {**script.placeholders, **values}
    step, detect, handle = (_params(t, opts) for t in (opts.step_threshold, opts.objection_threshold, opts.handling_threshold))
    stop = MatchParams(opts.stop_word_threshold, opts.token_floor, opts.short_word_floor, 0.0, opts.function_word_weight, extra_words=0)  # the words as written
    phrases = {s.id: step_phrases(s, lang) for s in script.steps}
    said = {o.id: objection_phrases(o, lang) for o in script.objections}
    rules = {w.id: stop_word_rules(w, lang) for w in script.stop_words}
    compiled = CompiledScript(
        steps={
            side: PhraseBatch([(s.id, PhraseSet(phrases[s.id], lang, places), step) for s in script.steps if s.speaker == side], near=True) for side in SIDES
        },
        stop_words=PhraseBatch([(w.id, PhraseSet([w.phrase], lang, forms=True), stop) for w in script.stop_words]),
        objections=PhraseBatch([(o.id, PhraseSet(said[o.id][0], lang, places), detect) for o in script.objections]),
        handling=PhraseBatch([((o.id, p), PhraseSet(texts, lang, places), handle) for o in script.objections for p, texts in said[o.id][1].items()]),
        stop_word_rules=rules,
        not_after={w.id: frozenset(t.lemma for word in w.not_after for t in lemmatize(word, lang)) for w in rules.values()},
        not_before={w.id: frozenset(t.lemma for word in w.not_before for t in lemmatize(word, lang)) for w in rules.values()},
        keys=step_keys(script),
        wordings={step_id: len(texts) for step_id, texts in phrases.items()},
    )
    if len(_compiled) > 64:
        _compiled.clear()
    _compiled[key] = (script, compiled)  # holding the script keeps its id from being reused
    return compiled
