"""Column-by-column checking of input tables, vectorised so 85,000-row files load in seconds.

Each column spec turns a column of strings into typed values and a mask of the
cells that are wrong; `check()` gathers every wrong cell into a Problem naming
file, spreadsheet row, column and value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd

from audit.geography import postcodes
from audit.geography import region
from audit.intake.problems import Problem

Parser = Callable[[pd.Series], tuple[pd.Series, pd.Series]]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Placements Data Standard v2 risks are 'Risk Present' / 'No known risk'; 'Not Specified' means not recorded.
TRUE_WORDS = {"y", "yes", "1", "true", "t", "risk present", "present"}
FALSE_WORDS = {"n", "no", "0", "false", "f", "no known risk", "none"}
UNRECORDED_WORDS = {"not specified", "not known", "unknown", "not recorded"}
FORMULA_MESSAGE = "is a spreadsheet formula: the audit needs the value itself (copy the column and use Paste Special > Values)"


@dataclass
class Column:
    """How to read and check one column."""

    name: str
    parse: Parser
    message: str
    required: bool = False
    blank_ok: bool = True
    severity: str = "error"
    aliases: tuple[str, ...] = field(default_factory=tuple)


def text(max_len: int = 200) -> Parser:
    """Free text; a cell that would run as a spreadsheet formula is refused."""
    def parse(s: pd.Series):
        bad = s.str.startswith(("=", "+", "@")) | (s.str.len() > max_len)
        return s.where(s != "", None), bad
    return parse


# Names are shown in maps' tooltips, tables and Markdown: markup and control characters have no place in a
# home's or provider's name, and bidirectional overrides can make a name read differently from what it is.
NAME_FORBIDDEN = re.compile(r"[<>\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
NAME_MESSAGE = ("must be a plain name of at most 200 characters: not a formula, and no '<', '>' or control "
                "characters (line breaks, tabs, NUL, direction overrides)")


def name(max_len: int = 200) -> Parser:
    """A home's, provider's or setting's name: plain text, refused if it holds markup or control characters."""
    plain = text(max_len)
    def parse(s: pd.Series):
        values, bad = plain(s)
        return values, bad | s.str.contains(NAME_FORBIDDEN, regex=True)
    return parse


def name_problems(values: pd.Series, rows: pd.Series, label: str, column: str, limit: int = 200) -> list[Problem]:
    """NAME_MESSAGE for each cell of a name column (for importers that map columns themselves, as Ofsted's)."""
    bad = values.fillna("").astype(str).str.contains(NAME_FORBIDDEN, regex=True)
    return [Problem(label, int(rows.at[i]), column, values.at[i], NAME_MESSAGE) for i in values.index[bad][:limit]]


def integer(lo: int, hi: int) -> Parser:
    """Whole numbers in [lo, hi] ('14.0' from Excel is accepted)."""
    def parse(s: pd.Series):
        num = pd.to_numeric(s, errors="coerce")
        whole = num.notna() & (num == np.floor(num.fillna(0)))
        ok = whole & num.between(lo, hi)
        bad = (s != "") & ~ok
        return num.where(ok).astype("Int64"), bad
    return parse


def number(lo: float, hi: float) -> Parser:
    """Decimal numbers in [lo, hi]; a leading £ and thousands commas are allowed."""
    def parse(s: pd.Series):
        num = pd.to_numeric(s.str.replace(r"^£|,", "", regex=True), errors="coerce")
        ok = num.between(lo, hi)
        bad = (s != "") & ~ok
        return num.where(ok), bad
    return parse


def _by_unique(s: pd.Series, fn) -> pd.Series:
    """Apply fn to each distinct value once: coded columns hold a handful of values across 85,000 rows."""
    uniq = pd.unique(s.to_numpy(dtype=object))
    return pd.Series(s.to_numpy(dtype=object), index=s.index).map(dict(zip(uniq, map(fn, uniq))))


def _squash(v: object) -> str:
    """Lower case with runs of spaces collapsed, for tolerant matching."""
    return " ".join(str(v).lower().split())


def flag() -> Parser:
    """Y/N, yes/no, 1/0, true/false in any case; blank means not recorded (None)."""
    def word(v: object):
        low = _squash(v)
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else None if (
            low in UNRECORDED_WORDS or low == "") else "bad"
    def parse(s: pd.Series):
        res = _by_unique(s, word)
        bad = (res == "bad").to_numpy()
        val = pd.array(res.where(~bad & res.notna(), None).to_numpy(dtype=object), dtype="boolean")
        return pd.Series(val, index=s.index), pd.Series(bad, index=s.index)
    return parse


def choice(options: list[str] | dict[str, str]) -> Parser:
    """One of a fixed list (case and spacing tolerant), returned in its canonical spelling."""
    mapping = {_squash(k if isinstance(options, dict) else o): o
               for k, o in (options.items() if isinstance(options, dict) else zip(options, options))}
    def parse(s: pd.Series):
        val = _by_unique(s, lambda v: mapping.get(_squash(v)))
        bad = (s != "") & val.isna()
        return val.where(val.notna(), None), bad
    return parse


@lru_cache(maxsize=1)
def english_las() -> dict[str, str]:
    """Upper-tier English LAs outside the region, by normalised ONS code and name -> ONS code."""
    import qlacref_authorities

    out = {}
    for r in qlacref_authorities.records:
        code, name = r["UTLA21CD"], r["UTLA21NM"]
        if code.startswith("E") and code not in region.REGION_LAS:
            out[code.lower()] = code
            out[re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()] = code
    # Single-tier authorities created after 2021 (e.g. North Yorkshire) appear only in the postcode directory.
    from audit.geography import geo

    for code in geo.sectors_gb()["district_code"].dropna().unique():
        if str(code).startswith(("E06", "E08", "E09")) and code not in region.REGION_LAS:
            out.setdefault(str(code).lower(), str(code))
    return out


def any_la_code(value: object) -> str | None:
    """ONS code of an Eastern LA (code or name), else of any other English upper-tier LA, else None."""
    code = region.la_code(value)
    if code or value is None:
        return code
    return english_las().get(re.sub(r"[^a-z0-9]+", " ", str(value).lower()).strip())


def la(outside_ok: bool = False) -> Parser:
    """An Eastern-region LA by ONS code or name (any English upper-tier LA when outside_ok)."""
    find = any_la_code if outside_ok else region.la_code
    def parse(s: pd.Series):
        codes = {v: find(v) for v in s.unique()}
        val = s.map(codes)
        bad = (s != "") & val.isna()
        return val, bad
    return parse


def postcode() -> Parser:
    """A full postcode or sector; returns the normalised form (full postcodes are reduced later)."""
    def parse(s: pd.Series):
        uniq = {v: postcodes.normalise(v) for v in s.unique()}
        val = s.map(uniq)
        bad = (s != "") & val.isna()
        return val, bad
    return parse


def check(df: pd.DataFrame, specs: list[Column], label: str, max_problems: int = 1000) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse every specified column; return typed values and all problems found."""
    problems: list[Problem] = []
    present = set(df.columns)
    for spec in specs:
        for alias in spec.aliases:
            if spec.name not in present and alias in present:
                df = df.rename(columns={alias: spec.name})
                present = set(df.columns)
    header_row = int(df.attrs.get("header_row", 1))
    missing = [s.name for s in specs if s.required and s.name not in present]
    for name in missing:
        problems.append(Problem(label, header_row, name, None, "required column is missing from the header row"))
    if missing and len(missing) == len([s for s in specs if s.required]):
        found = ", ".join(c for c in df.columns if c != "_row")[:300] or "nothing"
        problems.append(Problem(label, header_row, None, None,
                                f"none of the required columns were found; the header row holds: {found}"))
    if missing:
        return pd.DataFrame(), problems
    out = pd.DataFrame({"_row": df["_row"].to_numpy()}, index=df.index)
    for spec in specs:
        if spec.name not in present:
            continue
        raw = df[spec.name]
        values, bad = spec.parse(raw)
        blank = raw == ""
        if not spec.blank_ok:
            bad = bad | blank
        out[spec.name] = values
        formula = raw.str.startswith("=") & (raw.str.len() > 1)
        bad = bad | formula
        is_error = formula | (spec.severity == "error")
        budget = max(max_problems - sum(p.severity == "error" for p in problems), 0)
        shown = 0
        for idx in np.flatnonzero(bad.to_numpy()):
            limit = budget if is_error.iat[idx] else 50
            if shown >= limit:
                break
            v = raw.iat[idx]
            msg = ("is blank but a value is required" if v == "" and not spec.blank_ok
                   else FORMULA_MESSAGE if formula.iat[idx] else spec.message)
            problems.append(Problem(label, int(df["_row"].iat[idx]), spec.name, v, msg,
                                    "error" if is_error.iat[idx] else spec.severity))
            shown += 1
        n_bad = int(bad.sum())
        if n_bad > shown:
            sev = "error" if bool(is_error.any()) and spec.severity == "error" or bool(formula.any()) else "warning"
            problems.append(Problem(label, None, spec.name, None,
                                    f"... and {n_bad - shown:,} more cells like these in this column", sev))
    return out, problems


def unknown_columns(df: pd.DataFrame, specs: list[Column], label: str, extra_ok: set[str] = frozenset()) -> list[Problem]:
    """Extra columns are reported as warnings and ignored, never silently loaded."""
    known = {s.name for s in specs} | {a for s in specs for a in s.aliases} | set(extra_ok) | {"_row"}
    header_row = int(df.attrs.get("header_row", 1))
    return [Problem(label, header_row, c, None, "unknown column: ignored", "warning") for c in df.columns if c not in known]


def duplicates(df: pd.DataFrame, keys: list[str], label: str) -> list[Problem]:
    """Rows that repeat a key that must be unique, naming the first row it appeared in."""
    dup = df.duplicated(subset=keys, keep=False)
    if not dup.any():
        return []
    problems = []
    first = df[dup].groupby(keys, dropna=False)["_row"].transform("min")
    for idx in df[dup].index:
        row = int(df.at[idx, "_row"])
        if row != int(first.at[idx]):
            value = str(df.at[idx, keys[-1]])
            problems.append(Problem(label, row, keys[-1], value, f"duplicates row {int(first.at[idx])}: must be unique"))
    return problems


def parse_dates(s: pd.Series) -> pd.Series:
    """Dates written DD/MM/YYYY (as SSDA903 returns) or YYYY-MM-DD (as extracts and Excel give); NaT otherwise."""
    uniq = pd.Series(s.unique())
    uniq = uniq[uniq != ""]
    uk = pd.to_datetime(uniq, format="%d/%m/%Y", errors="coerce")
    iso = pd.to_datetime(uniq.str[:10], format="%Y-%m-%d", errors="coerce")
    both = uk.fillna(iso)
    both = both.where(both.dt.year.between(1900, 2100))
    return s.map(dict(zip(uniq, both))).astype("datetime64[ns]")


def date() -> Parser:
    """A date in either SSDA903 format; returns datetime64 (NaT when blank)."""
    def parse(s: pd.Series):
        val = parse_dates(s)
        bad = (s != "") & val.isna()
        return val, bad
    return parse


def code(options: list[str] | set[str]) -> Parser:
    """A code from a known list, upper-cased; unknown codes are flagged (callers decide if that is fatal)."""
    known = {o.upper() for o in options}
    def parse(s: pd.Series):
        up = s.str.upper().str.replace(r"\s+", "", regex=True)
        ok = up.isin(known)
        return up.where(ok, None), (s != "") & ~ok
    return parse
