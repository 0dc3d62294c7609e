"""Re-scoring stored calls with another script version, without ASR: a script
author tries a change on yesterday's calls before switching it on."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from callqa.analysis import AnalysisOptions, analyze_transcript
from callqa.scripts import Script
from callqa.store import Rows, Store, StoredCall, score_rows

__all__ = ["ScriptTrial", "score_stored", "try_script"]


@dataclass(frozen=True)
class StepChange:
    step_id: str
    before: str  # found | missing | uncertain | absent (the step is new in this version)
    after: str


@dataclass(frozen=True)
class CallChange:
    call_id: str
    content_hash: str
    baseline_version: int
    changes: list[StepChange]


@dataclass(frozen=True)
class ScriptTrial:
    script_id: str
    version: int
    calls: int  # stored calls that had been scored with this script id
    changed: list[CallChange]
    seconds: float


class Scored(NamedTuple):
    """One stored call scored with a script version."""

    content_hash: str
    statuses: dict[str, str]  # per step id: found, missing or uncertain
    rows: Rows | None  # to store; None for a trial, which writes nothing


@dataclass(frozen=True)
class _Chunk:
    calls: list[StoredCall]
    script: Script
    options: AnalysisOptions
    rows_for_run: str | None  # the run whose rows to build; None: verdicts only (a trial writes nothing)


def _score(chunk: _Chunk) -> list[Scored]:
    scored: list[Scored] = []
    for call in chunk.calls:
        h = call.content_hash
        analysis = analyze_transcript(call.transcript(), chunk.script, h, chunk.options, call.manager_name)
        rows = score_rows(h, analysis, chunk.rows_for_run) if chunk.rows_for_run is not None else None
        scored.append(Scored(h, {s.id: s.status for s in analysis.steps}, rows))
    return scored


def score_stored(
    calls: list[StoredCall],
    script: Script,
    options: AnalysisOptions,
    workers: int | None = None,
    rows_for_run: str | None = None,
) -> Iterator[list[Scored]]:
    """Score stored transcripts with `script` over `workers` processes (default: one per usable core), yielding chunks as they finish."""
    if not calls:
        return
    workers = workers or len(os.sched_getaffinity(0))
    if workers <= 1 or len(calls) < 200:
        yield _score(_Chunk(calls, script, options, rows_for_run))
        return
    size = -(-len(calls) // (workers * 4))
    chunks = [_Chunk(calls[i : i + size], script, options, rows_for_run) for i in range(0, len(calls), size)]
    # Spawned, not forked: the caller may be a flow with Prefect's threads (and their locks) running.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_score, chunks)


def try_script(store: Store, script: Script, options: AnalysisOptions | None = None, workers: int | None = None) -> ScriptTrial:
    """Score every stored call of `script.id` with this version and list the steps whose verdict changes."""
    started = time.perf_counter()
    baseline = store.step_verdicts(script.id)
    calls = [call for call in store.stored_calls(script.id) if call.content_hash in baseline]
    after = {s.content_hash: s.statuses for chunk in score_stored(calls, script, options or AnalysisOptions(), workers) for s in chunk}
    changed = []
    for call in calls:
        h, (version, before) = call.content_hash, baseline[call.content_hash]
        steps = list(dict.fromkeys([*before, *after[h]]))
        diffs = [StepChange(s, before.get(s, "absent"), after[h].get(s, "absent")) for s in steps if before.get(s) != after[h].get(s)]
        if diffs:
            changed.append(CallChange(call.call_id, h, version, diffs))
    return ScriptTrial(script.id, script.version, len(calls), changed, round(time.perf_counter() - started, 2))
