"""The store as callers see it: one object over the file, with every table's
operations, opened by `open_store`, which waits while another process has the file."""

from __future__ import annotations

import time
from pathlib import Path

from callqa.errors import StoreBusyError
from callqa.store.failures import Failures
from callqa.store.loading import Loader
from callqa.store.queries.batch import BatchQueries
from callqa.store.queries.reports import ReportQueries
from callqa.store.queries.rescore import RescoreQueries
from callqa.store.runs import Runs

__all__ = ["Store", "open_store"]


class Store(Runs, Failures, Loader, BatchQueries, RescoreQueries, ReportQueries):
    """A callqa database file, open in this process; `open_store` waits for a busy file."""


def open_store(path: Path | str, read_only: bool = False, timeout_s: float = 600.0) -> Store:
    """Open the file, waiting with backoff (up to `timeout_s`) while another process has it."""
    deadline, delay = time.monotonic() + timeout_s, 0.05
    while True:
        try:
            return Store(path, read_only=read_only)
        except StoreBusyError:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
