"""Provision imports: the sample's homes, occupancy and short breaks re-import cleanly; bad files change nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.intake import provision as import_provision
from audit.paths import SAMPLE_DATA
from audit.intake.problems import ImportFailed
from tests.conftest import table_snapshot

HOMES = SAMPLE_DATA / "homes.csv"


def homes() -> pd.DataFrame:
    return pd.read_csv(HOMES, dtype=str, keep_default_na=False)


def test_sample_homes_reimport_identically(sample_db):
    before = sample_db.query("SELECT * FROM homes ORDER BY urn")
    r = import_provision.load_homes(sample_db, HOMES)
    after = sample_db.query("SELECT * FROM homes ORDER BY urn")
    pd.testing.assert_frame_equal(before, after)
    assert r["homes"] == len(homes()) and r["places"] == homes()["places"].astype(int).sum()
    assert (after["location_precision"] == "point").all()


def test_homes_needs_met_are_expanded_to_codes(sample_db):
    df = homes()
    first = df.iloc[0]
    got = set(sample_db.query("SELECT code FROM home_needs WHERE urn = $u", {"u": first["urn"]})["code"])
    from audit import taxonomy

    expect = {c for tok in first["needs_met"].split(";") if tok.strip() for c in taxonomy.resolve_need(tok)}
    assert got == expect and got


def test_homes_with_postcode_only_are_placed_at_the_sector(empty_db, tmp_path):
    df = homes().head(5).drop(columns=["lat", "lon"])
    p = tmp_path / "h.csv"
    df.to_csv(p, index=False)
    import_provision.load_homes(empty_db, p)
    got = empty_db.query("SELECT * FROM homes")
    assert (got["location_precision"] == "sector").all() and got["lat"].notna().all()


def test_bad_homes_file_changes_nothing(sample_db, tmp_path):
    df = homes().head(10)
    df.loc[2, ["postcode", "lat", "lon"]] = ["", "", ""]
    df.loc[4, "needs_met"] = "Risk to others;Flying"
    df.loc[6, "urn"] = df.loc[5, "urn"]
    p = tmp_path / "bad_homes.csv"
    df.to_csv(p, index=False)
    before = table_snapshot(sample_db)
    with pytest.raises(ImportFailed) as info:
        import_provision.load_homes(sample_db, p)
    found = {(x.row, x.column) for x in info.value.problems if x.severity == "error"}
    assert {(4, "postcode"), (6, "needs_met"), (8, "urn")} <= found
    assert table_snapshot(sample_db) == before


def test_occupancy_and_short_breaks_reimport(sample_db):
    occ_before = sample_db.query("SELECT * FROM home_occupancy ORDER BY urn, la_code")
    import_provision.load_occupancy(sample_db, SAMPLE_DATA / "occupancy.csv")
    pd.testing.assert_frame_equal(occ_before, sample_db.query("SELECT * FROM home_occupancy ORDER BY urn, la_code"))
    sb_before = sample_db.query("SELECT * FROM shortbreak_children ORDER BY la_code, child_id")
    r = import_provision.load_shortbreaks(sample_db, SAMPLE_DATA / "shortbreak_providers.csv",
                                          SAMPLE_DATA / "shortbreak_children.csv")
    pd.testing.assert_frame_equal(sb_before, sample_db.query("SELECT * FROM shortbreak_children ORDER BY la_code, child_id"))
    assert r["children"] == len(sb_before)


def test_occupancy_for_unknown_home_changes_nothing(sample_db, tmp_path):
    p = tmp_path / "occ.csv"
    p.write_text("urn,la,places_used\nSC000000,Norfolk,2\n")
    before = table_snapshot(sample_db)
    with pytest.raises(ImportFailed, match="not a home"):
        import_provision.load_occupancy(sample_db, p)
    assert table_snapshot(sample_db) == before


def test_short_break_children_with_unknown_need_change_nothing(sample_db, tmp_path):
    kids = pd.read_csv(SAMPLE_DATA / "shortbreak_children.csv", dtype=str, keep_default_na=False).head(20)
    kids.loc[3, "primary_need"] = "XYZ"
    p = tmp_path / "kids.csv"
    kids.to_csv(p, index=False)
    before = table_snapshot(sample_db)
    with pytest.raises(ImportFailed) as info:
        import_provision.load_shortbreaks(sample_db, SAMPLE_DATA / "shortbreak_providers.csv", p)
    assert [(x.file, x.row, x.column) for x in info.value.problems if x.severity == "error"] == [("kids.csv", 5, "primary_need")]
    assert table_snapshot(sample_db) == before


def test_every_provision_import_is_logged(empty_db):
    import_provision.load_homes(empty_db, HOMES)
    import_provision.load_occupancy(empty_db, SAMPLE_DATA / "occupancy.csv")
    import_provision.load_shortbreaks(empty_db, SAMPLE_DATA / "shortbreak_providers.csv",
                                      SAMPLE_DATA / "shortbreak_children.csv")
    log = empty_db.q("imports")
    assert sorted(log["kind"]) == ["homes", "occupancy", "shortbreaks"]
    assert log.set_index("kind").at["homes", "n_rows"] == len(homes())
