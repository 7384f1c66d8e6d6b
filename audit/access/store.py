"""Accounts, sign-in with lockout, settings and the append-only audit log, in a SQLite file beside the database.

SQLite, not the DuckDB file: every import replaces the DuckDB file whole (and `audit sample` builds a new
one), which would drop accounts and log entries, and a log entry per download would change the file's
version and so empty every session's cache. SQLite lets the server and the CLI append at once, and its
triggers make the log append-only in the file itself.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from audit import sql
from audit.access.roles import ADMINISTRATOR, Account, check_role, parse_las

MAX_FAILURES = 5          # consecutive failed sign-ins for one email before it is locked
LOCKOUT_SECONDS = 15 * 60
MIN_PASSWORD = 12
OPEN_ACCESS = "open_access"   # setting: the role given to visitors who do not sign in, or "off"
OPEN_CHOICES = ("off", "meeting", "administrator")

_hasher = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-memory profile)
_DUMMY = _hasher.hash("not a password: equalises the time taken for unknown emails")


class SignInFailed(Exception):
    """A sign-in was refused; the message is safe to show (it never says whether the email exists)."""


def store_path(db_path: str | os.PathLike) -> Path:
    """Where a database's access store lives: beside it, audit.duckdb -> audit.access.sqlite."""
    p = Path(db_path)
    return p.with_name(p.stem + ".access.sqlite")


def cli_account() -> Account:
    """The CLI acts as the administrator of the machine it runs on: it holds the database file."""
    with contextlib.suppress(Exception):
        who = f"cli:{getpass.getuser()}@{socket.gethostname()}"
        return Account(who, ADMINISTRATOR, how="cli")
    return Account("cli", ADMINISTRATOR, how="cli")


def _email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return str(email or "").strip().lower()


class AccessStore:
    """The access store of one audit database."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def beside(cls, db_path: str | os.PathLike) -> "AccessStore":
        """The store that belongs to this database file."""
        return cls(store_path(db_path))

    @contextlib.contextmanager
    def _connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (writers take the lock at once); the file is created private (0600)."""
        new = not self.path.exists()
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            if new or not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_log'").fetchone():
                con.executescript(sql.load("access_schema"))
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    # -- accounts ----------------------------------------------------------
    def has_users(self) -> bool:
        """Whether anyone has an account (until then a synthetic database runs open)."""
        if not self.path.exists():
            return False
        with self._connect(write=False) as con:
            return con.execute("SELECT count(*) FROM users").fetchone()[0] > 0

    def account(self, email: str, how: str = "password") -> Account | None:
        """The account of an email, read afresh so a removal or role change applies at the next rerun."""
        if not self.path.exists():
            return None
        with self._connect(write=False) as con:
            row = con.execute("SELECT email, role, las FROM users WHERE email = ?", [_email(email)]).fetchone()
        if row is None:
            return None
        return Account(row[0], row[1], frozenset(c for c in row[2].split(",") if c), how)

    def users(self) -> pd.DataFrame:
        """Every account: email, role, LAs, whether it has a local password, when added."""
        with self._connect(write=False) as con:
            rows = con.execute("SELECT email, role, las, password_hash IS NOT NULL, created_at FROM users "
                               "ORDER BY email").fetchall()
        return pd.DataFrame(rows, columns=["email", "role", "las", "local_password", "created_at"])

    def add_user(self, email: str, role: str, las=None, password: str | None = None, *, by: Account) -> Account:
        """Add an account (the administrator's action is logged); a password makes it a local account."""
        by.require_admin("Adding a user")
        email, codes = _email(email), parse_las(las)
        if "@" not in email:
            raise ValueError(f"'{email}' is not an email address")
        check_role(role, codes)
        digest = self._hash(password) if password is not None else None
        with self._connect() as con:
            if con.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
                raise ValueError(f"{email} already has an account; use set-role to change it")
            con.execute("INSERT INTO users (email, role, las, password_hash) VALUES (?, ?, ?, ?)",
                        [email, role, ",".join(sorted(codes)), digest])
            self._log(con, by, "user_add", detail=json.dumps({"email": email, "role": role, "las": sorted(codes),
                                                              "local_password": digest is not None}))
        return Account(email, role, codes)

    def remove_user(self, email: str, *, by: Account) -> None:
        """Remove an account (logged); its sessions lose access at their next rerun."""
        by.require_admin("Removing a user")
        email = _email(email)
        with self._connect() as con:
            if con.execute("DELETE FROM users WHERE email = ?", [email]).rowcount == 0:
                raise KeyError(f"no account for {email}")
            self._log(con, by, "user_remove", detail=json.dumps({"email": email}))

    def set_role(self, email: str, role: str, las=None, *, by: Account) -> Account:
        """Change an account's role and LAs (logged with the old and new values)."""
        by.require_admin("Changing a role")
        email, codes = _email(email), parse_las(las)
        check_role(role, codes)
        with self._connect() as con:
            old = con.execute("SELECT role, las FROM users WHERE email = ?", [email]).fetchone()
            if old is None:
                raise KeyError(f"no account for {email}")
            con.execute("UPDATE users SET role = ?, las = ? WHERE email = ?", [role, ",".join(sorted(codes)), email])
            self._log(con, by, "role_change", detail=json.dumps({
                "email": email, "from": {"role": old[0], "las": [c for c in old[1].split(",") if c]},
                "to": {"role": role, "las": sorted(codes)}}))
        return Account(email, role, codes)

    def set_password(self, email: str, password: str, *, by: Account) -> None:
        """Set a local password (administrators for anyone, everyone for themselves); logged without the password."""
        email = _email(email)
        if by.email != email:
            by.require_admin("Setting another user's password")
        digest = self._hash(password)
        with self._connect() as con:
            if con.execute("UPDATE users SET password_hash = ? WHERE email = ?", [digest, email]).rowcount == 0:
                raise KeyError(f"no account for {email}")
            con.execute("DELETE FROM signin_failures WHERE email = ?", [email])
            self._log(con, by, "password_set", detail=json.dumps({"email": email}))

    @staticmethod
    def _hash(password: str) -> str:
        """An argon2id hash of a password long enough to resist guessing."""
        if password is None or len(password) < MIN_PASSWORD:
            raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
        return _hasher.hash(password)

    # -- signing in ----------------------------------------------------------
    def authenticate(self, email: str, password: str, now: float | None = None) -> Account:
        """Check a local password; lock the email for LOCKOUT_SECONDS after MAX_FAILURES failures in a row.

        Every attempt is logged. Unknown emails are hashed against a dummy and counted like known
        ones, so neither the time taken nor the lockout tells an attacker who has an account.
        """
        email, now = _email(email), time.time() if now is None else now
        with self._connect() as con:
            fail = con.execute("SELECT failures, locked_until FROM signin_failures WHERE email = ?", [email]).fetchone()
            if fail and fail[1] and fail[1] > now:
                self._log(con, email, "sign_in_refused", detail="locked")  # commits before the refusal below
                locked_for = fail[1] - now
            else:
                locked_for = None
        if locked_for is not None:
            raise SignInFailed(f"Too many failed sign-ins: try again in {max(1, round(locked_for / 60))} minute(s), "
                               "or ask an administrator to set a new password.")
        with self._connect() as con:
            fail = con.execute("SELECT failures, locked_until FROM signin_failures WHERE email = ?", [email]).fetchone()
            row = con.execute("SELECT role, las, password_hash FROM users WHERE email = ?", [email]).fetchone()
            ok = False
            try:
                ok = _hasher.verify(row[2] if row and row[2] else _DUMMY, password or "") and bool(row and row[2])
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if not ok:
                failures = (fail[0] if fail and not (fail[1] and fail[1] <= now) else 0) + 1
                locked = now + LOCKOUT_SECONDS if failures >= MAX_FAILURES else None
                con.execute("INSERT OR REPLACE INTO signin_failures (email, failures, locked_until) VALUES (?, ?, ?)",
                            [email, 0 if locked else failures, locked])
                self._log(con, email, "sign_in_failed", detail="locked" if locked else f"failure {failures}")
            else:
                con.execute("DELETE FROM signin_failures WHERE email = ?", [email])
                if _hasher.check_needs_rehash(row[2]):
                    con.execute("UPDATE users SET password_hash = ? WHERE email = ?", [_hasher.hash(password), email])
                account = Account(email, row[0], frozenset(c for c in row[1].split(",") if c), "password")
                self._log(con, account, "sign_in", detail="password")
                return account
        raise SignInFailed("Email or password not recognised.")

    # -- settings --------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        """One setting's value."""
        if not self.path.exists():
            return default
        with self._connect(write=False) as con:
            row = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else row[0]

    def set_setting(self, key: str, value: str, *, by: Account) -> None:
        """Change a setting (administrators only; logged with the old value)."""
        by.require_admin(f"Changing the setting {key}")
        if key == OPEN_ACCESS and value not in OPEN_CHOICES:
            raise ValueError(f"{OPEN_ACCESS} must be one of {', '.join(OPEN_CHOICES)}, not '{value}'")
        with self._connect() as con:
            old = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
            con.execute("INSERT OR REPLACE INTO settings (key, value, set_by) VALUES (?, ?, ?)", [key, value, by.email])
            self._log(con, by, "setting", detail=json.dumps({"key": key, "from": old[0] if old else None, "to": value}))

    # -- the audit log -----------------------------------------------------------
    def log(self, actor: Account | str, action: str, *, view: str | None = None, filters: dict | str | None = None,
            rows: int | None = None, detail: str | None = None) -> None:
        """Append one entry: who, what, which view, with which filters, how many rows."""
        with self._connect() as con:
            self._log(con, actor, action, view=view, filters=filters, rows=rows, detail=detail)

    @staticmethod
    def _log(con, actor: Account | str, action: str, *, view=None, filters=None, rows=None, detail=None) -> None:
        """Append inside an open transaction (so a change and its log entry commit together)."""
        email, role = (actor.email, actor.role) if isinstance(actor, Account) else (str(actor), None)
        if isinstance(filters, dict):
            filters = json.dumps({k: v for k, v in filters.items() if v is not None}, sort_keys=True)
        con.execute("INSERT INTO audit_log (actor, role, action, view, filters, n_rows, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [email, role, action, view, filters, rows, detail])

    def log_frame(self, limit: int | None = None) -> pd.DataFrame:
        """The audit log, newest first."""
        cols = ["id", "at", "actor", "role", "action", "view", "filters", "n_rows", "detail"]
        if not self.path.exists():
            return pd.DataFrame(columns=cols)
        with self._connect(write=False) as con:
            rows = con.execute(f"SELECT {', '.join(cols)} FROM audit_log ORDER BY id DESC"
                               + (" LIMIT ?" if limit else ""), [limit] if limit else []).fetchall()
        return pd.DataFrame(rows, columns=cols)
