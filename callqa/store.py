"""DuckDB store: schema, migrations, and set-based loading of results.

DuckDB lets one process write a file at a time, and a writer also shuts
readers out. So nobody holds the file for long: the batch opens it for one
short transaction per group of finished calls (`Rows`, loaded set-based from
Arrow) and closes it again, and every opener waits with backoff while another
process has it (`open_store`). A call's results land in one transaction: a
crash leaves either the whole call or none of it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from callqa.asr import Word
from callqa.errors import CallQAError, StoreBusyError, StoreError, is_retryable
from callqa.scoring import CallAnalysis
from callqa.transcript import Segment, Transcript

__all__ = ["CallRecord", "Failure", "ManagerSummary", "Rows", "Store", "StoredCall", "call_rows", "open_store", "recording_rows", "score_rows"]

SCHEMA_VERSION = 3

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
    3: """
ALTER TABLE calls ADD COLUMN manager_ext VARCHAR;
ALTER TABLE calls ADD COLUMN team VARCHAR;
ALTER TABLE calls ADD COLUMN client_phone_hash VARCHAR;
ALTER TABLE calls ADD COLUMN metadata_sources VARCHAR[];
CREATE TABLE recordings (
    file_path VARCHAR, content_hash VARCHAR, size_bytes BIGINT, first_seen TIMESTAMP, run_id VARCHAR,
    PRIMARY KEY (file_path, content_hash));
INSERT INTO recordings SELECT file_path, content_hash, NULL, created_at, run_id FROM calls WHERE file_path IS NOT NULL;
CREATE TABLE flags (content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, flag VARCHAR);
INSERT INTO flags SELECT content_hash, script_id, script_version, unnest(flags) FROM scores;
CREATE TABLE objection_handling (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, seq INTEGER, objection_id VARCHAR,
    part_id VARCHAR, found BOOLEAN, score DOUBLE, start_s DOUBLE, text VARCHAR, phrase VARCHAR);
INSERT INTO objection_handling
    SELECT content_hash, script_id, script_version, seq, objection_id, p.id, p.found, p.score, p.start, p.text, p.phrase
    FROM (SELECT *, unnest(from_json(handling, '[{"id":"VARCHAR","found":"BOOLEAN","score":"DOUBLE","start":"DOUBLE","text":"VARCHAR","phrase":"VARCHAR"}]')) AS p
          FROM objections);
ALTER TABLE runs ADD COLUMN status VARCHAR;
UPDATE runs SET status = CASE WHEN finished_at IS NULL THEN 'interrupted' ELSE 'finished' END;
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN versions JSON;
ALTER TABLE runs ADD COLUMN audio_seconds DOUBLE;
ALTER TABLE runs ADD COLUMN timings JSON;
ALTER TABLE failures ADD COLUMN attempts INTEGER DEFAULT 1;
ALTER TABLE failures ADD COLUMN last_seen TIMESTAMP;
UPDATE failures SET last_seen = occurred_at;
ALTER TABLE failures ADD COLUMN resolved_at TIMESTAMP;
ALTER TABLE failures ADD COLUMN resolution VARCHAR;
-- Reserved for the review page: a QA lead's verdict on one finding of one scored call.
CREATE TABLE reviews (
    review_id VARCHAR PRIMARY KEY, content_hash VARCHAR, script_id VARCHAR, script_version INTEGER,
    item_kind VARCHAR, item_id VARCHAR, verdict VARCHAR, reviewer VARCHAR, comment VARCHAR, created_at TIMESTAMP);
""",
}

_PER_SCRIPT_TABLES = ("scores", "step_results", "stop_word_hits", "objections", "objection_handling", "flags")


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
    manager_ext: str | None = None
    team: str | None = None
    client_phone_hash: str | None = None
    metadata_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """A recording that could not be processed, at which stage and why."""

    file_path: str
    content_hash: str | None
    stage: str  # read | metadata | analyze
    error_class: str
    message: str
    retryable: bool

    @classmethod
    def of(cls, file_path: str, content_hash: str | None, stage: str, error: BaseException) -> Failure:
        return cls(file_path, content_hash, stage, type(error).__name__, getattr(error, "message", None) or str(error), is_retryable(error))


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


class Rows:
    """Rows for several tables, kept column-wise, so that many calls load with one
    set-based insert per table; built where the call was analysed, loaded by the writer."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, list]] = {}

    def add(self, table: str, **row) -> None:
        columns = self.tables.setdefault(table, {})
        for name, value in row.items():
            columns.setdefault(name, []).append(value)

    def extend(self, other: Rows) -> Rows:
        for table, columns in other.tables.items():
            mine = self.tables.setdefault(table, {})
            for name, values in columns.items():
                mine.setdefault(name, []).extend(values)
        return self

    def count(self, table: str) -> int:
        columns = self.tables.get(table)
        return len(next(iter(columns.values()))) if columns else 0


def call_rows(record: CallRecord, transcript: Transcript, duration: float, run_id: str | None) -> Rows:
    """The call and its transcript (written once per recording content)."""
    rows, now, h = Rows(), _now(), record.content_hash
    rows.add(
        "calls", content_hash=h, call_id=record.call_id, file_path=record.file_path, manager_id=record.manager_id,
        manager_name=record.manager_name, started_at=record.started_at, direction=record.direction, duration=duration,
        channel_layout=transcript.channel_layout, language=transcript.language, asr=json.dumps(transcript.asr, ensure_ascii=False),
        warnings=transcript.warnings, created_at=now, run_id=run_id, manager_ext=record.manager_ext, team=record.team,
        client_phone_hash=record.client_phone_hash, metadata_sources=list(record.metadata_sources),
    )
    for i, s in enumerate(transcript.segments):
        rows.add(
            "segments", content_hash=h, idx=i, speaker=s.speaker, start_s=s.start, end_s=s.end, text=s.text,
            avg_logprob=s.avg_logprob, no_speech_prob=s.no_speech_prob,
            words=_words_json(s.words), looped=s.looped, overlap=s.overlap,
        )
    return rows


def _words_json(words: list[Word]) -> str | None:
    # A plain dict per word: dataclasses.asdict was most of the cost of a call's rows.
    return json.dumps([{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in words], ensure_ascii=False) if words else None


def score_rows(content_hash: str, analysis: CallAnalysis, run_id: str | None) -> Rows:
    """One script version's verdicts on one call: replaces that version's earlier rows when loaded."""
    rows, asr = Rows(), analysis.transcript.asr or {}
    key = {"content_hash": content_hash, "script_id": analysis.script_id, "script_version": analysis.script_version}
    sc, m = analysis.scores, analysis.metrics
    rows.add(
        "scores", **key, model=asr.get("model", "human transcript"), pipeline_version=asr.get("pipeline_version"),
        script_compliance=sc.script_compliance, objection_handling=sc.objection_handling, overall=sc.overall, flags=analysis.flags,
        stop_word_count=len(analysis.stop_words), objection_count=len(analysis.objections),
        objections_handled=sum(o.handled for o in analysis.objections), manager_talk_seconds=m.manager_talk_seconds,
        client_talk_seconds=m.client_talk_seconds, reliability=json.dumps(analysis.reliability),
        options=json.dumps(asdict(analysis.options)), created_at=_now(), run_id=run_id,
    )
    for s in analysis.steps:
        rows.add(
            "step_results", **key, step_id=s.id, status=s.status, found=s.found, score=s.score, start_s=s.start, end_s=s.end,
            evidence=s.evidence, phrase=s.phrase, context=s.context, required=s.required, on_time=s.on_time, in_order=s.in_order,
        )
    for h in analysis.stop_words:
        rows.add("stop_word_hits", **key, stop_word_id=h.id, speaker=h.speaker, start_s=h.start, text=h.text, context=h.context, severity=h.severity, score=h.score)
    for seq, o in enumerate(analysis.objections):
        rows.add(
            "objections", **key, seq=seq, objection_id=o.id, start_s=o.start, text=o.text, context=o.context, score=o.score,
            handled=o.handled, handling_found=o.handling_found, handling_missing=o.handling_missing,
            handling=json.dumps([asdict(p) for p in o.handling], ensure_ascii=False),
        )
        for p in o.handling:
            rows.add("objection_handling", **key, seq=seq, objection_id=o.id, part_id=p.id, found=p.found, score=p.score, start_s=p.start, text=p.text, phrase=p.phrase)
    for flag in analysis.flags:
        rows.add("flags", **key, flag=flag)
    return rows


def recording_rows(recordings: list[tuple[str, str, int]], run_id: str | None) -> Rows:
    """Every (file path, content hash, size) seen: copies of one content are one call, several recordings."""
    rows, now = Rows(), _now()
    for path, h, size in recordings:
        rows.add("recordings", file_path=path, content_hash=h, size_bytes=size, first_seen=now, run_id=run_id)
    return rows


@dataclass(frozen=True)
class StoredCall:
    """A call as read from the file. Its transcript is parsed on demand: re-scoring many
    calls parses them in the worker processes, not all in the one that reads the file."""

    content_hash: str
    call_id: str
    manager_name: str | None
    duration: float
    language: str | None
    channel_layout: str | None
    asr: str | None  # JSON
    warnings: list[str] | None
    segments: list[tuple]  # speaker, start, end, text, avg_logprob, no_speech_prob, words (JSON), looped, overlap

    def transcript(self) -> Transcript:
        segments = [
            Segment(speaker, start, end, text, logprob, no_speech, [Word(**w) for w in json.loads(words)] if words else [], looped, overlap)
            for speaker, start, end, text, logprob, no_speech, words, looped, overlap in self.segments
        ]
        return Transcript(segments, self.duration, self.language, self.channel_layout, json.loads(self.asr) if self.asr else None, list(self.warnings or []))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


class Store:
    """A callqa database file, open in this process; `open_store` waits for a busy file."""

    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(f"{self.path} is in use by another process", hint="wait for the running batch to finish, or use another --db") from None
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
        tables = self._value("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
        return self._value("SELECT coalesce(max(version), 0) FROM schema_version") if tables else 0

    def _value(self, sql: str, params: list | None = None):
        """The first value of a query, or None; the whole result is read, as DuckDB wants before the next statement."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def _migrate(self) -> None:
        """Bring the file's schema up to this callqa's version, one version per transaction."""
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            self.upgraded_from = found
        for version in range(found + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                self.con.execute(_MIGRATIONS[version])
                self.con.execute("INSERT INTO schema_version VALUES (?)", [version])

    def _check_schema(self) -> None:
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {found}, older than this callqa's {SCHEMA_VERSION}", hint="run `callqa db upgrade`")

    def _newer(self, found: int) -> StoreError:
        return StoreError(f"{self.path} has schema version {found}, newer than this callqa's {SCHEMA_VERSION}", hint="upgrade callqa to read it")

    def _transaction(self):
        return _Transaction(self.con)

    # -- runs ----------------------------------------------------------------

    def start_run(self, source: str, versions: dict) -> str:
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
                    raise CallQAError(f"run {old_id} over {source} is still going (pid {pid}, started {started:%Y-%m-%d %H:%M})",
                                      hint="wait for it to finish (`callqa runs` shows it), or stop that process")
            self.con.execute(
                "INSERT INTO runs (run_id, started_at, source, callqa_version, status, host, pid, versions) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
                [run_id, _now(), source, versions.get("callqa"), host, os.getpid(), json.dumps(versions)],
            )
        return run_id

    def update_run(self, run_id: str, status: str | None = None, **figures) -> None:
        """Counts (found, processed, skipped, failed, audio_seconds) so far, timings and versions; `status` ends the run."""
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in figures.items()}
        if status:
            values |= {"status": status, "finished_at": _now()}
        if values:
            self.con.execute(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE run_id = ?", [*values.values(), run_id])

    def runs(self, limit: int = 20) -> list[dict]:
        return self._dicts(
            "SELECT run_id, status, started_at, finished_at, source, found, processed, skipped, failed, audio_seconds, versions, timings "
            "FROM runs ORDER BY started_at DESC LIMIT ?", [limit])

    # -- what is done, what failed -------------------------------------------

    def done_keys(self) -> set[tuple[str, str, int]]:
        """(content hash, script id, script version) of every scored call."""
        return set(self.con.execute("SELECT content_hash, script_id, script_version FROM scores").fetchall())

    def terminal_failures(self) -> set[str]:
        """Content hashes whose open failure no retry can fix: skipped until `callqa retry`.
        Metadata and read failures are not here: they are checked again on every run, cheaply."""
        rows = self.con.execute(
            "SELECT DISTINCT content_hash FROM failures WHERE resolved_at IS NULL AND NOT retryable "
            "AND stage NOT IN ('metadata', 'read') AND content_hash IS NOT NULL")
        return {r[0] for r in rows.fetchall()}

    def record_failures(self, run_id: str | None, failures: list[Failure]) -> None:
        """Store failures; the same failure seen again (unresolved) counts an attempt instead of a new row."""
        if not failures:
            return
        now = _now()
        with self._transaction():
            for f in failures:
                same = self._value(
                    "SELECT failure_id FROM failures WHERE resolved_at IS NULL AND file_path = ? AND content_hash IS NOT DISTINCT FROM ? "
                    "AND stage = ? AND error_class = ? AND message = ?", [f.file_path, f.content_hash, f.stage, f.error_class, f.message])
                if same:
                    self.con.execute("UPDATE failures SET attempts = attempts + 1, last_seen = ?, run_id = ?, retryable = ? WHERE failure_id = ?",
                                     [now, run_id, f.retryable, same])
                else:
                    self.con.execute(
                        "INSERT INTO failures (failure_id, run_id, file_path, content_hash, stage, error_class, message, retryable, occurred_at, attempts, last_seen) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                        [uuid.uuid4().hex, run_id, f.file_path, f.content_hash, f.stage, f.error_class, f.message, f.retryable, now, now])

    def record_failure(self, run_id: str | None, file_path: str, content_hash: str | None, stage: str, error: BaseException) -> None:
        self.record_failures(run_id, [Failure.of(file_path, content_hash, stage, error)])

    def failures(self, run_id: str | None = None, include_resolved: bool = False) -> list[dict]:
        """Open failures (of one run, or all), oldest first."""
        where, params = ["TRUE"], []
        if run_id:
            where, params = where + ["run_id = ?"], [run_id]
        if not include_resolved:
            where.append("resolved_at IS NULL")
        return self._dicts(
            "SELECT file_path, content_hash, stage, error_class, message, retryable, attempts, occurred_at, last_seen, resolved_at, resolution "
            f"FROM failures WHERE {' AND '.join(where)} ORDER BY occurred_at", params)

    def requeue(self, paths: list[str] | None = None) -> int:
        """Mark open failures (all, or those of these files) for another try on the next run; returns how many."""
        sql = "UPDATE failures SET resolved_at = ?, resolution = 'requeued' WHERE resolved_at IS NULL"
        params: list = [_now()]
        if paths is not None:
            sql += " AND list_contains(?, file_path)"
            params.append([str(Path(p).resolve()) for p in paths] + list(paths))
        return self._value(sql, params)

    def _dicts(self, sql: str, params: list) -> list[dict]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    # -- results -------------------------------------------------------------

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
                    con.execute("CREATE OR REPLACE TEMP TABLE fresh AS SELECT DISTINCT content_hash FROM new_calls "
                                "WHERE content_hash NOT IN (SELECT content_hash FROM calls)")
                    con.execute("INSERT INTO calls BY NAME SELECT * FROM new_calls WHERE content_hash IN (SELECT content_hash FROM fresh)")
                    if "segments" in names:
                        con.execute("INSERT INTO segments BY NAME SELECT * FROM new_segments WHERE content_hash IN (SELECT content_hash FROM fresh)")
                if "recordings" in names:
                    con.execute("INSERT INTO recordings BY NAME SELECT DISTINCT ON (file_path, content_hash) * FROM new_recordings n WHERE NOT EXISTS "
                                "(SELECT 1 FROM recordings r WHERE r.file_path = n.file_path AND r.content_hash = n.content_hash)")
                if "scores" in names:
                    for table in _PER_SCRIPT_TABLES:
                        con.execute(f"DELETE FROM {table} t USING new_scores n WHERE t.content_hash = n.content_hash "
                                    "AND t.script_id = n.script_id AND t.script_version = n.script_version")
                    for table in _PER_SCRIPT_TABLES:
                        if table in names:
                            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_{table}")
                    con.execute("UPDATE failures SET resolved_at = ?, resolution = 'processed' "
                                "WHERE resolved_at IS NULL AND content_hash IN (SELECT content_hash FROM new_scores)", [_now()])
        finally:
            for table in names:
                con.unregister(f"new_{table}")

    def save_call(self, record: CallRecord, analysis: CallAnalysis, run_id: str | None) -> None:
        """Write one call's transcript and scores atomically; re-saving replaces that script version's results."""
        self.load(call_rows(record, analysis.transcript, analysis.duration, run_id).extend(score_rows(record.content_hash, analysis, run_id)))

    def stored_calls(self, script_id: str | None = None) -> list[StoredCall]:
        """Every stored call, or those scored with `script_id`, in call order; transcripts still unparsed."""
        where, params = ("", []) if script_id is None else ("WHERE content_hash IN (SELECT content_hash FROM scores WHERE script_id = ?)", [script_id])
        calls = self.con.execute(
            f"SELECT content_hash, call_id, manager_name, duration, language, channel_layout, asr, warnings FROM calls {where} ORDER BY started_at, call_id",
            params,
        ).fetchall()
        segments: dict[str, list[tuple]] = {c[0]: [] for c in calls}
        rows = self.con.execute(
            f"SELECT content_hash, speaker, start_s, end_s, text, avg_logprob, no_speech_prob, words, looped, overlap FROM segments {where} ORDER BY content_hash, idx",
            params,
        ).fetchall()
        for row in rows:
            segments[row[0]].append(row[1:])
        return [StoredCall(*call, segments=segments[call[0]]) for call in calls]

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


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any error (also KeyboardInterrupt)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type, *_) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
