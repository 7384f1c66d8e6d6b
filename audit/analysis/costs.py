"""What today's placements cost, and what a plan would cost to run against the placements it replaces.

Today: each child's weekly_cost as the audit records it. A missing cost is
filled, in order, from the weekly fee of the home the child is in (homes'
weekly_fee), else the median recorded cost of the same placement type, else the
median of all recorded costs; how many were filled each way is reported. An
annual cost is 52 weeks of the weekly cost.

A plan: every place in the new homes costs a weekly cost per place (the user's,
by default the median weekly fee of the region's homes), filled or not. The
placements it replaces are those of the children matching moves into the new
homes, at their cost today. Saving = replaced - running cost. Knock-on moves
between existing homes are assumed to cost what the places they leave cost.

Raw numbers here; the *_rows functions suppress counts of 1-4 and hide costs
and means on fewer than 5 children (a cost over a handful of children comes
close to one child's care).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.analysis import provision
from audit.analysis.matching import MILE_KM, CATCHMENT_KM
from audit.db import Database
from audit.geography import region
from audit.suppress import PUBLIC, Suppressed, Viewer, hidden_count, suppress

WEEKS = 52
BANDS = [(0, 10, "Under 10 miles"), (10, 20, "10-20 miles"), (20, 50, "20-50 miles"), (50, np.inf, "Over 50 miles")]
UNKNOWN_BAND = "Distance not known"
BY = {"cohort": "Cohort", "la": "LA", "placement_type": "Placement type", "band": "Distance from home"}
HIDDEN_REASON = ("Costs and means resting on fewer than 5 children are hidden (<5): a total over a handful of children "
                 "comes close to one child's care.")
FILLS = {"recorded": "recorded in the audit", "home_fee": "the weekly fee of the home the child is in",
         "type_median": "the median recorded cost of the same placement type", "all_median": "the median of all recorded costs"}


def band(km) -> pd.Series:
    """Distance band of km from home, in miles as the DfE measure uses them."""
    mi = pd.to_numeric(pd.Series(km), errors="coerce") / MILE_KM
    out = pd.Series(UNKNOWN_BAND, index=mi.index, dtype=object)
    for lo, hi, label in BANDS:
        out[(mi >= lo) & (mi < hi)] = label
    return out


def child_costs(db: Database, round_id: int | None) -> pd.DataFrame:
    """One row per child: weekly cost (filled where missing), where the figure came from, and the breakdown keys."""
    c = db.q("costs_children", round_id=round_id)
    fill = np.select([c["weekly_cost"].notna(), c["home_fee"].notna(), c["type_median"].notna(),
                      c["all_median"].notna()], ["recorded", "home_fee", "type_median", "all_median"], "none")
    weekly = c["weekly_cost"].fillna(c["home_fee"]).fillna(c["type_median"]).fillna(c["all_median"])
    names = provision.cohorts(db, round_id)
    names = dict(zip(names["cohort"].astype(int), names["name"])) if len(names) else {}
    return pd.DataFrame({
        "la_code": c["la_code"], "child_id": c["child_id"], "la": c["la_code"].map(region.la_name),
        "placement_type": c["placement_type"].fillna("Not recorded"), "placement_urn": c["placement_urn"],
        "km_today": c["distance_km"], "band": band(c["distance_km"]).to_numpy(),
        "cohort": c["cohort"].map(lambda k: names.get(int(k), f"Cohort {int(k)}") if pd.notna(k) else "No cohort"),
        "recorded": c["weekly_cost"], "weekly": weekly, "fill": fill,
    })


def fill_counts(costs: pd.DataFrame) -> dict[str, int]:
    """How many children's costs came from each source (recorded, or which fill)."""
    return {k: int((costs["fill"] == k).sum()) for k in [*FILLS, "none"]}


def fill_text(costs: pd.DataFrame) -> str:
    """What was missing and how it was filled, in a sentence (counts of 1-4 hidden)."""
    n = fill_counts(costs)
    missing = len(costs) - n["recorded"]
    if not missing:
        return f"Every child's weekly cost is recorded ({len(costs):,} children)."
    parts = [f"{hidden_count(n[k])} from {FILLS[k]}" for k in ("home_fee", "type_median", "all_median") if n[k]]
    none = f"; {hidden_count(n['none'])} could not be filled and count as nothing" if n["none"] else ""
    return (f"{hidden_count(missing)} of {len(costs):,} children have no weekly cost recorded; filled "
            + ", ".join(parts) + none + ".")


def breakdown(costs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Raw totals per value of `by`: children, weekly and annual cost, mean weekly cost, how many filled."""
    g = costs.groupby(by, sort=True, dropna=False)
    t = pd.DataFrame({"children": g.size(), "weekly": g["weekly"].sum(min_count=1).fillna(0.0),
                      "filled": g["fill"].apply(lambda f: int((f != "recorded").sum()))}).reset_index()
    t["annual"] = t["weekly"] * WEEKS
    t["mean_weekly"] = t["weekly"] / t["children"]
    t = t[[by, "children", "weekly", "annual", "mean_weekly", "filled"]]
    if by == "band":
        order = {label: i for i, (_, _, label) in enumerate(BANDS)}
        t = t.iloc[t["band"].map(lambda b: order.get(b, len(order))).argsort(kind="stable")].reset_index(drop=True)
    return t


def breakdown_rows(costs: pd.DataFrame, by: str, viewer: Viewer = PUBLIC) -> Suppressed:
    """A breakdown for display: counts of 1-4 hidden (with totals derivable), costs and means on them hidden too."""
    t = breakdown(costs, by)
    t["weekly"] = t["weekly"].round(0)
    t["annual"] = t["annual"].round(0)
    t["mean_weekly"] = t["mean_weekly"].round(0)
    la_col = None
    if by == "la":
        t["la_code"] = costs.drop_duplicates("la")[["la", "la_code"]].set_index("la")["la_code"].reindex(t["la"]).to_numpy()
        la_col = "la_code"
    # Column totals are on the page (the total tiles), so a single hidden count down a column gets a partner.
    s = suppress(t, ["children", "filled"], rates={"weekly": "children", "annual": "children", "mean_weekly": "children"},
                 col_totals=True, la_col=la_col, viewer=viewer)
    hide = s.mask["children"]
    for col in ("weekly", "annual", "mean_weekly"):
        s.display.loc[hide, col] = s.display.loc[hide, "children"].to_numpy()
        s.numeric.loc[hide, col] = np.nan
        s.mask[col] = s.mask[col] | hide
    names = {by: BY[by], "children": "Children", "weekly": "Weekly cost (£)", "annual": "Annual cost (£)",
             "mean_weekly": "Mean weekly cost a child (£)", "filled": "Of them, cost filled"}
    drop = ["la_code"] if la_col else []
    return Suppressed(*(x.drop(columns=drop).rename(columns=names) for x in (s.display, s.numeric, s.mask)))


def totals(costs: pd.DataFrame) -> dict[str, float]:
    """The round's weekly and annual cost and the mean a child."""
    w = float(costs["weekly"].sum())
    return {"children": len(costs), "weekly": w, "annual": w * WEEKS, "mean_weekly": w / len(costs) if len(costs) else np.nan}


def default_place_cost(db: Database) -> float:
    """The default weekly cost of a place in a new home: the median weekly fee of the region's homes."""
    r = db.q("costs_fee_per_place")
    return float(r["fee"].iat[0]) if len(r) and pd.notna(r["fee"].iat[0]) else float("nan")


@dataclass
class PlanCost:
    """A plan's running cost against the placements it replaces, with what it does for children."""

    places: int
    cost_per_place: float
    running_weekly: float
    replaced_weekly: float
    children_moved_in: int
    brought_closer: int
    miles_saved: float
    filled: int

    @property
    def saving_weekly(self) -> float:
        """Replaced minus running: positive when the plan costs less than the placements it replaces."""
        return self.replaced_weekly - self.running_weekly


def plan_cost(plan, costs: pd.DataFrame, cost_per_place: float) -> PlanCost:
    """Cost of running the plan's new homes (every place) against today's cost of the children moved into them."""
    after = plan.after.children
    new = after["home_urn"].astype(str).str.startswith("NEW-").to_numpy()
    moved_in = after.loc[new, ["la_code", "child_id", "km_today", "home_km"]]
    c = moved_in.merge(costs[["la_code", "child_id", "weekly", "fill"]], on=["la_code", "child_id"], how="left")
    places = int(plan.sites["places"].sum())
    saved_km = (c["km_today"] - c["home_km"]).clip(lower=0)
    before = plan.before.children["outcome"] == "near"
    now = after["outcome"] == "near"
    return PlanCost(places, float(cost_per_place), places * float(cost_per_place), float(c["weekly"].sum()),
                    int(new.sum()), int((now & ~before).sum()), float(saved_km.sum() / MILE_KM),
                    int((c["fill"] != "recorded").sum()))


def plan_tiles(pc: PlanCost, viewer_may_see: bool = False) -> dict[str, str]:
    """Saving, children brought closer and miles saved side by side (costs on 1-4 children hidden)."""
    small = not viewer_may_see and 1 <= pc.children_moved_in < 5
    money = lambda v: "<5" if small else f"£{v * WEEKS:,.0f}"
    return {
        "Running cost a year": f"£{pc.running_weekly * WEEKS:,.0f}",
        "Placements it replaces, a year": money(pc.replaced_weekly),
        "Saving a year": money(pc.saving_weekly),
        "Children brought closer": hidden_count(pc.brought_closer, viewer_may_see),
        "Miles saved (moved in)": "<5" if small else f"{pc.miles_saved:,.0f}",
    }


def plan_cost_text(pc: PlanCost) -> str:
    """How the plan's cost is worked out, in a sentence."""
    return (f"Running cost: {pc.places} places × £{pc.cost_per_place:,.0f} a week, every place, filled or not. "
            f"Replaced: today's weekly cost of the {hidden_count(pc.children_moved_in)} children matching moves into "
            f"the new homes ({hidden_count(pc.filled) if pc.filled else 'none'} of them filled where not recorded). "
            "Miles saved: their distance from home today less their distance to the new home. Knock-on moves between "
            "existing homes are assumed to cost what the places they leave cost.")
