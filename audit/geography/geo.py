"""The committed geodata (boundaries, towns, sector centroids) and the geometry the analyses need.

Everything here reads the files in geodata/ (rebuilt by audit.geography.build), so the
app and the analyses never have to load the 2.7M-row postcode directory.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from audit.paths import GEODATA as GEODATA_DIR
from audit.geography.postcodes import sector_of

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius: the usual choice for great-circle distances

_CODES = {"district_code": str, "la_code": str, "sector": str}


@lru_cache(maxsize=1)
def _districts() -> gpd.GeoDataFrame:
    """Read the district boundaries once."""
    return gpd.read_file(GEODATA_DIR / "districts.geojson")


@lru_cache(maxsize=1)
def _las() -> gpd.GeoDataFrame:
    """Read the upper-tier LA boundaries once."""
    return gpd.read_file(GEODATA_DIR / "las.geojson")


@lru_cache(maxsize=1)
def _towns() -> pd.DataFrame:
    """Read the region's towns once."""
    return pd.read_csv(GEODATA_DIR / "towns.csv", dtype=_CODES)


@lru_cache(maxsize=1)
def _sectors() -> pd.DataFrame:
    """Read the region's postcode sectors once."""
    return pd.read_csv(GEODATA_DIR / "postcode_sectors.csv", dtype=_CODES)


@lru_cache(maxsize=1)
def _sectors_gb() -> pd.DataFrame:
    """Read every sector in the directory once, indexed by sector for look-ups."""
    return pd.read_csv(GEODATA_DIR / "sectors_gb.csv", dtype=_CODES).set_index("sector")


def districts() -> gpd.GeoDataFrame:
    """The region's 45 districts (WGS84) with district and LA codes and names."""
    return _districts().copy()


def las() -> gpd.GeoDataFrame:
    """The region's 11 upper-tier LAs (WGS84) with codes and names."""
    return _las().copy()


def towns() -> pd.DataFrame:
    """Every GeoNames town in the region, with its district and LA."""
    return _towns().copy()


def sectors() -> pd.DataFrame:
    """The region's postcode sectors: centroid, district, LA and number of postcodes."""
    return _sectors().copy()


def sectors_gb() -> pd.DataFrame:
    """Every postcode sector in the UK directory: centroid, main district and number of postcodes."""
    return _sectors_gb().reset_index()


def geocode_sectors(values: pd.Series) -> pd.DataFrame:
    """Locate postcodes or sectors at their sector centroid (NaN where malformed or unknown)."""
    keys = pd.Series(values).map(sector_of)
    hit = _sectors_gb().reindex(keys.to_numpy())[["lat", "lon", "district_code"]]
    hit.index = pd.Series(values).index
    return hit


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays broadcast)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@lru_cache(maxsize=1)
def _district_index() -> tuple[shapely.STRtree, np.ndarray]:
    """Spatial index over the district polygons, built once."""
    d = _districts()
    return shapely.STRtree(d.geometry.to_numpy()), d["district_code"].to_numpy(dtype=object)


def district_of_points(lat, lon) -> np.ndarray:
    """District code containing each point (NaN outside the region or for missing coordinates)."""
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    out = np.full(lat.shape, np.nan, dtype=object)
    ok = np.isfinite(lat) & np.isfinite(lon)
    tree, codes = _district_index()
    idx = np.nonzero(ok)[0]
    pt, geom = tree.query(shapely.points(lon[idx], lat[idx]), predicate="intersects")
    # A point exactly on a shared edge hits two districts; the first listed wins, consistently.
    first = pd.Series(geom).groupby(pt).min()
    out[idx[first.index.to_numpy()]] = codes[first.to_numpy()]
    return out
