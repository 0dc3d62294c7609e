"""The nightly batch: every new recording in a folder, one Prefect task per call.

Tasks only compute; the flow itself is the single DuckDB writer, saving each
call in one transaction as its task finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

from callqa import __version__
from callqa.batch import CallJob, plan_batch, process_call
from callqa.config import Settings, load_settings
from callqa.errors import is_retryable
from callqa.store import Store


@dataclass(frozen=True)
class RunResult:
    run_id: str
    db_path: str
    found: int
    processed: int
    skipped: int
    failed: int


def _retry_if_retryable(_task, _task_run, state) -> bool:
    return isinstance(state.data, BaseException) and is_retryable(state.data)


@task(task_run_name="analyze {job.record.call_id}", retry_condition_fn=_retry_if_retryable, retry_delay_seconds=[5, 30])
def analyze_call(job: CallJob, settings: Settings):
    return process_call(job, settings)


@flow(name="callqa-nightly", log_prints=True)
def nightly(recordings_dir: str | None = None, db_path: str | None = None, script: str | None = None, force: bool = False) -> RunResult:
    """Transcribe, check and store every recording not processed yet."""
    logger = get_run_logger()
    settings = load_settings(recordings_dir=recordings_dir, db_path=db_path)
    folder = Path(settings.recordings_dir)
    with Store(settings.db_path) as store:
        run_id = store.start_run(str(folder), __version__)
        plan = plan_batch(folder, store, settings, script_override=script, force=force)
        for failure in plan.failures:
            logger.warning("skipping %s: %s", failure.file_path, failure.error)
            store.record_failure(run_id, failure.file_path, failure.content_hash, failure.stage, failure.error, retryable=False)
        logger.info("%d recordings found, %d to process, %d already done", plan.found, len(plan.jobs), len(plan.skipped))
        task = analyze_call.with_options(retries=settings.task_retries)
        with ThreadPoolTaskRunner(max_workers=settings.workers) as runner:
            futures = [runner.submit(task, parameters={"job": job, "settings": settings}) for job in plan.jobs]
            processed = failed = 0
            for job, future in zip(plan.jobs, futures):
                outcome = future.result(raise_on_failure=False)
                if isinstance(outcome, BaseException):
                    failed += 1
                    logger.warning("%s failed: %s", job.record.file_path, outcome)
                    store.record_failure(run_id, job.record.file_path, job.record.content_hash, "analyze", outcome, is_retryable(outcome))
                else:
                    store.save_call(job.record, outcome, run_id)
                    processed += 1
        failed += len(plan.failures)
        store.finish_run(run_id, plan.found, processed, len(plan.skipped), failed)
    return RunResult(run_id, str(settings.db_path), plan.found, processed, len(plan.skipped), failed)
