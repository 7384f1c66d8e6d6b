"""How far children are placed from home, and whose children fill which LA's beds.

Inputs are plain DataFrames (one row per child, one row per home), so the same
functions serve the app, the CLI and the tests. Percentages are 0-100 and are
taken over the children for whom the thing is known (a child with no recorded
distance counts in `children` but not in the distance figures). Counts are raw:
small-number suppression is applied later by audit.suppress.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit.geography.region import REGION_LAS

# The DfE / NAO "more than 20 miles from home" measure.
TWENTY_MILES_KM = 20 * 1.609344
OUTSIDE_REGION = "Outside region"
UNKNOWN = "Unknown"

DISTANCE_COLUMNS = ["children", "median_km", "pct_over_20_miles", "pct_outside_own_la", "pct_outside_region",
                    "known_distance", "known_own_la", "known_region"]


def _pct(flags: pd.Series) -> float:
    """Percentage of known (non-missing) values that are true; NaN when nothing is known."""
    known = flags.dropna()
    return float(100 * known.astype(bool).mean()) if len(known) else np.nan


def _flags(children: pd.DataFrame) -> pd.DataFrame:
    """Per-child yes/no/unknown flags for the three distance measures."""
    km = pd.to_numeric(children["distance_km"], errors="coerce")
    placed_la = children["placement_la_code"]
    in_region = children["in_region_placement"]
    outside_la = (placed_la != children["la_code"]).astype(object).where(placed_la.notna())
    # A placement outside the region is outside the child's own LA even when its LA code is unknown.
    outside_la = outside_la.mask(in_region.eq(False), True)
    return pd.DataFrame({
        "km": km,
        "over_20": (km > TWENTY_MILES_KM).astype(object).where(km.notna()),
        "outside_la": outside_la,
        "outside_region": (~in_region.astype("boolean")).astype(object).where(in_region.notna()),
    }, index=children.index)


def _summarise(f: pd.DataFrame) -> dict:
    """The distance measures for one group of children."""
    return {
        "children": len(f),
        "median_km": float(f["km"].median()) if f["km"].notna().any() else np.nan,
        "pct_over_20_miles": _pct(f["over_20"]),
        "pct_outside_own_la": _pct(f["outside_la"]),
        "pct_outside_region": _pct(f["outside_region"]),
        # The children each share is out of, so a share that gives back a count of 1-4 can be hidden.
        "known_distance": int(f["over_20"].notna().sum()),
        "known_own_la": int(f["outside_la"].notna().sum()),
        "known_region": int(f["outside_region"].notna().sum()),
    }


def distance_summary(children: pd.DataFrame, by: Sequence[str] = ("la_code",), total: bool = False) -> pd.DataFrame:
    """Home-to-placement distance measures per group, to show who is placed far from home.

    children: la_code, distance_km, placement_la_code, in_region_placement (bool)
    plus any `by` columns (e.g. cohort). Returns the `by` columns, `group` (a
    readable label of them), children, median_km, pct_over_20_miles
    (> 32.19 km), pct_outside_own_la, pct_outside_region. total=True appends an
    "All" row over every child.
    """
    by = list(by)
    flags = _flags(children)
    rows = []
    for key, part in children.groupby(by, sort=True, dropna=False):
        rows.append({**dict(zip(by, key)), "group": " / ".join(map(str, key)),
                     **_summarise(flags.loc[part.index])})
    if total:
        rows.append({**{b: "All" for b in by}, "group": "All", **_summarise(flags)})
    return pd.DataFrame(rows, columns=[*by, "group", *DISTANCE_COLUMNS])


def _destination(children: pd.DataFrame) -> pd.Series:
    """Where each child is placed: an Eastern LA code, "Outside region" or "Unknown"."""
    dest = children["placement_la_code"].astype(object).where(children["placement_la_code"].notna(), UNKNOWN)
    dest = dest.mask(children["in_region_placement"].eq(False), OUTSIDE_REGION)
    # A code outside the region is an out-of-region placement whatever the flag says.
    return dest.mask(~dest.isin([*REGION_LAS, OUTSIDE_REGION, UNKNOWN]), OUTSIDE_REGION)


def flow_matrix(children: pd.DataFrame) -> pd.DataFrame:
    """Children by home LA (rows) and placement LA (columns), so cross-boundary flows can be read off.

    Placements outside the region collapse to "Outside region"; a missing
    placement LA is "Unknown". Rows and columns follow the region's LA order;
    only destinations that occur are kept.
    """
    dest = _destination(children)
    m = pd.crosstab(children["la_code"].rename("la_code"), dest.rename("placement_la_code"))
    order = [c for c in [*REGION_LAS, OUTSIDE_REGION, UNKNOWN] if c in m.columns]
    rows = [r for r in REGION_LAS if r in m.index] + sorted(r for r in m.index if r not in REGION_LAS)
    return m.reindex(index=rows, columns=order, fill_value=0).astype(int)


def local_place_use(occupancy: pd.DataFrame, homes: pd.DataFrame) -> pd.DataFrame:
    """For each LA's homes, how many places its own children, other Eastern LAs and the rest of England use.

    occupancy: urn, home_la_code, occupying_la_code, places_used. homes: urn,
    la_code, places. Returns la_code, places, used_by_own_la,
    used_by_other_eastern, used_by_outside_region, used_by_unknown (occupying LA
    not recorded), vacant (places not used, floored at 0).
    """
    occ = occupancy.copy()
    occ["places_used"] = pd.to_numeric(occ["places_used"], errors="coerce").fillna(0)
    own = occ["occupying_la_code"] == occ["home_la_code"]
    known = occ["occupying_la_code"].notna()
    eastern = occ["occupying_la_code"].isin(list(REGION_LAS))
    occ["used_by_own_la"] = occ["places_used"].where(own, 0)
    occ["used_by_other_eastern"] = occ["places_used"].where(eastern & ~own, 0)
    occ["used_by_outside_region"] = occ["places_used"].where(known & ~eastern & ~own, 0)
    occ["used_by_unknown"] = occ["places_used"].where(~known, 0)
    use_cols = ["used_by_own_la", "used_by_other_eastern", "used_by_outside_region", "used_by_unknown"]
    used = occ.groupby("home_la_code")[use_cols].sum().rename_axis("la_code")
    places = (pd.to_numeric(homes["places"], errors="coerce").fillna(0)
              .groupby(homes["la_code"]).sum().rename("places").rename_axis("la_code"))
    out = pd.concat([places, used], axis=1).fillna(0)
    out["vacant"] = (out["places"] - out[use_cols].sum(axis=1)).clip(lower=0)
    rows = [r for r in REGION_LAS if r in out.index] + sorted(r for r in out.index if r not in REGION_LAS)
    return out.reindex(rows).rename_axis("la_code").reset_index()
