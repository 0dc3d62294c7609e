"""Script steps: found with their evidence, or missing, or uncertain where the
speech they would be in could not be judged; in the script's order or not."""

from __future__ import annotations

from callqa.analysis.compiled import SIDES, CompiledScript
from callqa.analysis.keywords import KeyEvidence, key_evidence
from callqa.analysis.matching import CallIndex, Found, Hit, best_hit
from callqa.analysis.options import AnalysisOptions
from callqa.analysis.results import StepResult, StepStatus, UncertainReason
from callqa.scripts import SPARSE_WORDINGS, Script, is_sparse

__all__ = ["find_steps"]

_KEY_SCORE = 0.8  # a step found by its key words, not by a wording: as sure as a wording just at the threshold


def _in_order(hits: list[Hit | KeyEvidence | None]) -> list[bool | None]:
    """Steps whose times follow the script's order: the longest run of found
    steps in increasing time is in order, the others were done out of order."""
    found = [(i, h.start) for i, h in enumerate(hits) if h is not None]
    best: list[list[int]] = []  # best[k]: longest increasing chain ending at found[k]
    for k, (_, t) in enumerate(found):
        prior = [best[j] for j in range(k) if found[j][1] <= t]
        best.append([*max(prior, key=len, default=[]), k])
    chain = {found[k][0] for k in max(best, key=len, default=[])}
    return [None if h is None else i in chain for i, h in enumerate(hits)]


def find_steps(
    script: Script,
    compiled: CompiledScript,
    index: CallIndex,
    reliability: dict[str, float | None],
    opts: AnalysisOptions,
) -> list[StepResult]:
    """Every step of the script, in its order. `reliability`: per side, the share of speech that can be judged."""
    found: dict[object, Found] = {}
    keyed: dict[str, KeyEvidence] = {}
    for side, speakers in SIDES.items():
        found |= index.search_many(compiled.steps[side], speakers)
        # Key words stand in for the wordings a short script leaves out; a step described by many is found by them.
        side_keys = {step.id: compiled.keys[step.id] for step in script.steps if step.speaker == side and is_sparse(step)}
        keyed |= key_evidence(index, side_keys, speakers, script.language)
    evidence: list[Hit | KeyEvidence | None] = []
    for step in script.steps:
        key = keyed.get(step.id)
        strong = key is not None and (key.weight >= opts.key_words_to_find or (key.question and key.weight >= 1))
        evidence.append(best_hit(found[step.id].hits) or (key if strong else None))
    # A call that follows the script elsewhere more likely says a step not found in other words than skips it.
    others = len(script.steps) - 1
    followed = others > 0 and sum(h is not None for h in evidence) / others >= opts.followed_share
    results = []
    for step, hit, in_order in zip(script.steps, evidence, _in_order(evidence)):
        if hit:
            on_time = None if step.within_seconds is None else hit.start <= step.within_seconds
            if isinstance(hit, KeyEvidence):
                score, phrase, context = _KEY_SCORE, hit.phrase, hit.text
            else:
                score, phrase, context = hit.score, hit.phrase, hit.context
            results.append(StepResult(step.id, "found", True, score, hit.start, hit.end, hit.text, phrase, context, step.required, on_time, in_order))
            continue
        near, share = found[step.id], reliability[step.speaker]
        # Partial evidence on a sparse step (a key word said in passing, a wording half said): too little to find it,
        # too much to accuse the manager of skipping it. Of thirty wordings of a step type one is half said by chance
        # in most calls; of a step's own two or three it is not.
        key = keyed.get(step.id)
        key = key if key is not None and key.weight >= 1 else None
        half_said = opts.partial_match if compiled.wordings[step.id] <= SPARSE_WORDINGS else opts.partial_match_with_type
        # A wording half said inside another step's evidence was that step, not this one.
        elsewhere = near.near_at is not None and any(
            h is not None and h.turn == near.near_at[0] and h.start < near.near_at[2] and near.near_at[1] < h.end for h in evidence
        )
        partial = key is not None or (is_sparse(step) and near.near_score >= half_said and not elsewhere)
        unreliable = share is None or share < opts.min_reliable_share or (near.near_unreliable and near.near_score >= opts.near_miss)
        because: UncertainReason | None = "partial_evidence" if partial else "unreliable_speech" if unreliable else "call_follows_script" if followed else None
        # A key word said in passing is where a person should listen: its sentence and time go with the verdict.
        status: StepStatus = "uncertain" if because else "missing"
        results.append(
            StepResult(
                step.id, status, False, round(near.near_score, 3), key.start if key else None, key.end if key else None, key.text if key else None,
                key.phrase if key else None, key.text if key else None, step.required, None, None, because,
            )
        )  # fmt: skip
    return results
