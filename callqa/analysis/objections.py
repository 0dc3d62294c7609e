"""Client objections, and how the manager handled each: the script's handling
parts searched in the manager's next turns."""

from __future__ import annotations

from callqa.analysis.compiled import SIDES, CompiledScript
from callqa.analysis.matching import CallIndex, Hit, best_hit
from callqa.analysis.options import AnalysisOptions
from callqa.analysis.results import HandlingPartResult, ObjectionResult
from callqa.scripts import Script

__all__ = ["find_objections"]


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
            results.append(
                ObjectionResult(
                    objection.id,
                    occurrence.start,
                    occurrence.text,
                    occurrence.context,
                    occurrence.score,
                    handled,
                    found_ids,
                    [p.id for p in parts if not p.found],
                    parts,
                )
            )
    return sorted(results, key=lambda o: o.start)
