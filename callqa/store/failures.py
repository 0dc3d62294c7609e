"""The `failures` table: recordings that could not be processed, at which stage
and why, retryable or terminal, with their attempts and how they ended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from callqa.errors import is_retryable
from callqa.store.connection import Connection, now

__all__ = ["Failure", "FailureStage", "Failures"]

FailureStage = Literal["read", "metadata", "analyze"]


@dataclass(frozen=True)
class Failure:
    """A recording that could not be processed, at which stage and why."""

    file_path: str
    content_hash: str | None
    stage: FailureStage
    error_class: str
    message: str
    retryable: bool

    @classmethod
    def of(cls, file_path: str, content_hash: str | None, stage: FailureStage, error: BaseException) -> Failure:
        return cls(file_path, content_hash, stage, type(error).__name__, getattr(error, "message", None) or str(error), is_retryable(error))


class Failures(Connection):
    def record_failures(self, run_id: str | None, failures: list[Failure]) -> None:
        """Store failures; the same failure seen again (unresolved) counts an attempt instead of a new row."""
        if not failures:
            return
        seen = now()
        with self._transaction():
            for f in failures:
                same = self._value(
                    "SELECT failure_id FROM failures WHERE resolved_at IS NULL AND file_path = ? AND content_hash IS NOT DISTINCT FROM ? "
                    "AND stage = ? AND error_class = ? AND message = ?",
                    [f.file_path, f.content_hash, f.stage, f.error_class, f.message],
                )
                if same:
                    self.con.execute(
                        "UPDATE failures SET attempts = attempts + 1, last_seen = ?, run_id = ?, retryable = ? WHERE failure_id = ?",
                        [seen, run_id, f.retryable, same],
                    )
                else:
                    self.con.execute(
                        "INSERT INTO failures (failure_id, run_id, file_path, content_hash, stage, error_class, message, retryable, occurred_at, attempts, last_seen) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                        [uuid.uuid4().hex, run_id, f.file_path, f.content_hash, f.stage, f.error_class, f.message, f.retryable, seen, seen],
                    )

    def record_failure(self, run_id: str | None, file_path: str, content_hash: str | None, stage: FailureStage, error: BaseException) -> None:
        self.record_failures(run_id, [Failure.of(file_path, content_hash, stage, error)])

    def failures(self, run_id: str | None = None, include_resolved: bool = False) -> list[dict]:
        """Open failures (of one run, or all), oldest first."""
        where, params = ["TRUE"], []
        if run_id:
            where, params = [*where, "run_id = ?"], [run_id]
        if not include_resolved:
            where.append("resolved_at IS NULL")
        return self._dicts(
            "SELECT file_path, content_hash, stage, error_class, message, retryable, attempts, occurred_at, last_seen, resolved_at, resolution "
            f"FROM failures WHERE {' AND '.join(where)} ORDER BY occurred_at",
            params,
        )

    def requeue(self, paths: list[str] | None = None) -> int:
        """Mark open failures (all, or those of these files) for another try on the next run; returns how many."""
        sql = "UPDATE failures SET resolved_at = ?, resolution = 'requeued' WHERE resolved_at IS NULL"
        params: list = [now()]
        if paths is not None:
            sql += " AND list_contains(?, file_path)"
            params.append([str(Path(p).resolve()) for p in paths] + list(paths))
        return self._value(sql, params)
