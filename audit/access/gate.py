"""Who gets in without signing in: the synthetic demo opens as administrator; real data needs a sign-in
unless an administrator has set open access explicitly (a logged setting)."""

from __future__ import annotations

from audit import sql
from audit.access.roles import ADMINISTRATOR, Account
from audit.access.store import OPEN_ACCESS, AccessStore
from audit.db import Database

OPEN_EMAIL = "open access"
SAMPLE_NOTE = ("Open demo: this database holds only the synthetic sample, so anyone who reaches it acts as the "
               "administrator (small numbers stay hidden, as for any visitor without an LA of their own). "
               "Loading real data, or adding a user, turns sign-in on.")


def holds_real_data(db: Database) -> bool:
    """Whether any round (or child-level table) in the database is not the synthetic sample."""
    if not db.exists():
        return False
    return bool(db.scalar(sql.load("real_data")))


def open_account(store: AccessStore, real_data: bool) -> Account | None:
    """The account a visitor who has not signed in acts as, or None when sign-in is required.

    An explicit open_access setting (meeting or administrator) wins; without one, a database holding
    only synthetic data (real_data: holds_real_data) and no accounts runs open as administrator;
    anything else needs a sign-in.
    """
    explicit = store.setting(OPEN_ACCESS)
    if explicit and explicit != "off":
        return Account(OPEN_EMAIL, explicit, how="open-setting")
    if explicit is None and not real_data and not store.has_users():
        return Account(OPEN_EMAIL, ADMINISTRATOR, how="open-sample")
    return None


def open_note(account: Account) -> str | None:
    """What the app says about an open session, so nobody mistakes it for a signed-in one."""
    if account.how == "open-sample":
        return SAMPLE_NOTE
    if account.how == "open-setting":
        return (f"Open access: an administrator has set every visitor to act as {account.role.replace('_', ' ')} "
                "without signing in (the setting is in the audit log).")
    return None
