"""The `runs` table: one row per batch or re-score run, its status, counts, timings and versions."""

from __future__ import annotations

import json
import os
import socket
import uuid
from typing import Any

from callqa.errors import CallQAError
from callqa.store.connection import Connection, now

__all__ = ["Runs"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Runs(Connection):
    def start_run(self, source: str, versions: dict[str, Any]) -> str:
        """A new run; earlier runs of this machine whose process is gone are marked interrupted.

        A second run over the same source while one is going on this machine is refused:
        it would only do the same calls again (never twice in the file, but twice the work)."""
        run_id, host = uuid.uuid4().hex[:12], socket.gethostname()
        with self._transaction():
            stale = self.con.execute("SELECT run_id, pid, source, started_at FROM runs WHERE status = 'running' AND host = ?", [host]).fetchall()
            for old_id, pid, old_source, started in stale:
                if pid is None or not _pid_alive(pid):
                    self.con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", [old_id])
                elif old_source == source and pid != os.getpid():
                    raise CallQAError(
                        f"run {old_id} over {source} is still going (pid {pid}, started {started:%Y-%m-%d %H:%M})",
                        hint="wait for it to finish (`callqa runs` shows it), or stop that process",
                    )
            self.con.execute(
                "INSERT INTO runs (run_id, started_at, source, callqa_version, status, host, pid, versions) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
                [run_id, now(), source, versions.get("callqa"), host, os.getpid(), json.dumps(versions)],
            )
        return run_id

    def update_run(self, run_id: str, status: str | None = None, **figures: Any) -> None:
        """Counts (found, processed, skipped, failed, audio_seconds) so far, timings and versions; `status` ends the run."""
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in figures.items()}
        if status:
            values |= {"status": status, "finished_at": now()}
        if values:
            self.con.execute(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE run_id = ?", [*values.values(), run_id])

    def runs(self, limit: int = 20) -> list[dict]:
        return self._dicts(
            "SELECT run_id, status, started_at, finished_at, source, found, processed, skipped, failed, audio_seconds, versions, timings "
            "FROM runs ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
