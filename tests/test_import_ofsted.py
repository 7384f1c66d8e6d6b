"""Ofsted providers list: column-name variants of different releases, filters, category mapping, update mode."""

from __future__ import annotations


import openpyxl
import pandas as pd
import pytest

from audit import taxonomy
from audit.intake import ofsted as import_ofsted
from audit.geography import region
from audit.paths import SAMPLE_DATA
from audit.intake.problems import ImportFailed
from tests.conftest import table_snapshot

HOMES = pd.read_csv(SAMPLE_DATA / "homes.csv", dtype=str, keep_default_na=False)


def release_2023(homes: pd.DataFrame) -> pd.DataFrame:
    """One release's layout: 'Max Users', 'Owner Name', one column per registration category, no postcodes."""
    df = pd.DataFrame({
        "URN": homes["urn"], "Provider Type": "Children's home", "Provider Subtype": "Children's home",
        "Sector": homes["sector"], "Registration status": "Active", "Setting name": homes["name"],
        "Owner Name": homes["provider"], "Local Authority": homes["la"], "Max Users": homes["places"],
        "Latest overall Effectiveness grade from last full inspection":
            homes["ofsted_grade"].replace({"Requires improvement": "Requires improvement to be good"}),
    })
    for i, cat in enumerate(import_ofsted.CATEGORIES):
        df[cat] = ["Y" if (k + i) % 3 == 0 else "" for k in range(len(df))]
    return df


def release_2024(homes: pd.DataFrame) -> pd.DataFrame:
    """Another: 'Number of registered places', 'Organisation name', 'Provision type', a postcode, one list column."""
    return pd.DataFrame({
        "Provider URN": homes["urn"], "Provision type": "Children's home", "Organisation name": homes["provider"],
        "Local authority": homes["la"], "Postcode": homes["postcode"],
        "Number of registered places": homes["places"], "Overall Effectiveness": homes["ofsted_grade"],
        "Registration categories": "EBD; Learning difficulty",
    })


def as_xlsx(df: pd.DataFrame, path, title_rows: int = 3) -> None:
    """Ofsted's workbooks put a title and notes above the header, after a contents sheet."""
    wb = openpyxl.Workbook()
    wb.active.title = "Contents"
    wb.active.append(["Children's social care providers and places"])
    ws = wb.create_sheet("Providers")
    ws.append(["Ofsted: children's social care providers, 31 March"])
    for _ in range(title_rows - 1):
        ws.append([])
    ws.append(list(df.columns))
    for r in df.itertuples(index=False):
        ws.append(list(r))
    wb.save(path)


def test_release_with_one_column_per_category(empty_db, tmp_path):
    df = release_2023(HOMES)
    p = tmp_path / "providers_2023.xlsx"
    as_xlsx(df, p)
    r = import_ofsted.load(empty_db, p)
    assert r["homes"] == len(HOMES) and r["places"] == HOMES["places"].astype(int).sum()
    homes = empty_db.query("SELECT * FROM homes ORDER BY urn").set_index("urn")
    assert (homes["source"] == "ofsted").all() and (homes["location_precision"] == "la").all()
    assert any("withholds" in w.message for w in r["warnings"])
    grades = homes["ofsted_grade"].reindex(HOMES["urn"]).to_numpy()
    assert (grades == HOMES["ofsted_grade"].to_numpy()).all()
    # Every home sits inside its own LA (the LA's centre).
    assert (homes["la_code"].reindex(HOMES["urn"]).to_numpy() ==
            HOMES["la"].map(region.la_code).to_numpy()).all()
    needs = empty_db.query("SELECT urn, code FROM home_needs")
    k = 0  # the first home is ticked for EBD, sensory impairment and physical disabilities (i = 0, 3, 6)
    expect = {c for cat in (import_ofsted.CATEGORIES[0], import_ofsted.CATEGORIES[3], import_ofsted.CATEGORIES[6])
              for c in import_ofsted.OFSTED_NEEDS[cat]}
    assert set(needs.loc[needs["urn"] == df["URN"].iat[k], "code"]) == expect


def test_release_with_postcodes_and_a_category_list(empty_db, tmp_path):
    df = release_2024(HOMES)
    p = tmp_path / "providers_2024.csv"
    df.to_csv(p, index=False)
    r = import_ofsted.load(empty_db, p)
    homes = empty_db.query("SELECT * FROM homes").set_index("urn")
    assert r["homes"] == len(HOMES) and (homes["location_precision"] == "sector").all()
    assert set(homes["postcode_sector"]) == set(HOMES["postcode"])
    codes = set(empty_db.query("SELECT DISTINCT code FROM home_needs")["code"])
    assert codes == set(import_ofsted.OFSTED_NEEDS["Emotional and behavioural difficulties"]) | set(
        import_ofsted.OFSTED_NEEDS["Learning difficulty"])
    assert homes["registration"].iat[0] == "Emotional and behavioural difficulties; Learning difficulty"


def test_other_providers_closed_homes_and_other_regions_are_left_out(empty_db, tmp_path):
    df = release_2023(HOMES.head(10))
    extra = df.iloc[:3].copy()
    extra["URN"] = ["SC900001", "SC900002", "SC900003"]
    extra["Provider Type"] = ["Independent fostering agency", "Children's home", "Children's home"]
    extra["Registration status"] = ["Active", "Closed", "Active"]
    extra["Local Authority"] = ["Norfolk", "Norfolk", "Kent"]
    p = tmp_path / "mixed.csv"
    pd.concat([df, extra]).to_csv(p, index=False)
    r = import_ofsted.load(empty_db, p)
    assert r["homes"] == 10
    assert not set(empty_db.query("SELECT urn FROM homes")["urn"]) & set(extra["URN"])
    msgs = " ".join(w.message for w in r["warnings"])
    assert "not children's homes" in msgs and "closed" in msgs and "outside the Eastern region" in msgs


def test_update_mode_keeps_contract_details_and_adds_new_homes(sample_db, tmp_path):
    before = sample_db.query("SELECT * FROM homes ORDER BY urn").set_index("urn")
    df = release_2023(HOMES.head(5))
    df["Max Users"] = "9"
    new = df.iloc[:1].copy()
    new["URN"] = "SC777777"
    p = tmp_path / "update.csv"
    pd.concat([df, new]).to_csv(p, index=False)
    import_ofsted.load(sample_db, p, mode="update")
    after = sample_db.query("SELECT * FROM homes ORDER BY urn").set_index("urn")
    assert len(after) == len(before) + 1
    changed = HOMES["urn"].head(5)
    assert (after.loc[changed, "places"] == 9).all()
    assert (after.loc[changed, ["lat", "lon"]].to_numpy() == before.loc[changed, ["lat", "lon"]].to_numpy()).all()
    untouched = before.index.difference(changed)
    pd.testing.assert_frame_equal(after.loc[untouched].drop(columns="registration"),
                                  before.loc[untouched].drop(columns="registration"))
    assert after.at["SC777777", "source"] == "ofsted"


def test_missing_places_column_and_bad_places_change_nothing(sample_db, tmp_path):
    before = table_snapshot(sample_db)
    p = tmp_path / "no_places.csv"
    release_2023(HOMES.head(5)).drop(columns="Max Users").to_csv(p, index=False)
    with pytest.raises(ImportFailed, match="no column for places"):
        import_ofsted.load(sample_db, p)
    df = release_2023(HOMES.head(5))
    df.loc[2, "Max Users"] = "lots"
    p2 = tmp_path / "bad_places.csv"
    df.to_csv(p2, index=False)
    with pytest.raises(ImportFailed) as info:
        import_ofsted.load(sample_db, p2)
    assert [(x.row, x.value) for x in info.value.problems if x.severity == "error"] == [(4, "lots")]
    assert table_snapshot(sample_db) == before


def test_mapping_covers_every_category_and_only_taxonomy_codes():
    table = import_ofsted.mapping_table()
    assert set(table["Ofsted registration category"]) == set(import_ofsted.CATEGORIES)
    assert set(table["need code"]) <= set(taxonomy.codes())
    # Needs Ofsted has no category for are never mapped.
    assert not {"cse", "cce", "rto_sexual", "rto_fire", "placement_breakdown", "out_of_education"} & set(table["need code"])


@pytest.mark.parametrize("raw,grade", [("Requires improvement to be good", "Requires improvement"), ("1", "Outstanding"),
                                       ("Good", "Good"), ("Inadequate", "Inadequate"), ("", None)])
def test_grade_wording(raw, grade):
    got = import_ofsted._grade(pd.Series([raw])).iat[0]
    assert got == grade if grade else pd.isna(got)
