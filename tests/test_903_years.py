"""The year of a 903 return is decided by its dates, whatever its label says; year-by-year imports accumulate.

Test files are the sample's own returns laid out as LAs and public extracts send them: a multi-LA file with LA and
YEAR columns where YEAR '2019' means the 2019-20 return, and a single-LA folder of yearly files named by the year
the return starts, with DD/MM/YYYY dates.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from audit.intake import ssda903 as import_903
from audit.paths import SAMPLE_DATA
from audit.geography import region

RETURNS = SAMPLE_DATA / "ssda903"
YEARS = (2020, 2021, 2022, 2023, 2024)  # the sample's folders: years ending 31 March
SMALL = ("Southend-on-Sea", "Thurrock", "Luton")


def sample_table(year: int, table: str, las=SMALL) -> pd.DataFrame:
    """One year's table of the sample for a few LAs, as DD/MM/YYYY text with LA names and no YEAR column."""
    df = pd.read_csv(RETURNS / str(year) / f"{table}.csv", dtype=str, keep_default_na=False)
    df["LA"] = df["LA"].map(lambda v: region.la_name(region.la_code(v)))
    df = df[df["LA"].isin(las)].drop(columns=["YEAR"], errors="ignore")
    for c in ("DECOM", "DEC", "DOB"):
        if c in df:
            iso = pd.to_datetime(df[c], format="%Y-%m-%d", errors="coerce")
            df[c] = df[c].where(iso.isna(), iso.dt.strftime("%d/%m/%Y"))
    return df.reset_index(drop=True)


def multi_la_extract(tmp_path, label) -> list:
    """Episodes and header of three LAs over five years in one file each, with YEAR labelled by `label(year)`."""
    out = []
    for table in ("episodes", "header"):
        frames = [sample_table(y, table).assign(YEAR=label(y)) for y in YEARS]
        df = pd.concat(frames, ignore_index=True)
        df = df[["LA", "YEAR"] + [c for c in df.columns if c not in ("LA", "YEAR")]]
        p = tmp_path / f"{table}.csv"
        df.to_csv(p, index=False)
        out.append(p)
    return out


def yearly_folder(tmp_path, la="Thurrock") -> object:
    """One LA's returns as `2019-episodes.csv`, `2019-header.csv` ... (named by the year each starts), no LA column."""
    folder = tmp_path / "returns"
    folder.mkdir()
    for y in YEARS:
        for table in ("episodes", "header"):
            sample_table(y, table, (la,)).drop(columns=["LA"]).to_csv(folder / f"{y - 1}-{table}.csv", index=False)
    return folder


def test_multi_la_extract_labelled_by_the_year_a_return_starts(empty_db, tmp_path):
    r = import_903.load(empty_db, multi_la_extract(tmp_path, lambda y: str(y - 1)))
    assert r.years == list(YEARS) and r.audit_date == dt.date(2024, 3, 31)
    eps = r.files[r.files["table"] == "episodes"].set_index("label")
    assert eps.loc["2019", "year"] == 2020 and eps.loc["2023", "year"] == 2024
    assert eps.loc["2023", "read_as"] == "2023-24" and "starts" in eps.loc["2023", "how"]
    head = r.files[r.files["table"] == "header"].set_index("label")
    assert head["year"].to_dict() == eps["year"].to_dict()
    assert not [w for w in r.warnings if w.column == "year"]


def test_multi_la_extract_labelled_2019_20(empty_db, tmp_path):
    r = import_903.load(empty_db, multi_la_extract(tmp_path, lambda y: f"{y - 1}-{y % 100}"), derive_round=False)
    assert r.years == list(YEARS)
    assert r.files.set_index(["table", "label"]).loc[("episodes", "2019-20"), "year"] == 2020


def test_yearly_folder_of_one_la_in_dd_mm_yyyy(empty_db, tmp_path):
    folder = yearly_folder(tmp_path)
    r = import_903.load(empty_db, [folder], la="Thurrock")
    assert r.years == list(YEARS) and r.audit_date == dt.date(2024, 3, 31)
    got = r.files.set_index("file")["year"]
    for y in YEARS:
        assert got[f"{y - 1}-episodes.csv"] == y and got[f"{y - 1}-header.csv"] == y
    assert set(empty_db.query("SELECT DISTINCT year FROM episodes")["year"]) == set(YEARS)


def test_same_return_gets_the_same_year_however_it_is_named(empty_db, tmp_path):
    df = sample_table(2020, "episodes", ("Luton",))
    # One episode recorded as ending the day after the year end must not move the return to the next year.
    df.loc[df["DEC"] != "", "DEC"] = df.loc[df["DEC"] != "", "DEC"].where(
        df.index[df["DEC"] != ""] != df.index[df["DEC"] != ""][0], "01/04/2020")
    years = {}
    for name in ("episodes.csv", "2019-20/episodes.csv", "2020/episodes.csv", "2019-episodes.csv"):
        p = tmp_path / name.replace("/", "_dir/") if "/" in name else tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(p, index=False)
        files, problems = import_903.read_files([p], None, {p: name})
        table, _ = import_903.assign_years(files)
        years[name] = int(table["year"].iat[0])
    assert set(years.values()) == {2020}, years


def test_a_label_that_contradicts_the_dates_is_read_by_the_dates_with_a_warning(empty_db, tmp_path):
    df = sample_table(2022, "episodes", ("Luton",)).drop(columns=["LA"])
    p = tmp_path / "2015-16" / "episodes.csv"
    p.parent.mkdir()
    df.to_csv(p, index=False)
    r = import_903.load(empty_db, [tmp_path], la="Luton", derive_round=False)
    assert r.years == [2022]
    assert any(w.column == "year" and "2021-22" in w.message for w in r.warnings)


@pytest.mark.parametrize("text,token,years", [("2017", "2017", {2017, 2018}), ("2017-18", "2017-18", {2018}),
                                              ("903/2017_18/header.csv", "2017-18", {2018}),
                                              ("2017-2018", "2017-18", {2018}), ("2017-episodes.csv", "2017", {2017, 2018}),
                                              ("episodes.csv", None, set())])
def test_year_labels(text, token, years):
    assert import_903.year_token(text) == token and import_903.token_years(token) == years


def test_year_from_dates_ignores_a_stray_date():
    decom = pd.to_datetime(pd.Series(["2016-05-01", "2017-06-01", "2017-09-01", "2015-01-01"]))
    dec = pd.to_datetime(pd.Series(["2017-05-01", None, "2018-01-10", "2018-04-01"]))
    best, share = import_903.year_from_dates(decom, dec)
    assert best == [2018] and share == 0.75


def test_year_by_year_imports_accumulate_and_the_forecast_has_the_history(empty_db, tmp_path):
    from audit.analysis import forecast

    folder = yearly_folder(tmp_path)
    all_at_once = tmp_path / "all.duckdb"
    counts = []
    for y in YEARS:
        files = [folder / f"{y - 1}-{t}.csv" for t in ("episodes", "header")]
        import_903.load(empty_db, files, la="Thurrock", derive_round=False)
        counts.append(empty_db.scalar("SELECT count(*) FROM episodes"))
    assert counts == sorted(counts) and counts[0] < counts[-1]
    stored = empty_db.query("SELECT la_code, child_id, decom, dec, place, year FROM episodes ORDER BY ALL")
    assert set(stored["year"]) == set(YEARS)
    assert not stored.duplicated(["la_code", "child_id", "decom"]).any()
    # The same as importing all five years at once, and in reverse order too.
    from audit.db import Database

    for order in (list(YEARS), list(reversed(YEARS))):
        other = Database(tmp_path / f"o{order[0]}.duckdb")
        other.init()
        if order == list(YEARS):
            import_903.load(other, [folder], la="Thurrock", derive_round=False)
        else:
            for y in order:
                import_903.load(other, [folder / f"{y - 1}-{t}.csv" for t in ("episodes", "header")], la="Thurrock",
                                derive_round=False)
        got = other.query("SELECT la_code, child_id, decom, dec, place, year FROM episodes ORDER BY ALL")
        other.close()
        pd.testing.assert_frame_equal(got, stored)
    cov = forecast.coverage(empty_db)
    assert cov["first_year"].tolist() == [2020] and cov["last_year"].tolist() == [2024]
    fc = forecast.forecast(empty_db, 1)
    assert fc.last_date == dt.date(2024, 3, 31)
