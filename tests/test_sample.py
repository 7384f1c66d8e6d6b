"""The synthetic sample: formats of data-contract.md, calibration to facts.md, determinism, committed CSVs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from audit import taxonomy
from audit.geography import region
from audit.paths import GEODATA, SAMPLE_DATA
from audit.sample.generate import FILES, generate, write_sample

SECTOR = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")
MILES_20_KM = 32.187
GAP_TOWNS = ["Fakenham", "Swaffham", "East Dereham", "Downham Market", "Thetford"]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate("regional", seed=2024)


@pytest.fixture(scope="module")
def sectors() -> pd.DataFrame:
    """Sector centroids: the region's committed table first, the GB table for everything else."""
    reg = pd.read_csv(GEODATA / "postcode_sectors.csv", dtype=str)
    gb = pd.read_csv(GEODATA / "sectors_gb.csv", dtype=str)
    gb = gb[~gb["sector"].isin(reg["sector"])]
    both = pd.concat([reg[["sector", "lat", "lon", "la_code"]], gb[["sector", "lat", "lon"]]], ignore_index=True)
    both[["lat", "lon"]] = both[["lat", "lon"]].astype(float)
    return both.set_index("sector")


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


def _categories(needs: pd.DataFrame) -> pd.DataFrame:
    tax = taxonomy.load()
    y = needs[tax["code"]].eq("Y")
    return y.T.groupby(tax["category"].to_numpy(), sort=False).any().T


def _eastern(la: pd.Series) -> pd.Series:
    return la.map(lambda v: region.la_code(v) is not None)


# --- formats -------------------------------------------------------------------------------------

def test_needs_has_exactly_the_contract_columns_and_no_truth(frames):
    expected = (["child_id", "la", "age", "sex", "home_postcode"] + taxonomy.codes()
                + ["placement_type", "placement_urn", "placement_postcode", "weekly_cost", "dol_order",
                   "foster_suitability", "residential_suitability", "supported_suitability", "cared_alongside"])
    needs = frames["needs"]
    assert list(needs.columns) == expected
    assert "cohort" not in needs.columns and "latent_cohort" not in needs.columns
    assert list(frames["truth"].columns) == ["child_id", "la", "cohort"]
    assert set(frames["truth"]["cohort"]) == {"disability-led", "trauma-led", "extra-familial exploitation"}


def test_need_cells_are_y_n_or_a_few_blanks(frames):
    cells = frames["needs"][taxonomy.codes()].to_numpy()
    assert set(np.unique(cells)) == {"Y", "N", ""}
    assert 0.003 <= (cells == "").mean() <= 0.02


def test_children_are_identified_by_resolvable_la_and_unique_id(frames):
    needs = frames["needs"]
    assert needs["child_id"].is_unique
    codes = needs["la"].map(region.la_code)
    assert codes.notna().all()
    assert set(codes) == set(region.REGION_LAS)
    # People type names, not codes, and not always the same way.
    assert not needs["la"].str.match(r"^E\d{8}$").any()
    assert needs["la"].nunique() > 11


def test_no_full_postcodes_anywhere(frames):
    for key, frame in frames.items():
        for col in frame.columns:
            if "postcode" in col:
                assert frame[col].map(lambda v: bool(SECTOR.match(v))).all(), (key, col)
    text = "\n".join(f.to_csv(index=False) for f in frames.values())
    assert not re.search(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", text)


def test_placements_data_standard_values(frames):
    needs = frames["needs"]
    suit = {"Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"}
    for col in ("foster_suitability", "residential_suitability", "supported_suitability"):
        assert set(needs[col]) <= suit
    assert set(needs["cared_alongside"]) == {
        "Solo placement recommended", "With other children recommended", "Only with other older children",
        "Only with other younger children", "No preference"}
    assert set(needs["dol_order"]) == {"Y", "N"}
    assert set(needs["sex"]) <= {"M", "F", "X", "U"}


def test_homes_columns_and_needs_met_tokens_resolve(frames):
    homes = frames["homes"]
    assert list(homes.columns) == ["urn", "name", "provider", "sector", "la", "postcode", "lat", "lon", "places",
                                   "ofsted_grade", "needs_met", "weekly_fee"]
    assert homes["urn"].is_unique
    assert homes["la"].map(region.la_code).notna().all()
    tokens = homes["needs_met"].str.split(";").explode()
    assert tokens.map(lambda t: bool(taxonomy.resolve_need(t))).all()


# --- region homes and places ----------------------------------------------------------------------

def test_homes_providers_places_match_ccrag(frames):
    homes = frames["homes"]
    assert abs(len(homes) - 230) <= 15
    assert abs(homes["provider"].nunique() - 113) <= 10
    assert abs(homes["places"].sum() - 986) <= 60
    assert (homes["places"] >= 1).all()


def test_homes_spread_most_in_the_big_counties(frames, sectors):
    homes = frames["homes"]
    assert homes["postcode"].isin(sectors.index[sectors["la_code"].notna()]).all()
    top = homes["la"].value_counts().index[:5]
    assert {"Essex", "Norfolk", "Suffolk", "Hertfordshire"} <= set(top)


def test_provider_sector_grade_fee_mix(frames):
    homes = frames["homes"]
    share = homes["sector"].value_counts(normalize=True)
    assert share["Private"] > 0.6 and share["Voluntary"] > 0.05 and share["Local authority"] > 0.05
    assert abs(homes["ofsted_grade"].isin(["Good", "Outstanding"]).mean() - 0.83) <= 0.07
    assert abs(homes["weekly_fee"].mean() - 6100) <= 400
    # Break's spot price is about GBP 1,000 below the average.
    assert 300 <= homes["weekly_fee"].mean() - homes.loc[homes["sector"] == "Voluntary", "weekly_fee"].mean() <= 1700
    assert (homes["weekly_fee"] >= 10_000).sum() >= 3


def test_needs_met_majority_externalising_minority_disability(frames):
    met = frames["homes"]["needs_met"].str.split(";")
    share = {c: met.map(lambda m, c=c: c in m).mean() for c in ("Risk to others", "Mental health", "Going missing",
                                                               "Disability", "Sexual exploitation")}
    assert share["Risk to others"] > 0.75 and share["Mental health"] > 0.75 and share["Going missing"] > 0.65
    assert 0.1 < share["Disability"] < 0.4
    assert share["Sexual exploitation"] < 0.35


def test_eastern_share_of_places_and_homes(frames):
    occ, homes = frames["occupancy"], frames["homes"]
    eastern = occ[_eastern(occ["la"])]
    assert abs(eastern["places_used"].sum() / homes["places"].sum() - 0.25) <= 0.05
    assert abs(eastern["urn"].nunique() / len(homes) - 0.28) <= 0.05
    others = occ[~_eastern(occ["la"])]
    assert others["la"].str.startswith("E09").any() and others["la"].eq("Outside region").any()
    assert (others["la"].str.match(r"^E\d{8}$") | others["la"].eq("Outside region")).all()


def test_occupancy_matches_children_and_fits_places(frames):
    needs, homes, occ = frames["needs"], frames["homes"], frames["occupancy"]
    in_region = needs[needs["placement_urn"].isin(homes["urn"])]
    kids = in_region.groupby([in_region["placement_urn"], in_region["la"].map(region.la_code)]).size()
    eastern = occ[_eastern(occ["la"])]
    rows = eastern.groupby([eastern["urn"], eastern["la"].map(region.la_code)])["places_used"].sum()
    pd.testing.assert_series_equal(kids.sort_index(), rows.sort_index(), check_names=False)
    used = occ.groupby("urn")["places_used"].sum()
    assert (used <= homes.set_index("urn")["places"].reindex(used.index)).all()
    assert occ["urn"].isin(homes["urn"]).all() and (occ["places_used"] > 0).all()


# --- children and placements ----------------------------------------------------------------------

def test_children_count_ages_and_home_sectors(frames, sectors):
    needs = frames["needs"]
    assert 600 <= len(needs) <= 750
    assert needs["age"].between(6, 17).all()
    assert needs["age"].between(13, 17).mean() >= 0.7
    home_la = needs["home_postcode"].map(sectors["la_code"])
    assert (home_la == needs["la"].map(region.la_code)).all()
    by_la = needs["la"].map(region.la_code).map(region.la_name).value_counts()
    assert set(by_la.index[:5]) == {"Essex", "Hertfordshire", "Norfolk", "Suffolk", "Cambridgeshire"}


def test_placed_outside_own_la_and_distance(frames, sectors):
    needs = frames["needs"]
    place_la = needs["placement_postcode"].map(sectors["la_code"])  # NaN outside the region
    outside = place_la != needs["la"].map(region.la_code)
    assert abs(outside.mean() - 0.67) <= 0.07
    h = sectors.reindex(needs["home_postcode"])
    p = sectors.reindex(needs["placement_postcode"])
    assert p["lat"].notna().all()
    km = _km(h["lat"].to_numpy(), h["lon"].to_numpy(), p["lat"].to_numpy(), p["lon"].to_numpy())
    assert abs((km > MILES_20_KM).mean() - 0.49) <= 0.08


def test_out_of_region_placements_use_real_sectors_and_foreign_urns(frames, sectors):
    needs, homes = frames["needs"], frames["homes"]
    in_frame = needs["placement_urn"].isin(homes["urn"])
    homes_out = needs[~in_frame & needs["placement_type"].isin(["K1", "K2"])]
    assert len(homes_out) > 100
    assert homes_out["placement_postcode"].map(sectors["la_code"]).isna().all()  # real sector, not in region
    assert homes_out["placement_urn"].str.fullmatch(r"2\d{6}").all()
    assert needs.loc[in_frame, "placement_type"].eq("K2").all()
    assert needs["placement_type"].eq("K2").mean() > 0.8
    assert set(needs["placement_type"]) == {"K1", "K2", "R1", "S1"}


def test_need_prevalences_match_nuffield(frames):
    cats = _categories(frames["needs"])
    n = cats.sum(axis=1)
    assert abs(n.mean() - 4.2) <= 0.3
    assert abs((n >= 4).mean() - 0.657) <= 0.08
    assert abs((n > 1).mean() - 0.952) <= 0.04
    assert n.min() >= 1
    targets = {"risk_to_others": 0.692, "mental_health": 0.591, "placement_breakdown": 0.553, "self_harm": 0.524,
               "going_missing": 0.466, "disability": 0.337}
    for cat, target in targets.items():
        assert abs(cats[cat].mean() - target) <= 0.06, cat
    either = cats["sexual_exploitation"] | cats["criminal_exploitation"]
    assert abs(either.mean() - 0.332) <= 0.06
    assert abs(frames["needs"]["rto_physical"].eq("Y").mean() - 0.575) <= 0.07


def test_risk_to_others_and_mental_health_co_occur(frames):
    cats = _categories(frames["needs"])
    both = (cats["risk_to_others"] & cats["mental_health"]).sum()
    # "co-occurring in approximately 75% of cases": of children with mental health concerns,
    # and not far below it for children posing a risk to others.
    assert abs(both / cats["mental_health"].sum() - 0.75) <= 0.1
    assert both / cats["risk_to_others"].sum() >= 0.6


def test_costs_and_dol_by_cohort(frames):
    needs = frames["needs"].merge(frames["truth"], on=["child_id", "la"])
    assert abs(needs["weekly_cost"].mean() - 6100) <= 500
    assert 0.02 <= (needs["weekly_cost"] >= 10_000).mean() <= 0.15
    cost = needs.groupby("cohort")["weekly_cost"].mean()
    assert cost["trauma-led"] > cost["disability-led"] and cost["extra-familial exploitation"] > cost["disability-led"]
    dol = needs.groupby("cohort")["dol_order"].apply(lambda s: s.eq("Y").mean())
    assert dol.idxmax() == "trauma-led"


def test_latent_class_analysis_recovers_the_cohorts(frames):
    from sklearn.metrics import adjusted_rand_score
    from stepmix.stepmix import StepMix

    x = _categories(frames["needs"]).astype(int).to_numpy()
    model = StepMix(n_components=3, measurement="binary", n_init=3, random_state=0, verbose=0, progress_bar=0)
    model.fit(x)
    truth = frames["truth"].set_index("child_id").loc[frames["needs"]["child_id"], "cohort"]
    assert adjusted_rand_score(truth, model.predict(x)) >= 0.6


# --- Norfolk short breaks -------------------------------------------------------------------------

def test_short_break_children_by_need_and_tier(frames):
    sbc = frames["shortbreak_children"]
    assert abs(len(sbc) - 1700) <= 100
    assert sbc["la"].eq("Norfolk").all() and sbc["child_id"].is_unique
    assert sbc["age"].between(5, 17).all()
    share = sbc["primary_need"].value_counts(normalize=True)
    assert list(share.index[:2]) == ["SEMH", "ASD"]  # SEMH the highest primary need, autism next
    assert abs(share["SEMH"] - 0.275) <= 0.045 and abs(share["ASD"] - 0.275) <= 0.045
    assert set(sbc["tier"]) == {"Universal", "Additional", "Complex", "Specialist"}
    codes = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH"}
    assert set(sbc["primary_need"]) <= codes
    needs_supported = frames["shortbreak_providers"]["needs_supported"].str.split(";").explode()
    assert set(needs_supported) <= codes | {"ALL"}


def test_group_provision_leaves_the_strategy_gap_towns_uncovered(frames, sectors):
    all_towns = pd.read_csv(GEODATA / "towns.csv")
    norfolk = all_towns[all_towns["la_code"] == region.la_code("Norfolk")]
    gap_towns = norfolk[norfolk["name"].isin(GAP_TOWNS)]
    assert len(gap_towns) == 5
    group = frames["shortbreak_providers"].query("type == 'group'")
    assert len(group) >= 20
    kids = sectors.reindex(frames["shortbreak_children"]["home_postcode"])
    for _, t in gap_towns.iterrows():
        assert _km(t["lat"], t["lon"], group["lat"].to_numpy(), group["lon"].to_numpy()).min() > 15, t["name"]
        assert (_km(t["lat"], t["lon"], kids["lat"].to_numpy(), kids["lon"].to_numpy()) < 10).sum() >= 20, t["name"]
    # Provision clusters in and around Norwich, as the strategy's map shows.
    city = norfolk[norfolk["name"] == "Norwich"].iloc[0]
    assert (_km(city["lat"], city["lon"], group["lat"].to_numpy(), group["lon"].to_numpy()) < 10).mean() >= 0.3


# --- determinism, files, national scale -----------------------------------------------------------

def test_same_seed_same_frames_and_other_seed_differs(frames):
    again = generate("regional", seed=2024)
    for key in frames:
        pd.testing.assert_frame_equal(frames[key], again[key])
    other = generate("regional", seed=7)
    assert not other["needs"]["child_id"].equals(frames["needs"]["child_id"])


def test_committed_sample_data_is_what_the_generator_writes(tmp_path):
    paths = write_sample(tmp_path)
    assert set(p.name for p in paths.values()) == set(FILES.values())
    for path in paths.values():
        committed = SAMPLE_DATA / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: regenerate with audit.sample.generate.write_sample(SAMPLE_DATA)")
    readme = (SAMPLE_DATA / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme


def test_national_scale_sizes_and_consistency():
    f = generate("national", seed=2024)
    assert abs(len(f["needs"]) - 85_000) <= 1_000
    assert abs(len(f["homes"]) - 4_000) <= 100
    assert abs(len(f["shortbreak_children"]) - 100_000) <= 2_000
    assert f["needs"]["child_id"].is_unique and f["homes"]["urn"].is_unique
    assert f["needs"]["la"].nunique() > 140
    # Every LA is one the importers know: English upper-tier LAs for needs, the region's for short breaks.
    from audit.intake.validate import any_la_code
    assert all(any_la_code(v) for v in f["needs"]["la"].unique())
    assert f["shortbreak_children"]["la"].map(region.la_code).notna().all()
    placed = f["needs"]["placement_urn"].isin(f["homes"]["urn"]).sum()
    assert placed == f["occupancy"]["places_used"].sum()
    used = f["occupancy"].groupby("urn")["places_used"].sum()
    assert (used <= f["homes"].set_index("urn")["places"].reindex(used.index)).all()
