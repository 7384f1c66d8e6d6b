"""CSV extracts: Excel-friendly and safe against formula injection."""

import datetime as dt
import io

import pandas as pd

from audit.export import to_csv_bytes


def test_bom_header_iso_dates_and_formula_neutralised():
    df = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+44 1603", "@SUM(A1)", "-cmd", "plain", "\tTab"],
        "n": [1, 2, 3, 4, 5, 6],
        "when": [dt.date(2024, 3, 31)] * 6,
        "neg": ["-5", "-5.5", "x", "y", "z", "w"],
    })
    raw = to_csv_bytes(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "name,n,when,neg"
    back = pd.read_csv(io.StringIO(text), dtype=str)
    assert back["name"].tolist()[:4] == ["'=HYPERLINK(\"http://x\")", "'+44 1603", "'@SUM(A1)", "'-cmd"]
    assert back["name"].iat[4] == "plain" and back["name"].iat[5].startswith("'")
    assert back["when"].iat[0] == "2024-03-31"
    assert back["neg"].tolist()[:2] == ["-5", "-5.5"]  # numbers stay numbers


def test_db_is_taken_before_or_after_the_command(tmp_path, capsys):
    from audit.cli import main

    after, before = tmp_path / "after.duckdb", tmp_path / "before.duckdb"
    assert main(["init", "--db", str(after)]) == 0
    assert main(["--db", str(before), "init"]) == 0
    assert after.exists() and before.exists()
    # Given in both places, the one after the command wins (it is the more specific).
    assert main(["--db", str(tmp_path / "unused.duckdb"), "rounds", "--db", str(after)]) == 0
    assert not (tmp_path / "unused.duckdb").exists()
