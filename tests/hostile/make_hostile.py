"""Hostile files for the intake fuzz suite, generated rather than stored: the repository holds no zip bomb.

Each function returns a file's bytes built from rows of a good file, so every file differs from
a good one only in its attack. `python tests/hostile/make_hostile.py OUT_DIR` writes the corpus
(from the sample's needs file) to a folder, to try by hand against the CLI or the app.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>')


def _col(i: int) -> str:
    """Zero-based column index -> letters."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def sheet_xml(rows: list[list[str]], dimension: str | None = None, far_cell: str | None = None, padding: int = 0) -> bytes:
    """A worksheet of inline strings; optionally a declared size, one far-away cell, or compressible padding."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{_col(c)}{r}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>' for c, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    if far_cell:
        body.append(f'<row r="{far_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{far_cell}" t="inlineStr"><is><t>x</t></is></c></row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'{dim}<sheetData>')
    return head.encode() + "".join(body).encode() + b" " * padding + b"</sheetData></worksheet>"


def xlsx(sheet: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal workbook around one worksheet."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def csv_text(rows: list[list[str]]) -> str:
    """Rows as CSV text (Excel's way: every field, CRLF line ends)."""
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def _forty_rows(rows: list[list[str]]) -> list[list[str]]:
    """The header and at least forty data rows (copies of the good ones)."""
    body = [list(r) for r in rows[1:]]
    return [list(rows[0])] + [list(body[i % len(body)]) for i in range(max(40, len(body)))]


# -- the corpus: name -> (bytes, words the refusal must contain) --------------------------------------
def far_cell(rows):
    """One cell at the last column and row Excel has: the parser would allocate 512 GB for the grid."""
    return xlsx(sheet_xml(rows, far_cell="XFD1048576")), "XFD1048576"


def declared_dimension(rows):
    """A small sheet that declares itself 16,384 columns by 1,048,576 rows."""
    return xlsx(sheet_xml(rows, dimension="A1:XFD1048576")), "A1:XFD1048576"


def zip_bomb(rows):
    """20 MB of sheet that deflates to about 20 KB (a real bomb is the same, only bigger)."""
    return xlsx(sheet_xml(rows, padding=20 * 1024 * 1024)), "zip bomb"


def crc_mismatch(rows):
    """A stored (uncompressed) workbook with one byte of the sheet changed after its checksum was taken."""
    raw = bytearray(xlsx(sheet_xml(rows), compression=zipfile.ZIP_STORED))
    at = raw.index(b"<sheetData>") + len(b"<sheetData>") + 1  # the 'r' of the first <row
    raw[at] = ord("R")
    return bytes(raw), "checksum"


def truncated_xlsx(rows):
    """A workbook cut off part-way (an interrupted download)."""
    raw = xlsx(sheet_xml(rows))
    return raw[: len(raw) * 2 // 3], "damaged"


def truncated_csv(rows):
    """A CSV cut off in the middle of its last row."""
    text = csv_text(rows).rstrip("\r\n")
    last = text.rsplit("\n", 1)[1]
    first, second = last.split(",")[:2]
    cut = len(text) - len(last) + len(first) + 1 + max(1, len(second) // 2)  # the first field and half the second
    return text[:cut].encode(), "cut off"


def nul_byte(rows):
    """A NUL byte inside the first data row's first cell (a child_id, a URN)."""
    rows = [list(r) for r in rows]
    rows[1][0] = rows[1][0][:2] + "\x00" + rows[1][0][2:]
    return csv_text(rows).encode(), "NUL"


def control_char(rows):
    """An escape character in a cell forty rows down (past the rows read to find the header)."""
    rows = _forty_rows(rows)
    rows[40][0] = "\x1b[31m" + rows[40][0]
    return csv_text(rows).encode(), "control character"


def duplicate_header(rows):
    """The first column's name twice (the second in capitals), which pandas would load as name_1."""
    rows = [list(r) + [r[0]] for r in rows]
    rows[0][-1] = rows[0][0].upper()
    return csv_text(rows).encode(), "twice"


def huge_cell(rows):
    """A 140,000-character cell in the first data row (over csv's 128 KB field limit)."""
    rows = [list(r) for r in rows]
    rows[1][0] = "x" * 140_000
    return csv_text(rows).encode(), "longer than"


def long_cell_late(rows):
    """A 40,000-character cell forty rows down: longer than any spreadsheet cell can hold."""
    rows = _forty_rows(rows)
    rows[40][0] = "y" * 40_000
    return csv_text(rows).encode(), "at most 32,767"


CORPUS = {
    "far_cell.xlsx": far_cell, "declared_dimension.xlsx": declared_dimension, "zip_bomb.xlsx": zip_bomb,
    "crc_mismatch.xlsx": crc_mismatch, "truncated.xlsx": truncated_xlsx, "truncated.csv": truncated_csv,
    "nul_byte.csv": nul_byte, "control_char.csv": control_char, "duplicate_header.csv": duplicate_header,
    "huge_cell.csv": huge_cell, "long_cell_late.csv": long_cell_late,
}


def main(out: str) -> None:
    """Write the corpus, built from the sample's needs file, to a folder."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from audit.paths import SAMPLE_DATA

    rows = list(csv.reader(io.StringIO((SAMPLE_DATA / "needs.csv").read_text())))[:6]
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, make in CORPUS.items():
        (Path(out) / name).write_bytes(make(rows)[0])
        print(Path(out) / name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "hostile-files")
