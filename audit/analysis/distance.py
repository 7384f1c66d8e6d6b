"""How far children are placed from home and whose children fill whose places, as suppressed tables for the app.

The arithmetic is in audit.analysis.flows; this module reads the database, applies the
shared filters and small-number suppression, and gives the columns plain names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.analysis import flows
from audit.db import Database
from audit.filters import Filters
from audit.geography.region import la_name
from audit.suppress import PUBLIC, Suppressed, Viewer, suppress, suppress_matrix

MILE_KM = 1.609344
# Distance bands in miles: wide enough that most cells hold 5 or more children, with 20 miles (the DfE measure) an edge.
BANDS = [(0, 10, "Under 10 miles"), (10, 20, "10–20 miles"), (20, 50, "20–50 miles"),
         (50, 100, "50–100 miles"), (100, np.inf, "100 miles or more")]
USE_LABELS = {"la": "LA", "places": "Places in its homes", "used_by_own_la": "Used by its own children",
              "used_by_other_eastern": "Used by other Eastern LAs", "used_by_outside_region": "Used by LAs outside the region",
              "used_by_unknown": "Used by an LA not recorded"}
USE_COUNTS = ["used_by_own_la", "used_by_other_eastern", "used_by_outside_region", "used_by_unknown"]


def placed_children(db: Database, f: Filters) -> pd.DataFrame:
    """Children in the round and age band with distance, placement LA, region flag and cohort (if fitted)."""
    return db.q("flows_children", round_id=f.round_id, age_band=f.age_band)


def has_cohorts(children: pd.DataFrame) -> bool:
    """Whether cohorts have been fitted for these children."""
    return bool(children["cohort"].notna().any())


def _summary_table(summary: pd.DataFrame, label: str, names: pd.Series, viewer: Viewer,
                   la_codes: pd.Series | None = None) -> Suppressed:
    """A distance summary with readable columns; percentages and the median hidden on fewer than 5 children."""
    out = pd.DataFrame({
        label: names.to_numpy(),
        "Children": summary["children"].astype(int).to_numpy(),
        "Median km": summary["median_km"].round(1).to_numpy(),
        "% over 20 miles": summary["pct_over_20_miles"].round(1).to_numpy(),
        "% outside own LA": summary["pct_outside_own_la"].round(1).to_numpy(),
        "% outside the region": summary["pct_outside_region"].round(1).to_numpy(),
    })
    if la_codes is not None:
        out["la_code"] = la_codes.to_numpy()
    rates = {c: "Children" for c in ["Median km", "% over 20 miles", "% outside own LA", "% outside the region"]}
    # The "All" row is the column total, so one hidden count above it could be derived.
    shares = {"% over 20 miles": summary["known_distance"], "% outside own LA": summary["known_own_la"],
              "% outside the region": summary["known_region"]}
    return suppress(out, ["Children"], rates=rates, col_totals=True,
                    la_col="la_code" if la_codes is not None else None, viewer=viewer, shares=shares)


def by_la(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Per LA: children, median km, % over 20 miles, % outside own LA and % outside the region, with a regional row."""
    kids = placed_children(db, f)
    s = flows.distance_summary(kids, by=["la_code"], total=True)
    s = s.iloc[sorted(range(len(s)), key=lambda i: (s["la_code"].iat[i] == "All", la_name(s["la_code"].iat[i])))]
    names = s["la_code"].map(lambda c: "Whole region" if c == "All" else la_name(c))
    return _summary_table(s, "LA", names, viewer, s["la_code"])


def by_cohort(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed | None:
    """The same measures per cohort (within the chosen LA, if any); None until cohorts have been fitted."""
    kids = placed_children(db, f)
    if f.la is not None:
        kids = kids[kids["la_code"] == f.la]
    if kids.empty or not has_cohorts(kids):
        return None
    kids = kids.assign(cohort_name=kids["cohort_name"].fillna("Not assigned"))
    s = flows.distance_summary(kids, by=["cohort_name"], total=True)
    la = pd.Series(f.la, index=s.index) if f.la is not None else None
    return _summary_table(s, "Cohort", s["cohort_name"], viewer, la)


def bands(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children per LA in each distance band (miles), suppressed along rows and columns since both totals are shown."""
    kids = placed_children(db, f).dropna(subset=["distance_km"])
    miles = kids["distance_km"] / MILE_KM
    edges = [b[0] for b in BANDS] + [np.inf]
    band = pd.cut(miles, edges, right=False, labels=[b[2] for b in BANDS])
    m = pd.crosstab(kids["la_code"], band).reindex(columns=[b[2] for b in BANDS], fill_value=0)
    m = m.reindex(sorted(m.index, key=la_name)).rename_axis(index="la_code", columns=None)
    table = m.reset_index()
    table.insert(0, "LA", table["la_code"].map(la_name))
    return suppress(table, [b[2] for b in BANDS], row_totals=True, col_totals=True, la_col="la_code", viewer=viewer)


def flow_matrix(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children by home LA (rows) and placement LA (columns), every cell suppressed; codes as index and columns."""
    return suppress_matrix(flows.flow_matrix(placed_children(db, f)), viewer)


def flow_table(s: Suppressed) -> Suppressed:
    """The suppressed flow matrix with LA names and a "Home LA" column, for display and download."""
    def named(df: pd.DataFrame, first) -> pd.DataFrame:
        out = df.copy()
        out.columns = [la_name(c) for c in out.columns]
        out.insert(0, "Home LA", first)
        return out.reset_index(drop=True)

    names = [la_name(c) for c in s.display.index]
    return Suppressed(named(s.display, names), named(s.numeric, names), named(s.mask, False))


def local_use(db: Database, viewer: Viewer = PUBLIC) -> Suppressed:
    """Per LA: places in its homes and how many its own children, other Eastern LAs and LAs outside the region use.

    Places used are children, so they are suppressed; vacant places are not
    shown, because places minus the shown uses would otherwise reveal a hidden one.
    """
    use = flows.local_place_use(db.q("flows_occupancy"), db.q("flows_homes"))
    use = use[use["la_code"].isin(list(flows.REGION_LAS))].reset_index(drop=True)
    out = use[["la_code", "places", *USE_COUNTS]].copy()
    out.insert(1, "la", out["la_code"].map(la_name))
    for c in ["places", *USE_COUNTS]:
        out[c] = out[c].round().astype(int)
    return suppress(out, USE_COUNTS, row_totals=True, col_totals=True, la_col="la_code", viewer=viewer)


def labelled_use(s: Suppressed) -> Suppressed:
    """Local place use with plain-English headings."""
    return Suppressed(s.display.rename(columns=USE_LABELS), s.numeric.rename(columns=USE_LABELS),
                      s.mask.rename(columns=USE_LABELS))
