"""Read CSV or XLSX files as they arrive from LAs: any encoding Excel writes, title rows, several sheets.

Everything comes back as strings with normalised headers and the spreadsheet
row number of each line (`_row`, the header row's own number plus one for the
first data row), so every problem can name the row a person would look at.
Cells holding a spreadsheet formula come back as the formula text ("=SUM(A1)")
so the validators refuse them instead of loading a stale cached value.

Files come from outside, so they are read defensively: a workbook's zip is
checked (sizes, compression ratio, checksums, each sheet's extent) before the
spreadsheet parser sees it, every cell is checked for control characters and
absurd lengths, and the whole parse runs in a child process with memory and
time limits, so no file can take the server or the CLI down with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import faulthandler
import io
import multiprocessing
import os
import re
import resource
import signal
import zipfile
from pathlib import Path

import pandas as pd

from audit.intake.problems import ImportFailed, Problem

MAX_BYTES = 200 * 1024 * 1024  # multi-year SSDA903 episodes for a whole country fit well inside this
HEADER_SEARCH_ROWS = 30  # published workbooks put titles and notes above the header row
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell: anything longer was not typed into a spreadsheet

# A workbook is a zip of XML. A national needs file (85,000 children x ~40 columns) is about 3.4 million
# cells and ~150 MB of sheet XML, so these limits leave room for it and refuse what only an attack needs:
# the parser builds a dense grid of rows x columns, so one cell at XFD1048576 alone would ask for 512 GB.
XLSX_MAX_COLUMNS = 1_000
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit
XLSX_MAX_CELLS = 10_000_000  # rows x columns of the sheet's grid: about three national needs files
XLSX_MAX_MEMBER_BYTES = 600 * 1024 * 1024  # one part of the zip, uncompressed
XLSX_MAX_TOTAL_BYTES = 800 * 1024 * 1024  # all parts, uncompressed
XLSX_MAX_RATIO = 100  # real sheet XML deflates 5-30x; a zip bomb 1,000x and more (Apache POI uses the same bound)
XLSX_RATIO_FROM_BYTES = 1024 * 1024  # tiny parts compress oddly; the ratio only matters once a part is large

# The child process that parses one file: limits so that even a parser blow-up nobody foresaw ends there.
PARSE_MEMORY_MB = int(os.environ.get("AUDIT_PARSE_MEMORY_MB", "2048"))  # above the child's starting size
PARSE_TIMEOUT_S = float(os.environ.get("AUDIT_PARSE_TIMEOUT_S", "300"))
# C0 controls except tab/line feed/carriage return (addresses keep their line breaks), DEL and C1 controls:
# a NUL in a child_id would be stored and exported, and no spreadsheet cell legitimately holds one.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

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
        if head.count(b"\x00") <= 4:  # text with a stray NUL: say where, so it can be fixed
            line = head[:head.index(b"\x00")].count(b"\n") + 1
            raise ImportFailed([Problem(label, line, None, None, "holds a NUL byte (a control character no typed "
                                        "value contains): re-type the row or re-export the file")])
        raise _fail(label, "is not a CSV or XLSX spreadsheet (it looks like a binary file)")


def read_table(path: str | Path, required: set[str] | frozenset[str] = frozenset(), label: str | None = None,
               max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """Read a CSV or XLSX file into strings with normalised headers; blank rows dropped.

    The header is the first row (within the first 30) holding every required
    column, so title rows above it are skipped. In a workbook, the sheet that
    holds the required columns is used; two such sheets are ambiguous and refused.
    The parse itself runs in a child process (see `parse_in_child`).
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
    required = {norm_header(r) for r in required}
    if os.environ.get("AUDIT_PARSE_IN_CHILD", "1") == "0":
        return parse_file(path, required, label)
    return parse_in_child(path, required, label)


def parse_file(path: Path, required: set[str], label: str) -> pd.DataFrame:
    """The parse proper, in whichever process calls it (read_table runs it in a limited child)."""
    raw = path.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        grid, header_at = _read_xlsx(raw, required, label)
        return _frame(grid, header_at, label)
    _sniff_binary(raw, label)
    text = _decode(raw, label)
    if not text.strip():
        raise _fail(label, "the file is empty (only blank lines or spaces)")
    return _read_csv(text, required, label)


# -- the child process ---------------------------------------------------------
_CONTEXT: multiprocessing.context.BaseContext | None = None


def _context() -> multiprocessing.context.BaseContext:
    """Fork: the child starts in milliseconds with pandas and the readers already loaded.

    A fork server or spawn would re-run the caller's main script in every child (the Streamlit
    CLI, a user's script); the forked child touches only pandas, zipfile and the XLSX parser,
    none of which the parent's other threads (Streamlit, DuckDB) hold locks in.
    """
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("fork")
    return _CONTEXT


def _vm_size() -> int:
    """This process's current address-space size in bytes (0 when /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_self(memory_mb: int, timeout_s: float) -> None:
    """Cap the child's address space (above what it already maps) and CPU time."""
    base = _vm_size()
    if base and memory_mb > 0:
        cap = base + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = int(timeout_s) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _child(conn, path: str, required: list[str], label: str, memory_mb: int, timeout_s: float) -> None:
    """Entry point of the parsing child: send back ('ok', frame), ('failed', problems) or why it broke."""
    try:
        # A parser that aborts prints its backtrace to stderr: the CLI's stderr is one line per problem.
        faulthandler.disable()  # a test runner's dump on abort would go to its own copy of stderr
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        _limit_self(memory_mb, timeout_s)
        result = ("ok", parse_file(Path(path), set(required), label))
    except ImportFailed as exc:
        result = ("failed", exc.problems)
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - a Rust panic in the parser is a BaseException
        result = ("crash", f"{type(exc).__name__}: {str(exc)[:200]}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


def parse_in_child(path: Path, required: set[str], label: str, memory_mb: int | None = None,
                   timeout_s: float | None = None) -> pd.DataFrame:
    """Parse in a child process with memory and time limits; its death is a problem, never ours."""
    memory_mb = PARSE_MEMORY_MB if memory_mb is None else memory_mb
    timeout_s = PARSE_TIMEOUT_S if timeout_s is None else timeout_s
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, str(path), sorted(required), label, memory_mb, timeout_s),
                       daemon=True, name="audit-parse")
    proc.start()
    send.close()
    kind, payload = "died", None
    try:
        if recv.poll(timeout_s):
            try:
                kind, payload = recv.recv()
            except (EOFError, OSError):
                kind = "died"
        else:
            kind = "timeout"
    finally:
        recv.close()
        if kind == "timeout":
            proc.kill()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if kind == "ok":
        return payload
    if kind == "failed":
        raise ImportFailed(payload)
    raise _fail(label, _child_message(kind, payload, proc.exitcode, memory_mb, timeout_s))


def _child_message(kind: str, detail: str | None, exitcode: int | None, memory_mb: int, timeout_s: float) -> str:
    """Why the parsing child gave no result, in words for the person who sent the file."""
    if kind == "timeout" or exitcode == -signal.SIGXCPU:
        return (f"reading it took longer than {timeout_s:.0f} seconds, the limit for one file: "
                "it is far larger inside than an audit file (is it the right file?)")
    if kind == "memory" or exitcode == -signal.SIGABRT:
        return (f"reading it needed more than the {memory_mb:,} MB of memory allowed for one file: it is far "
                "larger inside than an audit file, or damaged (save it again as .xlsx or CSV)")
    if kind == "crash":
        return f"could not be read ({detail}): save it again as .xlsx or CSV"
    why = f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
    return f"the spreadsheet reader stopped on this file ({why}): it is probably damaged; save it again as .xlsx or CSV"


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
    reader = csv.reader(io.StringIO("\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])), delimiter=delim)
    try:
        head_rows = list(reader)
    except csv.Error as exc:
        # csv's own guard: a field over 128 KB (or a stray quote swallowing the file) near the header.
        raise ImportFailed([Problem(label, reader.line_num, None, None,
                                    f"is not a well-formed CSV file near this row ({exc}); "
                                    f"no cell may be longer than {MAX_CELL_CHARS:,} characters")]) from None
    header_at = _header_index(head_rows, required)
    found = header_at is not None  # else the validators say which columns are missing: the better first message
    if header_at is None:
        header_at = _first_nonblank(head_rows)
    if head_rows:
        _check_header(head_rows[header_at], header_at + 1, label)
    lines = text.splitlines(keepends=True)
    body = "".join(lines[header_at:])
    try:
        df = pd.read_csv(io.StringIO(body), sep=delim, dtype=str, keep_default_na=False, skip_blank_lines=False,
                         engine="c")
    except pd.errors.EmptyDataError:
        raise _fail(label, "the file has no header row") from None
    except pd.errors.ParserError as exc:
        raise _fail(label, f"is not a well-formed CSV file: {exc}") from None
    out = _tidy(df, header_at + 1, label)
    short = _last_record_width(body, delim)
    width = len(head_rows[header_at]) if head_rows else 0
    if found and short is not None and short < width and len(out):
        raise ImportFailed([Problem(label, int(out["_row"].iat[-1]), None, None,
                                    f"the last row has {short} of the header's {width} columns: the file looks cut off "
                                    "part-way through a row (copy or download it again, completely)")])
    return out


def _last_record_width(body: str, delim: str) -> int | None:
    """How many fields the file's last non-blank record has (a file cut mid-row has too few)."""
    tail = body[-65536:].rstrip()
    if not tail:
        return None
    last = tail.rsplit("\n", 1)[-1]
    if '"' not in last:
        return last.count(delim) + 1
    # A quoted field may span lines: count the last record properly (rare, so the full pass is fine).
    record = None
    try:
        for record in csv.reader(io.StringIO(body), delimiter=delim):
            pass
    except csv.Error:
        return None
    return len(record) if record else None


def _col_letters(i: int) -> str:
    """Zero-based column index -> spreadsheet letters (0 -> 'A', 26 -> 'AA')."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _check_header(header: list, header_row: int, label: str) -> None:
    """Two columns with one name would load one of them as 'age_1' (or silently drop it): refuse, naming both."""
    seen: dict[str, int] = {}
    problems = []
    for i, cell in enumerate(header):
        name = norm_header(_cell_text(cell))
        if not name:
            continue
        if name in seen:
            j = seen[name]
            problems.append(Problem(label, header_row, name, None,
                                    f"the header row has this column twice: column {_col_letters(j)} "
                                    f"({_cell_text(header[j]).strip()!r}) and column {_col_letters(i)} "
                                    f"({_cell_text(cell).strip()!r}); delete or rename one of them"))
        else:
            seen[name] = i
    if problems:
        raise ImportFailed(problems)


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
    inspect_xlsx(zf, label)
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


def inspect_xlsx(zf: zipfile.ZipFile, label: str) -> None:
    """Refuse a workbook whose zip or sheets are beyond any audit file, before the parser allocates for them.

    Declared sizes are checked first (cheap), then every part is decompressed in chunks with its
    size capped, which also proves each part's CRC: a damaged workbook is refused, not half-read.
    """
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > XLSX_MAX_TOTAL_BYTES:
        raise _fail(label, f"the workbook unpacks to {total / 1e6:,.0f} MB; an audit workbook is at most "
                           f"{XLSX_MAX_TOTAL_BYTES / 1e6:,.0f} MB unpacked (save it as CSV, or check it is the right file)")
    for info in infos:
        if info.file_size > XLSX_MAX_MEMBER_BYTES:
            raise _fail(label, f"part {info.filename!r} of the workbook unpacks to {info.file_size / 1e6:,.0f} MB, "
                               f"more than the {XLSX_MAX_MEMBER_BYTES / 1e6:,.0f} MB an audit sheet can need")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > XLSX_RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO:
            raise _fail(label, f"part {info.filename!r} of the workbook is compressed {ratio:,.0f} times (a spreadsheet "
                               f"is at most about {XLSX_MAX_RATIO} times): it looks like a zip bomb, so it was not opened")
    try:
        paths = _xlsx_sheet_paths(zf) if "xl/_rels/workbook.xml.rels" in zf.namelist() else {}
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
        raise _fail(label, f"is a damaged XLSX file ({exc})") from None
    sheet_of = {p: n for n, p in paths.items()}
    for info in infos:
        data = _unpack(zf, info, label, keep=info.filename in sheet_of or info.filename.startswith("xl/worksheets/"))
        if data is not None:
            _check_extent(data, sheet_of.get(info.filename, info.filename), label)


def _unpack(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, keep: bool) -> bytes | None:
    """Decompress one part with its size capped, proving its CRC; the bytes only when keep."""
    chunks, seen = [], 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                seen += len(chunk)
                if seen > XLSX_MAX_MEMBER_BYTES:
                    raise _fail(label, f"part {info.filename!r} of the workbook unpacks to more than "
                                       f"{XLSX_MAX_MEMBER_BYTES / 1e6:,.0f} MB")
                if keep:
                    chunks.append(chunk)
    except ImportFailed:
        raise
    except zipfile.BadZipFile as exc:
        what = "fails its checksum (CRC)" if "CRC" in str(exc) else f"is damaged ({exc})"
        raise _fail(label, f"is a damaged XLSX file: part {info.filename!r} {what}; save it again or send a fresh copy") from None
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _fail(label, f"is a damaged or unsupported XLSX file: part {info.filename!r} cannot be unpacked ({exc})") from None
    return b"".join(chunks) if keep else None


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?"')


def _sheet_size(xml: bytes) -> tuple[int, int]:
    """(rows, columns) the parser's grid will span: the furthest row and column any row or cell names.

    Rows and cells both carry r="...", rows as digits and cells as letters then digits, and
    ' r="' is a literal prefix, so each pass below is a fast scan (about 2 s over the 160 MB
    sheet of a national needs workbook, against 40 s for the parse itself).
    """
    last = xml.rfind(b"<row ")
    tail = re.search(rb'\br="(\d+)"', xml[last:last + 300]) if last >= 0 else None
    digits = len(tail.group(1)) if tail else 1
    if re.search(rb' r="\d{%d,}"' % (digits + 1), xml):  # rows out of order: some row number is longer
        digits += 1
    found = re.findall(rb' r="(\d{%d,})"' % digits, xml)
    rows = max(max(map(int, found), default=0), xml.count(b"<row") + xml.count(b":row "))  # rows without r count
    letters = re.findall(rb' r="([A-Z]{2,3})\d', xml)
    if letters:
        cols = _col_index(max(letters, key=lambda v: (len(v), v)).decode()) + 1
    elif rows * 26 > XLSX_MAX_CELLS:
        cols = _col_index(max(re.findall(rb' r="([A-Z])\d', xml), default=b"A").decode()) + 1
    else:
        cols = 26 if b' r="' in xml else 0  # one-letter columns only: at most Z, within every limit here
    return rows, cols


def _check_extent(xml: bytes, sheet: str, label: str) -> None:
    """A sheet's declared <dimension> and the furthest row/column its cells name must fit a real audit sheet."""
    dim = _DIMENSION.search(xml, 0, 65536)
    extents = []
    if dim:
        last_col = (dim.group(3) or dim.group(1)).upper().decode()
        last_row = dim.group(4) or dim.group(2)
        if last_col and last_row:
            extents.append(("declares its size as", _col_index(last_col) + 1, int(last_row),
                            dim.group(0).split(b'ref="')[1].rstrip(b'"').decode("ascii", "replace")))
    rows, cols = _sheet_size(xml)
    if rows and cols:
        extents.append(("has cells as far as", cols, rows, f"{_col_letters(cols - 1)}{rows}"))
    for what, n_cols, n_rows, ref in extents:
        too = (f"{n_cols:,} columns (at most {XLSX_MAX_COLUMNS:,})" if n_cols > XLSX_MAX_COLUMNS else
               f"{n_rows:,} rows (at most {XLSX_MAX_ROWS:,})" if n_rows > XLSX_MAX_ROWS else
               f"{n_rows:,} x {n_cols:,} cells (at most {XLSX_MAX_CELLS:,})" if n_rows * n_cols > XLSX_MAX_CELLS else None)
        if too:
            raise _fail(label, f"sheet {sheet!r} {what} {ref}: {too}; delete the empty rows and columns beyond "
                               "the data (or save the sheet as CSV)")


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
    _check_header(header, header_at + 1, label)
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
    _check_cells(df, label)
    blank = (df.drop(columns="_row") == "").all(axis=1) if len(df.columns) > 1 else pd.Series(True, index=df.index)
    df = df[~blank].reset_index(drop=True)
    df.attrs["header_row"] = header_row
    return df


def _check_cells(df: pd.DataFrame, label: str, max_shown: int = 20) -> None:
    """Refuse control characters (a NUL in a child_id) and cells longer than Excel allows, naming each cell."""
    problems = []
    for c in df.columns.drop("_row"):
        values = df[c].tolist()
        blob = "".join(values)  # one scan per column; cell by cell only when something is there
        long = max(map(len, values), default=0) > MAX_CELL_CHARS
        if not long and not CONTROL_CHARS.search(blob):
            continue
        lengths = df[c].str.len()
        for i in range(len(df)):
            v = values[i]
            if lengths.iat[i] > MAX_CELL_CHARS:
                msg = f"the cell holds {lengths.iat[i]:,} characters; a spreadsheet cell holds at most {MAX_CELL_CHARS:,}"
                shown = v[:40]
            elif m := CONTROL_CHARS.search(v):
                msg = (f"the cell holds a control character ({m.group(0)!r} at position {m.start() + 1}), "
                       "which no typed value contains: re-type the cell or re-export the file")
                shown = v
            else:
                continue
            problems.append(Problem(label, int(df["_row"].iat[i]), c, shown, msg))
    if problems:
        extra = len(problems) - max_shown
        problems = problems[:max_shown]
        if extra > 0:
            problems.append(Problem(label, None, None, None, f"... and {extra:,} more cells like these"))
        raise ImportFailed(problems)

