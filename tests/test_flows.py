"""Distance and flow measures on a tiny hand-counted example, and the figures built from them."""

import numpy as np
import pandas as pd
import pytest

from audit.charts.flows import distance_bands_figure, flow_matrix_chart, local_use_figure
from audit.analysis.flows import OUTSIDE_REGION, TWENTY_MILES_KM, UNKNOWN, distance_summary, flow_matrix, local_place_use

NORFOLK, SUFFOLK, ESSEX = "E10000020", "E10000029", "E10000012"
CITY = "E09000001"  # an LA outside the region

CHILDREN = pd.DataFrame(
    [  # child, home LA, km, placement LA, placed in region, cohort
        ("c1", NORFOLK, 5, NORFOLK, True, "a"),
        ("c2", NORFOLK, 40, SUFFOLK, True, "a"),
        ("c3", NORFOLK, 100, CITY, False, "b"),
        ("c4", NORFOLK, np.nan, None, None, "b"),
        ("c5", SUFFOLK, 10, SUFFOLK, True, "a"),
        ("c6", SUFFOLK, 33, SUFFOLK, True, "a"),
        ("c7", SUFFOLK, 32, NORFOLK, True, "b"),
        ("c8", ESSEX, 60, CITY, False, "a"),
        ("c9", ESSEX, 80, None, False, "b"),
    ],
    columns=["child_id", "la_code", "distance_km", "placement_la_code", "in_region_placement", "cohort"],
)


def test_twenty_miles_in_km():
    assert TWENTY_MILES_KM == pytest.approx(32.19, abs=0.005)


def test_distance_summary_by_la_matches_hand_counts():
    s = distance_summary(CHILDREN, total=True).set_index("group")
    # Norfolk: 4 children, 3 distances (5, 40, 100); c4 unknown everywhere.
    assert s.loc[NORFOLK, "children"] == 4
    assert s.loc[NORFOLK, "median_km"] == 40
    assert s.loc[NORFOLK, "pct_over_20_miles"] == pytest.approx(200 / 3)
    assert s.loc[NORFOLK, "pct_outside_own_la"] == pytest.approx(200 / 3)
    assert s.loc[NORFOLK, "pct_outside_region"] == pytest.approx(100 / 3)
    # Suffolk: 32 km is under 20 miles, 33 km is over.
    assert s.loc[SUFFOLK, ["children", "median_km", "pct_over_20_miles", "pct_outside_own_la",
                           "pct_outside_region"]].tolist() == pytest.approx([3, 32, 100 / 3, 100 / 3, 0])
    # Essex: c9's placement LA is unknown but it is out of region, so it is outside its own LA too.
    assert s.loc[ESSEX, ["children", "median_km", "pct_over_20_miles", "pct_outside_own_la",
                         "pct_outside_region"]].tolist() == pytest.approx([2, 70, 100, 100, 100])
    # All: 9 children, 8 distances 5,10,32,33,40,60,80,100 -> median 36.5; 5 over; 5 of 8 outside LA; 3 of 8 outside region.
    assert s.loc["All", ["children", "median_km", "pct_over_20_miles", "pct_outside_own_la",
                         "pct_outside_region"]].tolist() == pytest.approx([9, 36.5, 62.5, 62.5, 37.5])


def test_distance_summary_by_la_and_cohort():
    s = distance_summary(CHILDREN, by=["la_code", "cohort"])
    assert list(s.columns[:3]) == ["la_code", "cohort", "group"]
    row = s[(s["la_code"] == NORFOLK) & (s["cohort"] == "b")].iloc[0]
    # c3 (100 km, out of region) and c4 (nothing known).
    assert row["children"] == 2 and row["median_km"] == 100 and row["pct_outside_region"] == 100
    assert row["group"] == f"{NORFOLK} / b"
    assert s["children"].sum() == len(CHILDREN)


def test_flow_matrix_matches_hand_counts():
    m = flow_matrix(CHILDREN)
    assert list(m.index) == [ESSEX, NORFOLK, SUFFOLK]  # region order
    assert list(m.columns) == [NORFOLK, SUFFOLK, OUTSIDE_REGION, UNKNOWN]
    assert m.loc[ESSEX].tolist() == [0, 0, 2, 0]
    assert m.loc[NORFOLK].tolist() == [1, 1, 1, 1]
    assert m.loc[SUFFOLK].tolist() == [1, 2, 0, 0]


def test_flow_matrix_treats_a_non_eastern_code_as_outside_the_region():
    kids = pd.DataFrame({"la_code": [NORFOLK], "placement_la_code": [CITY], "in_region_placement": [None]})
    assert flow_matrix(kids).loc[NORFOLK, OUTSIDE_REGION] == 1


HOMES = pd.DataFrame({"urn": ["h1", "h2", "h3", "h4"], "la_code": [NORFOLK, NORFOLK, SUFFOLK, ESSEX],
                      "places": [4, 2, 3, 2]})
OCCUPANCY = pd.DataFrame(
    [("h1", NORFOLK, NORFOLK, 2), ("h1", NORFOLK, SUFFOLK, 1), ("h2", NORFOLK, CITY, 1),
     ("h3", SUFFOLK, NORFOLK, 2), ("h3", SUFFOLK, None, 1)],
    columns=["urn", "home_la_code", "occupying_la_code", "places_used"],
)


def test_local_place_use_matches_hand_counts():
    use = local_place_use(OCCUPANCY, HOMES).set_index("la_code")
    cols = ["places", "used_by_own_la", "used_by_other_eastern", "used_by_outside_region",
            "used_by_unknown", "vacant"]
    assert list(use.index) == [ESSEX, NORFOLK, SUFFOLK]
    assert use.loc[NORFOLK, cols].tolist() == [6, 2, 1, 1, 0, 2]
    assert use.loc[SUFFOLK, cols].tolist() == [3, 0, 2, 0, 1, 0]
    assert use.loc[ESSEX, cols].tolist() == [2, 0, 0, 0, 0, 2]


def test_flow_chart_carries_every_child_once_and_shows_hidden_cells_as_marks():
    m = flow_matrix(CHILDREN)
    fig = flow_matrix_chart(m, m.astype(float))
    cells = fig.data
    assert cells["children"].sum() == len(CHILDREN)
    assert len(cells) == m.size and cells["own"].sum() == 2  # Norfolk and Suffolk placed some of their own
    assert "Norfolk" in set(cells["home"]) and OUTSIDE_REGION in set(cells["placed"])
    shown = m.astype(object).where(m != 1, "<5")
    hidden = m.astype(float).where(m != 1)
    fig = flow_matrix_chart(shown, hidden)
    marks = fig.data[fig.data["hidden"]]
    assert len(marks) == int((m == 1).to_numpy().sum()) and set(marks["text"]) == {"<5"}
    assert marks["children"].isna().all()  # the browser never receives the hidden number
    fig.to_dict()


def test_distance_bands_leave_hidden_counts_out():
    bands = pd.DataFrame({"LA": ["Norfolk", "Suffolk"], "Under 10 miles": [12.0, np.nan], "10-20 miles": [6.0, 7.0]})
    fig = distance_bands_figure(bands, ["Under 10 miles", "10-20 miles"])
    assert len(fig.data) == 3 and fig.data["value"].sum() == 25
    assert fig.to_dict()["encoding"]["color"]["scale"]["domain"] == ["Under 10 miles", "10-20 miles"]


def test_meeting_mode_uses_larger_text():
    use = local_place_use(OCCUPANCY, HOMES)
    def label_size(fig) -> int:
        return fig.to_dict()["config"]["axis"]["labelFontSize"]

    assert label_size(local_use_figure(use, large=True)) > label_size(local_use_figure(use))
    m = flow_matrix(CHILDREN)
    assert label_size(flow_matrix_chart(m, m.astype(float), large=True)) >= 20
    bars = local_use_figure(use)
    assert bars.to_dict()["encoding"]["color"]["scale"]["domain"][0] == "Own LA's children"
    assert bars.data["value"].sum() == use["places"].sum()  # used + vacant = places here
