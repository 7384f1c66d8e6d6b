"""E2SFCA access and gap scores: hand-computed examples, a planted gap, and a national-scale run."""

import math

import numpy as np
import pandas as pd
import pytest

from audit.analysis.gaps import (EARTH_RADIUS_KM, GAP_COLUMNS, LUO_QI_ZONES, decay_weights, district_access,
                        e2sfca, gap_table, haversine_km, method_text)

# Degrees of longitude per km along the equator, so points can be laid out on a line in km.
DEG_PER_KM = 180 / (math.pi * EARTH_RADIUS_KM)


def on_line(xs, **cols):
    """Points on the equator at the given km positions."""
    return pd.DataFrame({"lat": 0.0, "lon": np.array(xs, float) * DEG_PER_KM, **cols})


# The line example. Radius 10 km.
#   demand  D1 x=0 (2 children), D2 x=4 (1), D3 x=13 (3), D4 x=26 (1)
#   supply  S1 x=2 (6 places),  S2 x=15 (4 places)
#   towns   T1 x=2.5, T2 x=9, T3 x=20.5
# Distances S1: D1 2, D2 2, D3 11, D4 24.  S2: D1 15, D2 11, D3 2, D4 11.
# Towns to supply: T1 S1 0.5, S2 12.5;  T2 S1 7, S2 6;  T3 S1 18.5, S2 5.5.
DEMAND = on_line([0, 4, 13, 26], weight=[2, 1, 3, 1])
SUPPLY = on_line([2, 15], id=["s1", "s2"], name=["S1", "S2"], capacity=[6, 4])
TOWNS = on_line([2.5, 9, 20.5], town_id=[1, 2, 3], name=["T1", "T2", "T3"],
                district_code=["d1", "d1", "d2"], la_code=["la1", "la1", "la2"])


def g(d, r=10.0):
    """The Gaussian decay written out independently of the module."""
    return (math.exp(-0.5 * (d / r) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))


def access(decay, zones=None):
    return e2sfca(DEMAND, SUPPLY, TOWNS, 10, decay=decay, zones=zones)["access_ratio"].tolist()


def test_step_decay_matches_hand_computation():
    # S1 reaches D1, D2: R1 = 6 / (2 + 1) = 2.  S2 reaches D3: R2 = 4 / 3.
    # T1 sees S1 -> 2; T2 sees both -> 2 + 4/3 = 10/3; T3 sees S2 -> 4/3.
    assert access("step") == pytest.approx([2, 10 / 3, 4 / 3])


def test_gaussian_decay_matches_hand_computation():
    # R1 = 6 / (2 g(2) + 1 g(2)) = 2 / g(2);  R2 = 4 / (3 g(2)).
    r1, r2 = 2 / g(2), 4 / (3 * g(2))
    expected = [g(0.5) * r1, g(7) * r1 + g(6) * r2, g(5.5) * r2]
    assert access("gaussian") == pytest.approx(expected)
    # g(2) = 0.94968, g(0.5) = 0.99683, g(7) = 0.44774, g(6) = 0.58134, g(5.5) = 0.64326:
    assert access("gaussian") == pytest.approx([2.0993, 1.7591, 0.9031], abs=1e-4)


def test_linear_decay_matches_hand_computation():
    # Weights 1 - d/10: R1 = 6 / (2*0.8 + 0.8) = 2.5;  R2 = 4 / (3*0.8) = 5/3.
    # T1 0.95*2.5 = 2.375;  T2 0.3*2.5 + 0.4*5/3 = 1.41667;  T3 0.45*5/3 = 0.75.
    assert access("linear") == pytest.approx([2.375, 0.75 + 0.4 * 5 / 3, 0.75])


def test_luo_qi_zones_match_hand_computation():
    # Zones 0-5 km weight 1, 5-10 km weight 0.5: R1 = 6/3 = 2, R2 = 4/3.
    # T1: 1*2 = 2;  T2: 0.5*2 + 0.5*4/3 = 5/3;  T3: 0.5*4/3 = 2/3.
    assert access("step", zones=[(5, 1.0), (10, 0.5)]) == pytest.approx([2, 5 / 3, 2 / 3])


def test_reach_columns_match_hand_counts():
    out = e2sfca(DEMAND, SUPPLY, TOWNS, 10, decay="step")
    # Places within 10 km: T1 S1; T2 S1+S2; T3 S2.  Children: T1 D1+D2; T2 D1+D2+D3; T3 D3+D4.
    assert out["supply_in_reach"].tolist() == [6, 10, 4]
    assert out["demand_in_reach"].tolist() == [3, 6, 4]
    assert out["name"].tolist() == ["T1", "T2", "T3"]


def test_gap_table_on_the_line_example():
    table = gap_table(DEMAND, SUPPLY, TOWNS, 10, decay="step")
    assert list(table.columns[: len(GAP_COLUMNS)]) == GAP_COLUMNS
    by_town = table.set_index("town")
    # Nearest towns: D1, D2 -> T1; D3 -> T2 (4 km vs 7.5); D4 -> T3.
    assert by_town["demand"].to_dict() == {"T1": 3, "T2": 3, "T3": 1}
    # Fair share 10 places / 7 children; only T3 (4/3 places per child) falls short.
    a_ref = 10 / 7
    assert by_town.loc["T3", "gap_score"] == pytest.approx(1 * (1 - (4 / 3) / a_ref))
    assert by_town.loc["T1", "gap_score"] == 0 and by_town.loc["T2", "gap_score"] == 0
    assert table["town"].iloc[0] == "T3"
    assert by_town.loc["T3", "nearest_supply"] == "S2"
    assert by_town.loc["T3", "nearest_km"] == pytest.approx(5.5, abs=1e-6)
    assert by_town.loc["T1", "nearest_km"] == pytest.approx(0.5, abs=1e-6)


def test_decay_weights_are_one_at_the_door_and_zero_beyond_the_radius():
    d = np.array([0.0, 5.0, 10.0, 10.5])
    for decay in ("gaussian", "step", "linear"):
        w = decay_weights(d, 10, decay)
        assert w[0] == 1 and w[3] == 0
        assert np.all(np.diff(w) <= 0)
    assert decay_weights(d, 10, "gaussian")[2] == pytest.approx(0, abs=1e-12)
    zones = [(u * 9, w) for u, w in LUO_QI_ZONES]
    assert decay_weights(np.array([1, 4, 8, 9.5]), 10, zones=zones).tolist() == [1.0, 0.68, 0.22, 0.0]
    with pytest.raises(ValueError):
        decay_weights(d, 10, "cubic")


def test_haversine_known_distances():
    # One degree of latitude is pi*R/180 km; London (51.5074, -0.1278) to Cambridge (52.2053, 0.1218) ~ 79.6 km.
    assert haversine_km(0, 0, 1, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM / 180)
    assert haversine_km(51.5074, -0.1278, 52.2053, 0.1218) == pytest.approx(79.6, abs=0.5)


def brute_force_e2sfca(demand, supply, locations, r):
    """Dense-matrix E2SFCA with Gaussian decay, written from the formula, to check the k-d tree path."""
    d_sd = haversine_km(supply["lat"].to_numpy()[:, None], supply["lon"].to_numpy()[:, None],
                        demand["lat"].to_numpy()[None, :], demand["lon"].to_numpy()[None, :])
    w_sd = np.vectorize(lambda d: g(d, r) if d <= r else 0.0)(d_sd)
    denom = w_sd @ demand["weight"].to_numpy()
    ratio = np.where(denom > 0, supply["capacity"].to_numpy() / np.where(denom > 0, denom, 1), 0)
    d_ls = haversine_km(locations["lat"].to_numpy()[:, None], locations["lon"].to_numpy()[:, None],
                        supply["lat"].to_numpy()[None, :], supply["lon"].to_numpy()[None, :])
    w_ls = np.vectorize(lambda d: g(d, r) if d <= r else 0.0)(d_ls)
    return w_ls @ ratio


def test_tree_search_agrees_with_dense_matrix():
    rng = np.random.default_rng(3)
    box = dict(lat=(51.5, 53.0), lon=(-0.5, 1.7))

    def points(n, **cols):
        return pd.DataFrame({"lat": rng.uniform(*box["lat"], n), "lon": rng.uniform(*box["lon"], n), **cols})

    demand = points(300, weight=rng.integers(1, 4, 300).astype(float))
    supply = points(25, capacity=rng.integers(1, 8, 25).astype(float))
    towns = points(60)
    got = e2sfca(demand, supply, towns, 30, decay="gaussian")["access_ratio"].to_numpy()
    assert got == pytest.approx(brute_force_e2sfca(demand, supply, towns, 30), rel=1e-9, abs=1e-12)
    assert (got > 0).sum() > 10  # the example exercises real overlaps


def km_offset(base, dx_km, dy_km):
    """Lat/lon a given east/north distance from a base point (flat approximation, fine at tens of km)."""
    lat = base[0] + dy_km / 111.195
    return lat, base[1] + dx_km / (111.195 * math.cos(math.radians(base[0])))


BASE = (52.6, 0.9)
TOWN_XY = {"A": (0, 0), "B": (60, 0), "C": (0, 60), "D": (60, 60), "E": (120, 0)}


def planted(capacity_at):
    """Children clustered round towns (40 round A), provision placed as given."""
    rng = np.random.default_rng(7)
    rows = []
    for town, n in {"A": 40, "B": 10, "C": 10, "D": 5}.items():
        x0, y0 = TOWN_XY[town]
        for ang, rad in zip(rng.uniform(0, 2 * math.pi, n), rng.uniform(0, 2, n)):
            rows.append(km_offset(BASE, x0 + rad * math.cos(ang), y0 + rad * math.sin(ang)))
    demand = pd.DataFrame(rows, columns=["lat", "lon"]).assign(weight=1.0)
    towns = pd.DataFrame([(i, t, *km_offset(BASE, *xy), f"dist{t}", "la")
                          for i, (t, xy) in enumerate(TOWN_XY.items())],
                         columns=["town_id", "name", "lat", "lon", "district_code", "la_code"])
    supply = pd.DataFrame([(f"h{t}", f"home {t}", *km_offset(BASE, *TOWN_XY[t]), cap)
                           for t, cap in capacity_at.items()],
                          columns=["id", "name", "lat", "lon", "capacity"])
    return demand, supply, towns


@pytest.mark.parametrize("decay", ["step", "gaussian"])
def test_planted_gap_ranks_first_and_moving_provision_removes_it(decay):
    demand, supply, towns = planted({"B": 10, "C": 10, "D": 5, "E": 40})
    table = gap_table(demand, supply, towns, 20, decay=decay)
    assert table["town"].iloc[0] == "A"
    assert table["gap_score"].iloc[0] == pytest.approx(40)  # nothing within 20 km of A's 40 children
    assert table["nearest_km"].iloc[0] == pytest.approx(60, rel=0.01)
    assert (table.set_index("town").loc[["B", "C", "D", "E"], "gap_score"] == 0).all()

    demand, supply, towns = planted({"A": 40, "B": 10, "C": 10, "D": 5})
    moved = gap_table(demand, supply, towns, 20, decay=decay).set_index("town")
    assert moved.loc["A", "gap_score"] == 0
    assert moved.loc["A", "access_ratio"] >= 1
    assert moved["gap_score"].max() == 0


def test_district_access_rolls_up_towns_and_conserves_supply():
    demand, supply, towns = planted({"A": 40, "B": 10, "C": 10, "D": 5})
    towns.loc[towns["name"].isin(["A", "B"]), "district_code"] = "north"
    dist = district_access(demand, supply, towns, 20, decay="gaussian").set_index("district_code")
    assert dist.loc["north", "towns"] == 2 and dist.loc["north", "demand"] == 50
    assert dist.loc["north", "supply_in_reach"] == 50
    # E has no children: demand 0, no access figure.
    assert dist.loc["distE", "demand"] == 0 and np.isnan(dist.loc["distE", "access_ratio"])
    # Every place is reached by some child, so children's access adds back up to the places (E2SFCA conserves supply).
    assert (dist["demand"] * dist["access_ratio"].fillna(0)).sum() == pytest.approx(supply["capacity"].sum())


def test_gap_scores_sum_to_children_short_of_a_fair_share():
    demand, supply, towns = planted({"B": 10, "C": 10, "D": 5, "E": 40})
    dist = district_access(demand, supply, towns, 20, decay="step")
    table = gap_table(demand, supply, towns, 20, decay="step")
    assert dist["gap_score"].sum() == pytest.approx(table["gap_score"].sum()) == pytest.approx(40)
    assert table["demand"].sum() == len(demand)


def test_no_supply_anywhere_means_every_child_is_in_the_gap():
    demand, supply, towns = planted({"A": 0})
    table = gap_table(demand, supply, towns, 20)
    assert table["gap_score"].sum() == pytest.approx(len(demand))
    assert table["nearest_supply"].isna().all() and table["nearest_km"].isna().all()


def test_rows_without_coordinates_are_left_out():
    demand = pd.concat([DEMAND, pd.DataFrame({"lat": [np.nan], "lon": [np.nan], "weight": [5.0]})])
    towns = pd.concat([TOWNS, pd.DataFrame({"town_id": [4], "name": ["T4"], "lat": [np.nan], "lon": [np.nan]})],
                      ignore_index=True)
    out = e2sfca(demand, SUPPLY, towns, 10, decay="step")
    assert out["access_ratio"].iloc[:3].tolist() == pytest.approx([2, 10 / 3, 4 / 3])
    assert np.isnan(out["access_ratio"].iloc[3])


def test_national_scale_synthetic_run_completes():
    rng = np.random.default_rng(11)

    def points(n):
        return pd.DataFrame({"lat": rng.uniform(50.0, 55.8, n), "lon": rng.uniform(-5.7, 1.8, n)})

    towns = points(3000).assign(town_id=range(3000), name=[f"t{i}" for i in range(3000)],
                                district_code=[f"d{i % 300}" for i in range(3000)], la_code="x")
    homes = points(4000).assign(id=range(4000), name="home", capacity=rng.integers(1, 6, 4000))
    children = points(85000)
    table = gap_table(children, homes, towns, 32.19)
    assert len(table) == 3000 and table["demand"].sum() == 85000
    assert table["gap_score"].is_monotonic_decreasing
    assert (table["gap_score"] <= table["demand"] + 1e-9).all()
    assert len(district_access(children, homes, towns, 32.19)) == 300


def test_method_text_states_the_assumptions():
    text = method_text(32.19, "gaussian")
    for phrase in ("straight lines", "32.19 km", "20 miles", "gap score", "fair share"):
        assert phrase in text


def test_locations_keep_their_rows_even_with_a_repeated_index():
    towns = TOWNS.set_axis([7, 7, 8])
    out = e2sfca(DEMAND, SUPPLY, towns, 10, decay="step")
    assert list(out.index) == [7, 7, 8]
    assert out["access_ratio"].tolist() == pytest.approx([2, 10 / 3, 4 / 3])
