"""903 files as LAs really get them wrong: each variant gives a clear message and exit 2, or a stated warning.

Every file is one of the sample's own returns (Luton, 2023-24) changed the way the variant describes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from audit import cli
from audit.intake import ssda903 as import_903
from audit.intake.problems import ImportFailed
from audit.paths import SAMPLE_DATA
from tests.conftest import table_snapshot

RETURNS = SAMPLE_DATA / "ssda903"


def luton(table: str) -> pd.DataFrame:
    """Luton's rows of the sample's 2023-24 table (ISO dates, ONS code, YEAR column)."""
    df = pd.read_csv(RETURNS / "2024" / f"{table}.csv", dtype=str, keep_default_na=False)
    return df[df["LA"] == "E06000032"].reset_index(drop=True)


def write(tmp_path, **tables) -> list:
    """Each table to <name>.csv in tmp_path; the paths."""
    out = []
    for name, df in tables.items():
        p = tmp_path / f"{name}.csv"
        df.to_csv(p, index=False)
        out.append(p)
    return out


def run_cli(db, paths, *extra, capsys):
    """`audit import 903` on paths: exit code, stdout, stderr."""
    code = cli.main(["--db", str(db.path), "import", "903", *map(str, paths), *extra])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_missing_dec_column_is_a_clear_error_not_a_traceback(empty_db, tmp_path, capsys):
    paths = write(tmp_path, episodes=luton("episodes").drop(columns=["DEC"]), header=luton("header"))
    before = table_snapshot(empty_db)
    code, out, err = run_cli(empty_db, paths, capsys=capsys)
    assert code == 2 and "episodes.csv, column 'DEC': the episodes file has no DEC column" in err
    assert "Traceback" not in err and table_snapshot(empty_db) == before


def test_dec_before_decom_names_the_rows(empty_db, tmp_path, capsys):
    eps = luton("episodes")
    i = eps.index[eps["DEC"] != ""][2]
    eps.loc[i, "DEC"] = (pd.Timestamp(eps.loc[i, "DECOM"]) - pd.Timedelta(days=3)).date().isoformat()
    code, out, err = run_cli(empty_db, write(tmp_path, episodes=eps, header=luton("header")), capsys=capsys)
    assert code == 2 and f"row {i + 2}, column 'DEC'" in err and "cannot end before it starts" in err


def us_dates(s: pd.Series) -> pd.Series:
    """ISO dates rewritten MM/DD/YYYY, as a US-configured spreadsheet saves them."""
    d = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    return d.dt.strftime("%m/%d/%Y").fillna("")


def test_us_dates_with_every_day_12_or_less_are_read_month_first_with_a_warning(empty_db, tmp_path):
    eps = luton("episodes")
    days = pd.to_datetime(eps["DECOM"]).dt.day.le(12) & (pd.to_datetime(eps["DEC"], errors="coerce").dt.day.fillna(1) <= 12)
    eps = eps[days].reset_index(drop=True)
    truth = eps[["CHILD", "DECOM", "DEC"]].copy()
    header = luton("header")
    header = header[header["CHILD"].isin(eps["CHILD"])]
    for c in ("DECOM", "DEC"):
        eps[c] = us_dates(eps[c])
    header["DOB"] = us_dates(header["DOB"])
    # Read day first, some episodes would end before they start: the contradiction the importer must catch.
    dmy = eps[eps["DEC"] != ""].apply(lambda r: pd.to_datetime(r["DEC"], dayfirst=True) < pd.to_datetime(r["DECOM"], dayfirst=True), axis=1)
    assert dmy.sum() > 0
    r = import_903.load(empty_db, write(tmp_path, episodes=eps.drop(columns=["YEAR"]), header=header.drop(columns=["YEAR"])),
                        derive_round=False)
    assert any("MM/DD/YYYY" in w.message and w.file == "episodes.csv" for w in r.warnings)
    assert any("MM/DD/YYYY" in w.message and w.file == "header.csv" for w in r.warnings)
    got = empty_db.query("SELECT child_id, CAST(decom AS VARCHAR) AS decom, coalesce(CAST(dec AS VARCHAR), '') AS dec FROM episodes")
    want = truth.rename(columns={"CHILD": "child_id", "DECOM": "decom", "DEC": "dec"})
    key = ["child_id", "decom"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True))
    assert r.years == [2024]


def test_header_missing_children_is_counted(empty_db, tmp_path):
    header = luton("header")
    kept = header.iloc[: len(header) * 2 // 3]
    r = import_903.load(empty_db, write(tmp_path, episodes=luton("episodes"), header=kept), derive_round=False)
    n = luton("episodes")["CHILD"].nunique() - luton("episodes")["CHILD"].isin(kept["CHILD"]).groupby(
        luton("episodes")["CHILD"]).any().sum()
    msg = [w.message for w in r.warnings if w.column == "CHILD"]
    assert msg and msg[0].startswith(f"{n:,} of {luton('episodes')['CHILD'].nunique():,} children")


def test_extra_columns_and_unknown_place_codes_are_summarised(empty_db, tmp_path, capsys):
    eps = luton("episodes").assign(NOTES="x")
    eps.loc[[1, 4, 9], "PLACE"] = "Q9"
    eps.loc[7, "PLACE"] = "ZZ"
    code, out, err = run_cli(empty_db, write(tmp_path, episodes=eps, header=luton("header")), capsys=capsys)
    assert code == 0
    lines = [x for x in err.splitlines() if "PLACE'" in x]
    assert len(lines) == 1 and "4 rows" in lines[0] and "Q9 ×3" in lines[0] and "ZZ ×1" in lines[0]
    assert "note: episodes.csv: columns NOTES are not SSDA903 episodes columns: not used" in err


def test_impossible_audit_date_exits_2(empty_db, tmp_path, capsys):
    paths = write(tmp_path, episodes=luton("episodes"), header=luton("header"))
    code, out, err = run_cli(empty_db, paths, "--audit-date", "2024-13-45", capsys=capsys)
    assert code == 2 and "'2024-13-45'" in err and "YYYY-MM-DD" in err


def test_episodes_without_header_says_the_header_is_missing(empty_db, tmp_path, capsys):
    code, out, err = run_cli(empty_db, write(tmp_path, episodes=luton("episodes")), capsys=capsys)
    assert code == 2 and "the header file (CHILD, SEX, DOB ...) is missing" in err
    assert "choose another audit date" not in err


def test_workbook_with_several_sheets_reads_every_903_sheet(empty_db, tmp_path):
    p = tmp_path / "luton_903.xlsx"
    with pd.ExcelWriter(p) as xl:
        pd.DataFrame({"About": ["SSDA903 return, Luton, 2023-24"]}).to_excel(xl, sheet_name="Notes", index=False)
        luton("episodes").to_excel(xl, sheet_name="Episodes", index=False)
        luton("header").to_excel(xl, sheet_name="Header", index=False)
        luton("uasc").to_excel(xl, sheet_name="UASC", index=False)
    r = import_903.load(empty_db, [p])
    csv = import_903.load(empty_db, write(tmp_path, episodes=luton("episodes"), header=luton("header")))
    assert set(r.files["table"]) >= {"episodes", "header"} and r.children == csv.children > 0
    assert any("'Notes'" in w.message and w.severity == "note" for w in r.warnings)


def test_folder_without_la_column_names_the_la_option_once(empty_db, tmp_path, capsys):
    folder = tmp_path / "luton"
    folder.mkdir()
    write(folder, episodes=luton("episodes").drop(columns=["LA"]), header=luton("header").drop(columns=["LA"]),
          missing=luton("missing").drop(columns=["LA"]))
    code, out, err = run_cli(empty_db, [folder], capsys=capsys)
    lines = [x for x in err.splitlines() if "no LA column" in x]
    assert code == 2 and len(lines) == 1 and "--la" in lines[0] and "3 file(s)" in lines[0]
    code, out, err = run_cli(empty_db, [folder], "--la", "Luton Borough Council", capsys=capsys)
    assert code == 0


def test_ignored_files_are_notes_not_errors(empty_db, tmp_path, capsys):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("CHILD,DOB,REVIEW,REVIEW_CODE\n1,01/01/2010,01/01/2024,PN1\n")
    code, out, err = run_cli(empty_db, write(tmp_path, episodes=luton("episodes"), header=luton("header")) + [reviews],
                             capsys=capsys)
    assert code == 0
    assert [x for x in err.splitlines() if "reviews.csv:" in x] == [
        "note: reviews.csv: is an SSDA903 reviews table, which the audit does not use: ignored"]


def test_london_borough_names_are_las_and_outside_las_show_their_names(empty_db, tmp_path):
    eps, header = luton("episodes"), luton("header")
    eps["LA"] = "London Borough of Southwark"
    header["LA"] = "Southwark"
    r = import_903.load(empty_db, write(tmp_path, episodes=eps, header=header), derive_round=False)
    assert r.by_la[["la_code", "la"]].values.tolist() == [["E09000028", "Southwark"]]
    from audit.geography import region

    assert region.la_name("E08000025") == "Birmingham" and region.la_name("E10000020") == "Norfolk"
    assert region.english_la_code("Norfolk County Council") == "E10000020"
    assert region.la_code("London Borough of Southwark") is None  # not one of the region's 11
