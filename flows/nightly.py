"""The nightly batch: every new recording in a folder, one Prefect task per call.

Tasks only compute (on this machine's threads, or on a Dask cluster's
workers) and hand back their call's rows; the flow is the one writer, loading
every `write_every` finished calls in one short set-based transaction and
leaving the database file free in between.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.futures import as_completed
from prefect.tasks import exponential_backoff

from callqa.batch import CallJob, plan_batch, process_call
from callqa.config import Settings, load_settings
from callqa.errors import is_retryable
from callqa.store import CallResult, Failure, Rows, recording_rows
from flows.runs import RunLog, RunProgress, RunResult, versions


def _retry_if_retryable(_task, _task_run, state) -> bool:
    try:
        state.result()
    except BaseException as exc:  # the task's own exception, re-raised from its state
        return is_retryable(exc)
    return False


@task(
    task_run_name="analyze {job.record.metadata.call_id}",
    retry_condition_fn=_retry_if_retryable,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
)
def analyze_call(job: CallJob, settings: Settings, run_id: str) -> CallResult:
    """One call's rows, ready to load."""
    return process_call(job, settings, run_id)


def _task_runner(settings: Settings):
    if settings.dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=settings.dask_address)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=settings.workers)


@flow(name="callqa-nightly", log_prints=True)
def nightly(
    recordings_dir: str | None = None, db_path: str | None = None, script: str | None = None, force: bool = False, progress_bar: bool = False
) -> RunResult:
    """Transcribe, check and store every recording not processed yet.

    `force`: process again recordings already scored, replacing their transcripts and scores."""
    logger = get_run_logger()
    settings = load_settings(recordings_dir=recordings_dir, db_path=db_path)
    folder = Path(settings.recordings_dir)
    clock = time.perf_counter()
    with RunLog(settings, str(folder), replace_transcripts=force) as run:
        with run.open(read_only=True) as store:
            done = set() if force else store.done_keys()
            failed_for_good = set() if force else store.terminal_failures()
        plan = plan_batch(folder, settings, done, failed_for_good, script_override=script)
        run.timings["plan_s"] = round(time.perf_counter() - clock, 3)
        run.counts |= {"found": plan.found, "skipped": len(plan.skipped), "failed": len(plan.failures)}
        for failure in plan.failures:
            logger.warning("skipping %s: %s", failure.file_path, failure.message)
        run.write(recording_rows(plan.recordings, run.run_id), plan.failures, versions=versions(settings) | {"scripts": plan.scripts})
        logger.info("%d recordings found, %d to process, %d already done or copies", plan.found, len(plan.jobs), len(plan.skipped))

        progress = RunProgress(len(plan.jobs), "calls", progress_bar)
        task_ = analyze_call.with_options(retries=settings.task_retries)
        pending, failures = Rows(), []
        started = time.perf_counter()
        with _task_runner(settings) as runner:
            futures = {runner.submit(task_, parameters={"job": job, "settings": settings, "run_id": run.run_id}): job for job in plan.jobs}
            for future in as_completed(list(futures)):
                job = futures[future]
                outcome = future.result(raise_on_failure=False)
                if isinstance(outcome, BaseException):
                    logger.warning("%s failed: %s", job.record.file_path, outcome)
                    failures.append(Failure.of(job.record.file_path, job.record.content_hash, "analyze", outcome))
                    run.counts["failed"] += 1
                else:
                    pending.extend(outcome.rows)
                    run.counts["processed"] += 1
                    run.counts["audio_seconds"] += outcome.duration
                progress.advance()
                if pending.count("scores") + len(failures) >= settings.write_every:
                    run.timings["work_s"] = round(time.perf_counter() - started, 3)
                    run.write(pending, failures)
                    pending, failures = Rows(), []
        progress.close()
        run.timings["work_s"] = round(time.perf_counter() - started, 3)
        run.write(pending, failures, status="finished")
    return run.result()
