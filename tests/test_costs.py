"""Costs: today's placements add up to the children's recorded weekly costs; missing costs are filled and counted;
small bases are hidden; a plan's running cost against the placements it replaces."""

import numpy as np
import pandas as pd
import pytest

from audit.analysis import costs, planner
from audit.suppress import PUBLIC


def test_costs_add_up_to_the_recorded_weekly_costs_in_every_breakdown(sample_db):
    c = costs.child_costs(sample_db, 1)
    recorded = sample_db.scalar("SELECT sum(weekly_cost) FROM children WHERE round_id = 1")
    n = sample_db.scalar("SELECT count(*) FROM children WHERE round_id = 1")
    assert len(c) == n and costs.fill_counts(c)["recorded"] == n
    assert costs.totals(c)["weekly"] == pytest.approx(recorded)
    for by in costs.BY:
        t = costs.breakdown(c, by)
        assert t["weekly"].sum() == pytest.approx(recorded), by
        assert t["children"].sum() == n
        assert np.allclose(t["annual"], 52 * t["weekly"])
    bands = costs.breakdown(c, "band")
    far = sample_db.scalar("SELECT sum(weekly_cost) FROM children WHERE round_id = 1 AND distance_km >= 50 * 1.609344")
    assert bands.set_index("band").loc["Over 50 miles", "weekly"] == pytest.approx(far)


def test_missing_costs_are_filled_from_the_home_fee_then_the_type_median_and_counted(sample_db):
    with sample_db.write() as con:
        # Five children in one of the region's homes, and five of type S1 (not in our homes), lose their cost.
        con.execute("UPDATE children SET weekly_cost = NULL WHERE round_id = 1 AND child_id IN (SELECT child_id FROM "
                    "children c WHERE round_id = 1 AND placement_urn IN (SELECT urn FROM homes) ORDER BY child_id LIMIT 5)")
        con.execute("UPDATE children SET weekly_cost = NULL WHERE round_id = 1 AND child_id IN (SELECT child_id FROM "
                    "children WHERE round_id = 1 AND placement_type = 'S1' AND placement_urn NOT IN (SELECT urn FROM homes) "
                    "ORDER BY child_id LIMIT 5)")
    c = costs.child_costs(sample_db, 1)
    n = costs.fill_counts(c)
    assert n["home_fee"] == 5 and n["type_median"] == 5 and n["none"] == 0
    fees = sample_db.query("SELECT urn, weekly_fee FROM homes").set_index("urn")["weekly_fee"]
    by_fee = c[c["fill"] == "home_fee"]
    assert np.allclose(by_fee["weekly"], fees.loc[by_fee["placement_urn"]].to_numpy())
    s1 = sample_db.scalar("SELECT median(weekly_cost) FROM children WHERE round_id = 1 AND placement_type = 'S1'")
    assert np.allclose(c.loc[c["fill"] == "type_median", "weekly"], s1)
    recorded = sample_db.scalar("SELECT sum(weekly_cost) FROM children WHERE round_id = 1")
    assert costs.totals(c)["weekly"] == pytest.approx(recorded + c.loc[c["fill"] != "recorded", "weekly"].sum())
    assert "10 of 650 children have no weekly cost recorded" in costs.fill_text(c)
    assert costs.breakdown(c, "placement_type")["filled"].sum() == 10


def test_costs_and_means_on_fewer_than_five_children_are_hidden(sample_db):
    c = costs.child_costs(sample_db, 1)
    small = pd.concat([c[c["la_code"] == "E10000020"], c[c["la_code"] == "E06000033"].head(3)])
    s = costs.breakdown_rows(small, "la", PUBLIC)
    row = s.display.set_index("LA").loc["Southend-on-Sea"]
    assert row["Children"] == "<5"
    assert row["Weekly cost (£)"] == "<5" and row["Mean weekly cost a child (£)"] == "<5" and row["Annual cost (£)"] == "<5"
    # The other LA's count is hidden too, since the total is on the page; and so are its costs.
    assert s.display.set_index("LA").loc["Norfolk", "Children"] == "c"
    assert "fewer than 5 children" in costs.HIDDEN_REASON


def test_plan_cost_against_the_placements_it_replaces(sample_db):
    c = costs.child_costs(sample_db, 1)
    p = planner.make_plan(sample_db, 1, 3, 4)
    fee = costs.default_place_cost(sample_db)
    assert fee == pytest.approx(sample_db.scalar("SELECT median(weekly_fee) FROM homes"))
    pc = costs.plan_cost(p, c, fee)
    assert pc.places == 12 and pc.running_weekly == pytest.approx(12 * fee)
    moved = p.after.children[p.after.children["home_urn"].astype(str).str.startswith("NEW-")]
    raw = sample_db.query("SELECT la_code, child_id, weekly_cost FROM children WHERE round_id = 1")
    replaced = moved.merge(raw, on=["la_code", "child_id"])["weekly_cost"].sum()
    assert pc.children_moved_in == len(moved) > 0 and pc.replaced_weekly == pytest.approx(replaced)
    assert pc.saving_weekly == pytest.approx(replaced - 12 * fee)
    assert pc.brought_closer == (p.after.children["outcome"] == "near").sum() - (p.before.children["outcome"] == "near").sum()
    assert pc.miles_saved > 0
    t = costs.plan_tiles(pc)
    assert t["Running cost a year"] == f"£{12 * fee * 52:,.0f}"
    assert t["Saving a year"] == f"£{(replaced - 12 * fee) * 52:,.0f}"
