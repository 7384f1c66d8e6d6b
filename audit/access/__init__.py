"""Access: who may see and change what. Roles, user accounts with argon2 passwords and lockout, and the audit log.

A signed-in account maps to an `audit.suppress.Viewer` (which LAs' child-level data it may see) and to
the write actions it may take. Accounts, settings and the append-only audit log live in a small SQLite
file beside the audit database (`<db>.access.sqlite`), not in the DuckDB file: the DuckDB file is
replaced whole by every import and by `audit sample`, which would lose accounts and log entries and
invalidate every cached figure on each logged download.

May import: `audit.db`, `audit.sql`, `audit.suppress`, `audit.geography`. Never imports `audit.analysis`,
`audit.charts`, `audit.intake`, `audit.sample`, `audit.extracts` or `audit.cli`.
"""
