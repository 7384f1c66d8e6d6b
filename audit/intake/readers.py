"""Read CSV or XLSX files as they arrive from LAs: any encoding Excel writes, title rows, several sheets.

Everything comes back as strings with normalised headers and the spreadsheet
row number of each line (`_row`, the header row's own number plus one for the
first data row), so every problem can name the row a person would look at.
Cells holding a spreadsheet formula come back as the formula text ("=SUM(A1)")
so the validators refuse them instead of loading a stale cached value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from audit.intake.problems import ImportFailed, Problem

MAX_BYTES = 200 * 1024 * 1024  # multi-year SSDA903 episodes for a whole country fit well inside this
HEADER_SEARCH_ROWS = 30  # published workbooks put titles and notes above the header row

# Magic numbers of files people upload by mistake, with what to tell them.
_NOT_SPREADSHEETS = [
    (b"%PDF", "is a PDF document, not a CSV or XLSX spreadsheet"),
    (b"\x89PNG", "is a PNG image, not a CSV or XLSX spreadsheet"),
    (b"\xff\xd8\xff", "is a JPEG image, not a CSV or XLSX spreadsheet"),
    (b"GIF8", "is a GIF image, not a CSV or XLSX spreadsheet"),
    (b"\xd0\xcf\x11\xe0", "is an old Excel 97-2003 (.xls) or password-protected workbook: save it as .xlsx or CSV without a password"),
    (b"\x1f\x8b", "is a gzip archive: unpack it and upload the CSV or XLSX inside"),
    (b"Rar!", "is a RAR archive: unpack it and upload the CSV or XLSX inside"),
]


def norm_header(name: object) -> str:
    """Column names are matched ignoring case, spaces and punctuation."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _fail(label: str, message: str) -> ImportFailed:
    """A whole-file problem (no row or column to point at)."""
    return ImportFailed([Problem(label, None, None, None, message)])


def _decode(raw: bytes, label: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 as Excel's 'Unicode text' saves it, else Windows-1252."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _fail(label, "starts like UTF-16 text but cannot be decoded as UTF-16") from None
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _fail(label, "cannot be read as text in UTF-8 or Windows-1252 encoding")


def _sniff_binary(raw: bytes, label: str) -> None:
    """Refuse files that are plainly not spreadsheets, saying what they look like."""
    for magic, message in _NOT_SPREADSHEETS:
        if raw.startswith(magic):
            raise _fail(label, message)
    head = raw[:8192]
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise _fail(label, "is a web page (HTML), not a CSV or XLSX spreadsheet: download the file itself")
    if b"\x00" in head and head[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise _fail(label, "is not a CSV or XLSX spreadsheet (it looks like a binary file)")


def read_table(path: str | Path, required: set[str] | frozenset[str] = frozenset(), label: str | None = None,
               max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """Read a CSV or XLSX file into strings with normalised headers; blank rows dropped.

    The header is the first row (within the first 30) holding every required
    column, so title rows above it are skipped. In a workbook, the sheet that
    holds the required columns is used; two such sheets are ambiguous and refused.
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise _fail(label, "file not found")
    if path.is_dir():
        raise _fail(label, "is a folder, not a file")
    size = path.stat().st_size
    if size == 0:
        raise _fail(label, "the file is empty (0 bytes)")
    if size > max_bytes:
        raise _fail(label, f"the file is {size / 1e6:.0f} MB; the limit for this kind of file is "
                           f"{max_bytes / 1e6:.0f} MB (is it the right file?)")
    raw = path.read_bytes()
    required = {norm_header(r) for r in required}
    if raw[:4] == b"PK\x03\x04":
        grid, header_at = _read_xlsx(raw, required, label)
        return _frame(grid, header_at, label)
    _sniff_binary(raw, label)
    text = _decode(raw, label)
    if not text.strip():
        raise _fail(label, "the file is empty (only blank lines or spaces)")
    return _read_csv(text, required, label)


def _header_index(rows: list[list], required: set[str]) -> int | None:
    """Index of the first row holding every required column (first non-blank row if none required)."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {norm_header(v) for v in row if v not in (None, "")}
        if not names:
            continue
        if not required or required <= names:
            return i
    return None


def _first_nonblank(rows: list[list]) -> int:
    """Where the header most likely is when no row has the required columns."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(v not in (None, "") and str(v).strip() for v in row):
            return i
    return 0


def _read_csv(text: str, required: set[str], label: str) -> pd.DataFrame:
    """Parse CSV text as strings, sniffing ; or tab delimiters that some exports use."""
    first_lines = text[:65536].splitlines()[:HEADER_SEARCH_ROWS]
    # The delimiter that splits some early line (the header) into the most fields; comma when tied.
    delim = max([",", ";", "\t"], key=lambda d: (max((ln.count(d) for ln in first_lines), default=0), d == ","))
    head_rows = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])), delimiter=delim))
    header_at = _header_index(head_rows, required)
    if header_at is None:
        header_at = _first_nonblank(head_rows)
    lines = text.splitlines(keepends=True)
    body = "".join(lines[header_at:])
    try:
        df = pd.read_csv(io.StringIO(body), sep=delim, dtype=str, keep_default_na=False, skip_blank_lines=False,
                         engine="c")
    except pd.errors.EmptyDataError:
        raise _fail(label, "the file has no header row") from None
    except pd.errors.ParserError as exc:
        raise _fail(label, f"is not a well-formed CSV file: {exc}") from None
    return _tidy(df, header_at + 1, label)


def _xlsx_sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet XML path inside the workbook zip."""
    wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2): m.group(1) for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        tag = m.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag) or re.search(r'\bid="([^"]*)"', tag)
        if name and rid and rid.group(1) in targets:
            target = targets[rid.group(1)].lstrip("/")
            out[_xml_unescape(name.group(1))] = target if target.startswith("xl/") else "xl/" + target
    return out


def _xml_unescape(s: str) -> str:
    """The five XML entities, for sheet names and formula text."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def _col_index(letters: str) -> int:
    """Spreadsheet column letters -> zero-based index ('A' -> 0, 'AA' -> 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _formula_cells(xml: bytes) -> list[tuple[int, int, str]]:
    """(row index, column index, formula) of every formula cell in a worksheet's XML."""
    found = []
    for m in re.finditer(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", xml, flags=re.S):
        start = xml.rfind(b"<c ", 0, m.start())
        ref = re.match(rb'<c [^>]*?r="([A-Z]{1,3})(\d+)"', xml[start:m.start()]) if start >= 0 else None
        if ref:
            text = _xml_unescape((m.group(1) or b"").decode("utf-8", "replace"))
            found.append((int(ref.group(2)) - 1, _col_index(ref.group(1).decode()), "=" + text if text else "=(shared formula)"))
    return found


def _read_xlsx(raw: bytes, required: set[str], label: str) -> tuple[list[list], int]:
    """Pick the one sheet holding every required column (templates add instruction sheets)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise _fail(label, "is a damaged zip/XLSX file and cannot be opened") from None
    if "xl/workbook.xml" not in names:
        kind = ("a Word document" if "word/document.xml" in names else
                "an OpenDocument file (save it as .xlsx or CSV)" if "content.xml" in names else "a zip archive")
        raise _fail(label, f"is {kind}, not an XLSX spreadsheet")
    try:
        sheets = _xlsx_grids(raw, zf)
    except ImportFailed:
        raise
    except Exception as exc:  # a corrupt workbook can fail in many ways inside the parser
        raise _fail(label, f"is not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    with_data = {n: g for n, g in sheets.items() if any(any(v not in (None, "") for v in r) for r in g[:HEADER_SEARCH_ROWS])}
    if not with_data:
        raise _fail(label, "the workbook has no sheet with data")
    matches = [(n, g, i) for n, g in with_data.items() if (i := _header_index(g, required)) is not None]
    if len(matches) > 1 and required:
        raise _fail(label, f"the workbook has {len(matches)} sheets with the required columns "
                           f"({', '.join(repr(m[0]) for m in matches)}): put all rows on one sheet, or upload the sheets separately")
    if matches:
        return matches[0][1], matches[0][2]
    if len(with_data) > 1 and required:
        raise _fail(label, f"none of the workbook's sheets ({', '.join(repr(n) for n in with_data)}) has a header row with the "
                           f"required columns: {', '.join(sorted(required))}")
    name, grid = next(iter(with_data.items()))
    return grid, _first_nonblank(grid)


def _xlsx_grids(raw: bytes, zf: zipfile.ZipFile) -> dict[str, list[list]]:
    """Every sheet as a grid of cell values aligned to sheet rows/columns, formulas as '=...' text."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # the pure-Python reader is slower but gives the same grid
        return _openpyxl_grids(raw)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    paths = _xlsx_sheet_paths(zf)
    grids = {}
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        grid = [list(r) for r in sheet.to_python(skip_empty_area=False)]
        path = paths.get(name)
        if path and path in zf.namelist():
            for r, c, formula in _formula_cells(zf.read(path)):
                while len(grid) <= r:
                    grid.append([])
                row = grid[r]
                if len(row) <= c:
                    row.extend([""] * (c + 1 - len(row)))
                row[c] = formula
        grids[name] = grid
    return grids


def _openpyxl_grids(raw: bytes) -> dict[str, list[list]]:
    """Fallback reader: openpyxl in read-only mode, which returns formulas as their text."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def _cell_text(v: object) -> str:
    """A cell as the text a person typed: whole numbers without '.0', dates as ISO."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _frame(grid: list[list], header_at: int, label: str) -> pd.DataFrame:
    """A workbook grid (header at header_at) as a string DataFrame with spreadsheet row numbers."""
    header = [_cell_text(v) for v in grid[header_at]]
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    if width == 0:
        raise _fail(label, "the file has no header row")
    body = [r[:width] if len(r) >= width else list(r) + [None] * (width - len(r)) for r in grid[header_at + 1:]]
    df = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width), dtype=object)
    for c in df.columns:
        col = df[c]
        if pd.api.types.infer_dtype(col, skipna=False) != "string":
            # Numbers, dates and blanks become text once per distinct value, not once per cell.
            uniq = pd.unique(col.to_numpy(dtype=object))
            df[c] = col.map(dict(zip(uniq, map(_cell_text, uniq))))
    df.columns = header[:width]
    return _tidy(df, header_at + 1, label)


def _tidy(df: pd.DataFrame, header_row: int, label: str) -> pd.DataFrame:
    """Normalise headers, strip cells, drop fully blank rows, remember spreadsheet row numbers."""
    names = [norm_header(c) for c in df.columns]
    keep = [i for i, n in enumerate(names) if n and not n.startswith("unnamed")]
    df = df.iloc[:, keep].copy()
    df.columns = [names[i] for i in keep]
    if df.columns.duplicated().any():
        dup = sorted({c for c in df.columns[df.columns.duplicated()]})
        raise ImportFailed([Problem(label, header_row, c, None, "this column appears more than once in the header row") for c in dup])
    df = df.fillna("").astype(str)
    for c in df.columns:
        df[c] = df[c].str.strip()
    df["_row"] = range(header_row + 1, header_row + 1 + len(df))
    blank = (df.drop(columns="_row") == "").all(axis=1) if len(df.columns) > 1 else pd.Series(True, index=df.index)
    df = df[~blank].reset_index(drop=True)
    df.attrs["header_row"] = header_row
    return df
