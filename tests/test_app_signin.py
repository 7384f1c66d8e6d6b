"""AppTest: sign-in decides who gets in and what they see; writes and cache clearing are for the right roles."""

from __future__ import annotations

import threading
import time

import pytest

from audit.access.store import AccessStore, cli_account
from tests.apptest_support import add_accounts, run_page, signed_in_as

PASSWORD = "a long enough passphrase"


def _sign_in_form_only(at) -> bool:
    """The run drew the sign-in form and none of the app's figures."""
    return (any(f.proto.form_id == "signin_form" for f in at.get("form_submit_button"))
            and not at.dataframe and not at.metric)


def test_the_synthetic_demo_runs_open_and_says_so(app):
    at = run_page(app, "pages/overview.py")
    assert at.metric and any("Open demo" in i.value for i in at.sidebar.info)


def test_with_accounts_every_page_asks_for_a_sign_in_first(app, sample_db):
    add_accounts(sample_db)
    for page in ("pages/overview.py", "pages/data.py", "pages/needs.py"):
        at = run_page(app, page, la="Norfolk")
        assert _sign_in_form_only(at), page


def test_real_data_without_accounts_refuses_open_access(app, sample_db):
    with sample_db.write() as con:
        con.execute("UPDATE rounds SET is_sample = false")
    at = run_page(app, "pages/overview.py")
    assert _sign_in_form_only(at)
    assert any("nobody has an account" in i.value for i in at.info)
    # An administrator's explicit, logged setting opens it (here: the meeting's protected view).
    store = AccessStore.beside(sample_db.path)
    store.set_setting("open_access", "meeting", by=cli_account())
    at = run_page(app, "pages/overview.py")
    assert at.metric and any("Open access" in i.value for i in at.sidebar.info)
    assert store.log_frame()["action"].iloc[0] == "setting"


def _sign_in_form():
    """The sign-in form on its own (AppTest reruns only a page script after the first run, never app.py)."""
    from pages import signin

    signin.form()


def test_local_sign_in_with_a_password_and_its_failures_are_logged(app, sample_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    store = AccessStore.beside(sample_db.path)
    store.add_user("ann@norfolk.example", "la_manager", "Norfolk", PASSWORD, by=cli_account())
    form = AppTest.from_function(_sign_in_form, default_timeout=60).run()

    def attempt(password: str):
        form.text_input(key="signin_email").set_value("ann@norfolk.example")
        form.text_input(key="signin_password").set_value(password)
        [b for b in form.get("form_submit_button") if b.proto.form_id == "signin_form"][0].click()
        form.run()
        assert not form.exception, form.exception

    attempt("not the password")
    assert any("not recognised" in e.value for e in form.error)
    assert "_access_email" not in form.session_state
    attempt(PASSWORD)
    assert form.session_state["_access_email"] == "ann@norfolk.example"
    at = run_page(app, "pages/overview.py", state=signed_in_as("ann@norfolk.example"))
    assert at.metric and any("ann@norfolk.example" in c.value for c in at.sidebar.caption)
    log = store.log_frame()
    assert log["action"].tolist()[:2] == ["sign_in", "sign_in_failed"]
    assert set(log["actor"].iloc[:2]) == {"ann@norfolk.example"}


def test_a_removed_account_loses_access_at_its_next_run(app, sample_db):
    emails = add_accounts(sample_db)
    me = signed_in_as(emails["norfolk_manager"])
    assert run_page(app, "pages/overview.py", state=me).metric
    AccessStore.beside(sample_db.path).remove_user(emails["norfolk_manager"], by=cli_account())
    assert _sign_in_form_only(run_page(app, "pages/overview.py", state=me))


def test_writes_only_for_data_officers_and_administrators(app, sample_db):
    emails = add_accounts(sample_db)
    manager = run_page(app, "pages/data.py", view="Load a round", state=signed_in_as(emails["norfolk_manager"]))
    assert not any(f.proto.form_id == "needs_form" for f in manager.get("form_submit_button"))
    assert any("data officer" in i.value for i in manager.info)
    officer = run_page(app, "pages/data.py", view="Load a round", state=signed_in_as(emails["suffolk_officer"]))
    assert any(f.proto.form_id == "needs_form" for f in officer.get("form_submit_button"))
    assert officer.checkbox(key="needs_keep").value and officer.checkbox(key="needs_keep").disabled
    rounds = run_page(app, "pages/data.py", view="Rounds loaded", state=signed_in_as(emails["suffolk_officer"]))
    assert not rounds.get("button") or not any(b.proto.id.endswith("del_go") for b in rounds.button)
    homes = run_page(app, "pages/data.py", view="Provision and SSDA903", state=signed_in_as(emails["suffolk_officer"]))
    assert any("administrator" in i.value for i in homes.info)
    admin = run_page(app, "pages/data.py", view="Audit log", state=signed_in_as(emails["administrator"]))
    log = [d.value for d in admin.dataframe if "action" in d.value.columns][0]
    assert {"user_add"} <= set(log["action"])
    assert "Audit log" not in [t.label for t in manager.tabs]


def test_a_data_officers_file_of_another_la_is_refused_and_logged(app, sample_db):
    import pandas as pd

    from audit.paths import SAMPLE_DATA
    from tests.conftest import table_snapshot

    emails = add_accounts(sample_db)
    before = table_snapshot(sample_db)
    at = run_page(app, "pages/data.py", view="Load a round", state=signed_in_as(emails["suffolk_officer"]))
    df = pd.read_csv(SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False)
    norfolk = df[df["la"].str.contains("Norfolk|E10000020")].head(20)
    at.file_uploader(key="needs_file").set_value(("norfolk.csv", norfolk.to_csv(index=False).encode(), "text/csv"))
    at.text_input(key="needs_round").set_value("2025 Q1")
    [b for b in at.get("form_submit_button") if b.proto.form_id == "needs_form"][0].click()
    at.run()
    assert any("Norfolk" in e.value and "data officer" in e.value for e in at.error)
    assert table_snapshot(sample_db) == before
    assert AccessStore.beside(sample_db.path).log_frame()["action"].iloc[0] == "import_refused"


def test_meeting_mode_shows_the_meetings_view_whoever_signed_in(app, sample_db):
    emails = add_accounts(sample_db)
    admin = signed_in_as(emails["administrator"])
    own = run_page(app, "pages/data.py", la="Norfolk", view="Extracts (CSV)", state=admin)
    assert "dl_extract_children" in " ".join(d.proto.id for d in own.get("download_button"))
    meeting = run_page(app, "pages/data.py", la="Norfolk", meeting="1", view="Extracts (CSV)", state=admin)
    assert "dl_extract_children" not in " ".join(d.proto.id for d in meeting.get("download_button"))


def test_clear_cache_from_a_browser_only_for_administrators(sample_db, monkeypatch):
    import streamlit as st
    from streamlit.runtime.app_session import AppSession

    from audit.access.roles import Account
    from pages import ui

    monkeypatch.setenv("AUDIT_DB", str(sample_db.path))
    monkeypatch.setattr(AppSession, "_handle_clear_cache_request", AppSession._handle_clear_cache_request)
    ui.guard_clear_cache()
    calls = []

    @st.cache_data
    def counted(x):
        calls.append(x)
        return x

    class Session:  # what the handler reads of an AppSession: its session state
        def __init__(self, account):
            self._session_state = {"ctx": ui.Context(None, None, False, None, account)}

    counted(1)
    AppSession._handle_clear_cache_request(Session(Account("n@x.org", "la_manager", frozenset({"E10000020"}))))
    counted(1)
    assert calls == [1]  # refused: the cache survived
    AppSession._handle_clear_cache_request(Session(Account("a@x.org", "administrator")))
    counted(1)
    assert calls == [1, 1]
    actions = AccessStore.beside(sample_db.path).log_frame()["action"].tolist()
    assert actions[:2] == ["clear_cache", "clear_cache_refused"]


def test_a_dropped_database_closes_its_connection(sample_db, monkeypatch):
    import streamlit as st

    from pages import ui

    db = ui._database(str(sample_db.path))
    db.scalar("SELECT 1")
    assert db._con is not None
    st.cache_resource.clear()
    for t in [t for t in threading.enumerate() if t.name == "release-database"]:
        t.join(10)
    deadline = time.time() + 10
    while db._con is not None and time.time() < deadline:
        time.sleep(0.05)
    assert db._con is None
