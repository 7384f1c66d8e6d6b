"""One object owns the audit database: read connections, atomic writes, schema migration.

Writes never touch the live file: they copy it, change the copy inside a
transaction, checkpoint, and atomically rename it over the original. Readers
(the app) keep reading the old file until they next ask, so an import never
shows them partial state or a lock error, and a failed import leaves the
database exactly as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from audit import sql

SCHEMA_VERSION = 3
DEFAULT_DB = Path("data") / "audit.duckdb"


def default_path() -> Path:
    """Where the database lives unless told otherwise (env AUDIT_DB, else data/audit.duckdb)."""
    return Path(os.environ.get("AUDIT_DB") or DEFAULT_DB)


class Database:
    """The audit database file: cached read-only connections and atomic writers."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_path()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._inflight = 0  # queries running on cursors of self._con
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_version: str | None = None

    # -- state -----------------------------------------------------------
    def exists(self) -> bool:
        """Whether a database file has been created yet."""
        return self.path.exists()

    @property
    def version(self) -> str:
        """A token that changes whenever the file is replaced: the cache key for derived data."""
        st = self.path.stat()
        return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"

    # -- reading ---------------------------------------------------------
    def _reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the current file, reopened after a replacement (call holding _cond)."""
        version = self.version
        if self._con is None or self._con_version != version:
            # Queries still running on the old file hold cursors that keep DuckDB's cached instance of it
            # alive; a new connect would then return that stale instance, and closing under them fails.
            while self._inflight:
                self._cond.wait()
            if self._con is not None:
                self._con.close()
            self._con = duckdb.connect(str(self.path), read_only=True)
            self._con_version = version
        return self._con

    def query(self, text: str, params: dict | list | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame (thread-safe via a per-call cursor)."""
        with self._cond:
            cur = self._reader().cursor()
            self._inflight += 1
        try:
            return cur.execute(text, params or {}).df() if params is not None else cur.execute(text).df()
        finally:
            cur.close()
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()

    def q(self, name: str, **params) -> pd.DataFrame:
        """Run a named query from audit/sql/ with named parameters."""
        return self.query(sql.load(name), params)

    def scalar(self, text: str, params: dict | None = None):
        """First column of the first row of a query (None when empty)."""
        df = self.query(text, params)
        return None if df.empty else df.iat[0, 0]

    def close(self) -> None:
        """Close the cached reader (tests and the CLI call this before replacing files)."""
        with self._cond:
            while self._inflight:
                self._cond.wait()
            if self._con is not None:
                self._con.close()
                self._con = None

    # -- writing ---------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Change a copy of the database in one transaction and swap it in only on success."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # one writer at a time, across processes
            fd, tmp_name = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
            os.close(fd)
            tmp = Path(tmp_name)
            tmp.unlink()
            try:
                if self.path.exists():
                    shutil.copy2(self.path, tmp)
                con = duckdb.connect(str(tmp))
                try:
                    _apply_schema(con)
                    con.execute("BEGIN TRANSACTION")
                    yield con
                    con.execute("COMMIT")
                    con.execute("CHECKPOINT")
                except BaseException:
                    with contextlib.suppress(Exception):
                        con.execute("ROLLBACK")
                    raise
                finally:
                    con.close()
                if not self.path.exists():
                    tmp.chmod(0o600)  # a new database holds children's data: its owner only (copies keep the mode)
                os.replace(tmp, self.path)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()

    def init(self) -> None:
        """Create the schema (and reference tables) if the file is new; migrate if older."""
        from audit import reference

        with self.write() as con:
            reference.load_reference(con)

    # -- metadata ----------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        """Read one metadata value (e.g. whether the data is the synthetic sample)."""
        if not self.exists():
            return default
        value = self.scalar("SELECT value FROM meta WHERE key = $key", {"key": key})
        return default if value is None else value


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a connection's file up to SCHEMA_VERSION (new files get the full schema)."""
    con.execute(sql.load("schema"))
    current = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    if current is None:
        con.execute("INSERT INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION])
    elif current < SCHEMA_VERSION:
        for step in range(current + 1, SCHEMA_VERSION + 1):
            con.execute(sql.load(f"migrate_{step}"))
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [step])
    elif current > SCHEMA_VERSION:
        raise RuntimeError(
            f"{con} was written by a newer version of the audit (schema {current} > {SCHEMA_VERSION}); upgrade the app"
        )
