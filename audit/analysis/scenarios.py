"""Named plans kept in the database per audit round, so commissioners can set two to four side by side.

A scenario stores the plan's inputs (enough to run it again), its new homes and
its raw figures: children it is for, children to bring closer, within reach
before and after, running cost, cost of the placements it replaces and miles
saved. The comparison table suppresses counts of 1-4 and the costs that rest
on them, as everywhere else.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from audit import sql
from audit.analysis import costs, planner
from audit.db import Database
from audit.suppress import PUBLIC, Suppressed, Viewer, hidden_count

MAX_COMPARE = 4
NAME_MAX = 60


def settings(plan: planner.Plan, cost_per_place: float, mode: str = "today") -> dict:
    """The inputs that reproduce a plan (make_plan's arguments) and the cost a place it was costed at."""
    return {"homes": plan.n_homes, "places": plan.places, "target": plan.target, "target_label": plan.target_label,
            "radius_km": plan.radius_km, "la": plan.la, "for_la": plan.for_la, "per_town": plan.per_town,
            "min_children": plan.min_children, "mode": plan.before.mode, "vacancies_only": plan.before.vacancies_only,
            "cost_per_place": float(cost_per_place), "solver": plan.solver.get("solver")}


def clean_name(name: str) -> str:
    """A scenario name as kept: trimmed; ValueError when empty or too long."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a scenario needs a name of 1-{NAME_MAX} characters")
    return name


def save(db: Database, round_id: int, name: str, plan: planner.Plan, cost: costs.PlanCost) -> str:
    """Keep the plan under `name` for the round (replacing one of the same name); returns the name kept."""
    name = clean_name(name)
    f = planner.figures(plan).iloc[0]
    sites = plan.sites[["rank", "town", "la", "la_code", "lat", "lon", "places", "children"]].to_dict("records")
    params = {"round_id": int(round_id), "name": name,
              "settings": json.dumps(settings(plan, cost.cost_per_place)), "sites": json.dumps(sites, default=float),
              "children": int(f["children"]), "to_bring_closer": int(plan.candidates),
              "near_before": int(f["near_before"]), "near_after": int(f["near_after"]),
              "running_weekly": cost.running_weekly, "replaced_weekly": cost.replaced_weekly,
              "moved_in": cost.children_moved_in, "miles_saved": cost.miles_saved}
    with db.write() as con:
        con.execute(sql.load("scenarios_save"), params)
    # A reader still open on the replaced file would keep DuckDB's instance of it alive, and another
    # connection to the path in this process (another page, a test) would be handed the stale data.
    db.close()
    return name


def saved(db: Database, round_id: int | None) -> pd.DataFrame:
    """The round's saved scenarios (raw), newest first; empty when none (or the file predates scenarios)."""
    if round_id is None or not db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'scenarios'"):
        return pd.DataFrame(columns=["name"])
    return db.q("scenarios_list", round_id=int(round_id))


def _one(row: pd.Series, see: bool) -> dict[str, str]:
    """One scenario's column of the comparison, with counts of 1-4 and the money and miles on them hidden."""
    s = json.loads(row["settings"])
    sites = json.loads(row["sites"])
    small = not see and 1 <= int(row["moved_in"] or 0) < 5
    money = lambda v: "<5" if small else ("–" if v is None or not np.isfinite(v) else f"£{v * costs.WEEKS:,.0f}")
    saving = (row["replaced_weekly"] - row["running_weekly"]) if row["running_weekly"] is not None else np.nan
    towns = ", ".join(f"{x['town']} ({x['la']})" for x in sites) or "none"
    return {
        "Planned for": s.get("target_label", ""),
        "New homes × places": f"{len(sites)} × {s['places']}",
        "Towns": towns,
        "Children to bring closer": hidden_count(int(row["to_bring_closer"]), see),
        "Within reach, before": hidden_count(int(row["near_before"]), see),
        "Within reach, after": hidden_count(int(row["near_after"]), see),
        "Brought within reach": hidden_count(int(row["near_after"]) - int(row["near_before"]), see),
        "Running cost a year": f"£{row['running_weekly'] * costs.WEEKS:,.0f}",
        "Placements replaced, a year": money(row["replaced_weekly"]),
        "Saving a year": money(saving),
        "Miles saved": "<5" if small else f"{row['miles_saved']:,.0f}",
        "Cost a place a week": f"£{s['cost_per_place']:,.0f}",
        "Rules": ("one home a town" if s.get("per_town") == 1 else "homes may share a town")
                 + f", at least {s.get('min_children', 1)} a home",
    }


def compare(db: Database, round_id: int | None, names: list[str], viewer: Viewer = PUBLIC) -> pd.DataFrame:
    """Two to four saved scenarios side by side: one column each, one row per figure (suppressed for the viewer)."""
    rows = saved(db, round_id)
    rows = rows[rows["name"].isin(names)].set_index("name").reindex([n for n in names if n in set(rows["name"])])
    cols = {}
    for name, row in rows.iterrows():
        s = json.loads(row["settings"])
        see = viewer.may_see(s.get("la")) if s.get("for_la") else False
        cols[name] = _one(row, see)
    out = pd.DataFrame(cols)
    out.insert(0, "Figure", out.index)
    return out.reset_index(drop=True)


def site_points(db: Database, round_id: int | None, names: list[str]) -> pd.DataFrame:
    """Every new home of the chosen scenarios (scenario, rank, town, la, lat, lon, places), for one map."""
    rows = saved(db, round_id)
    out = [dict(x, scenario=r["name"]) for _, r in rows[rows["name"].isin(names)].iterrows() for x in json.loads(r["sites"])]
    return pd.DataFrame(out, columns=["scenario", "rank", "town", "la", "la_code", "lat", "lon", "places", "children"])
