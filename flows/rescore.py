"""The re-score flow: a new script version over the stored transcripts, no ASR.

Switching a script version on is explicit: this writes the new version's
scores next to the old ones (reports take each call's latest version);
`callqa script test` is the dry run that writes nothing.
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger

from callqa.analysis import AnalysisOptions
from callqa.config import load_settings
from callqa.rescore import score_stored
from callqa.scripts import load_script
from callqa.store import Rows
from flows.runs import RunLog, RunProgress, RunResult, versions

_LOAD_EVERY = 2000  # calls per set-based load: big enough to be cheap, small enough to keep memory flat


@flow(name="callqa-rescore", log_prints=True)
def rescore(script_path: str, db_path: str | None = None, workers: int | None = None, force: bool = False, progress_bar: bool = False) -> RunResult:
    """Score every stored call of the script's id with this version; calls already scored with it are skipped unless `force`."""
    logger = get_run_logger()
    settings = load_settings(db_path=db_path)
    script = load_script(script_path)
    clock = time.perf_counter()
    with RunLog(settings, f"rescore {script.id} v{script.version}") as run:
        with run.open(read_only=True) as store:
            calls = store.stored_calls(script.id)
            done = set() if force else store.done_keys()
        todo = [call for call in calls if (call.content_hash, script.id, script.version) not in done]
        run.timings["plan_s"] = round(time.perf_counter() - clock, 3)
        run.counts |= {"found": len(calls), "skipped": len(calls) - len(todo)}
        run.write(versions=versions(settings) | {"scripts": [f"{script.id} v{script.version}"], "model": None})
        logger.info("%d stored calls of %s, %d to score with v%d", len(calls), script.id, len(todo), script.version)

        progress = RunProgress(len(todo), "calls", progress_bar)
        started = time.perf_counter()
        pending = Rows()
        for chunk in score_stored(todo, script, AnalysisOptions(), workers, rows_for_run=run.run_id):
            for scored in chunk:
                if scored.rows is not None:  # always, as rows_for_run is given
                    pending.extend(scored.rows)
            run.counts["processed"] += len(chunk)
            progress.advance(len(chunk))
            if pending.count("scores") >= _LOAD_EVERY:
                run.write(pending)
                pending = Rows()
        progress.close()
        run.timings["work_s"] = round(time.perf_counter() - started, 3)
        run.write(pending, status="finished")
    return run.result()
