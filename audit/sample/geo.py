"""Geography for the synthetic sample: real postcode sectors, distances and distance-weighted draws.

The sample places every child, home and provider at the centroid of a real
postcode sector, so that maps, distances and gap analyses behave as they would
on real returns while no full postcode is ever produced.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from audit.geography import region
from audit.paths import GEODATA

EARTH_RADIUS_KM = 6371.0088
# Sectors with a handful of postcodes are mostly PO boxes and large-user codes, not places people live.
MIN_POSTCODES = 20


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km, the measure the audit uses for 'miles from home'."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def xyz(lat, lon) -> np.ndarray:
    """Points on a sphere of Earth's radius, so a k-d tree's chord lengths order like great circles."""
    p, l = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return EARTH_RADIUS_KM * np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Turn k-d tree chord lengths back into great-circle km."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / (2 * EARTH_RADIUS_KM), 0, 1))


@lru_cache(maxsize=1)
def region_sectors() -> pd.DataFrame:
    """The region's 1,062 sectors with their upper-tier LA, from the committed geodata."""
    df = pd.read_csv(GEODATA / "postcode_sectors.csv", dtype={"sector": str, "district_code": str, "la_code": str})
    return df.sort_values("sector").reset_index(drop=True)


# Post-2021 district codes -> the 2021 upper-tier LA they lie in (Cumberland and Westmorland and Furness
# were Cumbria; Barnsley and Sheffield were recoded in 2024).
_SUCCESSORS = {"E06000063": "E10000006", "E06000064": "E10000006", "E06000065": "E10000023",
               "E06000066": "E10000027", "E08000038": "E08000016", "E08000039": "E08000019"}


@lru_cache(maxsize=1)
def _ltla_to_utla() -> dict[str, str]:
    """Lower-tier to upper-tier LA codes, so sectors outside the region can carry a children's services LA."""
    import qlacref_authorities

    return {r["LTLA21CD"]: r["UTLA21CD"] for r in qlacref_authorities.records}


@lru_cache(maxsize=1)
def utla_names() -> dict[str, str]:
    """Upper-tier LA code -> name for England (region names as the region module spells them)."""
    import qlacref_authorities

    names = {r["UTLA21CD"]: r["UTLA21NM"] for r in qlacref_authorities.records}
    names.update(region.REGION_LAS)
    return names


@lru_cache(maxsize=1)
def england_sectors() -> pd.DataFrame:
    """Every residential sector in England with centroid, postcode count, district, upper-tier LA and region flag."""
    path = GEODATA / "sectors_gb.csv"
    if path.exists():
        df = pd.read_csv(path, dtype={"sector": str, "district_code": str})
    else:
        from audit.geography import postcodes

        d = postcodes.directory()
        df = postcodes.sector_centroids(set(d["laua"].unique()))
    df = df[df["district_code"].str.startswith("E") & (df["n_postcodes"] >= MIN_POSTCODES)]
    df = df.dropna(subset=["lat", "lon"]).copy()
    # The directory uses districts created since 2021; the project's LA list (2021 codes) knows their predecessors.
    lut = {**_ltla_to_utla(), **_SUCCESSORS}
    df["la_code"] = df["district_code"].map(lambda c: lut.get(c, c))
    reg = region_sectors()
    df["in_region"] = df["sector"].isin(set(reg["sector"]))
    # Region sectors take the committed geodata's LA so both tables agree where a sector straddles a border.
    df.loc[df["in_region"], "la_code"] = df.loc[df["in_region"], "sector"].map(dict(zip(reg["sector"], reg["la_code"])))
    return df.sort_values("sector").reset_index(drop=True)[
        ["sector", "district_code", "la_code", "lat", "lon", "n_postcodes", "in_region"]]


def draw_sectors_within(rng: np.random.Generator, sectors: pd.DataFrame, groups: np.ndarray,
                        group_col: str = "la_code", weight: str = "n_postcodes") -> np.ndarray:
    """Row positions in `sectors`, one per entry of `groups`, drawn within each group by weight (postcodes ~ households)."""
    out = np.empty(len(groups), dtype=np.int64)
    codes = sectors[group_col].to_numpy()
    w_all = sectors[weight].to_numpy(float)
    for g in pd.unique(groups):
        rows = np.flatnonzero(codes == g)
        if rows.size == 0:
            raise ValueError(f"no sectors for {g}")
        where = np.flatnonzero(groups == g)
        w = w_all[rows] / w_all[rows].sum()
        out[where] = rows[rng.choice(rows.size, size=where.size, p=w)]
    return out


def pick_by_weight(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix, drawn in proportion to the row's weights."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def nearest(points_from: np.ndarray, points_to: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (km) and indices of the k nearest `points_to` for every row of `points_from` (xyz arrays)."""
    k = max(1, min(k, len(points_to)))
    d, i = cKDTree(points_to).query(points_from, k=k)
    if k == 1:
        d, i = d[:, None], i[:, None]
    return chord_to_km(d), i
