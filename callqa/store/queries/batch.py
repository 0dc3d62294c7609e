"""What the nightly batch reads before it plans: what is done, what failed for good."""

from __future__ import annotations

from callqa.store.connection import Connection

__all__ = ["BatchQueries"]


class BatchQueries(Connection):
    def done_keys(self) -> set[tuple[str, str, int]]:
        """(content hash, script id, script version) of every scored call."""
        return set(self.con.execute("SELECT content_hash, script_id, script_version FROM scores").fetchall())

    def terminal_failures(self) -> set[str]:
        """Content hashes whose open failure no retry can fix: skipped until `callqa retry`.
        Metadata and read failures are not here: they are checked again on every run, cheaply."""
        rows = self.con.execute(
            "SELECT DISTINCT content_hash FROM failures WHERE resolved_at IS NULL AND NOT retryable "
            "AND stage NOT IN ('metadata', 'read') AND content_hash IS NOT NULL"
        )
        return {r[0] for r in rows.fetchall()}
