"""Needs-profile import: the sample re-imports cleanly, rounds replace atomically, postcodes reduce to sectors."""

import re

import duckdb
import pandas as pd
import pytest

from audit import taxonomy
from audit.intake import needs as import_needs
from audit.geography import region
from audit.db import SCHEMA_VERSION, Database
from audit.paths import SAMPLE_DATA
from audit.intake.problems import ImportFailed
from tests.conftest import table_snapshot

NEEDS = SAMPLE_DATA / "needs.csv"
FULL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def sample_needs() -> pd.DataFrame:
    return pd.read_csv(NEEDS, dtype=str, keep_default_na=False)


def write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


def test_sample_file_reimports_through_the_same_path(sample_db):
    before = sample_db.query("SELECT * FROM children ORDER BY la_code, child_id")
    r = import_needs.load(sample_db, NEEDS, "2024 sample", is_sample=True)
    after = sample_db.query("SELECT * FROM children ORDER BY la_code, child_id")
    assert r.rows == len(sample_needs()) == len(after)
    pd.testing.assert_frame_equal(before.drop(columns="round_id"), after.drop(columns="round_id"))
    assert sample_db.scalar("SELECT count(*) FROM rounds") == 1
    assert int(r.by_la["children"].sum()) == r.rows
    assert set(r.by_la["la"]) == {region.la_name(region.la_code(v)) for v in sample_needs()["la"]}


def test_blank_cells_are_counted_per_column_and_stored_as_not_recorded(sample_db):
    df = sample_needs()
    r = import_needs.load(sample_db, NEEDS, "again")
    for code in taxonomy.codes():
        assert r.blanks[code] == (df[code] == "").sum()
    rid = int(sample_db.scalar("SELECT round_id FROM rounds WHERE label = 'again'"))
    n_null = sample_db.scalar("SELECT count(*) FROM child_needs WHERE round_id = $r AND present IS NULL", {"r": rid})
    assert n_null == sum((df[c] == "").sum() for c in taxonomy.codes())


def test_reimporting_a_label_replaces_only_that_round(sample_db, tmp_path):
    df = sample_needs()
    import_needs.load(sample_db, NEEDS, "2025 Q1")
    other_before = sample_db.query("SELECT * FROM children WHERE round_id = 1 ORDER BY child_id")
    small = write(df.head(20), tmp_path / "small.csv")
    r = import_needs.load(sample_db, small, "2025 Q1")
    assert r.rows == 20
    rid = int(sample_db.scalar("SELECT round_id FROM rounds WHERE label = '2025 Q1'"))
    assert sample_db.scalar("SELECT count(*) FROM children WHERE round_id = $r", {"r": rid}) == 20
    assert sample_db.scalar("SELECT n_rows FROM rounds WHERE round_id = $r", {"r": rid}) == 20
    assert sample_db.scalar("SELECT count(*) FROM child_needs WHERE round_id = $r", {"r": rid}) == 20 * 22
    pd.testing.assert_frame_equal(other_before, sample_db.query("SELECT * FROM children WHERE round_id = 1 ORDER BY child_id"))


def test_keep_other_las_replaces_only_the_las_in_the_file(sample_db, tmp_path):
    df = sample_needs()
    import_needs.load(sample_db, NEEDS, "parts")
    rid = int(sample_db.scalar("SELECT round_id FROM rounds WHERE label = 'parts'"))
    norfolk = df[df["la"].str.lower() == "norfolk"].head(7)
    r = import_needs.load(sample_db, write(norfolk, tmp_path / "norfolk.csv"), "parts", keep_other_las=True)
    counts = sample_db.query("SELECT la_code, count(*) AS n FROM children WHERE round_id = $r GROUP BY 1",
                             {"r": rid}).set_index("la_code")["n"]
    assert counts["E10000020"] == 7
    total_before = len(df)
    n_norfolk_before = int((df["la"].map(region.la_code) == "E10000020").sum())
    assert counts.sum() == total_before - n_norfolk_before + 7
    assert "E10000029" in r.kept_las and "E10000020" not in r.kept_las
    assert "norfolk.csv" in sample_db.scalar("SELECT source_file FROM rounds WHERE round_id = $r", {"r": rid})


def test_delete_round_removes_it_and_only_it(sample_db):
    import_needs.load(sample_db, NEEDS, "to delete")
    n = import_needs.delete_round(sample_db, "to delete")
    assert n == len(sample_needs())
    assert sample_db.scalar("SELECT count(*) FROM rounds WHERE label = 'to delete'") == 0
    assert sample_db.scalar("SELECT count(*) FROM children") == len(sample_needs())
    assert sample_db.scalar("SELECT count(DISTINCT round_id) FROM child_needs") == 1
    with pytest.raises(ImportFailed, match="no audit round"):
        import_needs.delete_round(sample_db, "to delete")


def test_full_postcodes_are_used_for_distance_then_reduced_to_sectors(empty_db, tmp_path):
    df = sample_needs().head(3).copy()
    df["home_postcode"] = ["NR21 8AB", "nr218ab", "NR21 8"]
    df["placement_postcode"] = ["IP24 1AA", "IP24 1AA", "IP24 1"]
    import_needs.load(empty_db, write(df, tmp_path / "pc.csv"), "pc")
    kids = empty_db.query("SELECT * FROM children ORDER BY child_id")
    assert set(kids["home_sector"]) == {"NR21 8"} and set(kids["placement_sector"]) == {"IP24 1"}
    # Stored coordinates are the sector centre for everyone, whatever they gave.
    assert kids["home_lat"].nunique() == 1 and kids["placement_lat"].nunique() == 1
    full = kids[kids["child_id"].isin(df["child_id"].iloc[:2])]["distance_km"]
    sector_only = kids[kids["child_id"] == df["child_id"].iloc[2]]["distance_km"].iat[0]
    assert full.nunique() == 1 and abs(full.iat[0] - sector_only) > 0.01  # exact postcodes, not centroids
    for table in empty_db.query("SELECT table_name FROM information_schema.tables WHERE table_type='BASE TABLE'")["table_name"]:
        t = empty_db.query(f"SELECT * FROM {table}")
        for col in t.columns:
            if t[col].dtype == object:
                assert not t[col].dropna().astype(str).str.match(FULL_POSTCODE).any(), (table, col)


def test_placements_data_standard_headers_and_values_are_accepted(empty_db, tmp_path):
    df = sample_needs().head(5).copy()
    df = df.rename(columns={"self_harm": "riskSelfHarm", "cared_alongside": "livingCompanions",
                            "residential_suitability": "residentialCareSuitability"})
    df["riskSelfHarm"] = ["Risk Present", "No known risk", "Not Specified", "risk present", ""]
    r = import_needs.load(empty_db, write(df, tmp_path / "std.csv"), "std")
    got = empty_db.query("SELECT child_id, present FROM child_needs WHERE code = 'self_harm'").set_index("child_id")["present"]
    ids = df["child_id"].tolist()
    assert got[ids[0]] == True and got[ids[1]] == False and pd.isna(got[ids[2]]) and got[ids[3]] == True  # noqa: E712
    assert r.blanks["self_harm"] == 2
    assert not [w for w in r.warnings if "unknown column" in w.message]


def test_example_row_is_skipped_with_a_warning(empty_db, tmp_path):
    df = sample_needs().head(3).copy()
    df.loc[0, "child_id"] = "EXAMPLE"
    r = import_needs.load(empty_db, write(df, tmp_path / "ex.csv"), "ex")
    assert r.rows == 2
    assert any(w.row == 2 and "example" in w.message for w in r.warnings)


def test_unknown_columns_are_reported_and_not_loaded(empty_db, tmp_path):
    df = sample_needs().head(3).assign(favourite_colour="blue")
    r = import_needs.load(empty_db, write(df, tmp_path / "extra.csv"), "extra")
    assert [w.column for w in r.warnings if "unknown column" in w.message] == ["favourite_colour"]
    assert "favourite_colour" not in empty_db.query("SELECT * FROM children").columns


def test_las_outside_the_region_load_with_a_warning(empty_db, tmp_path):
    df = sample_needs().head(4).copy()
    df.loc[0, "la"] = "Kent"
    df.loc[1, "la"] = "E10000016"
    r = import_needs.load(empty_db, write(df, tmp_path / "out.csv"), "out")
    assert r.rows == 4
    assert empty_db.scalar("SELECT count(*) FROM children WHERE la_code = 'E10000016'") == 2
    assert any("outside the Eastern region" in w.message for w in r.warnings)


def test_import_is_logged_with_checksum(empty_db):
    import_needs.load(empty_db, NEEDS, "logged", audit_date="2024-03-31")
    log = empty_db.q("imports")
    assert log["kind"].tolist() == ["needs"] and log["source_file"].iat[0] == "needs.csv"
    assert log["checksum"].iat[0] == import_needs.checksum(NEEDS)
    assert str(empty_db.scalar("SELECT CAST(audit_date AS VARCHAR) FROM rounds")) == "2024-03-31"


def test_bad_audit_date_and_missing_label_change_nothing(sample_db):
    before = table_snapshot(sample_db)
    with pytest.raises(ImportFailed, match="audit date"):
        import_needs.load(sample_db, NEEDS, "x", audit_date="31st of never")
    with pytest.raises(ImportFailed, match="round label"):
        import_needs.load(sample_db, NEEDS, "  ")
    assert table_snapshot(sample_db) == before


def test_a_version_1_database_migrates_and_keeps_its_data(tmp_path):
    import subprocess

    v1_schema = subprocess.run(["git", "show", "842961a:audit/sql/schema.sql"], capture_output=True, text=True,
                               check=True).stdout
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute(v1_schema)
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.execute("INSERT INTO rounds (round_id, label, n_rows) VALUES (1, 'old round', 1)")
    con.execute("INSERT INTO children (round_id, child_id, la_code, age) VALUES (1, 'A1', 'E10000020', 14)")
    con.close()
    db = Database(path)
    db.init()
    assert db.scalar("SELECT max(version) FROM schema_version") == SCHEMA_VERSION == 3
    kid = db.query("SELECT * FROM children")
    assert kid["child_id"].tolist() == ["A1"] and {"placement_provider", "moves_12m", "missing_12m", "uasc"} <= set(kid.columns)
    assert db.scalar("SELECT source_kind FROM rounds") == "needs"
    assert db.scalar("SELECT count(*) FROM children_enriched") == 1
    # The migrated file takes a new round like a new one would.
    import_needs.load(db, NEEDS, "after migration")
    assert db.scalar("SELECT count(*) FROM rounds") == 2
    assert {"episodes", "imports", "scenarios"} <= set(db.query("SELECT table_name FROM information_schema.tables")["table_name"])
