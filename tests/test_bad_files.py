"""Bad files: each gives a clear message naming file, row, column and problem, and leaves the database unchanged.

The corpus is generated here from the sample's own needs file, so every bad file
differs from a good one in exactly the way its name says.
"""

from __future__ import annotations

import io
import os
import string

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import taxonomy
from audit.intake import needs as import_needs
from audit.intake import readers
from audit.cli import main
from audit.paths import SAMPLE_DATA
from audit.intake.problems import ImportFailed
from audit.intake.validate import parse_dates
from tests.conftest import file_digest, table_snapshot

CODES = taxonomy.codes()


def good(n: int = 12) -> pd.DataFrame:
    """The first n children of the sample: a known-good needs file."""
    return pd.read_csv(SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False).head(n)


def csv_bytes(df: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return df.to_csv(index=False).encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def frame_rows(df: pd.DataFrame) -> list[list]:
    return [list(df.columns)] + df.values.tolist()


def expect_failure(db, path, *, row=None, column=None, text=None):
    """Import must fail naming the file (and row/column/text when given) and change nothing."""
    before = table_snapshot(db)
    digest = file_digest(db.path)
    with pytest.raises(ImportFailed) as info:
        import_needs.load(db, path, "bad round")
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert errors, "an import that fails must say why"
    assert all(p.file == os.path.basename(path) for p in errors)
    hits = [p for p in errors if (row is None or p.row == row) and (column is None or p.column == column)
            and (text is None or text in p.message)]
    assert hits, [str(p) for p in errors]
    assert table_snapshot(db) == before
    assert file_digest(db.path) == digest
    return errors


# -- The corpus ---------------------------------------------------------------------------------------

def test_empty_file(sample_db, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    expect_failure(sample_db, p, text="empty")


def test_only_blank_lines(sample_db, tmp_path):
    p = tmp_path / "blank.csv"
    p.write_bytes(b"\r\n\r\n   \r\n")
    expect_failure(sample_db, p, text="empty")


def test_header_only(sample_db, tmp_path):
    p = tmp_path / "header_only.csv"
    p.write_bytes(csv_bytes(good(0)))
    expect_failure(sample_db, p, text="no rows")


def test_missing_required_column(sample_db, tmp_path):
    p = tmp_path / "no_age.csv"
    p.write_bytes(csv_bytes(good().drop(columns="age")))
    expect_failure(sample_db, p, row=1, column="age", text="required column is missing")


def test_missing_need_column(sample_db, tmp_path):
    p = tmp_path / "no_cse.csv"
    p.write_bytes(csv_bytes(good().drop(columns="cse")))
    expect_failure(sample_db, p, row=1, column="cse", text="required column is missing")


def test_duplicated_child_ids(sample_db, tmp_path):
    df = good()
    df.loc[5, ["child_id", "la"]] = df.loc[2, ["child_id", "la"]].to_numpy()
    p = tmp_path / "dupes.csv"
    p.write_bytes(csv_bytes(df))
    errors = expect_failure(sample_db, p, row=7, column="child_id", text="duplicates row 4")
    assert errors[0].value == df.loc[2, "child_id"]


@pytest.mark.parametrize("age", ["-1", "26", "14.5", "fourteen", "1e9"])
def test_ages_out_of_range(sample_db, tmp_path, age):
    df = good()
    df.loc[3, "age"] = age
    p = tmp_path / "ages.csv"
    p.write_bytes(csv_bytes(df))
    errors = expect_failure(sample_db, p, row=5, column="age", text="0 to 25")
    assert errors[0].value == age


def test_blank_age(sample_db, tmp_path):
    df = good()
    df.loc[0, "age"] = ""
    p = tmp_path / "blank_age.csv"
    p.write_bytes(csv_bytes(df))
    expect_failure(sample_db, p, row=2, column="age", text="blank")


def test_unknown_la(sample_db, tmp_path):
    df = good()
    df.loc[4, "la"] = "Atlantis"
    p = tmp_path / "la.csv"
    p.write_bytes(csv_bytes(df))
    expect_failure(sample_db, p, row=6, column="la", text="not a local authority")


@pytest.mark.parametrize("value", ["maybe", "2", "YN", "?"])
def test_unknown_need_values(sample_db, tmp_path, value):
    df = good()
    df.loc[1, "cse"] = value
    p = tmp_path / "need.csv"
    p.write_bytes(csv_bytes(df))
    expect_failure(sample_db, p, row=3, column="cse", text="must be Y or N")


def test_formula_in_csv_cell(sample_db, tmp_path):
    df = good()
    df.loc[2, "age"] = "=10+4"
    df.loc[6, "child_id"] = '=HYPERLINK("http://evil.example","x")'
    p = tmp_path / "formula.csv"
    p.write_bytes(csv_bytes(df))
    errors = expect_failure(sample_db, p, row=4, column="age", text="formula")
    assert any(e.row == 8 and e.column == "child_id" for e in errors)


def test_formula_in_xlsx_cell(sample_db, tmp_path):
    rows = frame_rows(good())
    rows[3][2] = "=SUM(1,13)"  # openpyxl writes a formula without a cached value: readers must still see it
    p = tmp_path / "formula.xlsx"
    p.write_bytes(xlsx_bytes({"Children": rows}))
    errors = expect_failure(sample_db, p, row=4, column="age", text="formula")
    assert errors[0].value == "=SUM(1,13)"


def test_cp1252_from_excel_reads_and_reports_decoded_values(sample_db, tmp_path):
    df = good()
    df.loc[1, "la"] = "Southénd"  # 'é' is one byte in Windows-1252
    p = tmp_path / "excel.csv"
    p.write_bytes(csv_bytes(df, "cp1252"))
    errors = expect_failure(sample_db, p, row=3, column="la")
    assert errors[0].value == "Southénd"


def test_cp1252_good_file_loads_with_pound_signs(empty_db, tmp_path):
    df = good()
    df["weekly_cost"] = "£6,100"
    df.loc[0, "child_id"] = "CAFÉ-1"
    p = tmp_path / "excel_good.csv"
    p.write_bytes(csv_bytes(df, "cp1252"))
    r = import_needs.load(empty_db, p, "cp1252")
    assert r.rows == len(df)
    assert set(empty_db.query("SELECT weekly_cost FROM children")["weekly_cost"]) == {6100.0}
    assert "CAFÉ-1" in set(empty_db.query("SELECT child_id FROM children")["child_id"])


def test_utf8_bom_header_is_read(sample_db, empty_db, tmp_path):
    df = good()
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + csv_bytes(df))
    assert import_needs.load(empty_db, p, "bom").rows == len(df)
    df.loc[0, "sex"] = "Q"
    p.write_bytes(b"\xef\xbb\xbf" + csv_bytes(df))
    expect_failure(sample_db, p, row=2, column="sex")


def test_ten_thousand_blank_trailing_rows(sample_db, empty_db, tmp_path):
    df = good()
    blank = ("," * (len(df.columns) - 1) + "\n") * 10_000
    p = tmp_path / "trailing.csv"
    p.write_bytes(csv_bytes(df) + blank.encode())
    assert import_needs.load(empty_db, p, "trailing").rows == len(df)
    df.loc[len(df) - 1, "age"] = "99"
    p.write_bytes(csv_bytes(df) + blank.encode())
    errors = expect_failure(sample_db, p, row=len(df) + 1, column="age")
    assert len(errors) == 1  # blank rows are not problems


def test_ten_thousand_blank_trailing_rows_xlsx(empty_db, tmp_path):
    rows = frame_rows(good()) + [[None] * len(good().columns)] * 10_000
    p = tmp_path / "trailing.xlsx"
    p.write_bytes(xlsx_bytes({"Children": rows}))
    assert import_needs.load(empty_db, p, "trailing xlsx").rows == len(good())


def test_fifty_megabyte_file(sample_db, tmp_path):
    p = tmp_path / "huge.csv"
    row = ",".join(good().iloc[0]) + "\n"
    with open(p, "wb") as fh:
        fh.write((",".join(good().columns) + "\n").encode())
        chunk = (row * 10_000).encode()
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(chunk)
    errors = expect_failure(sample_db, p, text="MB")
    assert "limit" in errors[0].message


@pytest.mark.parametrize("name,data,text", [
    ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "PNG image"),
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "97-2003"),
    ("random.bin", bytes([0, 159, 146, 150, 0, 1, 2, 3]) * 500, "not a CSV or XLSX"),
    ("page.csv", b"<!DOCTYPE html><html><body>Sign in</body></html>", "web page"),
])
def test_not_a_spreadsheet(sample_db, tmp_path, name, data, text):
    p = tmp_path / name
    p.write_bytes(data)
    expect_failure(sample_db, p, text=text)


def test_word_document_is_not_a_workbook(sample_db, tmp_path):
    import zipfile

    p = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    expect_failure(sample_db, p, text="Word document")


def test_prose_text_file(sample_db, tmp_path):
    p = tmp_path / "notes.csv"
    p.write_text("Dear colleague,\nplease find the audit attached.\nThanks\n")
    expect_failure(sample_db, p, column="child_id", text="required column is missing")


def test_xlsx_with_instructions_sheet_before_the_data(empty_db, tmp_path):
    p = tmp_path / "several.xlsx"
    p.write_bytes(xlsx_bytes({"Read me": [["How to fill this in"], ["child_id", "one per child"]],
                              "Children": [["Needs audit 2025"], []] + frame_rows(good())}))
    r = import_needs.load(empty_db, p, "sheets")
    assert r.rows == len(good())


def test_xlsx_with_two_data_sheets_is_ambiguous(sample_db, tmp_path):
    p = tmp_path / "two.xlsx"
    p.write_bytes(xlsx_bytes({"Norfolk": frame_rows(good(4)), "Suffolk": frame_rows(good(8).tail(4))}))
    errors = expect_failure(sample_db, p, text="2 sheets")
    assert "'Norfolk'" in errors[0].message and "'Suffolk'" in errors[0].message


def test_xlsx_with_no_data_sheet(sample_db, tmp_path):
    p = tmp_path / "wrong.xlsx"
    p.write_bytes(xlsx_bytes({"Summary": [["total", 12]], "Chart data": [["la", "n"], ["Norfolk", 3]]}))
    errors = expect_failure(sample_db, p, text="none of the workbook's sheets")
    assert "'Summary'" in errors[0].message


def test_cli_reports_one_line_per_problem_and_exit_2(sample_db, tmp_path, capsys):
    df = good()
    df.loc[0, "la"] = "Atlantis"
    df.loc[1, "age"] = "40"
    p = tmp_path / "cli_bad.csv"
    p.write_bytes(csv_bytes(df))
    before = table_snapshot(sample_db)
    sample_db.close()
    assert main(["--db", str(sample_db.path), "import", "needs", str(p), "--round", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    problems = [line for line in err if not line.startswith("[")]
    assert "cli_bad.csv, row 2, column 'la': is not a local authority" in problems[0]
    assert any("row 3, column 'age'" in line for line in problems)
    assert table_snapshot(sample_db) == before


# -- Properties ------------------------------------------------------------------------------------------

FLAG_SPELLINGS = ["Y", "y", "yes", "YES", "1", "true", "N", "n", "no", "0", "False", ""]
row_strategy = st.fixed_dictionaries({
    "age": st.integers(0, 25),
    "la": st.sampled_from(["Norfolk", "NORFOLK", "E10000020", "southend on sea", "Bedford", "Central Bedfordshire"]),
    "flags": st.lists(st.sampled_from(FLAG_SPELLINGS), min_size=22, max_size=22),
})


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame({"child_id": [f"C{i}" for i in range(len(rows))], "la": [r["la"] for r in rows],
                       "age": [str(r["age"]) for r in rows]})
    for j, code in enumerate(CODES):
        df[code] = [r["flags"][j] for r in rows]
    return df


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy, min_size=1, max_size=15))
def test_any_valid_file_parses_to_the_values_written(tmp_path, rows):
    df = _frame(rows)
    p = tmp_path / "prop.csv"
    p.write_bytes(csv_bytes(df))
    parsed, problems = import_needs.parse(p)
    assert not [x for x in problems if x.severity == "error"]
    assert parsed["age"].tolist() == [r["age"] for r in rows]
    for j, code in enumerate(CODES):
        expect = [None if f == "" else f.lower() in ("y", "yes", "1", "true") for f in (r["flags"][j] for r in rows)]
        got = [None if pd.isna(v) else bool(v) for v in parsed[code]]
        assert got == expect


bad_cell = st.one_of(
    st.tuples(st.just("age"), st.sampled_from(["-3", "26", "7.5", "x", "=1+1", "NaN"])),
    st.tuples(st.just("la"), st.sampled_from(["Atlantis", "Wales", "E99999999", "=A1"])),
    st.tuples(st.sampled_from(CODES), st.sampled_from(["maybe", "2", "-", "=TRUE()", "yess"])),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy, min_size=2, max_size=10), where=st.integers(0, 9), cell=bad_cell)
def test_one_bad_cell_is_found_at_its_row_and_column(tmp_path, rows, where, cell):
    df = _frame(rows)
    i = where % len(df)
    column, value = cell
    df.loc[i, column] = value
    p = tmp_path / "bad_prop.csv"
    p.write_bytes(csv_bytes(df))
    with pytest.raises(ImportFailed) as info:
        import_needs.parse(p)
    errors = [x for x in info.value.problems if x.severity == "error"]
    assert [(e.row, e.column, e.value) for e in errors] == [(i + 2, column, value)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path, data):
    p = tmp_path / "any.bin"
    p.write_bytes(data)
    try:
        df = readers.read_table(p, required={"child_id", "la", "age"})
    except ImportFailed as exc:
        assert exc.problems and all(x.file == "any.bin" for x in exc.problems)
    else:
        assert "_row" in df.columns


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=string.printable + "£éü’", max_size=400))
def test_arbitrary_text_never_crashes_the_needs_parser(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("txt") / "any.csv"
    p.write_bytes(text.encode("utf-8"))
    try:
        import_needs.parse(p)
    except ImportFailed as exc:
        assert any(x.severity == "error" for x in exc.problems)


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2035-12-31").date()))
def test_both_903_date_formats_mean_the_same_day(day):
    s = pd.Series([day.strftime("%d/%m/%Y"), day.isoformat(), day.isoformat() + " 00:00:00"])
    assert (parse_dates(s) == pd.Timestamp(day)).all()
