"""DuckDB store: schema, migrations and the single writer.

DuckDB lets one process write a file at a time, so every write goes through
a `Store` held by one process (the batch flow), and each call's results land
in one transaction: a crash leaves either the whole call or none of it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from callqa.asr import Word
from callqa.errors import StoreBusyError, StoreError
from callqa.scoring import CallAnalysis
from callqa.transcript import Segment, Transcript

__all__ = ["ManagerSummary", "Store"]

SCHEMA_VERSION = 2

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, source VARCHAR,
    found INTEGER, processed INTEGER, skipped INTEGER, failed INTEGER, callqa_version VARCHAR);
CREATE TABLE IF NOT EXISTS calls (
    content_hash VARCHAR PRIMARY KEY, call_id VARCHAR, file_path VARCHAR, manager_id VARCHAR,
    manager_name VARCHAR, started_at TIMESTAMP, direction VARCHAR, duration DOUBLE,
    channel_layout VARCHAR, language VARCHAR, asr JSON, warnings VARCHAR[], created_at TIMESTAMP, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS segments (
    content_hash VARCHAR, idx INTEGER, speaker VARCHAR, start_s DOUBLE, end_s DOUBLE, text VARCHAR,
    avg_logprob DOUBLE, no_speech_prob DOUBLE, words JSON, PRIMARY KEY (content_hash, idx));
CREATE TABLE IF NOT EXISTS scores (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, model VARCHAR, pipeline_version VARCHAR,
    script_compliance DOUBLE, objection_handling DOUBLE, overall DOUBLE, flags VARCHAR[],
    stop_word_count INTEGER, objection_count INTEGER, objections_handled INTEGER,
    manager_talk_seconds DOUBLE, client_talk_seconds DOUBLE, reliability JSON, options JSON, created_at TIMESTAMP, run_id VARCHAR,
    PRIMARY KEY (content_hash, script_id, script_version));
CREATE TABLE IF NOT EXISTS step_results (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, step_id VARCHAR, status VARCHAR, found BOOLEAN,
    score DOUBLE, start_s DOUBLE, end_s DOUBLE, evidence VARCHAR, phrase VARCHAR, context VARCHAR,
    required BOOLEAN, on_time BOOLEAN, in_order BOOLEAN);
CREATE TABLE IF NOT EXISTS stop_word_hits (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, stop_word_id VARCHAR, speaker VARCHAR,
    start_s DOUBLE, text VARCHAR, context VARCHAR, severity VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS objections (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, seq INTEGER, objection_id VARCHAR,
    start_s DOUBLE, text VARCHAR, context VARCHAR, score DOUBLE, handled BOOLEAN,
    handling_found VARCHAR[], handling_missing VARCHAR[], handling JSON);
CREATE TABLE IF NOT EXISTS failures (
    failure_id VARCHAR PRIMARY KEY, run_id VARCHAR, file_path VARCHAR, content_hash VARCHAR, stage VARCHAR,
    error_class VARCHAR, message VARCHAR, retryable BOOLEAN, occurred_at TIMESTAMP);
"""

# Each version's statements upgrade a file from the version before, in one transaction;
# released versions are never edited, a change is a new version.
_MIGRATIONS = {
    1: _SCHEMA_V1,
    2: """
ALTER TABLE segments ADD COLUMN IF NOT EXISTS looped BOOLEAN DEFAULT false;
ALTER TABLE segments ADD COLUMN IF NOT EXISTS overlap BOOLEAN DEFAULT false;
""",
}

_PER_SCRIPT_TABLES = ("scores", "step_results", "stop_word_hits", "objections")


@dataclass(frozen=True)
class CallRecord:
    """What is known of a recording before analysis: file, hash and metadata."""

    content_hash: str
    call_id: str
    file_path: str
    manager_id: str | None = None
    manager_name: str | None = None
    started_at: datetime | None = None
    direction: str | None = None


@dataclass(frozen=True)
class ManagerSummary:
    manager: str
    calls: int
    minutes: float
    mean_compliance: float | None
    objections: int
    objections_handled_pct: float | None
    stop_words_per_call: float


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """The one writer of a callqa database file."""

    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(f"{self.path} is open for writing by another process", hint="wait for the running batch to finish, or use another --db") from None
            raise
        self.upgraded_from: int | None = None  # the schema version found, where this open upgraded the file
        try:
            if read_only:
                self._check_schema()
            else:
                self._migrate()
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _schema_version(self) -> int:
        tables = self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'").fetchone()[0]
        return self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0] if tables else 0

    def _migrate(self) -> None:
        """Bring the file's schema up to this callqa's version, one version per transaction."""
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            self.upgraded_from = found
        for version in range(found + 1, SCHEMA_VERSION + 1):
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute(_MIGRATIONS[version])
                self.con.execute("INSERT INTO schema_version VALUES (?)", [version])
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def _check_schema(self) -> None:
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {found}, older than this callqa's {SCHEMA_VERSION}", hint="run `callqa db upgrade`")

    def _newer(self, found: int) -> StoreError:
        return StoreError(f"{self.path} has schema version {found}, newer than this callqa's {SCHEMA_VERSION}", hint="upgrade callqa to read it")

    # -- batch bookkeeping -------------------------------------------------

    def start_run(self, source: str, version: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.con.execute("INSERT INTO runs (run_id, started_at, source, callqa_version) VALUES (?, ?, ?, ?)", [run_id, _now(), source, version])
        return run_id

    def finish_run(self, run_id: str, found: int, processed: int, skipped: int, failed: int) -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, found = ?, processed = ?, skipped = ?, failed = ? WHERE run_id = ?",
            [_now(), found, processed, skipped, failed, run_id],
        )

    def done_keys(self) -> set[tuple[str, str, int]]:
        """(content hash, script id, script version) of every scored call."""
        return set(self.con.execute("SELECT content_hash, script_id, script_version FROM scores").fetchall())

    def terminal_failures(self) -> set[str]:
        """Content hashes that failed for a reason retrying cannot fix."""
        rows = self.con.execute("SELECT DISTINCT content_hash FROM failures WHERE NOT retryable AND content_hash IS NOT NULL")
        return {r[0] for r in rows.fetchall()}

    def record_failure(self, run_id: str | None, file_path: str, content_hash: str | None, stage: str, error: BaseException, retryable: bool) -> None:
        message = getattr(error, "message", None) or str(error)
        self.con.execute(
            "INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [uuid.uuid4().hex, run_id, file_path, content_hash, stage, type(error).__name__, message, retryable, _now()],
        )

    def failures(self, run_id: str | None = None) -> list[dict]:
        sql = "SELECT file_path, stage, error_class, message, retryable, occurred_at FROM failures"
        params = []
        if run_id:
            sql, params = sql + " WHERE run_id = ?", [run_id]
        cur = self.con.execute(sql + " ORDER BY occurred_at", params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    # -- results -----------------------------------------------------------

    def save_call(self, record: CallRecord, analysis: CallAnalysis, run_id: str | None) -> None:
        """Write one call's transcript and scores atomically; re-saving replaces that script version's results."""
        t = analysis.transcript
        key = [record.content_hash, analysis.script_id, analysis.script_version]
        model = (t.asr or {}).get("model", "human transcript")
        pipeline_version = (t.asr or {}).get("pipeline_version")
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if not con.execute("SELECT 1 FROM calls WHERE content_hash = ?", [record.content_hash]).fetchone():
                con.execute(
                    "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record.content_hash, record.call_id, record.file_path, record.manager_id, record.manager_name,
                     record.started_at, record.direction, analysis.duration, t.channel_layout, t.language,
                     json.dumps(t.asr), t.warnings, _now(), run_id],
                )
                if t.segments:
                    con.executemany(
                        "INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [[record.content_hash, i, s.speaker, s.start, s.end, s.text, s.avg_logprob, s.no_speech_prob,
                          json.dumps([asdict(w) for w in s.words]) if s.words else None, s.looped, s.overlap]
                         for i, s in enumerate(t.segments)],
                    )
            for table in _PER_SCRIPT_TABLES:
                con.execute(f"DELETE FROM {table} WHERE content_hash = ? AND script_id = ? AND script_version = ?", key)
            sc, m = analysis.scores, analysis.metrics
            con.execute(
                "INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                key + [model, pipeline_version, sc.script_compliance, sc.objection_handling, sc.overall, analysis.flags,
                       len(analysis.stop_words), len(analysis.objections), sum(o.handled for o in analysis.objections),
                       m.manager_talk_seconds, m.client_talk_seconds, json.dumps(analysis.reliability),
                       json.dumps(asdict(analysis.options)), _now(), run_id],
            )
            if analysis.steps:
                con.executemany("INSERT INTO step_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    key + [s.id, s.status, s.found, s.score, s.start, s.end, s.evidence, s.phrase, s.context, s.required, s.on_time, s.in_order]
                    for s in analysis.steps])
            if analysis.stop_words:
                con.executemany("INSERT INTO stop_word_hits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    key + [h.id, h.speaker, h.start, h.text, h.context, h.severity, h.score] for h in analysis.stop_words])
            if analysis.objections:
                con.executemany("INSERT INTO objections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    key + [i, o.id, o.start, o.text, o.context, o.score, o.handled, o.handling_found, o.handling_missing,
                           json.dumps([asdict(p) for p in o.handling], ensure_ascii=False)]
                    for i, o in enumerate(analysis.objections)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def transcripts(self, script_id: str | None = None) -> list[tuple[str, str, str | None, Transcript]]:
        """(content hash, call id, manager name, stored transcript) of every call, or of those scored with `script_id`."""
        where = "" if script_id is None else "WHERE content_hash IN (SELECT content_hash FROM scores WHERE script_id = ?)"
        calls = self.con.execute(
            f"SELECT content_hash, call_id, manager_name, duration, language, channel_layout, asr, warnings FROM calls {where} ORDER BY started_at, call_id",
            [] if script_id is None else [script_id],
        ).fetchall()
        segments: dict[str, list[Segment]] = {c[0]: [] for c in calls}
        rows = self.con.execute(
            f"SELECT content_hash, speaker, start_s, end_s, text, avg_logprob, no_speech_prob, words, looped, overlap FROM segments {where} ORDER BY content_hash, idx",
            [] if script_id is None else [script_id],
        ).fetchall()
        for h, speaker, start, end, text, logprob, no_speech, words, looped, overlap in rows:
            segments[h].append(Segment(speaker, start, end, text, logprob, no_speech, [Word(**w) for w in json.loads(words)] if words else [], looped, overlap))
        return [
            (h, call_id, manager, Transcript(segments[h], duration, language, layout, json.loads(asr) if asr else None, list(warnings or [])))
            for h, call_id, manager, duration, language, layout, asr, warnings in calls
        ]

    def step_verdicts(self, script_id: str) -> dict[str, tuple[int, dict[str, str]]]:
        """For each call scored with `script_id`: its latest script version and every step's status there."""
        rows = self.con.execute(
            """
            SELECT r.content_hash, r.script_version, r.step_id, r.status FROM step_results r
            JOIN (SELECT content_hash, max(script_version) AS v FROM scores WHERE script_id = ? GROUP BY 1) latest
              ON r.content_hash = latest.content_hash AND r.script_version = latest.v
            WHERE r.script_id = ?
            """,
            [script_id, script_id],
        ).fetchall()
        verdicts: dict[str, tuple[int, dict[str, str]]] = {}
        for h, version, step_id, status in rows:
            verdicts.setdefault(h, (version, {}))[1][step_id] = status
        return verdicts

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
