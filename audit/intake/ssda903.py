"""Import SSDA903 (children looked after) returns and derive an audit round from them.

Every English LA produces these CSVs each year (see shared/reference/ssda903.md).
Files are recognised by their columns, not their names, so `episodes_2024.csv`,
`2024/episodes.csv` and a multi-LA extract with `LA` and `YEAR` columns all work;
several years can be loaded at once and an episode that appears in two years'
returns is taken from the later one.

For each child in residential care on the audit date (PLACE K1, K2, R1, S1 or
P3) the import derives one child of an audit round (source_kind 'ssda903'):
placement type, provider (PR code), URN, the distance from home to placement
(full postcodes geocoded with the ONS Postcode Directory, then reduced to
sectors and never stored), placement moves in the 12 months to the audit date,
and three of the 22 needs:

- placement_breakdown: a placement move in those 12 months whose
  REASON_PLACE_CHANGE is an unplanned ending (BREAKDOWN_REASONS);
- missing: a missing or away-without-authorisation episode starting in them;
- substance: SUBSTANCE_MISUSE = 1 in the child's latest OC2 row (OC2 covers only
  children looked after for 12 months or more; others stay 'not recorded').

The other 19 needs are 'not recorded': the 903 does not hold them. A DoLo table
(from 2026/27) sets dol_order; without one it is not recorded. The whole episode
history (all placement types, sectors only) is kept in `episodes` for forecasting;
a return replaces only its own LA and collection year, so years imported one at a
time accumulate. The collection year of each file is decided from its dates
(assign_years); YEAR columns and names that say '2017' only confirm it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from audit import sql, taxonomy
from audit.geography import geo
from audit.intake import geocode
from audit.geography import region
from audit.db import Database
from audit.placements import RESIDENTIAL
from audit.intake.needs import checksum, record_import, wide_needs, write_round
from audit.intake.problems import ImportFailed, Problem
from audit.intake.readers import read_table
from audit.intake.validate import Column, any_la_code, check, code, date, text

Progress = Callable[[float, str], None]

PLACE_CODES = {"A3", "A4", "A5", "A6", "H5", "K1", "K2", "K3", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
               "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1", "Z11", "Z12", "Z13", "Z14"}
PROVIDERS = {"PR0", "PR1", "PR2", "PR3", "PR4", "PR5"}
REASONS = {"CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ", "PLACE", "CUSTOD", "OTHER"}
# Unplanned endings: the carer asked for it to end (because of the child's behaviour or otherwise), the child
# asked, a standards-of-care concern or an allegation. Planned moves (CARPL), provider closure, approval removed,
# LA requests, status-only changes and custody are not breakdowns.
BREAKDOWN_REASONS = ("CREQB", "CREQO", "CHILD", "STAND", "ALLEG")
# RNE values that mean the child moved placement (P: placement only; B and T: placement and legal status; U: placement
# with the same carer's status changed). S starts a period of care; L changes legal status only.
PLACEMENT_MOVES = ("P", "B", "T", "U")
NO_URN = {"XXXXXXX", "XXXXXX", "NA", "N/A", "NONE"}
SEX = {"1": "M", "2": "F", "M": "M", "F": "F"}

# Recognised by columns; the first match in this order wins (a UASC file also has a header's CHILD, SEX, DOB).
TABLES: dict[str, set[str]] = {
    "episodes": {"child", "decom", "rne", "place"},
    "uasc": {"child", "duc"},
    "missing": {"child", "mis_start"},
    "oc2": {"child", "substance_misuse"},
    "dolo": {"child", "dolo_start"},
    "header": {"child", "sex", "dob"},
}
OTHER_903 = {"date_int": "ad1", "review": "reviews", "date_placed": "placed_for_adoption", "prev_perm": "prev_perm",
             "in_touch": "oc3", "sw_id": "social worker episodes", "sdq_score": "oc2 without SUBSTANCE_MISUSE"}
MAX_BYTES = 300 * 1024 * 1024


@dataclass
class Import903:
    """What a 903 import loaded, for the summary screen and the CLI."""

    round_label: str
    audit_date: dt.date
    children: int
    episodes: int
    files: pd.DataFrame
    by_la: pd.DataFrame
    postcode_report: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    years: list[int] = field(default_factory=list)


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that do not show progress."""


def collect(paths: Iterable[str | Path]) -> dict[Path, str]:
    """Expand folders (recursively) into their CSV/XLSX files, each labelled by its path inside the folder."""
    out: dict[Path, str] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in (".csv", ".xlsx", ".txt"):
                    out[f] = f.relative_to(p).as_posix()
        else:
            out[p] = p.name
    return out


def year_from_path(path: Path | str) -> int | None:
    """Collection year named in a path: '2023-24' or '2023_24' -> 2024, '2024' -> 2024; None if none."""
    s = str(path)
    m = re.findall(r"(20\d{2})[-_ ]?(\d{2})(?!\d)", s)
    spans = [int(a) + 1 for a, b in m if (int(a) + 1) % 100 == int(b)]
    if spans:
        return max(spans)
    years = [int(y) for y in re.findall(r"(?<!\d)(20\d{2})(?!\d)", s)]
    return max(years) if years else None


def identify(columns: Iterable[str]) -> str | None:
    """Which 903 table a file is, from its (normalised) columns."""
    cols = set(columns)
    for name, need in TABLES.items():
        if need <= cols:
            return name
    return None


def _specs(table: str) -> list[Column]:
    """How the columns the audit uses from each table are checked."""
    child = Column("child", text(64), "must be the child's ID, not a formula", required=True, blank_ok=False)
    if table == "episodes":
        return [child,
                Column("decom", date(), "must be a date (DD/MM/YYYY or YYYY-MM-DD)", required=True, blank_ok=False),
                Column("dec", date(), "must be a date (DD/MM/YYYY or YYYY-MM-DD) or blank"),
                Column("rne", code({"S", "L", "P", "B", "T", "U"}), "is not an RNE code (S, L, P, B, T, U)", required=True,
                       severity="warning"),
                Column("place", code(PLACE_CODES), "is not a PLACE code", required=True, severity="warning"),
                Column("place_provider", code(PROVIDERS), "is not a PLACE_PROVIDER code (PR0-PR5)", severity="warning"),
                Column("reason_place_change", code(REASONS), "is not a REASON_PLACE_CHANGE code", severity="warning"),
                Column("ls", text(10), "must be a legal status code"), Column("cin", text(10), "must be a CIN code"),
                Column("rec", text(10), "must be a REC code"),
                Column("home_post", text(20), "must be a postcode"), Column("pl_post", text(20), "must be a postcode"),
                Column("urn", text(20), "must be an Ofsted URN")]
    if table == "header":
        return [child, Column("sex", code(set(SEX)), "must be 1 (male) or 2 (female)", severity="warning"),
                Column("dob", date(), "must be a date of birth (DD/MM/YYYY or YYYY-MM-DD)", required=True, blank_ok=False)]
    if table == "uasc":
        return [child, Column("dob", date(), "must be a date"),
                Column("duc", date(), "must be the date UASC status ceased, or blank")]
    if table == "missing":
        return [child, Column("dob", date(), "must be a date"),
                Column("missing", code({"M", "A"}), "must be M (missing) or A (away without authorisation)", severity="warning"),
                Column("mis_start", date(), "must be a date (DD/MM/YYYY or YYYY-MM-DD)", required=True, blank_ok=False),
                Column("mis_end", date(), "must be a date or blank")]
    if table == "oc2":
        return [child, Column("dob", date(), "must be a date"),
                Column("substance_misuse", code({"0", "1"}), "must be 0 or 1", severity="warning")]
    if table == "dolo":
        return [child, Column("dob", date(), "must be a date"),
                Column("dolo_start", date(), "must be a date (DD/MM/YYYY or YYYY-MM-DD)", required=True, blank_ok=False),
                Column("dolo_end", date(), "must be a date or blank")]
    raise KeyError(table)


@dataclass
class _File:
    """One recognised input file, checked."""

    path: Path
    label: str
    table: str
    df: pd.DataFrame
    year: int | None
    rows: int


# Every column of each table (shared/reference/ssda903.md), so anything else can be named as not used.
ALL_COLUMNS: dict[str, set[str]] = {
    "header": {"child", "sex", "dob", "ethnic", "upn", "mother", "mc_dob"},
    "episodes": {"child", "decom", "rne", "ls", "cin", "place", "place_provider", "dec", "rec", "reason_place_change",
                 "home_post", "pl_post", "urn"},
    "uasc": {"child", "sex", "dob", "duc"},
    "missing": {"child", "dob", "missing", "mis_start", "mis_end"},
    "oc2": {"child", "dob", "sdq_score", "sdq_reason", "convicted", "health_check", "immunisations", "teeth_check",
            "health_assessment", "substance_misuse", "intervention_received", "intervention_offered"},
    "dolo": {"child", "dob", "dolo_start", "dolo_end"},
}
DATE_COLUMNS = ("decom", "dec", "dob", "duc", "mis_start", "mis_end", "dolo_start", "dolo_end", "mc_dob")
SLASH_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
LA_HELP = "say which LA they belong to: --la NAME on the command line, or 'LA of the files' on the Data page"


def la_code_of(value: object) -> str | None:
    """ONS code of any English LA given as code or name ('London Borough of Southwark', 'Norfolk County Council')."""
    return any_la_code(value) or region.english_la_code(value)


def read_files(paths: list[Path], la: str | None, labels: dict[Path, str] | None = None,
               progress: Progress = _noop) -> tuple[list[_File], list[Problem]]:
    """Read, recognise and check every file (every sheet of a workbook); la applies to files without an LA column."""
    labels = labels or {}
    files, problems, no_la = [], [], []
    la_code = la_code_of(la) if la else None
    if la and la_code is None:
        problems.append(Problem("(options)", None, "la", la, "is not a local authority in England"))
    for i, path in enumerate(paths):
        label = labels.get(path, str(path.name))
        progress(0.05 + 0.3 * i / max(len(paths), 1), f"Reading {label}")
        try:
            sheets = _read_sheets(path, label, problems)
        except ImportFailed as exc:
            problems += exc.problems
            continue
        for sheet_label, raw in sheets:
            f = _check_file(path, sheet_label, raw, la_code, problems)
            if f == "no LA":
                no_la.append(sheet_label)
            elif f is not None:
                files.append(f)
    if no_la:
        problems.append(Problem(", ".join(no_la[:5]) + (f" and {len(no_la) - 5} more" if len(no_la) > 5 else ""),
                                None, "LA", None, f"{len(no_la)} file(s) have no LA column: {LA_HELP}"))
    _read_month_first_alike(files, problems)
    return files, problems


def _read_sheets(path: Path, label: str, problems: list[Problem]) -> list[tuple[str, pd.DataFrame]]:
    """A CSV as one table; a workbook as each of its sheets that is a 903 table (the others named as ignored)."""
    if path.suffix.lower() != ".xlsx":
        return [(label, read_table(path, label=label, max_bytes=MAX_BYTES))]
    heads = _sheet_headers(path)
    if len(heads) <= 1:
        return [(label, read_table(path, label=label, max_bytes=MAX_BYTES))]
    out, ignored = [], []
    for name, cols in heads.items():
        if identify(cols) is None:
            ignored.append(name)
            continue
        # The sheet's own full header picks it out (a UASC sheet also has the header's CHILD, SEX, DOB).
        out.append((f"{label} [{name}]", read_table(path, required=cols, label=f"{label} [{name}]",
                                                      max_bytes=MAX_BYTES)))
    if ignored:
        problems.append(Problem(label, None, None, None,
                                f"sheets {', '.join(repr(n) for n in ignored)} are not SSDA903 tables the audit reads: "
                                f"ignored (read {len(out)} of {len(heads)} sheets)", "note"))
    return out


def _sheet_headers(path: Path) -> dict[str, set[str]]:
    """Each non-empty sheet of a workbook -> the normalised columns of its first non-blank row."""
    from python_calamine import CalamineWorkbook

    import zipfile

    from audit.intake.readers import inspect_xlsx, norm_header

    # The parser runs here in this process: only on a workbook the reader's checks pass (a hostile one would
    # abort the whole process); anything damaged is left to read_table, which says why in one line.
    try:
        with zipfile.ZipFile(path) as zf:
            inspect_xlsx(zf, str(path))
        wb = CalamineWorkbook.from_path(str(path))
        out = {}
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(nrows=30)
            first = next((r for r in rows if any(str(v).strip() for v in r)), None)
            if first is not None:
                out[name] = {norm_header(v) for v in first if str(v).strip()}
        return out
    except Exception:
        return {}


def _check_file(path: Path, label: str, raw: pd.DataFrame, la_code: str | None,
                problems: list[Problem]) -> _File | str | None:
    """One table checked: its typed rows, LA and year label; 'no LA' if it has no LA column and none was given."""
    table = identify(raw.columns)
    if table is None:
        other = next((v for k, v in OTHER_903.items() if k in raw.columns), None)
        msg = (f"is an SSDA903 {other} table, which the audit does not use: ignored" if other else
               "is not an SSDA903 table the audit reads (header, episodes, missing, oc2, uasc, dolo): ignored")
        problems.append(Problem(label, None, None, None, msg, "note"))
        return None
    if table == "episodes" and "dec" not in raw.columns:
        problems.append(Problem(label, None, "DEC", None, "the episodes file has no DEC column (the date each episode "
                                "ceased, blank while open): add it, or every episode would look still open"))
        return None
    extra = sorted(c for c in raw.columns if c not in ALL_COLUMNS[table] | {"la", "year", "_row"})
    if extra:
        problems.append(Problem(label, None, None, None, f"columns {', '.join(c.upper() for c in extra)} are not "
                                f"SSDA903 {table} columns: not used", "note"))
    order = _date_order(raw)
    if order == "mdy":
        problems.append(Problem(label, None, None, None, "dates read as MM/DD/YYYY (US): they are written month "
                                f"first (e.g. {_month_first_example(raw)!r}, and no day-first date is above 12)",
                                "warning"))
        raw = raw.copy()
        for c in DATE_COLUMNS:
            if c in raw.columns:
                raw[c] = raw[c].astype(str).str.replace(SLASH_DATE, r"\2/\1/\3", regex=True)
    df, found = check(raw, _specs(table), label)
    warn_cols = {sp.name for sp in _specs(table) if sp.severity == "warning"}
    problems += [p for p in found if not (p.severity == "warning" and p.column in warn_cols)]
    if df.empty:
        return None
    problems += _unknown_codes(df, raw, label, table)
    if order == "ambiguous" and table == "episodes":
        _maybe_month_first(df, label, problems)
    if table == "episodes":
        problems += _ends_before_start(df, raw, label)
    if "la" in raw.columns:
        codes = {v: la_code_of(v) for v in raw["la"].unique()}
        df["la_code"] = raw["la"].map(codes).to_numpy()
        for idx in np.flatnonzero(df["la_code"].isna().to_numpy())[:200]:
            problems.append(Problem(label, int(df["_row"].iat[idx]), "LA", raw["la"].iat[idx],
                                    "is not a local authority in England (ONS code or name)"))
    elif la_code:
        df["la_code"] = la_code
    else:
        return "no LA"
    # The label is only a hint: which year it means ("2017" is 2016-17 to some, 2017-18 to others) is decided
    # from the dates in assign_years.
    if "year" in raw.columns:
        df["year_label"] = raw["year"].map(year_token).to_numpy()
    else:
        df["year_label"] = year_token(label)
    df["year"] = np.nan
    df.attrs["date_order"] = order
    df.attrs["month_first"] = df.attrs.get("month_first", False) or order == "mdy"
    for c in ("home_post", "pl_post"):
        if c in raw.columns:
            df[c] = raw[c].to_numpy()  # unparsed text: geocoded below, then dropped
    return _File(path, label, table, df, None, len(df))


def _date_order(raw: pd.DataFrame) -> str:
    """How a file's slash dates are written: 'dmy', 'mdy' (US), 'ambiguous' (every day 12 or less) or 'none'."""
    first, second = [], []
    for c in DATE_COLUMNS:
        if c in raw.columns:
            m = raw[c].astype(str).str.extract(SLASH_DATE).dropna().astype(int)
            first.append(m[0])
            second.append(m[1])
    if not first or sum(len(x) for x in first) == 0:
        return "none"
    a, b = pd.concat(first), pd.concat(second)
    if (a > 12).any():
        return "dmy"
    return "mdy" if (b > 12).any() else "ambiguous"


def _month_first_example(raw: pd.DataFrame) -> str:
    """A date of the file that can only be month first, to show in the message."""
    for c in DATE_COLUMNS:
        if c in raw.columns:
            m = raw[c].astype(str).str.extract(SLASH_DATE)
            hit = m[1].astype(float) > 12
            if hit.any():
                return str(raw[c][hit].iat[0])
    return ""


def _swap_day_month(s: pd.Series) -> pd.Series:
    """Dates read day first, re-read month first (only valid when every day and month is 12 or less)."""
    ok = s.notna()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    out[ok] = pd.to_datetime(pd.DataFrame({"year": s[ok].dt.year, "month": s[ok].dt.day, "day": s[ok].dt.month}))
    return out


def _maybe_month_first(df: pd.DataFrame, label: str, problems: list[Problem]) -> None:
    """Every day is 12 or less: read the dates month first if that is the reading where episodes end after they start."""
    both = df["dec"].notna()
    as_read = int((df.loc[both, "dec"] < df.loc[both, "decom"]).sum())
    swapped = {c: _swap_day_month(df[c]) for c in df.columns if c in DATE_COLUMNS}
    other = int((swapped["dec"][both] < swapped["decom"][both]).sum())
    if as_read > other:
        for c, v in swapped.items():
            df[c] = v
        df.attrs["month_first"] = True
        problems.append(Problem(label, None, None, None,
                                f"dates read as MM/DD/YYYY (US): no day is above 12, so the order cannot be seen, and "
                                f"read as DD/MM/YYYY {as_read:,} episodes would end before they start ({other:,} read "
                                "month first). Check the file; DD/MM/YYYY or YYYY-MM-DD avoids the doubt", "warning"))


def _read_month_first_alike(files: list[_File], problems: list[Problem]) -> None:
    """Once an episodes file was read month first, the import's other files with ambiguous dates are too."""
    if not any(f.df.attrs.get("month_first") for f in files):
        return
    for f in files:
        if f.df.attrs.get("date_order") == "ambiguous" and not f.df.attrs.get("month_first"):
            for c in f.df.columns:
                if c in DATE_COLUMNS:
                    f.df[c] = _swap_day_month(f.df[c])
            f.df.attrs["month_first"] = True
            problems.append(Problem(f.label, None, None, None, "dates read as MM/DD/YYYY (US), like the episodes "
                                    "file's: no day is above 12", "warning"))


def _ends_before_start(df: pd.DataFrame, raw: pd.DataFrame, label: str) -> list[Problem]:
    """Episodes whose DEC is before their DECOM: an error on each (up to 50) and their count."""
    bad = np.flatnonzero((df["dec"].notna() & (df["dec"] < df["decom"])).to_numpy())
    out = [Problem(label, int(df["_row"].iat[i]), "DEC", str(df["dec"].iat[i].date()),
                   f"is before DECOM ({df['decom'].iat[i].date()}): an episode cannot end before it starts")
           for i in bad[:50]]
    if len(bad) > 50:
        out.append(Problem(label, None, "DEC", None, f"{len(bad):,} episodes end before they start (first 50 listed)"))
    return out


def _unknown_codes(df: pd.DataFrame, raw: pd.DataFrame, label: str, table: str) -> list[Problem]:
    """One line per column of codes the audit does not know (PLACE 'Q9' and the like), with every value counted."""
    out = []
    for spec in _specs(table):
        c = spec.name
        if spec.severity != "warning" or c not in df or c not in raw:
            continue
        bad = (raw[c].to_numpy() != "") & df[c].isna().to_numpy()
        if not bad.any():
            continue
        counts = pd.Series(raw[c].to_numpy()[bad]).value_counts()
        shown = ", ".join(f"{v} ×{n:,}" for v, n in counts.head(8).items()) + (" ..." if len(counts) > 8 else "")
        after = " (counted as other placements)" if c == "place" else ""
        out.append(Problem(label, None, c.upper(), None, f"{int(bad.sum()):,} rows: {spec.message} ({shown}); read as "
                           f"blank{after}, first at row {int(df['_row'].to_numpy()[bad][0])}", "warning"))
    return out


def _stack(files: list[_File], table: str) -> pd.DataFrame:
    """All rows of one table across files, with their file label and spreadsheet row."""
    frames = [f.df.assign(_file=f.label) for f in files if f.table == table]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _latest(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per key: the one from the latest collection year (then the last file read)."""
    if df.empty:
        return df
    order = df.assign(_y=df["year"].fillna(-1)).reset_index(names="_i").sort_values(["_y", "_i"])
    return order.drop_duplicates(keys, keep="last").drop(columns=["_y", "_i"]).reset_index(drop=True)


def year_token(text: object) -> str | None:
    """The collection-year label in a path or YEAR value: '2017-18' (also 2017_18, 2017/2018) or a bare '2017'."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    spans = [f"{a}-{b}" for a, b in re.findall(r"(?<!\d)(20\d{2})[-_/ ]?(?:20)?(\d{2})(?!\d)", s)
             if (int(a) + 1) % 100 == int(b)]
    if spans:
        return spans[-1]
    years = re.findall(r"(?<!\d)(20\d{2})(?!\d)", s)
    return years[-1] if years else None


def token_years(token: str | None) -> set[int]:
    """Years ending 31 March a label could mean: '2017-18' only 2018; a bare '2017' either 2017 or 2018."""
    if not token:
        return set()
    if "-" in token:
        return {int(token[:4]) + 1}
    return {int(token), int(token) + 1}


def season(year: int) -> str:
    """A collection year (ending 31 March) as written in publications: 2018 -> '2017-18'."""
    return f"{year - 1}-{year % 100:02d}"


def _year_ending(d: pd.Series) -> pd.Series:
    """The year ending 31 March that contains each date."""
    return d.dt.year + (d.dt.month > 3).astype(int)


def year_from_dates(decom: pd.Series, dec: pd.Series) -> tuple[list[int], float]:
    """Years a set of episodes fits best as one return, and the share that fits.

    An episode fits the return for the year ending 31 March Y if it started by then and is still open or ended
    within that year; the year most episodes fit wins, so one date past the year end does not move the return.
    """
    ok = decom.notna()
    decom, dec = decom[ok], dec[ok]
    if decom.empty:
        return [], 0.0
    start_y, end_y = _year_ending(decom), _year_ending(dec)
    closed = dec.notna()
    candidates = sorted(set(end_y[closed].astype(int)) | {int(start_y[~closed].max())} if (~closed).any()
                        else set(end_y[closed].astype(int)))
    scores = {y: int(((start_y <= y) & (~closed | (end_y == y))).sum()) for y in candidates}
    best = max(scores.values())
    return [y for y, v in scores.items() if v == best], best / len(decom)


@dataclass
class _Group:
    """Rows of one file that carry one year label: the unit a collection year is decided for."""

    file: _File
    token: str | None
    mask: np.ndarray


def _groups(f: _File) -> list[_Group]:
    """A file's rows by year label (a multi-LA extract's YEAR column can hold several)."""
    tok = f.df["year_label"]
    if tok.isna().all():
        return [_Group(f, None, np.ones(len(f.df), bool))]
    return [_Group(f, t, (tok == t).to_numpy()) for t in sorted(tok.dropna().unique())] + (
        [_Group(f, None, tok.isna().to_numpy())] if tok.isna().any() else [])


FIT_ONE_YEAR = 0.8  # an unlabelled episodes file fitting one year less well than this holds several years


def assign_years(files: list[_File]) -> tuple[pd.DataFrame, list[Problem]]:
    """Decide each file's collection year from its episode dates, check it against its label; say how it was read.

    A bare label ('2017', '2017-episodes.csv') is ambiguous: public extracts label the 2017-18 return '2017'
    (the year it starts), others the year it ends. The episode dates decide; the convention the episodes' labels
    followed is then applied to the header and other tables, which have no dates of their own to decide from.
    """
    problems: list[Problem] = []
    rows: list[dict] = []
    by_token: dict[str, int] = {}
    by_folder: dict[str, set[int]] = {}
    offsets: set[int] = set()
    for g in (g for f in files if f.table == "episodes" for g in _groups(f)):
        df = g.file.df.loc[g.mask]
        best, share = year_from_dates(df["decom"], df["dec"])
        cands = token_years(g.token)
        fit = [y for y in best if y in cands]
        where = g.file.label + (f" (YEAR {g.token})" if "year" in g.file.df and g.token else "")
        if fit:
            year, how = min(fit), f"dates ({share:.0%} of episodes fit), label '{g.token}' agrees"
            if len(token_years(g.token)) == 2:
                offsets.add(year - int(g.token))
                how += " (the label names the year the return " + ("starts" if year != int(g.token) else "ends") + ")"
        elif best and (share >= FIT_ONE_YEAR or g.token):
            year, how = min(best), f"dates ({share:.0%} of episodes fit)"
            if g.token:
                how += f"; the label '{g.token}' says otherwise"
                problems.append(Problem(where, None, "year", g.token,
                                        f"is labelled '{g.token}' but its episode dates are those of the year ending "
                                        f"31 March {year}: read as {season(year)}", "warning"))
        elif best:
            year, how = None, f"several years (the best single year fits {share:.0%}): each episode in the year it ended"
        else:
            year, how = None, "no dates"
        idx = g.file.df.index[g.mask]
        if year is not None:
            g.file.df.loc[idx, "year"] = year
            if g.token:
                by_token[g.token] = year
            by_folder.setdefault(str(Path(g.file.label).parent), set()).add(year)
        else:
            g.file.df.loc[idx, "year"] = _year_ending(df["dec"]).fillna(_year_ending(df["decom"]).max()).to_numpy()
        rows.append({"file": g.file.label, "table": "episodes", "label": g.token, "rows": int(g.mask.sum()),
                     "year": year, "read_as": season(year) if year else None, "how": how})
    if len(offsets) > 1:
        problems.append(Problem("(all files)", None, "year", None,
                                "the episodes files' year labels follow two conventions (some name the year a return "
                                "starts, some the year it ends): each was read by its dates", "warning"))
    for g in (g for f in files if f.table != "episodes" for g in _groups(f)):
        year, how = _other_table_year(g, by_token, by_folder, offsets)
        g.file.df.loc[g.file.df.index[g.mask], "year"] = year if year is not None else np.nan
        rows.append({"file": g.file.label, "table": g.file.table, "label": g.token, "rows": int(g.mask.sum()),
                     "year": year, "read_as": season(year) if year else None, "how": how})
    for f in files:
        ys = f.df["year"].dropna()
        f.year = int(ys.max()) if len(ys) else None
    out = pd.DataFrame(rows, columns=["file", "table", "label", "rows", "year", "read_as", "how"])
    out["year"] = out["year"].astype("Int64")
    return out, problems


def _other_table_year(g: _Group, by_token: dict[str, int], by_folder: dict[str, set[int]],
                      offsets: set[int]) -> tuple[int | None, str]:
    """A header (or other dateless table)'s year: its episodes' year by label or folder, else its label's convention."""
    if g.token and g.token in by_token:
        return by_token[g.token], f"the episodes labelled '{g.token}'"
    folder = by_folder.get(str(Path(g.file.label).parent), set())
    if not g.token and len(folder) == 1:
        return next(iter(folder)), "the episodes file in the same folder"
    cands = token_years(g.token)
    if len(cands) == 1:
        return next(iter(cands)), f"label '{g.token}'"
    if cands and len(offsets) == 1:
        year = int(g.token) + next(iter(offsets))
        return year, f"label '{g.token}', read as the episodes' labels were"
    if cands:
        return int(g.token), f"label '{g.token}' (taken as the year ending 31 March; no episodes to confirm it)"
    return None, "no year (none needed)"


def parse_audit_date(value: str | dt.date | None) -> dt.date | None:
    """The audit date asked for, as a date (None: the default); anything else stops the import with a clear message."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ImportFailed([Problem("(options)", None, "audit date", str(value),
                                    "is not a date: write it as YYYY-MM-DD, e.g. 2024-03-31")]) from None


def _header_gaps(eps: pd.DataFrame, header: pd.DataFrame) -> list[Problem]:
    """How many of the episodes' children have no header row (so no date of birth or sex)."""
    if header.empty:
        return []
    kids = eps[["la_code", "child"]].drop_duplicates()
    known = header[["la_code", "child"]].drop_duplicates().assign(_h=True)
    gap = kids.merge(known, on=["la_code", "child"], how="left")["_h"].isna()
    if not gap.any():
        return []
    return [Problem("(all files)", None, "CHILD", None,
                    f"{int(gap.sum()):,} of {len(kids):,} children in the episodes have no row in the header file: "
                    "no date of birth or sex for them (any in residential care on the audit date are left out of the "
                    "round)", "warning")]


def default_audit_date(eps: pd.DataFrame) -> dt.date:
    """31 March of the latest collection year loaded: the date a return describes."""
    years = eps["year"].dropna()
    if len(years):
        return dt.date(int(years.max()), 3, 31)
    latest = eps[["decom", "dec"]].max(axis=1).max()
    return dt.date(latest.year + (1 if latest.month > 3 else 0), 3, 31)


def _geocode_postcodes(values: pd.Series) -> pd.DataFrame:
    """Each distinct postcode: status (exact / sector / unknown / invalid), sector if real, exact and centre positions."""
    uniq = pd.Series(values.dropna().unique(), dtype=object)
    uniq = uniq[uniq.astype(str).str.strip() != ""].reset_index(drop=True)
    norm = geocode.normalise(uniq)
    exact = geocode.geocode(norm["key"])
    cent = geocode.sector_centres(norm["sector"])
    real = cent["lat"].notna()
    out = pd.DataFrame({
        "raw": uniq, "exact_lat": exact["lat"].to_numpy(float), "exact_lon": exact["lon"].to_numpy(float),
        "sector": norm["sector"].where(real).to_numpy(), "lat": cent["lat"].to_numpy(float),
        "lon": cent["lon"].to_numpy(float),
        "district_code": exact["district_code"].where(exact["district_code"].notna(), cent["district_code"]).to_numpy(),
    })
    out["status"] = np.select([norm["sector"].isna().to_numpy(), exact["lat"].notna().to_numpy(), real.to_numpy()],
                              ["invalid", "exact", "sector"], "unknown")
    return out.set_index("raw")


POSTCODE_STATUS = {
    "exact": "found in the ONS Postcode Directory",
    "sector": "not found as a full postcode (a sector only, terminated or mistyped): located at its sector's centre",
    "unknown": "not a real postcode (e.g. ZZ99 pseudo-postcodes): not located",
    "invalid": "not a postcode at all: not located",
}


def _postcode_problems(eps: pd.DataFrame, geo_pc: pd.DataFrame) -> tuple[list[Problem], pd.DataFrame]:
    """Counts of postcodes that could not be geocoded exactly (warnings, never fatal), with a few examples."""
    problems, rows = [], []
    for col, name in (("home_post", "HOME_POST"), ("pl_post", "PL_POST")):
        if col not in eps:
            continue
        vals = eps[col].where(eps[col] != "")
        status = vals.map(geo_pc["status"]).fillna("blank")
        counts = status.value_counts()
        for s in ("exact", "sector", "unknown", "invalid", "blank"):
            rows.append({"column": name, "result": POSTCODE_STATUS.get(s, "blank"), "episodes": int(counts.get(s, 0))})
        for s in ("sector", "unknown", "invalid"):
            n = int(counts.get(s, 0))
            if not n:
                continue
            problems.append(Problem("(all files)", None, name, None, f"{n:,} episodes: postcode {POSTCODE_STATUS[s]}", "warning"))
            for idx in np.flatnonzero((status == s).to_numpy())[:10]:
                problems.append(Problem(eps["_file"].iat[idx], int(eps["_row"].iat[idx]), name, eps[col].iat[idx],
                                        f"postcode {POSTCODE_STATUS[s]}", "warning"))
    return problems, pd.DataFrame(rows)


def _episode_places(eps: pd.DataFrame, geo_pc: pd.DataFrame) -> pd.DataFrame:
    """Sector, centroid, district and distance of each episode's home and placement (full postcodes then dropped)."""
    out = pd.DataFrame(index=eps.index)
    for col, pre in (("home_post", "home"), ("pl_post", "place")):
        g = geo_pc.reindex(eps[col].where(eps[col] != "")) if col in eps else pd.DataFrame(
            index=range(len(eps)), columns=geo_pc.columns)
        for c in ("sector", "lat", "lon", "exact_lat", "exact_lon", "district_code"):
            out[f"{pre}_{c}"] = g[c].to_numpy()
    # Exact positions where both ends are full postcodes; sector centres where either is only known to its sector.
    hl = pd.Series(out["home_exact_lat"], dtype=float).fillna(pd.Series(out["home_lat"], dtype=float))
    hn = pd.Series(out["home_exact_lon"], dtype=float).fillna(pd.Series(out["home_lon"], dtype=float))
    pl = pd.Series(out["place_exact_lat"], dtype=float).fillna(pd.Series(out["place_lat"], dtype=float))
    pn = pd.Series(out["place_exact_lon"], dtype=float).fillna(pd.Series(out["place_lon"], dtype=float))
    # Whole km only, so a stored distance never narrows a home postcode below its sector (issue 12).
    out["distance_km"] = np.round(geo.haversine_km(hl.to_numpy(), hn.to_numpy(), pl.to_numpy(), pn.to_numpy()))
    return out


def _ages(dob: pd.Series, on: pd.Timestamp) -> pd.Series:
    """Whole years of age on a date."""
    years = on.year - dob.dt.year
    before_birthday = (dob.dt.month > on.month) | ((dob.dt.month == on.month) & (dob.dt.day > on.day))
    return (years - before_birthday.astype(int)).astype("Int64")


def derive(eps: pd.DataFrame, places: pd.DataFrame, header: pd.DataFrame, missing: pd.DataFrame, oc2: pd.DataFrame,
           uasc: pd.DataFrame, dolo: pd.DataFrame, audit_date: dt.date, have: set[str],
           homes: pd.DataFrame, district_la: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Children in residential care on the audit date, as rows of the children table plus their need flags."""
    d = pd.Timestamp(audit_date)
    start = d - pd.DateOffset(years=1)
    key = ["la_code", "child"]
    problems: list[Problem] = []
    current = eps[(eps["decom"] <= d) & (eps["dec"].isna() | (eps["dec"] > d))]
    current = current.sort_values("decom").drop_duplicates(key, keep="last")
    res = current[current["place"].isin(RESIDENTIAL)]
    pl = places.loc[res.index]
    kids = res[key].reset_index(drop=True)
    # Moves and breakdowns in the 12 months to the audit date, over every placement type.
    win = eps[(eps["decom"] > start) & (eps["decom"] <= d) & eps["rne"].isin(PLACEMENT_MOVES)]
    moves = win.groupby(key).size().rename("moves_12m")
    broke = win[win["reason_place_change"].isin(BREAKDOWN_REASONS)].groupby(key).size().rename("breakdowns")
    kids = kids.merge(moves, on=key, how="left").merge(broke, on=key, how="left")
    kids["moves_12m"] = kids["moves_12m"].fillna(0).astype(int)
    if eps["reason_place_change"].notna().any():
        kids["placement_breakdown"] = (kids["breakdowns"].fillna(0) > 0).astype("boolean")
    else:
        kids["placement_breakdown"] = pd.array([pd.NA] * len(kids), dtype="boolean")
    if "missing" in have and not missing.empty:
        m = missing[(missing["mis_start"] > start) & (missing["mis_start"] <= d)]
        m = m.drop_duplicates(key + ["mis_start"]).groupby(key).size().rename("missing_12m")
        kids = kids.merge(m, on=key, how="left")
        kids["missing_12m"] = kids["missing_12m"].fillna(0).astype(int)
        kids["missing"] = (kids["missing_12m"] > 0).astype("boolean")
    else:
        kids["missing_12m"] = pd.array([pd.NA] * len(kids), dtype="Int64")
        kids["missing"] = pd.array([pd.NA] * len(kids), dtype="boolean")
    if "oc2" in have and not oc2.empty and "substance_misuse" in oc2:
        o = _latest(oc2, key)[key + ["substance_misuse"]]
        kids = kids.merge(o, on=key, how="left")
        kids["substance"] = kids["substance_misuse"].map({"1": True, "0": False}).astype("boolean")
    else:
        kids["substance"] = pd.array([pd.NA] * len(kids), dtype="boolean")
    if "dolo" in have:
        open_ = dolo[(dolo["dolo_start"] <= d) & (dolo["dolo_end"].isna() | (dolo["dolo_end"] >= d))] if not dolo.empty else dolo
        on = set(map(tuple, open_[key].to_numpy())) if not open_.empty else set()
        kids["dol_order"] = pd.array([tuple(k) in on for k in kids[key].to_numpy()], dtype="boolean")
    else:
        kids["dol_order"] = pd.array([pd.NA] * len(kids), dtype="boolean")
    if "uasc" in have:
        u = _latest(uasc, key) if not uasc.empty else uasc
        active = set(map(tuple, u.loc[u["duc"].isna() | (u["duc"] > d), key].to_numpy())) if not u.empty else set()
        kids["uasc"] = pd.array([tuple(k) in active for k in kids[key].to_numpy()], dtype="boolean")
    else:
        kids["uasc"] = pd.array([pd.NA] * len(kids), dtype="boolean")
    # Date of birth and sex from the header, else from any table that carries a DOB.
    h = _latest(header, key)[key + ["dob", "sex"]] if not header.empty else pd.DataFrame(columns=key + ["dob", "sex"])
    kids = kids.merge(h, on=key, how="left")
    for other in (uasc, missing, oc2, dolo):
        if not other.empty and "dob" in other and kids["dob"].isna().any():
            alt = _latest(other.dropna(subset=["dob"]), key)[key + ["dob"]].rename(columns={"dob": "_dob"})
            kids = kids.merge(alt, on=key, how="left")
            kids["dob"] = kids["dob"].fillna(kids.pop("_dob"))
    kids["age"] = _ages(pd.to_datetime(kids["dob"]), d)
    bad_age = kids["age"].isna() | ~kids["age"].between(0, 25)
    if bad_age.any():
        problems.append(Problem("(all files)", None, "DOB", None,
                                f"{int(bad_age.sum()):,} children in residential care have no usable date of birth "
                                "(or an age outside 0-25 on the audit date): left out of the round", "warning"))
    children = pd.DataFrame({
        "child_id": kids["child"], "la_code": kids["la_code"], "age": kids["age"],
        "sex": kids["sex"].map(SEX),
        "home_sector": pl["home_sector"].to_numpy(), "home_district_code": pl["home_district_code"].to_numpy(),
        "home_lat": pl["home_lat"].to_numpy(float), "home_lon": pl["home_lon"].to_numpy(float),
        "placement_type": res["place"].to_numpy(),
        "placement_urn": res["urn"].str.upper().where(~res["urn"].str.upper().isin(NO_URN) & (res["urn"] != "")).to_numpy()
        if "urn" in res else None,
        "placement_sector": pl["place_sector"].to_numpy(),
        "placement_lat": pl["place_lat"].to_numpy(float), "placement_lon": pl["place_lon"].to_numpy(float),
        "placement_district": pl["place_district_code"].to_numpy(),
        "distance_km": pl["distance_km"].to_numpy(float),
        "dol_order": kids["dol_order"], "placement_provider": res["place_provider"].to_numpy()
        if "place_provider" in res else None,
        "moves_12m": kids["moves_12m"], "missing_12m": kids["missing_12m"], "uasc": kids["uasc"],
    })
    # A known URN locates a placement whose postcode was missing or fake.
    if not homes.empty and children["placement_urn"].notna().any():
        hm = homes.drop_duplicates("urn").set_index("urn").reindex(children["placement_urn"])
        use = children["placement_lat"].isna().to_numpy() & hm["lat"].notna().to_numpy()
        children.loc[use, "placement_lat"] = hm["lat"].to_numpy(float)[use]
        children.loc[use, "placement_lon"] = hm["lon"].to_numpy(float)[use]
        children.loc[use, "placement_district"] = hm["district_code"].to_numpy()[use]
        children.loc[use, "placement_sector"] = hm["postcode_sector"].to_numpy()[use]
        children.loc[use, "distance_km"] = np.round(geo.haversine_km(
            children.loc[use, "home_lat"], children.loc[use, "home_lon"],
            children.loc[use, "placement_lat"], children.loc[use, "placement_lon"]))
    children["placement_la_code"] = children.pop("placement_district").map(district_la)
    children["placement_in_region"] = children["placement_la_code"].notna().where(children["placement_lat"].notna())
    keep = ~bad_age.to_numpy()
    children = children[keep].reset_index(drop=True)
    children["age"] = children["age"].astype(int)
    flags = kids.loc[keep, ["la_code", "child", "placement_breakdown", "missing", "substance"]].reset_index(drop=True)
    flags = flags.rename(columns={"la_code": "la", "child": "child_id"})
    return children, flags, problems


def _episodes_table(eps: pd.DataFrame, places: pd.DataFrame, header: pd.DataFrame) -> pd.DataFrame:
    """The episode history to keep: sectors not postcodes, month of birth not date of birth."""
    key = ["la_code", "child"]
    h = _latest(header, key)[key + ["dob", "sex"]] if not header.empty else pd.DataFrame(columns=key + ["dob", "sex"])
    e = eps.merge(h, on=key, how="left")
    dob = pd.to_datetime(e["dob"])
    return pd.DataFrame({
        "la_code": e["la_code"], "child_id": e["child"], "decom": e["decom"].dt.date, "dec": e["dec"].dt.date,
        "rne": e.get("rne"), "ls": e.get("ls"), "cin": e.get("cin"), "place": e.get("place"),
        "place_provider": e.get("place_provider"), "rec": e.get("rec"), "reason_place_change": e.get("reason_place_change"),
        "home_sector": places["home_sector"].to_numpy(), "placement_sector": places["place_sector"].to_numpy(),
        "urn": e["urn"].where(~e["urn"].str.upper().isin(NO_URN) & (e["urn"] != "")) if "urn" in e else None,
        "distance_km": places["distance_km"].to_numpy(float),
        "sex": e["sex"].map(SEX), "birth_month": (dob - pd.to_timedelta(dob.dt.day - 1, unit="D")).dt.date,
        "year": e["year"].astype("Int64"),
    })


def load(db: Database, paths: Iterable[str | Path], *, la: str | None = None, audit_date: str | dt.date | None = None,
         round_label: str | None = None, keep_other_las: bool = True, labels: dict[Path, str] | None = None,
         progress: Progress | None = None, derive_round: bool = True) -> Import903:
    """Check SSDA903 files and load their episode history and a derived round in one transaction.

    derive_round=False keeps only the history (for forecasting): the synthetic sample's 903 children are
    the needs round's children, so a second round of them would only duplicate it.
    """
    progress = progress or _noop
    found = collect(paths)
    found.update(labels or {})
    if not found:
        raise ImportFailed([Problem("(no files)", None, None, None, "no CSV or XLSX files were given")])
    when = parse_audit_date(audit_date)
    files, problems = read_files(list(found), la, found, progress)
    have = {f.table for f in files}
    if "episodes" not in have and not any(p.severity == "error" for p in problems):
        problems.append(Problem("(all files)", None, None, None,
                                "no episodes table was found: the audit needs at least the episodes file (CHILD, DECOM, RNE, PLACE ...)"))
    if "episodes" in have and "header" not in have:
        problems.append(Problem("(all files)", None, None, None,
                                "the header file (CHILD, SEX, DOB ...) is missing: it gives each child's date of birth"
                                + (", which the round needs for ages; add it to the files" if derive_round else
                                   "; without it the history has no ages"),
                                "error" if derive_round else "warning"))
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    progress(0.4, "Combining years")
    years_read, y_problems = assign_years(files)
    problems += y_problems
    eps = _stack(files, "episodes")
    for c in ("home_post", "pl_post", "urn", "place_provider", "reason_place_change", "rne", "ls", "cin", "rec"):
        if c not in eps:
            eps[c] = None if c not in ("home_post", "pl_post", "urn") else ""
    dup_same_year = eps.duplicated(["la_code", "child", "decom", "year"], keep=False)
    if dup_same_year.any():
        problems.append(Problem("(all files)", None, "DECOM", None,
                                f"{int(dup_same_year.sum()):,} episodes share a child and start date within one year's return: "
                                "the last one read was kept", "warning"))
    # The same episode in two years' returns: the later return has its end date.
    eps = _latest(eps, ["la_code", "child", "decom"])
    tables = {t: _stack(files, t) for t in ("header", "missing", "oc2", "uasc", "dolo")}
    problems += _header_gaps(eps, tables["header"])
    when = when or default_audit_date(eps)
    label = (round_label or "").strip() or f"SSDA903 {when.isoformat()}"
    progress(0.5, f"Geocoding postcodes of {len(eps):,} episodes")
    geo_pc = _geocode_postcodes(pd.concat([eps["home_post"], eps["pl_post"]], ignore_index=True))
    pc_problems, pc_report = _postcode_problems(eps, geo_pc)
    problems += pc_problems
    places = _episode_places(eps, geo_pc)
    history = _episodes_table(eps, places, tables["header"])
    digest = hashlib.sha256("".join(sorted(checksum(f.path) for f in files)).encode()).hexdigest()
    source = "; ".join(f.label for f in files)
    if not derive_round:
        return _load_history(db, eps, history, years_read, problems, source, digest, when, pc_report, progress)
    progress(0.7, "Deriving the children in residential care")
    with db.write() as con:
        homes = con.execute("SELECT urn, lat, lon, district_code, postcode_sector FROM homes").df()
        district_la = dict(con.execute("SELECT district_code, la_code FROM districts").fetchall())
        children, flags, d_problems = derive(eps, places, tables["header"], tables["missing"], tables["oc2"],
                                             tables["uasc"], tables["dolo"], when, have, homes, district_la)
        problems += d_problems
        if children.empty:
            raise ImportFailed(problems + [Problem("(all files)", None, None, None,
                                                   f"no child was in residential care ({', '.join(RESIDENTIAL)}) on "
                                                   f"{when.isoformat()}: choose another audit date")])
        warnings = [p for p in problems if p.severity != "error"]
        progress(0.85, "Writing the episode history and the round")
        _write_history(con, history)
        needs = wide_needs(flags, taxonomy.codes())
        round_id, kept = write_round(con, label, children, needs, source=source[:1000], digest=digest,
                                     audit_date=when.isoformat(), is_sample=False, source_kind="ssda903",
                                     keep_other_las=keep_other_las)
        record_import(con, "ssda903", source[:1000], digest, len(history), len(warnings),
                      f"{len(children)} children in residential care on {when.isoformat()}; round '{label}'", round_id)
    progress(1.0, "Done")
    by_la = children.groupby("la_code").size().rename("children").reset_index()
    by_la.insert(1, "la", by_la["la_code"].map(lambda c: region.la_name(c)))
    years = sorted({int(y) for y in eps["year"].dropna().unique()})
    return Import903(label, when, len(children), len(history), years_read, by_la, pc_report, warnings, years)


def _write_history(con, history: pd.DataFrame) -> None:
    """Add the import's episodes: each (LA, year) it brings replaces that LA's year; other years stay."""
    con.register("_eps", history)
    con.execute(sql.load("episodes_replace_years"))
    con.execute(sql.load("episodes_drop_superseded"))
    con.execute(f"INSERT INTO episodes ({', '.join(history.columns)}) " + sql.load("episodes_insert_new"))
    con.unregister("_eps")


def _load_history(db: Database, eps: pd.DataFrame, history: pd.DataFrame, years_read: pd.DataFrame, problems: list[Problem],
                  source: str, digest: str, when: dt.date, pc_report: pd.DataFrame,
                  progress: Progress) -> Import903:
    """Replace the covered LAs' episode history without deriving a round."""
    warnings = [p for p in problems if p.severity != "error"]
    las = sorted(eps["la_code"].unique())
    years = sorted({int(y) for y in eps["year"].dropna().unique()})
    progress(0.85, "Writing the episode history")
    with db.write() as con:
        _write_history(con, history)
        record_import(con, "ssda903", source[:1000], digest, len(history), len(warnings),
                      f"episode history of {len(las)} LAs, years {', '.join(map(str, years))}; no round derived", None)
    progress(1.0, "Done")
    by_la = history.groupby("la_code")["child_id"].nunique().rename("children").reset_index()
    by_la.insert(1, "la", by_la["la_code"].map(lambda c: region.la_name(c)))
    return Import903("", when, 0, len(history), years_read, by_la, pc_report, warnings, years)
