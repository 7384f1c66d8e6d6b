"""Every page (AppTest, every ?la=), every extract and every CLI export, as each role: no other LA's children,
no small count that a visitor without an LA would not see, nothing child-level for the meeting.

The reference for "protected" is the same page drawn for a visitor who has not signed in (the open
synthetic demo, which sees no LA unsuppressed). A role may differ from it only in rows of its own LAs,
and only by showing what the reference hides there; everywhere else it must hide at least as much.
"""

from __future__ import annotations

import io
import re
import shutil

import pandas as pd
import pytest

from audit import cli, extracts
from audit.access.store import AccessStore
from audit.db import Database
from audit.filters import Filters
from audit.geography import region
from audit.suppress import PRIMARY, SECONDARY, Viewer
from pages.ui import PAGES
from tests.apptest_support import ROLE_ACCOUNTS, add_accounts, markdown_tables, metrics, signed_in_as

LAS = [None] + sorted(region.REGION_LAS.values())
NORFOLK = "Norfolk"
HIDDEN = {PRIMARY, SECONDARY}
# Needs-round and short-break child IDs (BED-102302, SBC100960); SSDA903 CHILD numbers are checked per extract.
CHILD_ID = re.compile(r"\b[A-Z]{3}-?\d{6}\b")
# Which LA names each role may see unsuppressed (the administrator: all of them).
OWN = {"meeting": set(), "norfolk_manager": {"Norfolk"}, "suffolk_officer": {"Suffolk"},
       "administrator": set(region.REGION_LAS.values())}
# Every ?la= for the LA manager (and the protected reference); three views for the other roles.
WALKS = [("norfolk_manager", la) for la in LAS] + [
    (role, la) for role in ("meeting", "suffolk_officer", "administrator") for la in (None, "Norfolk")]


@pytest.fixture(scope="module")
def dbs(sample_db_path, tmp_path_factory):
    """Two copies of the sample: one open (the protected reference) and one with an account per role."""
    folder = tmp_path_factory.mktemp("walk")
    (folder / "open").mkdir()
    (folder / "signed").mkdir()
    open_path, signed_path = folder / "open" / "audit.duckdb", folder / "signed" / "audit.duckdb"
    shutil.copy2(sample_db_path, open_path)
    shutil.copy2(sample_db_path, signed_path)
    emails = add_accounts(Database(signed_path))
    owners, episodes = {}, {}
    con = Database(signed_path)
    for table in ("children", "shortbreak_children"):
        for r in con.query(f"SELECT DISTINCT child_id, la_code FROM {table}").itertuples():
            owners[r.child_id] = region.la_name(r.la_code) if r.la_code in region.REGION_LAS else r.la_code
    for r in con.query("SELECT la_code, list(DISTINCT child_id) AS ids FROM episodes GROUP BY la_code").itertuples():
        episodes[region.la_name(r.la_code) if r.la_code in region.REGION_LAS else r.la_code] = set(map(str, r.ids))
    con.close()
    assert len(owners) > 600 and CHILD_ID.fullmatch(next(iter(owners)))
    return {"open": open_path, "signed": signed_path, "emails": emails, "owners": owners, "episodes": episodes}


def _draw(path, page: str, la: str | None, state: dict | None = None):
    """Run one page of the app on one database, as the session state says; it must not raise."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    # Caches are not cleared between roles: a cached figure keyed without its viewer would leak here.
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIT_DB", str(path))
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        for k, v in (state or {}).items():
            at.session_state[k] = v
        if la:
            at.query_params["la"] = la
        at.switch_page(page)
        at.run()
    finally:
        mp.undo()
    assert not at.exception, at.exception
    assert not any(f.proto.form_id == "signin_form" for f in at.get("form_submit_button")), "not signed in"
    assert at.title, f"{page} drew nothing"
    return at


def _text(at) -> str:
    """Everything a page drew, as text: tables' cells and every other element's message."""
    parts = [d.value.to_csv() for d in at.dataframe]

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", "") not in ("arrow_data_frame", "dataframe"):
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _tables(at) -> list[pd.DataFrame]:
    """Every table drawn, as text cells."""
    return [d.value.astype(str) for d in at.dataframe] + [t.astype(str) for t in markdown_tables(at)]


def _row_las(row) -> set[str]:
    """The LA names a table row mentions (its own LA's rows may be shown unsuppressed)."""
    text = " ".join(map(str, row))
    return {n for n in region.REGION_LAS.values() if n in text}


def assert_no_more_shown(mine: pd.DataFrame, ref: pd.DataFrame, own: set[str], where: str) -> None:
    """Outside rows of its own LAs, a cell the protected reference hides is hidden here too."""
    if list(mine.columns) != list(ref.columns) or len(mine) != len(ref):
        return  # not the same table (a view that differs by role is checked by its child IDs)
    if own >= set(region.REGION_LAS.values()):
        return  # a viewer of every LA may see every row, the region's too (it adds up rows they see)
    for i in range(len(ref)):
        if own and _row_las(ref.iloc[i]) & own:
            continue
        for c in ref.columns:
            if ref.iat[i, ref.columns.get_loc(c)] in HIDDEN:
                assert mine.iat[i, mine.columns.get_loc(c)] in HIDDEN, (
                    f"{where}: row {i} ({' '.join(map(str, ref.iloc[i].tolist()[:2]))}) column {c!r} shows "
                    f"{mine.iat[i, mine.columns.get_loc(c)]!r} where the protected view hides it")


@pytest.mark.parametrize("script", [p[0] for p in PAGES], ids=[p[2] for p in PAGES])
def test_every_page_as_each_role(dbs, script):
    refs = {}
    for role, la in WALKS:
        where = f"{script} ?la={la} as {role}"
        at = _draw(dbs["signed"], script, la, signed_in_as(dbs["emails"][role]))
        own = OWN[role]
        # No child of an LA the role may not see, anywhere on the page.
        for cid in set(CHILD_ID.findall(_text(at))):
            owner = dbs["owners"].get(cid)
            assert owner is None or owner in own, f"{where}: shows child {cid} of {owner}"
        if role == "administrator" or la in own:
            continue  # all of it, or the whole view, is theirs to see
        if la not in refs:
            refs[la] = _draw(dbs["open"], script, la)
        ref = refs[la]
        if role == "meeting" or la not in own:
            # Viewing another LA (or the region, or as the meeting): headline figures exactly as protected.
            if role != "meeting":
                assert metrics(at) == metrics(ref), where
        mine, theirs = _tables(at), _tables(ref)
        for j, (m, r) in enumerate(zip(mine, theirs)):
            assert_no_more_shown(m, r, set() if role == "meeting" else own, f"{where} table {j}")


def _extract_rows(name: str, f: Filters, viewer: Viewer, db) -> pd.DataFrame | None:
    """An extract as text, or None when it is refused or has nothing for these filters."""
    try:
        return extracts.extract(db, name, f, viewer).astype(str).reset_index(drop=True)
    except (PermissionError, KeyError):
        return None


def test_child_level_extracts_only_for_own_las_at_every_la(dbs):
    db = Database(dbs["signed"])
    store = AccessStore.beside(db.path)
    rid = extracts.round_id(db, None)
    try:
        for role, email in dbs["emails"].items():
            account, got = store.account(email), 0
            for la in LAS:
                f = Filters(round_id=rid, la=region.la_code(la) if la else None)
                for name in sorted(extracts.CHILD_LEVEL):
                    assert _extract_rows(name, f, account.viewer(meeting_mode=True), db) is None, f"{name} in meeting mode"
                    mine = _extract_rows(name, f, account.viewer(), db)
                    assert (mine is not None) == (la in OWN[role]), f"{name} ?la={la} as {role}"
                    if mine is not None:
                        got += 1
                        ids = set(mine["child_id"])
                        theirs = ({i for i, o in dbs["owners"].items() if o == la} if name == "children"
                                  else dbs["episodes"][la])
                        assert ids and ids <= theirs, f"{name} ?la={la} as {role}: a child of another LA"
            # Their own LA's two child-level extracts; the administrator's for any LA; the meeting none.
            assert got == 2 * len(OWN[role]), role
    finally:
        db.close()


@pytest.mark.parametrize("la", [None, NORFOLK, "Suffolk"], ids=["region", "Norfolk", "Suffolk"])
def test_every_aggregate_extract_as_each_role(dbs, la):
    db = Database(dbs["signed"])
    store = AccessStore.beside(db.path)
    f = Filters(round_id=extracts.round_id(db, None), la=region.la_code(la) if la else None)
    try:
        for name in extracts.EXTRACTS:
            if name in extracts.CHILD_LEVEL:
                continue
            ref = _extract_rows(name, f, Viewer(), db)
            if ref is None:
                continue
            meeting = _extract_rows(name, f, Viewer(meeting_mode=True), db)
            assert meeting.equals(ref), f"{name} ?la={la}: meeting mode differs from the protected extract"
            for role, email in dbs["emails"].items():
                viewer = store.account(email).viewer()
                if viewer.meeting_mode:
                    assert viewer == Viewer(meeting_mode=True)
                    continue
                mine = _extract_rows(name, f, viewer, db)
                assert not CHILD_ID.search(mine.to_csv()), f"{name} as {role}: a child ID in an aggregate extract"
                if la in OWN[role]:
                    continue  # the whole extract is about their own LA
                assert_no_more_shown(mine, ref, OWN[role], f"{name} ?la={la} as {role}")
    finally:
        db.close()


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_cli_exports_as_each_role_are_scoped_and_logged(dbs, role, tmp_path, capsys):
    email, db = dbs["emails"][role], str(dbs["signed"])
    before = len(AccessStore.beside(db).log_frame())
    out = tmp_path / "x.csv"
    for la in (NORFOLK, "Suffolk"):
        code = cli.main(["export", "children", "--la", la, "--as", email, "--out", str(out), "--db", db])
        allowed = la in OWN[role]
        assert code == (0 if allowed else 2), f"children --la {la} --as {role}"
        if allowed:
            ids = set(pd.read_csv(out, encoding="utf-8-sig", dtype=str)["child_id"])
            assert ids and {dbs["owners"][i] for i in ids} == {la}
        else:
            assert "only available for your own LA" in capsys.readouterr().err
        out.unlink(missing_ok=True)
    assert cli.main(["export", "overview_by_la", "--as", email, "--out", str(out), "--db", db]) == 0
    log = AccessStore.beside(db).log_frame()
    new = log.iloc[: len(log) - before]
    assert (new["action"] == "export").sum() == 1 + sum(la in OWN[role] for la in (NORFOLK, "Suffolk"))
    assert new["actor"].str.startswith("cli:").all() and new["filters"].str.contains(email).all()
