"""The one writer's load: many calls' rows in one transaction, one set-based
insert per table. A crash leaves either a whole call or none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callqa.store.connection import Connection, now
from callqa.store.rows import CallRecord, Rows, call_result

if TYPE_CHECKING:
    from callqa.analysis import CallAnalysis

__all__ = ["Loader"]

_PER_SCRIPT_TABLES = ("scores", "step_results", "stop_word_hits", "objections", "objection_handling", "flags")


class Loader(Connection):
    def load(self, rows: Rows, replace_transcripts: bool = False) -> None:
        """Load many calls' rows in one transaction, one set-based insert per table.

        A call's transcript is written once per content (kept unless `replace_transcripts`);
        a script version's verdicts replace that version's earlier ones; recordings are added once;
        open failures of the calls now scored are resolved."""
        import pyarrow as pa

        con, names = self.con, []
        try:
            for table, columns in rows.tables.items():
                if columns:
                    names.append(table)
                    con.register(f"new_{table}", pa.table(columns))
            with self._transaction():
                if "calls" in names:
                    if replace_transcripts:
                        con.execute("DELETE FROM segments WHERE content_hash IN (SELECT content_hash FROM new_calls)")
                        con.execute("DELETE FROM calls WHERE content_hash IN (SELECT content_hash FROM new_calls)")
                    con.execute(
                        "CREATE OR REPLACE TEMP TABLE fresh AS SELECT DISTINCT content_hash FROM new_calls "
                        "WHERE content_hash NOT IN (SELECT content_hash FROM calls)"
                    )
                    con.execute("INSERT INTO calls BY NAME SELECT * FROM new_calls WHERE content_hash IN (SELECT content_hash FROM fresh)")
                    if "segments" in names:
                        con.execute("INSERT INTO segments BY NAME SELECT * FROM new_segments WHERE content_hash IN (SELECT content_hash FROM fresh)")
                if "recordings" in names:
                    con.execute(
                        "INSERT INTO recordings BY NAME SELECT DISTINCT ON (file_path, content_hash) * FROM new_recordings n WHERE NOT EXISTS "
                        "(SELECT 1 FROM recordings r WHERE r.file_path = n.file_path AND r.content_hash = n.content_hash)"
                    )
                if "scores" in names:
                    for table in _PER_SCRIPT_TABLES:
                        con.execute(
                            f"DELETE FROM {table} t USING new_scores n WHERE t.content_hash = n.content_hash "
                            "AND t.script_id = n.script_id AND t.script_version = n.script_version"
                        )
                    for table in _PER_SCRIPT_TABLES:
                        if table in names:
                            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_{table}")
                    con.execute(
                        "UPDATE failures SET resolved_at = ?, resolution = 'processed' "
                        "WHERE resolved_at IS NULL AND content_hash IN (SELECT content_hash FROM new_scores)",
                        [now()],
                    )
        finally:
            for table in names:
                con.unregister(f"new_{table}")

    def save_call(self, record: CallRecord, analysis: CallAnalysis, run_id: str | None) -> None:
        """Write one call's transcript and scores atomically; re-saving replaces that script version's results."""
        self.load(call_result(record, analysis, run_id).rows)
