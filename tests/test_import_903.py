"""SSDA903 import: the sample's returns re-import and reproduce the sample's children; formats, years and postcodes."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pandas as pd
import pytest

from audit import taxonomy
from audit.intake import ssda903 as import_903
from audit.paths import SAMPLE_DATA
from audit.intake.problems import ImportFailed
from tests.conftest import table_snapshot

RETURNS = SAMPLE_DATA / "ssda903"
FULL_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b")


@pytest.fixture(scope="module")
def loaded(sample_db_path, tmp_path_factory):
    """The sample database with the sample's two years of 903 returns imported."""
    from audit.db import Database

    path = tmp_path_factory.mktemp("s903") / "audit.duckdb"
    shutil.copy2(sample_db_path, path)
    db = Database(path)
    result = import_903.load(db, [RETURNS])
    yield db, result
    db.close()


def needs() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False)
    df["CHILD"] = df["child_id"].str.split("-").str[-1]
    return df[df["placement_type"].isin(import_903.RESIDENTIAL)]


def derived(db, label: str) -> pd.DataFrame:
    rid = int(db.scalar("SELECT round_id FROM rounds WHERE label = $l", {"l": label}))
    kids = db.query("SELECT * FROM children WHERE round_id = $r", {"r": rid})
    flags = db.query("SELECT child_id, code, present FROM child_needs WHERE round_id = $r", {"r": rid})
    wide = flags.pivot(index="child_id", columns="code", values="present")
    return kids.merge(wide, left_on="child_id", right_index=True)


def test_sample_returns_import_into_a_903_round(loaded):
    db, r = loaded
    assert r.round_label == "SSDA903 2024-03-31" and r.audit_date == dt.date(2024, 3, 31)
    assert r.years == [2020, 2021, 2022, 2023, 2024]
    assert set(r.files["table"]) == {"header", "episodes", "missing", "oc2", "uasc", "dolo"}
    assert r.children == len(needs())
    assert db.scalar("SELECT source_kind FROM rounds WHERE label = $l", {"l": r.round_label}) == "ssda903"
    assert db.scalar("SELECT count(*) FROM imports WHERE kind = 'ssda903' AND round_id IS NOT NULL") == 1


def test_derived_children_match_the_sample_they_were_made_from(loaded):
    db, r = loaded
    got = derived(db, r.round_label).merge(needs(), left_on="child_id", right_on="CHILD", suffixes=("", "_needs"))
    assert len(got) == r.children
    assert (got["age"].astype(str) == got["age_needs"]).all()
    assert (got["placement_type"] == got["placement_type_needs"]).all()
    assert (got["placement_urn"] == got["placement_urn_needs"]).all()
    assert (got["placement_sector"] == got["placement_postcode"]).all()
    assert (got["dol_order"] == (got["dol_order_needs"] == "Y")).all()
    for code in ("placement_breakdown", "missing"):
        assert (got[code] == (got[f"{code}_needs"] == "Y")).all(), code
    # OC2 covers only children looked after for a year: the others stay 'not recorded'.
    known = got["substance"].notna()
    assert 0 < known.sum() < len(got)
    assert (got.loc[known, "substance"] == (got.loc[known, "substance_needs"] == "Y")).all()
    others = [c for c in taxonomy.codes() if c not in ("placement_breakdown", "missing", "substance")]
    assert got[others].isna().all().all()


def test_home_sector_is_the_childs_unless_the_postcode_was_fake(loaded):
    db, r = loaded
    got = derived(db, r.round_label).merge(needs(), left_on="child_id", right_on="CHILD")
    located = got["home_sector"].notna()
    assert (got.loc[located, "home_sector"] == got.loc[located, "home_postcode"]).all()
    assert (~located).sum() > 0  # ZZ99 and N/K postcodes: not located, still loaded
    assert got.loc[~located, "distance_km"].isna().all()
    assert got.loc[located, "distance_km"].notna().all()


def test_moves_and_missing_counts_are_from_the_last_12_months(loaded):
    db, r = loaded
    kids = derived(db, r.round_label)
    assert (kids.loc[kids["placement_breakdown"] == True, "moves_12m"] >= 1).all()  # noqa: E712
    assert ((kids["missing_12m"] > 0) == kids["missing"]).all()
    raw = pd.read_csv(RETURNS / "2024" / "missing.csv", dtype=str)
    one = kids[kids["missing_12m"] > 0].iloc[0]
    starts = pd.to_datetime(raw.loc[raw["CHILD"] == one["child_id"], "MIS_START"])
    assert one["missing_12m"] == ((starts > "2023-03-31") & (starts <= "2024-03-31")).sum()


def test_episode_history_merges_years_and_keeps_sectors_only(loaded):
    db, r = loaded
    eps = db.query("SELECT * FROM episodes")
    assert len(eps) == r.episodes
    assert not eps.duplicated(["la_code", "child_id", "decom"]).any()
    e23 = pd.read_csv(RETURNS / "2023" / "episodes.csv", dtype=str, keep_default_na=False)
    e24 = pd.read_csv(RETURNS / "2024" / "episodes.csv", dtype=str, keep_default_na=False)
    e23["DECOM"] = pd.to_datetime(e23["DECOM"], format="%d/%m/%Y")
    e24["DECOM"] = pd.to_datetime(e24["DECOM"], format="%Y-%m-%d")
    both = e23[e23["DEC"] == ""].merge(e24[e24["DEC"] != ""], on=["CHILD", "DECOM"], suffixes=("_23", "_24"))
    assert len(both) > 0  # open at 31 March 2023, closed during 2023/24
    for one in both.head(20).itertuples():
        row = eps[(eps["child_id"] == one.CHILD) & (pd.to_datetime(eps["decom"]) == one.DECOM)]
        assert len(row) == 1 and pd.Timestamp(row["dec"].iat[0]) == pd.Timestamp(one.DEC_24)
        assert row["year"].iat[0] == 2024
    assert (pd.to_datetime(eps["birth_month"]).dt.day == 1).all()
    for table in db.query("SELECT table_name FROM information_schema.tables WHERE table_type='BASE TABLE'")["table_name"]:
        t = db.query(f"SELECT * FROM {table}")
        for col in t.columns:
            if t[col].dtype == object:
                assert not t[col].dropna().astype(str).str.fullmatch(FULL_POSTCODE.pattern).any(), (table, col)


def test_fake_and_invalid_postcodes_are_counted_not_fatal(loaded):
    db, r = loaded
    rep = r.postcode_report.set_index(["column", "result"])["episodes"]
    fake = rep[("HOME_POST", import_903.POSTCODE_STATUS["unknown"])]
    invalid = rep[("HOME_POST", import_903.POSTCODE_STATUS["invalid"])]
    e = pd.concat([pd.read_csv(RETURNS / y / "episodes.csv", dtype=str) for y in ("2023", "2024")])
    assert fake > 0 and invalid > 0
    assert any("ZZ99" in (w.value or "") for w in r.warnings)
    assert sum(rep.xs("HOME_POST")) == r.episodes


def test_single_la_files_need_the_la(empty_db, tmp_path):
    paths = []
    for table in ("episodes", "header"):
        src = pd.read_csv(RETURNS / "2024" / f"{table}.csv", dtype=str, keep_default_na=False)
        p = tmp_path / f"{table}_2023-24.csv"
        src[src["LA"] == "E10000020"].drop(columns=["LA", "YEAR"]).to_csv(p, index=False)
        paths.append(p)
    before = table_snapshot(empty_db)
    with pytest.raises(ImportFailed, match="no LA column"):
        import_903.load(empty_db, paths)
    assert table_snapshot(empty_db) == before
    r = import_903.load(empty_db, paths, la="Norfolk")
    assert r.years == [2024] and set(r.by_la["la_code"]) == {"E10000020"}
    assert set(empty_db.query("SELECT DISTINCT la_code FROM episodes")["la_code"]) == {"E10000020"}


def test_a_later_audit_date_and_own_label(empty_db):
    r = import_903.load(empty_db, [RETURNS / "2024"], audit_date="2023-10-01", round_label="Autumn 903")
    assert r.round_label == "Autumn 903" and r.audit_date == dt.date(2023, 10, 1)
    eps = empty_db.query("SELECT * FROM episodes")
    on = pd.Timestamp("2023-10-01")
    current = eps[(pd.to_datetime(eps["decom"]) <= on) & (eps["dec"].isna() | (pd.to_datetime(eps["dec"]) > on))]
    expected = current.sort_values("decom").drop_duplicates(["la_code", "child_id"], keep="last")
    assert r.children == expected["place"].isin(import_903.RESIDENTIAL).sum()


def test_reimport_replaces_the_las_history(loaded, tmp_path):
    db, r = loaded
    n_before = db.scalar("SELECT count(*) FROM episodes")
    again = import_903.load(db, [RETURNS])
    assert db.scalar("SELECT count(*) FROM episodes") == n_before == again.episodes
    assert db.scalar("SELECT count(*) FROM rounds WHERE source_kind = 'ssda903'") == 1


def test_bad_dates_and_unknown_la_stop_the_import(empty_db, tmp_path):
    src = pd.read_csv(RETURNS / "2024" / "episodes.csv", dtype=str, keep_default_na=False).head(30)
    src.loc[3, "DECOM"] = "31/02/2024"
    src.loc[5, "LA"] = "Narnia"
    p = tmp_path / "episodes.csv"
    src.to_csv(p, index=False)
    before = table_snapshot(empty_db)
    with pytest.raises(ImportFailed) as info:
        import_903.load(empty_db, [p])
    msgs = {(x.row, x.column) for x in info.value.problems if x.severity == "error"}
    assert (5, "decom") in msgs and (7, "LA") in msgs
    assert table_snapshot(empty_db) == before


def test_files_that_are_not_903_tables_are_ignored_or_refused(empty_db, tmp_path):
    other = tmp_path / "reviews.csv"
    other.write_text("CHILD,DOB,REVIEW,REVIEW_CODE\n1,01/01/2010,01/01/2024,PN1\n")
    with pytest.raises(ImportFailed, match="no episodes table"):
        import_903.load(empty_db, [other])
    r = import_903.load(empty_db, [other, RETURNS / "2024"])
    assert any("reviews" in w.message for w in r.warnings)


def test_xlsx_903_file_reads_like_csv(empty_db, tmp_path):
    src = pd.read_csv(RETURNS / "2024" / "episodes.csv", dtype=str, keep_default_na=False)
    p = tmp_path / "episodes.xlsx"
    src.to_excel(p, index=False)
    r = import_903.load(empty_db, [p, RETURNS / "2024" / "header.csv"])
    csv = import_903.load(empty_db, [RETURNS / "2024" / "episodes.csv", RETURNS / "2024" / "header.csv"])
    assert r.children == csv.children and r.episodes == csv.episodes


@pytest.mark.parametrize("path,year", [("2024/episodes.csv", 2024), ("episodes_2023-24.csv", 2024),
                                       ("903_2022_23/header.csv", 2023), ("episodes.csv", None)])
def test_year_from_path(path, year):
    assert import_903.year_from_path(path) == year


def test_table_recognition_by_columns():
    assert import_903.identify(["child", "sex", "dob", "duc"]) == "uasc"
    assert import_903.identify(["child", "sex", "dob", "ethnic", "upn"]) == "header"
    assert import_903.identify(["child", "decom", "rne", "ls", "place"]) == "episodes"
    assert import_903.identify(["child", "review"]) is None


def test_committed_sample_returns_are_what_the_generator_writes(tmp_path):
    from audit.sample import ssda903 as sample_903

    sample_903.write_sample(tmp_path)
    committed = sorted(p.relative_to(RETURNS).as_posix() for p in RETURNS.rglob("*.csv"))
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv"))
    assert committed == made
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (RETURNS / rel).read_bytes(), rel


def test_decoded_postcode_directory_is_cached_and_gives_the_same_answer(tmp_path, monkeypatch):
    from audit.intake import geocode
    from audit.geography import postcodes

    monkeypatch.setenv("AUDIT_CACHE", str(tmp_path))
    geocode._letter.cache_clear()
    try:
        keys = geocode.normalise(pd.Series(["NR21 8AB", "nr2 1aa", "ZZ99 3VZ"]))["key"]
        first = geocode.geocode(keys)
        assert sorted(p.name.split("-")[-1] for p in tmp_path.glob("onspd-*.feather")) == ["N.feather", "Z.feather"]
        geocode._letter.cache_clear()
        again = geocode.geocode(keys)
        pd.testing.assert_frame_equal(first, again)
        ref = postcodes.geocode(pd.Series(["NR21 8AB", "NR2 1AA"]))
        assert first["lat"].iloc[:2].round(6).tolist() == ref["lat"].round(6).tolist()
        assert first["lat"].isna().iat[2]
    finally:
        geocode._letter.cache_clear()
