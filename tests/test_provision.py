"""Gap analysis from the database: demand and supply filters checked against the sample files, the Norfolk
short-break gap towns, suppression, the map, `audit gaps`, and the distance and flow tables."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.apptest_support import plant_exploitation_cohort

from audit.analysis import distance
from audit.analysis import flows
from audit.charts import maps
from audit.charts import provision_map
from audit.analysis import provision
from audit.cli import main as cli
from audit.filters import Filters
from audit.paths import SAMPLE_DATA
from audit.suppress import PUBLIC, Viewer

NORFOLK = "E10000020"
# The towns Norfolk's Short Breaks Strategy 2023-2026 named as gaps in group provision (GeoNames spells Dereham
# "East Dereham"). Only tests name them: the analysis has to find them from where children and providers are.
STRATEGY_GAP_TOWNS = {"Fakenham", "Swaffham", "East Dereham", "Downham Market", "Thetford"}


@pytest.fixture(scope="module")
def files():
    """The sample's input files, read independently of the importers."""
    return {name: pd.read_csv(SAMPLE_DATA / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("needs", "homes", "shortbreak_children", "shortbreak_providers")}


@pytest.fixture
def round_id(sample_db):
    return int(sample_db.q("rounds")["round_id"].iat[0])


def norfolk_top(result, n=10) -> list[str]:
    towns = result.towns[result.towns["la_code"] == NORFOLK]
    return towns["town"].head(n).tolist()


# -- the Norfolk strategy's gap towns --------------------------------------------

@pytest.mark.parametrize("need", ["sen:SEMH", provision.ALL_NEEDS])
def test_norfolk_strategy_gap_towns_emerge_from_short_break_data(sample_db, round_id, need):
    sel = provision.Selection("short-breaks", need, round_id, 5, 17)
    result = provision.gap_analysis(sample_db, sel, 15, "gaussian")
    top = norfolk_top(result)
    found = STRATEGY_GAP_TOWNS & set(top)
    assert len(found) >= 3, f"top 10 Norfolk gap towns {top}"
    # They are gaps because nothing matching is within reach, not because of a quirk of the score.
    named = result.towns[result.towns["town"].isin(found)]
    assert (named["supply"] == 0).all() and (named["nearest_km"] > 15).all()


def test_providing_in_a_gap_town_closes_its_gap(sample_db, round_id):
    sel = provision.Selection("short-breaks", "sen:SEMH", round_id, 5, 17)
    before = provision.gap_analysis(sample_db, sel, 15).towns.set_index("town")
    town = sample_db.query("SELECT lat, lon FROM towns WHERE name = 'Fakenham'").iloc[0]
    with sample_db.write() as con:
        con.execute("INSERT INTO shortbreak_providers (provider_id, name, lat, lon, capacity, min_age, max_age, "
                    "needs_supported, type) VALUES ('NEW1', 'New club', ?, ?, 40, 5, 17, 'SEMH', 'group')",
                    [float(town["lat"]), float(town["lon"])])
    after = provision.gap_analysis(sample_db, sel, 15).towns.set_index("town")
    assert before.at["Fakenham", "gap_score"] > 5
    assert after.at["Fakenham", "gap_score"] == 0
    assert after.at["Fakenham", "nearest_supply"] == "New club" and after.at["Fakenham", "nearest_km"] < 0.01
    assert "Fakenham" not in norfolk_top(provision.gap_analysis(sample_db, sel, 15))


# -- demand and supply match the files ----------------------------------------------

def test_short_break_demand_and_supply_follow_need_and_age(sample_db, round_id, files):
    kids, prov = files["shortbreak_children"], files["shortbreak_providers"]
    sel = provision.Selection("short-breaks", "sen:SEMH", round_id, 5, 11)
    d = provision.demand(sample_db, sel)
    age = kids["age"].astype(int)
    assert len(d) == ((kids["primary_need"] == "SEMH") & age.between(5, 11)).sum() > 0
    assert set(d["primary_need"]) == {"SEMH"} and d["age"].between(5, 11).all()
    s = provision.supply(sample_db, sel)
    needs = prov["needs_supported"].str.upper().str.split(";")
    supports = needs.map(lambda n: "SEMH" in n or "ALL" in n)
    overlaps = (prov["min_age"].astype(int) <= 11) & (prov["max_age"].astype(int) >= 5)
    assert set(s["id"]) == set(prov.loc[supports & overlaps, "provider_id"])
    # An older age range drops providers for young children only.
    older = provision.supply(sample_db, provision.Selection("short-breaks", "sen:SEMH", round_id, 16, 17))
    assert set(older["id"]) == set(prov.loc[supports & (prov["max_age"].astype(int) >= 16), "provider_id"])


def test_residential_need_code_and_category_filters(sample_db, round_id, files):
    needs = files["needs"]
    cse = provision.demand(sample_db, provision.Selection("residential", "code:cse", round_id))
    assert len(cse) == (needs["cse"] == "Y").sum() > 0
    cat = provision.demand(sample_db, provision.Selection("residential", "category:self_harm", round_id))
    assert len(cat) == ((needs["self_harm"] == "Y") | (needs["suicidal"] == "Y")).sum()
    teen = provision.demand(sample_db, provision.Selection("residential", "code:cse", round_id, *provision.age_range("13-15")))
    assert len(teen) == ((needs["cse"] == "Y") & needs["age"].astype(int).between(13, 15)).sum()
    homes = files["homes"]
    meets = homes["needs_met"].str.contains("Sexual exploitation")
    s = provision.supply(sample_db, provision.Selection("residential", "category:sexual_exploitation", round_id))
    assert set(s["id"]) == set(homes.loc[meets, "urn"])
    assert s["places"].sum() == homes.loc[meets, "places"].astype(int).sum()
    # Capacity is what is left for the audited LAs' children: places less those used by LAs outside the audit.
    outside = sample_db.query("SELECT urn, sum(places_used) AS n FROM home_occupancy WHERE la_code NOT IN "
                              "(SELECT DISTINCT la_code FROM children WHERE round_id = $r) GROUP BY urn",
                              {"r": round_id}).set_index("urn")["n"]
    left = (homes.loc[meets].set_index("urn")["places"].astype(int) - outside.reindex(homes.loc[meets, "urn"]).fillna(0))
    assert s["capacity"].sum() == left.clip(lower=0).sum() < s["places"].sum()
    note = provision.supply_note(sample_db, provision.Selection("residential", "", round_id))
    assert "used by children of LAs outside the audit" in note and "Not counted" in note
    everything = provision.supply(sample_db, provision.Selection("residential", "", round_id))
    assert len(everything) == len(homes)


def test_age_range_of_shared_bands():
    assert provision.age_range("13-15") == (13, 15)
    assert provision.age_range("18+") == (18, None)
    assert provision.age_range(None) == (None, None)


def test_need_options_and_url_values(sample_db, round_id):
    res = provision.need_options(sample_db, "residential", round_id)
    sb = provision.need_options(sample_db, "short-breaks", round_id)
    assert "category:sexual_exploitation" in res and "code:cse" in res and "sen:SEMH" in sb
    fitted = provision.cohorts(sample_db, round_id)
    assert [k for k in res if k.startswith("cohort:")] == [f"cohort:{c}" for c in fitted["cohort"]]
    assert provision.resolve_need("SEMH", sb) == "sen:SEMH"
    assert provision.resolve_need("semh", sb) == "sen:SEMH"
    # "self_harm" is both a category and a code: the bare key means the category, the prefixed one the code.
    assert provision.resolve_need("self_harm", res) == "category:self_harm"
    assert provision.resolve_need("code:self_harm", res) == "code:self_harm"
    assert provision.resolve_need("nonsense", res) is None
    with pytest.raises(ValueError):
        provision.Selection("respite")


def test_cohort_selects_its_children_and_homes_meeting_its_defining_needs(sample_db, round_id):
    plant_exploitation_cohort(sample_db, round_id)
    options = provision.need_options(sample_db, "residential", round_id)
    assert options["cohort:1"] == "Cohort: Exploitation"
    sel = provision.Selection("residential", "cohort:1", round_id)
    kids = provision.demand(sample_db, sel)
    n = sample_db.scalar("SELECT count(DISTINCT child_id || la_code) FROM child_needs "
                         "WHERE round_id = $r AND code IN ('cse', 'cce') AND present", {"r": round_id})
    assert len(kids) == n > 0
    cats = provision.cohort_categories(sample_db, round_id, 1)
    assert cats and set(cats) <= {"sexual_exploitation", "criminal_exploitation", "going_missing", "risk_to_others",
                                  "self_harm", "mental_health", "neurodevelopmental", "disability",
                                  "substance_misuse", "placement_breakdown", "out_of_education"}
    homes = provision.supply(sample_db, sel)
    met = sample_db.query("SELECT urn, list(DISTINCT category) AS cats FROM home_needs JOIN need_codes USING (code) GROUP BY urn")
    met = dict(zip(met["urn"], met["cats"]))
    assert len(homes) > 0 and all(set(cats) <= set(met[u]) for u in homes["id"])
    others = set(met) - set(homes["id"])
    assert all(not set(cats) <= set(met[u]) for u in others)


# -- suppression ------------------------------------------------------------------

def test_gap_rows_hide_small_counts_and_the_scores_built_on_them(sample_db, round_id):
    result = provision.gap_analysis(sample_db, provision.Selection("residential", "", round_id))
    s = provision.gap_rows(result, PUBLIC)
    shown = s.display["demand"].astype(str)
    assert not shown.isin(["1", "2", "3", "4"]).any()
    small = result.towns["demand"].between(1, 4).to_numpy()
    assert (shown[small] == "<5").all()
    assert s.display.loc[small, "gap_score"].isin(["<5", "c"]).all()
    # Secondary suppression: the column total is derivable, so never exactly one hidden cell.
    assert s.mask["demand"].sum() != 1
    # A viewer with child-level access to Norfolk sees Norfolk's towns as they are, and no one else's.
    own = provision.gap_rows(result, Viewer(child_level_las=frozenset({NORFOLK})))
    nor = (own.display["la_code"] == NORFOLK).to_numpy()
    assert own.display.loc[nor & small, "demand"].astype(int).between(1, 4).all()
    assert (own.display.loc[~nor & small, "demand"] == "<5").all()
    meeting = provision.gap_rows(result, Viewer(child_level_las=frozenset({NORFOLK}), meeting_mode=True))
    assert not meeting.display["demand"].astype(str).isin(["1", "2", "3", "4"]).any()


def test_district_rows_sum_to_the_children_and_hide_small_ones(sample_db, round_id):
    sel = provision.Selection("residential", "code:cse", round_id)
    result = provision.gap_analysis(sample_db, sel)
    assert result.districts["children"].sum() == len(provision.demand(sample_db, sel).dropna(subset=["district_code"]))
    s = provision.district_rows(result)
    assert len(s.display) == 45
    hidden = s.display["children"].isin(["<5", "c"])
    assert hidden.any() and s.display.loc[hidden, "gap_score"].isin(["<5", "c"]).all()
    assert s.numeric.loc[hidden, "gap_score"].isna().all()


# -- map ------------------------------------------------------------------------------

def test_provision_map_is_offline_and_carries_clickable_suppressed_features(sample_db, round_id):
    sel = provision.Selection("short-breaks", "sen:SEMH", round_id, 5, 17)
    v = provision.view(sample_db, sel, 15, "gaussian", NORFOLK)
    m = provision_map.provision_map(v.layers.districts, v.layers.las, v.layers.towns, v.layers.homes,
                                     v.layers.providers, sel.service, "gap", focus=NORFOLK)
    html = maps.html(m)
    assert not re.search(r"https?://(?!tile)", html.replace("http://www.w3.org", "")), "nothing fetched from outside"
    features = [json.loads(x) for x in re.findall(r'"properties": (\{[^{}]*"kind": "(?:district|town)"[^{}]*\})', html)]
    districts = [f for f in features if f["kind"] == "district"]
    towns = [f for f in features if f["kind"] == "town"]
    assert len(districts) == 45 and len(towns) == len(v.layers.towns) > 0
    assert not any(f["children"] in {"1", "2", "3", "4"} for f in districts + towns)
    assert {"Fakenham", "Thetford"} <= {f["name"] for f in towns}
    # Every provider is drawn: one point each in the providers' GeoJSON layer, styled as a diamond.
    assert len(re.findall(r'"_s": \d+', html)) == len(v.layers.providers) > 0
    assert "audit-provider" in html
    assert len(html.encode()) < 2_000_000


def test_home_tooltips_count_places_in_good_english(sample_db, round_id):
    sel = provision.Selection("residential", "", round_id)
    layers = provision.view(sample_db, sel, 32, "gaussian", None).layers
    homes = layers.homes
    html = maps.html(provision_map.provision_map(layers.districts, layers.las, layers.towns, homes, layers.providers,
                                                  sel.service))
    tips = [json.loads(t)["lines"] for t in re.findall(r'"tip": (\{"lines": \[.*?\]\], "px": \d+\})', html)]
    tips = [[text for _, text in t] for t in tips if t[-1][1].startswith("Needs met:")]  # providers: "Needs supported"
    assert len(tips) == len(homes) > 0
    ones = (homes["places"] == 1).sum()
    assert ones > 0, "the sample has one-place homes"
    assert sum(t[2].startswith("1 place · ") for t in tips) == ones
    assert not any(re.search(r"\b1 places\b", line) for t in tips for line in t)
    assert maps.places_text(4) == "4 places" and maps.places_text(1) == "1 place"


# -- audit gaps and extracts -------------------------------------------------------------

def test_audit_gaps_writes_the_contract_csv(sample_db, tmp_path):
    out = tmp_path / "gaps.csv"
    rc = cli(["--db", str(sample_db.path), "gaps", "--service", "short-breaks", "--need", "SEMH",
              "--radius-km", "15", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(df.columns[:7]) == ["town", "district", "la", "demand", "supply", "access_ratio", "gap_score"]
    assert len(df) == sample_db.scalar("SELECT count(*) FROM towns")
    assert not df["demand"].isin(["1", "2", "3", "4"]).any()
    score = pd.to_numeric(df["gap_score"], errors="coerce").dropna().to_numpy()
    assert (np.diff(score) <= 1e-9).all()
    assert "Breckland" in set(df["district"]) and "Norfolk" in set(df["la"])
    assert cli(["--db", str(sample_db.path), "gaps", "--service", "residential", "--need", "nonsense",
                "--out", str(tmp_path / "x.csv")]) == 2


def test_extracts_for_gaps_distance_and_flows(sample_db):
    from audit import extracts

    for name in ("gaps_residential", "gaps_short_breaks", "distance_by_la", "distance_bands", "flows", "local_place_use"):
        df = pd.read_csv(io.BytesIO(extracts.export(sample_db, name)), encoding="utf-8-sig", dtype=str)
        assert len(df) > 0, name
        numeric_cells = df.drop(columns=[c for c in df.columns if "%" in c or "km" in c or "access" in c
                                         or c in ("supply", "gap_score", "Places in its homes", "nearest_km")])
        assert not numeric_cells.isin(["1", "2", "3", "4"]).any().any(), name


# -- distance and flows -------------------------------------------------------------------

def test_distance_by_la_matches_the_database(sample_db, round_id):
    f = Filters(round_id=round_id)
    t = distance.by_la(sample_db, f)
    norfolk = t.numeric.set_index("la_code").loc[NORFOLK]
    kids = sample_db.query("SELECT distance_km, placement_in_region FROM children WHERE la_code = $la AND round_id = $r",
                           {"la": NORFOLK, "r": round_id})
    assert norfolk["Children"] == len(kids)
    known = kids["distance_km"].dropna()
    assert norfolk["% over 20 miles"] == pytest.approx(round(100 * (known > flows.TWENTY_MILES_KM).mean(), 1))
    assert norfolk["% outside the region"] == pytest.approx(
        round(100 * (~kids["placement_in_region"].dropna().astype(bool)).mean(), 1))
    region_row = t.numeric.set_index("la_code").loc["All"]
    assert region_row["Children"] == sample_db.scalar("SELECT count(*) FROM children WHERE round_id = $r", {"r": round_id})


def test_distance_by_cohort_only_once_cohorts_exist(sample_db, round_id):
    f = Filters(round_id=round_id)
    plant_exploitation_cohort(sample_db, round_id)
    t = distance.by_cohort(sample_db, f)
    assert t.display["Cohort"].tolist() == ["Exploitation", "Other", "All"]
    assert t.numeric["Children"].iloc[:2].sum() == t.numeric["Children"].iat[2] == len(distance.placed_children(sample_db, f))
    with sample_db.write() as con:
        con.execute("DELETE FROM child_cohorts")
    assert distance.by_cohort(sample_db, f) is None


def test_distance_bands_and_flows_add_up(sample_db, round_id):
    f = Filters(round_id=round_id)
    bands = distance.bands(sample_db, f)
    labels = [b[2] for b in distance.BANDS]
    raw = distance.placed_children(sample_db, f)
    with_km = raw.dropna(subset=["distance_km"]).groupby("la_code").size()
    shown = bands.numeric.set_index("la_code")[labels]
    full = shown.where(~bands.mask.set_index(bands.display["la_code"])[labels], 0)
    # Where nothing is hidden in a row, the bands add up to the LA's children with a known distance.
    clean = ~bands.mask[labels].any(axis=1).to_numpy()
    assert clean.any()
    for la in bands.display.loc[clean, "la_code"]:
        assert full.loc[la].sum() == with_km[la]
    fm = flows.flow_matrix(raw)
    assert fm.sum(axis=1).to_dict() == raw.groupby("la_code").size().to_dict()
    s = distance.flow_matrix(sample_db, f)
    assert not s.display.isin([1, 2, 3, 4]).any().any()
    named = distance.flow_table(s).display
    assert named["Home LA"].tolist()[0] in {"Bedford Borough", "Cambridgeshire"} and "Outside region" in named.columns


def test_local_place_use_matches_occupancy(sample_db):
    use = distance.local_use(sample_db)
    places = sample_db.query("SELECT la_code, sum(places) AS p FROM homes GROUP BY la_code").set_index("la_code")["p"]
    got = use.numeric.set_index("la_code")["places"]
    assert got.to_dict() == places.reindex(got.index).astype(int).to_dict()
    own = sample_db.query("""SELECT h.la_code, sum(o.places_used) AS n FROM home_occupancy o JOIN homes h USING (urn)
                             WHERE o.la_code = h.la_code GROUP BY h.la_code""").set_index("la_code")["n"]
    shown = use.numeric.set_index("la_code")["used_by_own_la"].dropna()
    for la, n in shown.items():
        assert n == own.get(la, 0)
    assert not use.display[distance.USE_COUNTS].isin([1, 2, 3, 4]).any().any()
