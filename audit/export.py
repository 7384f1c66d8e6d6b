"""CSV extracts that open cleanly in Excel and cannot carry formulas into someone's spreadsheet."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        # A plain negative number is data, not a formula.
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def _iso(value: object) -> object:
    """Dates and times as ISO 8601, whatever their type; a missing date is an empty cell."""
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat(sep=" ", timespec="seconds") if (value.hour or value.minute or value.second) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, header in the first row, ISO dates, formula-safe cells."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("datetime", "str", "string")):
            out[col] = out[col].map(_iso).map(_neutralise)
    out.columns = [str(_neutralise(str(c))) for c in out.columns]
    buf = io.StringIO()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(3)  # extracts should not show binary noise
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return ("\ufeff" + buf.getvalue()).encode("utf-8")

