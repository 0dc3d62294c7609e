"""What reports read: per-manager KPIs over the latest script version of each call."""

from __future__ import annotations

from dataclasses import dataclass

from callqa.store.connection import Connection

__all__ = ["ManagerSummary", "ReportQueries"]


@dataclass(frozen=True)
class ManagerSummary:
    manager: str
    calls: int
    minutes: float
    mean_compliance: float | None
    objections: int
    objections_handled_pct: float | None
    stop_words_per_call: float


class ReportQueries(Connection):
    def manager_summary(self, script_id: str | None = None) -> list[ManagerSummary]:
        """Per-manager KPIs over every scored call (latest script version of each call)."""
        rows = self.con.execute(
            """
            WITH latest AS (
                SELECT * FROM scores
                WHERE (? IS NULL OR script_id = ?)
                QUALIFY row_number() OVER (PARTITION BY content_hash ORDER BY script_version DESC, created_at DESC) = 1)
            SELECT coalesce(c.manager_name, c.manager_id, '(unknown)') AS manager,
                   count(*) AS calls,
                   round(sum(c.duration) / 60, 1) AS minutes,
                   round(avg(l.script_compliance), 3) AS mean_compliance,
                   sum(l.objection_count) AS objections,
                   round(100.0 * sum(l.objections_handled) / nullif(sum(l.objection_count), 0), 1) AS handled_pct,
                   round(avg(l.stop_word_count), 2) AS stop_words_per_call
            FROM latest l JOIN calls c USING (content_hash)
            GROUP BY 1 ORDER BY 1
            """,
            [script_id, script_id],
        ).fetchall()
        return [ManagerSummary(*row) for row in rows]
