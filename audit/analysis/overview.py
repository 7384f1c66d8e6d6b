"""The regional overview: headline figures and the LA comparison, with suppression applied."""

from __future__ import annotations

import math

import pandas as pd

from audit.db import Database
from audit.filters import Filters, hidden_views, view_hidden
from audit.suppress import PUBLIC, Suppressed, Viewer, hidden_count, hidden_share, suppress


def _pct(part: float, whole: float) -> float:
    """Percentage, NaN when there is nothing to divide by."""
    return 100.0 * part / whole if whole else math.nan


def rounds(db: Database) -> pd.DataFrame:
    """Audit rounds, newest first."""
    return db.q("rounds")


def _by_la(db: Database, f: Filters) -> pd.DataFrame:
    """Per-LA counts for the round and age band: the one query behind tiles, table and map."""
    return db.q("overview_by_la", round_id=f.round_id, age_band=f.age_band)


def kpis(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> dict[str, str]:
    """Headline tiles as display strings; rates on fewer than 5 children are hidden."""
    df = _by_la(db, f)
    if f.la is not None:
        df = df[df["la_code"] == f.la]
    k = df.drop(columns=["la_code", "la_name"]).sum()
    # Means over LAs are weighted by the children each mean was computed on.
    mean_needs = (df["mean_needs"].fillna(0) * df["children"]).sum() / k["children"] if k["children"] else math.nan
    mean_cost = ((df["mean_weekly_cost"].fillna(0) * df["children_with_cost"]).sum() / k["children_with_cost"]
                 if k["children_with_cost"] else math.nan)
    h = db.q("overview_homes", la=f.la).iloc[0]
    may_see = viewer.may_see(f.la)

    def rate(part, whole, fmt="{:.0f}%"):
        mark = hidden_share(int(part), int(whole), may_see)
        if mark:
            return mark
        value = _pct(part, whole)
        return "–" if math.isnan(value) else fmt.format(value)

    n = int(k["children"])
    if not may_see and view_hidden(db, f, viewer):
        return {**{key: "–" for key in ("Children in the audit", "Mean needs per child", "With 4 or more needs",
                                        "Placed outside own LA", "Over 20 miles from home", "Average weekly cost")},
                "Homes in region" if f.la is None else "Homes in LA": f"{int(h['homes']):,}",
                "Places": f"{int(h['places']):,}"}
    return {
        "Children in the audit": hidden_count(n, may_see),
        "Mean needs per child": "–" if n == 0 else ("<5" if (n < 5 and not may_see) else f"{mean_needs:.1f} of 11"),
        "With 4 or more needs": rate(k["children_4plus"], n),
        "Homes in region" if f.la is None else "Homes in LA": f"{int(h['homes']):,}",
        "Places": f"{int(h['places']):,}",
        "Placed outside own LA": rate(k["outside_own_la"], k["children_located"]),
        "Over 20 miles from home": rate(k["over_20_miles"], k["children_with_distance"]),
        "Average weekly cost": "–" if not k["children_with_cost"] else (
            "<5" if (k["children_with_cost"] < 5 and not may_see) else f"£{mean_cost:,.0f}"),
    }


def la_table(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """LA comparison table (one row per Eastern LA) with counts suppressed and rates hidden on small bases."""
    df = _by_la(db, f)
    out = pd.DataFrame({
        "la_code": df["la_code"],
        "LA": df["la_name"],
        "Children": df["children"].astype(int),
        "Mean needs": df["mean_needs"].round(1),
        "% with 4+ needs": [round(_pct(a, b), 1) for a, b in zip(df["children_4plus"], df["children"])],
        "% outside own LA": [round(_pct(a, b), 1) for a, b in zip(df["outside_own_la"], df["children_located"])],
        "% over 20 miles": [round(_pct(a, b), 1) for a, b in zip(df["over_20_miles"], df["children_with_distance"])],
        "Avg weekly cost (£)": df["mean_weekly_cost"].round(0),
        "Homes": df["homes"].astype(int),
        "Places": df["places"].astype(int),
    })
    rates = {c: "Children" for c in ["Mean needs", "% with 4+ needs", "% outside own LA", "% over 20 miles", "Avg weekly cost (£)"]}
    # The regional total of children is shown as a KPI, so one hidden LA count could be derived: col_totals.
    shares = {"% with 4+ needs": "Children", "% outside own LA": df["children_located"],
              "% over 20 miles": df["children_with_distance"]}
    # An LA whose view of this age band is hidden against its other bands (audit.filters) shows no child figures.
    hide = pd.DataFrame({"Children": [f.age_band is not None and (la, f.age_band) in hidden_views(db, f.round_id, viewer)
                                      for la in df["la_code"]]}, index=out.index)
    return suppress(out, ["Children"], rates=rates, col_totals=True, la_col="la_code", viewer=viewer, shares=shares,
                    hide=hide)


def map_layers(db: Database, f: Filters, viewer: Viewer = PUBLIC):
    """LA shapes joined to their (suppressed) child counts, and the homes to draw on top."""
    from audit.geography import geo

    t = la_table(db, f, viewer)
    shapes = geo.las().merge(
        pd.DataFrame({"la_code": t.display["la_code"], "children_value": t.numeric["Children"].where(~t.mask["Children"]),
                      "children_display": t.display["Children"]}),
        on="la_code", how="left",
    )
    # Zero children is a real value but reads as "none" on the map, same as hidden.
    shapes.loc[shapes["children_value"] == 0, "children_value"] = float("nan")
    homes = db.q("homes_points", la=None)
    # The overview is the region's map: homes elsewhere (national data) would only weigh it down.
    from audit.geography.region import REGION_LAS

    return shapes, homes[homes["la_code"].isin(list(REGION_LAS))]
