"""Read CSV or XLSX files as they arrive from LAs: any encoding Excel writes, stray rows, several sheets."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from audit.problems import ImportFailed, Problem

MAX_BYTES = 200 * 1024 * 1024  # anything larger is not an audit file


def norm_header(name: object) -> str:
    """Column names are matched ignoring case, spaces and punctuation."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _decode(raw: bytes, label: str) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1252 as Excel 'CSV' saves it."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ImportFailed([Problem(label, None, None, None, "cannot be read as text in UTF-8 or Windows-1252 encoding")])


def _looks_binary(raw: bytes) -> bool:
    """A NUL byte in the first few KB means this is not a text CSV."""
    return b"\x00" in raw[:8192]


def read_table(path: str | Path, required: set[str], label: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file into strings with normalised headers; blank rows dropped.

    For workbooks, the first sheet that has all required columns is used.
    Rows keep their spreadsheet number in the `_row` column (header = row 1).
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise ImportFailed([Problem(label, None, None, None, "file not found")])
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed([Problem(label, None, None, None, "the file is empty")])
    if size > MAX_BYTES:
        raise ImportFailed([Problem(label, None, None, None, f"the file is {size / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")])
    raw = path.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        df = _read_xlsx(raw, required, label)
    elif _looks_binary(raw):
        raise ImportFailed([Problem(label, None, None, None, "is not a CSV or XLSX spreadsheet (it looks like a binary file)")])
    else:
        df = _read_csv(_decode(raw, label), label)
    return _tidy(df, label)


def _read_csv(text: str, label: str) -> pd.DataFrame:
    """Parse CSV text as strings, sniffing ; or tab delimiters that some exports use."""
    sample = text[:4096]
    try:
        delim = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise ImportFailed([Problem(label, None, None, None, "the file has no header row")]) from None
    except pd.errors.ParserError as exc:
        raise ImportFailed([Problem(label, None, None, None, f"is not a well-formed CSV file: {exc}")]) from None


def _read_xlsx(raw: bytes, required: set[str], label: str) -> pd.DataFrame:
    """Pick the first sheet holding every required column (templates add instruction sheets)."""
    try:
        sheets = pd.read_excel(io.BytesIO(raw), sheet_name=None, dtype=str, header=0, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise ImportFailed([Problem(label, None, None, None, f"is not a readable XLSX workbook: {exc}")]) from None
    best = None
    for name, df in sheets.items():
        cols = {norm_header(c) for c in df.columns}
        if required <= cols:
            return df.fillna("")
        if best is None and len(df.columns):
            best = (name, df)
    if best is None:
        raise ImportFailed([Problem(label, None, None, None, "the workbook has no sheet with data")])
    return best[1].fillna("")


def _tidy(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """Normalise headers, strip cells, drop fully blank rows, remember spreadsheet row numbers."""
    df = df.copy()
    df.columns = [norm_header(c) for c in df.columns]
    df = df.loc[:, [c for c in df.columns if c and not c.startswith("unnamed")] or df.columns]
    df = df.astype(str).apply(lambda s: s.str.strip())
    df["_row"] = range(2, len(df) + 2)
    blank = (df.drop(columns="_row") == "").all(axis=1)
    df = df[~blank].reset_index(drop=True)
    return df
