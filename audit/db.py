"""One object owns the audit database: read connections, atomic writes, schema migration.

Writes never touch the live file: they copy it, change the copy inside a
transaction, checkpoint, and atomically rename it over the original. Readers
(the app) keep reading the old file until they next ask, so an import never
shows them partial state or a lock error, and a failed import leaves the
database exactly as it was.

Every write path (imports, deletions, cohort fits, `audit sample`, the first-run build)
holds one writer lock per real database file, so no write is based on a copy another
one is about to replace. The path is resolved (symlinks followed), so a symlinked
database is updated where it really lives. Leftovers of killed writes (temporary
copies, their WAL files, staging folders of killed sample builds) are removed the next
time the database is opened, under the same lock, so only abandoned ones go.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
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


# Errors of the disk rather than of the data: a write that hits them is refused in one line, never a traceback.
DISK_ERRNOS = {errno.EFBIG, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class WriteError(Exception):
    """The database could not be written (read-only, full, file-size limit); it is unchanged."""


class _Held:
    """One real database file's writer lock within this process: threads queue on the RLock, processes on flock."""

    def __init__(self):
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_HELD: dict[str, _Held] = {}
_HELD_GUARD = threading.Lock()


def _writable(path: Path) -> bool:
    """Writable by us and not marked read-only (honoured even for root, who os.access always allows)."""
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    except OSError:
        return False


def _disk_error(target: Path, exc: BaseException) -> WriteError:
    """A one-line WriteError naming the file and what the system said."""
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:200]
    return WriteError(f"{target}: could not write the database ({why}); nothing was changed")


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
        self.clean_leftovers()

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
    def real_path(self) -> Path:
        """The file the database really is (symlinks followed), so writes replace it and not the link."""
        return self.path.resolve()

    @contextlib.contextmanager
    def writer_lock(self, wait: bool = True) -> Iterator[Path | None]:
        """Hold the one writer lock of the real file (re-entrant in this thread); yields the real path.

        With wait=False, yields None at once unless the lock is free in this process and every other.
        """
        target = self.real_path()
        with _HELD_GUARD:
            held = _HELD.setdefault(str(target), _Held())
        if not held.rlock.acquire(blocking=wait):
            yield None
            return
        try:
            if held.depth == 0:
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    lock = target.with_name(target.name + ".lock")
                    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644) if _writable(target.parent) or not lock.exists() \
                        else os.open(lock, os.O_RDONLY)
                except OSError as exc:
                    raise _disk_error(target, exc) from None
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                except BlockingIOError:
                    os.close(fd)
                    yield None
                    return
                held.fd = fd
            elif not wait:
                yield None  # this thread is writing: nothing of ours is abandoned now
                return
            held.depth += 1
            try:
                yield target
            finally:
                held.depth -= 1
                if held.depth == 0 and held.fd is not None:
                    os.close(held.fd)  # closing the descriptor releases the flock
                    held.fd = None
        finally:
            held.rlock.release()

    def check_writable(self, target: Path) -> None:
        """Refuse, in one line, to write where the file or its folder is read-only."""
        if target.exists() and not _writable(target):
            raise WriteError(f"{target}: the database file is read-only; nothing was changed")
        if not _writable(target.parent):
            raise WriteError(f"{target.parent}: the database folder is read-only; nothing was changed")

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Change a copy of the database in one transaction and swap it in only on success."""
        with self.writer_lock() as target:  # one writer at a time, across threads and processes
            self.check_writable(target)
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
                os.close(fd)
            except OSError as exc:
                raise _disk_error(target, exc) from None
            tmp = Path(tmp_name)
            tmp.unlink()
            try:
                try:
                    if target.exists():
                        shutil.copy2(target, tmp)
                    con = duckdb.connect(str(tmp))
                except (OSError, duckdb.Error) as exc:
                    raise _disk_error(target, exc) from None
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
                if not target.exists():
                    tmp.chmod(0o600)  # a new database holds children's data: its owner only (copies keep the mode)
                os.replace(tmp, target)
            except duckdb.IOException as exc:  # the copy hit a full disk or a file-size limit mid-write
                raise _disk_error(target, exc) from None
            except OSError as exc:
                if exc.errno in DISK_ERRNOS:
                    raise _disk_error(target, exc) from None
                raise
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()

    def leftovers(self) -> list[Path]:
        """Files and folders only a write of this database makes: its temporary copies and sample staging folders."""
        target = self.real_path()
        name = re.escape(target.name)
        ours = re.compile(name + r"\.[a-z0-9_]{8}\.tmp(\.wal)?|" + name + r"\.sample-[a-z0-9_]{8}")
        try:
            return sorted(p for p in target.parent.iterdir() if ours.fullmatch(p.name))
        except OSError:
            return []

    def clean_leftovers(self) -> list[Path]:
        """Remove what killed writes left behind, holding the writer lock so none of it is in use; returns what went."""
        if not self.leftovers():
            return []
        removed = []
        with contextlib.suppress(WriteError, OSError), self.writer_lock(wait=False) as target:
            if target is None:
                return []  # someone is writing now; the next start cleans up
            for path in self.leftovers():
                if path.is_dir():
                    # A staging folder holds the staging database and generated files, nothing a person put there.
                    if not {c.name for c in path.iterdir()} <= {"staging.duckdb", "staging.duckdb.wal",
                                                                  "staging.duckdb.lock", "files"}:
                        continue
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
        return removed

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
