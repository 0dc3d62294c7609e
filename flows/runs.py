"""What every flow run shares: its row in `runs`, its writes (short
transactions, waiting while another process has the file), and its progress
in the Prefect UI (a progress artifact) and, for the CLI, on the terminal."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

import duckdb
import prefect
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from callqa import __version__
from callqa.config import Settings
from callqa.store import Failure, Rows, Store, open_store


@dataclass(frozen=True)
class RunResult:
    run_id: str
    db_path: str
    found: int
    processed: int
    skipped: int
    failed: int


def versions(settings: Settings) -> dict[str, str]:
    return {"callqa": __version__, "model": settings.model, "prefect": prefect.__version__, "duckdb": duckdb.__version__}


class RunLog:
    """One run: its counts, timings and versions in `runs`, and every write it makes.
    Used as a context manager, a run that raises is recorded as failed."""

    def __init__(self, settings: Settings, source: str, replace_transcripts: bool = False):
        self.settings, self.replace_transcripts = settings, replace_transcripts
        self.counts = {"found": 0, "processed": 0, "skipped": 0, "failed": 0, "audio_seconds": 0.0}
        self.timings = {"plan_s": 0.0, "work_s": 0.0, "write_s": 0.0}
        with self.open() as store:
            self.run_id = store.start_run(source, versions(settings))

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type:  # whatever stopped the run, its row says so; the error goes on
            self.write(status="failed")

    def open(self, read_only: bool = False) -> Store:
        return open_store(self.settings.db_path, read_only=read_only, timeout_s=self.settings.lock_timeout_s)

    def write(self, rows: Rows | None = None, failures: Sequence[Failure] = (), status: str | None = None, **figures: Any) -> None:
        """Load rows and failures and update the run's figures, in one short opening of the file."""
        started = time.perf_counter()
        with self.open() as store:
            if rows is not None:
                store.load(rows, replace_transcripts=self.replace_transcripts)
            store.record_failures(self.run_id, list(failures))
            store.update_run(self.run_id, status=status, timings=self.timings, **self.counts, **figures)
        self.timings["write_s"] = round(self.timings["write_s"] + time.perf_counter() - started, 3)

    def result(self) -> RunResult:
        c = self.counts
        return RunResult(self.run_id, str(self.settings.db_path), int(c["found"]), int(c["processed"]), int(c["skipped"]), int(c["failed"]))


class RunProgress:
    def __init__(self, total: int, what: str, show_bar: bool):
        self.total, self.done = total, 0
        # Called from a flow, this Prefect function runs synchronously and returns the UUID itself.
        self._artifact = cast(UUID, create_progress_artifact(progress=0.0 if total else 100.0, description=f"{what}: {total} to do"))
        self._bar = None
        if show_bar and total:
            self._bar = Progress(
                TextColumn(what),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task(what, total=total)
            self._bar.start()

    def advance(self, n: int = 1) -> None:
        self.done += n
        update_progress_artifact(self._artifact, progress=100.0 * self.done / self.total)
        if self._bar:
            self._bar.advance(self._task, n)

    def close(self) -> None:
        if self._bar:
            self._bar.stop()
