-- The access store (SQLite, beside the audit database): accounts, sign-in failures, settings, audit log.
CREATE TABLE IF NOT EXISTS users (
    email         TEXT PRIMARY KEY,            -- lower-case
    role          TEXT NOT NULL CHECK (role IN ('meeting', 'la_manager', 'data_officer', 'administrator')),
    las           TEXT NOT NULL DEFAULT '',    -- comma-separated LA codes (la_manager, data_officer)
    password_hash TEXT,                        -- argon2id; NULL: signs in through the OIDC provider only
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
-- Failures per email, known or not, so that lockout does not tell who has an account.
CREATE TABLE IF NOT EXISTS signin_failures (
    email        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until REAL                          -- unix seconds
);
CREATE TABLE IF NOT EXISTS settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor   TEXT NOT NULL,                     -- email, or cli:<user>@<host>, or open
    role    TEXT,
    action  TEXT NOT NULL,                     -- sign_in, sign_in_failed, import, delete, download, export, ...
    view    TEXT,                              -- page or extract
    filters TEXT,                              -- round, LA, age band as in the URL
    n_rows  INTEGER,
    detail  TEXT
);
-- Append-only: the database itself refuses to change or remove a log entry.
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
