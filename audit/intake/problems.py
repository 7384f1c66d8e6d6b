"""Problems found in input files, reported one per line: file, row, column, value, what is wrong."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file."""

    file: str
    row: int | None      # spreadsheet row number: the header is row 1
    column: str | None
    value: str | None
    message: str
    severity: str = "error"  # "error" stops the import; "warning" is reported only

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        shown = "" if self.value in (None, "") else f" (value {str(self.value)[:60]!r})"
        return one_line(f"{where}: {self.message}{shown}")


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters and line breaks escaped (a file named 'a\\nb.csv' must not split its problem in two)."""
    return _BREAKS.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


class ImportFailed(Exception):
    """The file cannot be loaded; nothing in the database was changed."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} problem(s); first: {errors[0] if errors else problems[0]}")


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table for the validation report (screen and CSV)."""
    cols = ["severity", "file", "row", "column", "value", "message"]
    df = pd.DataFrame([asdict(p) for p in problems], columns=cols)[cols]
    # Errors first, then in the order a person would scroll the file; whole-file notes at the top of each.
    order = pd.DataFrame({"e": df["severity"] != "error", "f": df["file"].astype(str),
                          "r": pd.to_numeric(df["row"], errors="coerce").fillna(0)})
    df = df.loc[order.sort_values(["e", "f", "r"], kind="stable").index].reset_index(drop=True)
    df["row"] = df["row"].astype("Int64")
    df["value"] = df["value"].where(df["value"].notna(), "")
    df["column"] = df["column"].where(df["column"].notna(), "")
    return df
