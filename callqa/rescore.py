"""Re-scoring stored calls with another script version, without ASR: a script
author tries a change on yesterday's calls before switching it on."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from callqa.scoring import AnalysisOptions, analyze_transcript
from callqa.scripts import Script
from callqa.store import Store
from callqa.transcript import Transcript

__all__ = ["ScriptTrial", "try_script"]


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


Job = tuple[str, str | None, Transcript]  # content hash, manager name, transcript


def _verdicts(job: tuple[list[Job], Script, AnalysisOptions]) -> list[tuple[str, dict[str, str]]]:
    transcripts, script, options = job
    return [(h, {s.id: s.status for s in analyze_transcript(t, script, h, options, manager).steps}) for h, manager, t in transcripts]


def rescore_verdicts(transcripts: list[Job], script: Script, options: AnalysisOptions, workers: int) -> dict[str, dict[str, str]]:
    """Step statuses of each transcript under `script`, over `workers` processes."""
    if workers <= 1 or len(transcripts) < 200:
        return dict(_verdicts((transcripts, script, options)))
    size = -(-len(transcripts) // (workers * 4))
    jobs = [(transcripts[i : i + size], script, options) for i in range(0, len(transcripts), size)]
    with ProcessPoolExecutor(workers) as pool:
        return {h: v for chunk in pool.map(_verdicts, jobs) for h, v in chunk}


def try_script(store: Store, script: Script, options: AnalysisOptions | None = None, workers: int | None = None) -> ScriptTrial:
    """Score every stored call of `script.id` with this version and list the steps whose verdict changes."""
    started = time.perf_counter()
    baseline = store.step_verdicts(script.id)
    calls = [call for call in store.transcripts(script.id) if call[0] in baseline]
    after = rescore_verdicts([(h, manager, t) for h, _, manager, t in calls], script, options or AnalysisOptions(), workers or os.cpu_count() or 1)
    changed = []
    for h, call_id, _, _ in calls:
        version, before = baseline[h]
        steps = list(dict.fromkeys([*before, *after[h]]))
        diffs = [StepChange(s, before.get(s, "absent"), after[h].get(s, "absent")) for s in steps if before.get(s) != after[h].get(s)]
        if diffs:
            changed.append(CallChange(call_id, h, version, diffs))
    return ScriptTrial(script.id, script.version, len(calls), changed, round(time.perf_counter() - started, 2))
