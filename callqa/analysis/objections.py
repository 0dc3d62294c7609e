"""Client objections, and how the manager handled each: the script's handling
parts searched in the manager's next turns, or an answer of substance in his
own words.

A script gives a few wordings per handling part; managers answer an objection
in words nobody wrote down ("Понимаю. Но две с половиной — это максимальный
тариф, базовый — девятьсот"). An answer that turns to an argument, an
alternative or a proposal ("но", "зато", "можно", "давайте", "если") and goes on
for a few content words is handled; a courtesy alone ("Ну да, недёшево, что
поделать") is not."""

from __future__ import annotations

from callqa.analysis.compiled import SIDES, CompiledScript
from callqa.analysis.matching import CallIndex, Hit, Turn, best_hit, sentences
from callqa.analysis.nlp import is_function_word
from callqa.analysis.options import AnalysisOptions
from callqa.analysis.results import HandlingPartResult, ObjectionResult
from callqa.scripts import Script

__all__ = ["find_objections"]

# Lemmas that open an answer with substance: a contrast, an alternative, a proposal, a condition.
_ANSWER_OPENERS = {
    "ru": frozenset({"но", "зато", "однако", "смотреть", "давать", "можно", "мочь", "если", "вариант", "предлагать", "предложить", "плюс", "поэтому"}),
    "en": frozenset({"but", "however", "actually", "let", "can", "could", "if", "option", "instead", "why"}),
}


def _substantive_answer(turns: list[Turn], raised_at: float, language: str, opts: AnalysisOptions) -> str | None:
    """The first sentence of the manager's answer that opens an argument or proposal and carries enough content words."""
    openers = _ANSWER_OPENERS.get(language, frozenset())
    for turn in turns:
        said = [i for i, (start, _) in enumerate(turn.times) if start - raised_at <= opts.handling_window_seconds]
        for first, last, _ in sentences(turn):
            if first not in said:
                break
            tokens = turn.tokens[first : last + 1]
            opener = next((first + i for i, t in enumerate(tokens) if t.lemma in openers), None)
            if opener is None:
                continue
            # the answer goes on after the sentence that opens it ("Так давайте вместе и приедете! Она сядет, посмотрит...")
            rest = turn.tokens[opener + 1 : said[-1] + 1]
            content = [t for t in rest if len(t.lemma) > 2 and not is_function_word(t.lemma, language)]
            if len(content) >= opts.answer_content_words:
                return turn.text[tokens[0].start : tokens[-1].end]
    return None


def find_objections(script: Script, compiled: CompiledScript, index: CallIndex, opts: AnalysisOptions) -> list[ObjectionResult]:
    raised = index.search_many(compiled.objections, SIDES["client"])
    if not any(found.hits for found in raised.values()):
        return []
    answers = index.search_many(compiled.handling, SIDES["manager"])
    manager_turns = [t for t in index.turns if t.speaker in SIDES["manager"]]
    results = []
    for objection in script.objections:
        # Several phrases of one objection in one turn are one occurrence, the best; a later turn is a new one.
        occurrences: dict[int, Hit] = {}
        for hit in raised[objection.id].hits:
            if hit.turn not in occurrences or hit.score > occurrences[hit.turn].score:
                occurrences[hit.turn] = hit
        for occurrence in occurrences.values():
            window = [t.index for t in manager_turns if t.index > occurrence.turn and t.start - occurrence.start <= opts.handling_window_seconds]
            in_window = set(window[: opts.handling_window_turns])
            parts = []
            for part in objection.handling:
                # The window bounds the words, not only where their turn starts: a long turn's late words are no answer.
                said = [h for h in answers[objection.id, part.id].hits if h.turn in in_window and h.start - occurrence.start <= opts.handling_window_seconds]
                best = best_hit(said)
                parts.append(
                    HandlingPartResult(
                        part.id,
                        best is not None,
                        best.score if best else 0.0,
                        best.start if best else None,
                        best.text if best else None,
                        best.phrase if best else None,
                    )
                )
            found_ids = [p.id for p in parts if p.found]
            handled = len(found_ids) / len(parts) >= opts.handled_min_share
            answer = None if handled else _substantive_answer([index.turns[i] for i in sorted(in_window)], occurrence.start, script.language, opts)
            results.append(
                ObjectionResult(
                    objection.id,
                    occurrence.start,
                    occurrence.text,
                    occurrence.context,
                    occurrence.score,
                    handled or answer is not None,
                    found_ids,
                    [p.id for p in parts if not p.found],
                    parts,
                    answer,
                )
            )
    return sorted(results, key=lambda o: o.start)
