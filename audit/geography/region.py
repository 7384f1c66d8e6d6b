"""The Eastern region's local authorities: codes, names and name matching."""

from __future__ import annotations

import re
from functools import lru_cache

# Upper-tier LAs of the Eastern region (ECCRN), ONS codes as used by the ONSPD.
REGION_LAS: dict[str, str] = {
    "E06000055": "Bedford Borough",
    "E10000003": "Cambridgeshire",
    "E06000056": "Central Bedfordshire",
    "E10000012": "Essex",
    "E10000015": "Hertfordshire",
    "E06000032": "Luton",
    "E10000020": "Norfolk",
    "E06000031": "Peterborough",
    "E06000033": "Southend-on-Sea",
    "E10000029": "Suffolk",
    "E06000034": "Thurrock",
}

# Published land areas (km²) used to check the derived boundaries.
PUBLISHED_AREA_KM2: dict[str, float] = {
    "E10000020": 5371, "E10000029": 3798, "E10000012": 3465, "E10000003": 3046,
    "E10000015": 1643, "E06000056": 716, "E06000055": 476, "E06000031": 343,
    "E06000034": 163, "E06000033": 42, "E06000032": 43,
}

# Alternative spellings people type for the same LA.
_ALIASES = {
    "bedford": "E06000055",
    "southend": "E06000033",
    "southend on sea": "E06000033",
}


def _key(text: str) -> str:
    """Normalise a name so case, hyphens and spacing do not matter."""
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


_BY_KEY = {_key(name): code for code, name in REGION_LAS.items()}
_BY_KEY.update(_ALIASES)


def la_code(value: object) -> str | None:
    """Return the ONS code for an LA given as code or name, or None if unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in REGION_LAS:
        return text.upper()
    return _BY_KEY.get(_key(text))


def la_name(code: str) -> str:
    """Return the display name of an LA code (the code itself when outside the region)."""
    return REGION_LAS.get(code, code)


@lru_cache(maxsize=1)
def district_la() -> dict[str, str]:
    """District (LTLA) code -> its upper-tier LA code, for the region's 45 districts."""
    import pandas as pd

    from audit.paths import GEODATA

    df = pd.read_csv(GEODATA / "districts.csv", dtype=str)
    return dict(zip(df["district_code"], df["la_code"]))
