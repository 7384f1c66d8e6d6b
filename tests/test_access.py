"""Accounts, passwords, lockout, roles and the audit log (audit.access), and the CLI that manages them."""

from __future__ import annotations

import io
import sqlite3
import stat

import pandas as pd
import pytest
from argon2 import PasswordHasher

from audit import cli
from audit.access import gate
from audit.access.roles import (ADMINISTRATOR, ALL_LAS, DATA_OFFICER, LA_MANAGER, MEETING, Account, Refused,
                                parse_las)
from audit.access.store import LOCKOUT_SECONDS, MAX_FAILURES, AccessStore, SignInFailed, cli_account, store_path
from audit.db import Database
from audit.geography import region

NORFOLK, SUFFOLK = region.la_code("Norfolk"), region.la_code("Suffolk")
PASSWORD = "a long enough passphrase"
ADMIN = cli_account()


@pytest.fixture(autouse=True)
def quick_hashes(request, monkeypatch):
    """Cheaper argon2 parameters on 2 shared CPUs, except in the test that checks the real ones."""
    if "real_hash" in request.keywords:
        return
    from audit.access import store as store_mod

    quick = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    monkeypatch.setattr(store_mod, "_hasher", quick)
    monkeypatch.setattr(store_mod, "_DUMMY", quick.hash("dummy"))


@pytest.fixture
def store(tmp_path) -> AccessStore:
    return AccessStore(tmp_path / "audit.access.sqlite")


def test_store_lives_beside_the_database_and_is_private(tmp_path, store):
    assert store_path(tmp_path / "audit.duckdb") == tmp_path / "audit.access.sqlite"
    store.log(ADMIN, "test")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


@pytest.mark.real_hash
def test_passwords_are_argon2id_hashes_never_the_password(store):
    store.add_user("Ann@Norfolk.gov.uk", LA_MANAGER, "Norfolk", PASSWORD, by=ADMIN)
    raw = sqlite3.connect(store.path).execute("SELECT email, password_hash FROM users").fetchone()
    assert raw[0] == "ann@norfolk.gov.uk"
    assert raw[1].startswith("$argon2id$") and PASSWORD not in raw[1]
    assert PasswordHasher().verify(raw[1], PASSWORD)
    assert "m=65536,t=3,p=4" in raw[1]  # argon2-cffi's RFC 9106 low-memory profile, not weakened
    assert PASSWORD not in store.path.read_bytes().decode("latin-1")
    with pytest.raises(ValueError, match="12 characters"):
        store.add_user("bob@x.org", LA_MANAGER, "Norfolk", "short", by=ADMIN)


def test_sign_in_checks_the_password_case_insensitive_email(store):
    store.add_user("ann@norfolk.gov.uk", LA_MANAGER, "Norfolk", PASSWORD, by=ADMIN)
    acct = store.authenticate(" ANN@norfolk.gov.uk ", PASSWORD)
    assert acct == Account("ann@norfolk.gov.uk", LA_MANAGER, frozenset({NORFOLK}), "password")
    with pytest.raises(SignInFailed, match="not recognised"):
        store.authenticate("ann@norfolk.gov.uk", PASSWORD + "x")
    with pytest.raises(SignInFailed, match="not recognised"):  # same words for an unknown email
        store.authenticate("nobody@norfolk.gov.uk", PASSWORD)
    log = store.log_frame()
    assert log["action"].tolist()[:3] == ["sign_in_failed", "sign_in_failed", "sign_in"]


def test_lockout_after_repeated_failures_even_with_the_right_password(store):
    store.add_user("ann@norfolk.gov.uk", LA_MANAGER, "Norfolk", PASSWORD, by=ADMIN)
    t0 = 1_000_000.0
    for i in range(MAX_FAILURES):
        with pytest.raises(SignInFailed, match="not recognised"):
            store.authenticate("ann@norfolk.gov.uk", f"wrong guess {i}", now=t0 + i)
    with pytest.raises(SignInFailed, match="Too many failed sign-ins"):
        store.authenticate("ann@norfolk.gov.uk", PASSWORD, now=t0 + 10)
    # An unknown email locks the same way, so lockout does not reveal who has an account.
    for i in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            store.authenticate("ghost@norfolk.gov.uk", "x", now=t0 + i)
    with pytest.raises(SignInFailed, match="Too many"):
        store.authenticate("ghost@norfolk.gov.uk", "x", now=t0 + 10)
    # After the lockout the right password works again and the count starts afresh.
    assert store.authenticate("ann@norfolk.gov.uk", PASSWORD, now=t0 + LOCKOUT_SECONDS + 10).role == LA_MANAGER
    log = store.log_frame()
    assert (log["action"] == "sign_in_refused").sum() == 2
    assert "locked" in set(log["detail"])


def test_a_new_password_clears_a_lockout(store):
    store.add_user("ann@norfolk.gov.uk", LA_MANAGER, "Norfolk", PASSWORD, by=ADMIN)
    for i in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            store.authenticate("ann@norfolk.gov.uk", "wrong")
    store.set_password("ann@norfolk.gov.uk", "another long passphrase", by=ADMIN)
    assert store.authenticate("ann@norfolk.gov.uk", "another long passphrase").email == "ann@norfolk.gov.uk"


def test_roles_map_to_viewers():
    meeting = Account("m@x.org", MEETING)
    manager = Account("n@x.org", LA_MANAGER, frozenset({NORFOLK}))
    officer = Account("o@x.org", DATA_OFFICER, frozenset({SUFFOLK}))
    admin = Account("a@x.org", ADMINISTRATOR)
    assert meeting.viewer().meeting_mode and not any(meeting.viewer().may_see(c) for c in ALL_LAS)
    assert manager.viewer().may_see(NORFOLK) and not manager.viewer().may_see(SUFFOLK)
    assert officer.viewer().may_see(SUFFOLK) and not officer.viewer().may_see(NORFOLK)
    assert all(admin.viewer().may_see(c) for c in ALL_LAS) and len(ALL_LAS) == 11
    # Meeting mode shows the meeting's view whoever is signed in.
    for acct in (manager, officer, admin):
        assert not any(acct.viewer(meeting_mode=True).may_see(c) for c in ALL_LAS)


def test_only_data_officers_of_every_la_touched_and_administrators_write():
    officer = Account("o@x.org", DATA_OFFICER, frozenset({SUFFOLK}))
    assert officer.may_write({SUFFOLK}) and not officer.may_write({SUFFOLK, NORFOLK})
    assert not officer.may_write(None) and not officer.may_write(set())  # region-wide tables
    assert not Account("n@x.org", LA_MANAGER, frozenset({NORFOLK})).may_write({NORFOLK})
    assert not Account("m@x.org", MEETING).may_write({NORFOLK})
    assert Account("a@x.org", ADMINISTRATOR).may_write(None)
    with pytest.raises(Refused, match="Norfolk"):
        officer.require_write("Deleting round 'x'", {NORFOLK})
    with pytest.raises(Refused, match="administrator"):
        officer.require_admin("Adding a user")


def test_only_administrators_manage_accounts(store):
    manager = store.add_user("n@x.org", LA_MANAGER, ["Norfolk"], PASSWORD, by=ADMIN)
    with pytest.raises(Refused):
        store.add_user("evil@x.org", ADMINISTRATOR, None, PASSWORD, by=manager)
    with pytest.raises(Refused):
        store.set_role("n@x.org", ADMINISTRATOR, None, by=manager)
    with pytest.raises(Refused):
        store.set_password("someone@x.org", PASSWORD, by=manager)
    with pytest.raises(ValueError, match="needs at least one LA"):
        store.add_user("o@x.org", DATA_OFFICER, None, PASSWORD, by=ADMIN)
    with pytest.raises(ValueError, match="Atlantis"):
        parse_las("Norfolk, Atlantis")


def test_the_audit_log_is_append_only(store):
    store.log(ADMIN, "download", view="overview_by_la", filters={"la": NORFOLK, "round": None}, rows=11)
    entry = store.log_frame().iloc[0]
    assert (entry["actor"], entry["role"], entry["view"], entry["n_rows"]) == (ADMIN.email, ADMINISTRATOR, "overview_by_la", 11)
    assert entry["filters"] == '{"la": "E10000020"}'
    con = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit_log")


def test_open_access_only_for_synthetic_data_without_accounts(sample_db, store):
    assert not gate.holds_real_data(sample_db)
    acct = gate.open_account(store, real_data=False)
    assert acct.role == ADMINISTRATOR and acct.how == "open-sample" and "synthetic" in gate.open_note(acct)
    assert not acct.viewer().child_level_las  # nobody who has not signed in sees unsuppressed figures
    assert gate.open_account(store, real_data=True) is None
    store.add_user("n@x.org", LA_MANAGER, "Norfolk", PASSWORD, by=ADMIN)
    assert gate.open_account(store, real_data=False) is None  # adding a user turns sign-in on
    store.set_setting("open_access", MEETING, by=ADMIN)
    assert gate.open_account(store, real_data=True).role == MEETING
    assert store.log_frame()["action"].iloc[0] == "setting"
    with pytest.raises(ValueError):
        store.set_setting("open_access", "la_manager", by=ADMIN)


def test_a_real_round_marks_the_database_real(sample_db):
    with sample_db.write() as con:
        con.execute("UPDATE rounds SET is_sample = false")
    assert gate.holds_real_data(sample_db)


def test_audit_init_makes_the_database_private(tmp_path, capsys):
    path = tmp_path / "new.duckdb"
    assert cli.main(["init", "--db", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert cli.main(["init", "--db", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "0600" in capsys.readouterr().out


def test_new_database_files_are_private(tmp_path):
    db = Database(tmp_path / "w.duckdb")
    with db.write() as con:
        con.execute("SELECT 1")
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600


def test_cli_users_and_log(tmp_path, monkeypatch, capsys):
    db = tmp_path / "audit.duckdb"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "add", "ann@norfolk.gov.uk", "--role", "la_manager", "--la", "Norfolk",
                     "--password-stdin", "--db", str(db)]) == 0
    assert cli.main(["users", "add", "sso@x.org", "--role", "meeting", "--oidc-only", "--db", str(db)]) == 0
    assert cli.main(["users", "set-role", "ann@norfolk.gov.uk", "--role", "data_officer", "--la", "Norfolk,Suffolk",
                     "--db", str(db)]) == 0
    assert cli.main(["users", "add", "bad@x.org", "--role", "la_manager", "--oidc-only", "--db", str(db)]) == 2
    assert "needs at least one LA" in capsys.readouterr().err
    assert cli.main(["users", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "ann@norfolk.gov.uk" in out and "data_officer" in out and "sso@x.org" in out
    assert cli.main(["users", "remove", "sso@x.org", "--db", str(db)]) == 0
    assert cli.main(["users", "remove", "sso@x.org", "--db", str(db)]) == 2
    store = AccessStore.beside(db)
    assert store.account("ann@norfolk.gov.uk").las == frozenset({NORFOLK, SUFFOLK})
    assert store.authenticate("ann@norfolk.gov.uk", PASSWORD).role == DATA_OFFICER
    out_csv = tmp_path / "log.csv"
    assert cli.main(["log", "--out", str(out_csv), "--db", str(db)]) == 0
    log = pd.read_csv(out_csv, encoding="utf-8-sig")
    assert {"user_add", "role_change", "user_remove", "sign_in"} <= set(log["action"])
    assert (log["actor"].str.startswith("cli:") | (log["action"] == "sign_in")).all()
    change = log[log["action"] == "role_change"].iloc[0]
    assert '"from": {"role": "la_manager"' in change["detail"] and '"data_officer"' in change["detail"]
    assert cli.main(["log", "--db", str(db)]) == 0
    assert "export" in capsys.readouterr().out  # writing the log is itself logged


def test_cli_help_says_it_acts_as_the_administrator(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "administrator of this machine" in " ".join(capsys.readouterr().out.split())
