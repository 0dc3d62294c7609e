"""A callqa database file open in this process: the connection, its schema
checked or upgraded on open, and short transactions.

DuckDB lets one process write a file at a time, and a writer also shuts
readers out. So nobody holds the file for long: the batch opens it for one
short transaction per group of finished calls and closes it again, and every
opener waits with backoff while another process has it (`open_store`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb

from callqa.errors import StoreBusyError, StoreError
from callqa.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["Connection", "now"]


def now() -> datetime:
    """UTC, without a time zone, as the schema's TIMESTAMP columns keep it."""
    return datetime.now(UTC).replace(tzinfo=None)


class Connection:
    """The file, open: read-only checks its schema, read-write upgrades it."""

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _schema_version(self) -> int:
        tables = self._value("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
        return self._value("SELECT coalesce(max(version), 0) FROM schema_version") if tables else 0

    def _value(self, sql: str, params: list | None = None) -> Any:
        """The first value of a query, or None; the whole result is read, as DuckDB wants before the next statement."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def _dicts(self, sql: str, params: list) -> list[dict]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def _migrate(self) -> None:
        """Bring the file's schema up to this callqa's version, one version per transaction."""
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            self.upgraded_from = found
        for version in range(found + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                self.con.execute(MIGRATIONS[version])
                self.con.execute("INSERT INTO schema_version VALUES (?)", [version])

    def _check_schema(self) -> None:
        found = self._schema_version()
        if found > SCHEMA_VERSION:
            raise self._newer(found)
        if found < SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {found}, older than this callqa's {SCHEMA_VERSION}", hint="run `callqa db upgrade`")

    def _newer(self, found: int) -> StoreError:
        return StoreError(f"{self.path} has schema version {found}, newer than this callqa's {SCHEMA_VERSION}", hint="upgrade callqa to read it")

    def _transaction(self) -> _Transaction:
        return _Transaction(self.con)


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any error (also KeyboardInterrupt)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
