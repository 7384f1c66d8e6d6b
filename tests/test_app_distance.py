"""AppTest: the distance and flows page runs on the sample, follows the shared filters and suppresses small numbers."""

from tests.apptest_support import metrics, plant_exploitation_cohort, qp, run_page, table_with

NORFOLK = "E10000020"


TABLE_OPEN = {"distance_table_open": True}


def test_region_tiles_tables_and_downloads(app, sample_db):
    closed = run_page(app, "pages/distance.py")
    assert len(closed.get("vega_lite_chart")) == 1 and not closed.dataframe  # the table waits behind its expander
    at = run_page(app, "pages/distance.py", state=TABLE_OPEN)
    n = sample_db.scalar("SELECT count(*) FROM children")
    far = sample_db.scalar("SELECT avg(CASE WHEN distance_km > 20 * 1.609344 THEN 100.0 ELSE 0 END) FROM children "
                           "WHERE distance_km IS NOT NULL")
    assert metrics(at)["Children"] == f"{n:,}"
    assert metrics(at)["Over 20 miles from home"] == f"{far:.0f}%"
    by_la = table_with(at, "% over 20 miles")
    assert len(by_la) == 12 and by_la["LA"].iloc[-1] == "Whole region"
    assert len(at.get("vega_lite_chart")) == 1 and qp(at, "view") is None  # one view at a time
    flows_at = run_page(app, "pages/distance.py", view="Where children are placed")
    flows = table_with(flows_at, "Home LA")
    assert "Outside region" in flows.columns and len(flows) == 11
    assert not flows.drop(columns="Home LA").isin(["1", "2", "3", "4"]).any().any()
    assert not any("% over 20 miles" in str(f.value.columns) for f in flows_at.dataframe)
    use_at = run_page(app, "pages/distance.py", view="Who uses each LA's places")
    use = table_with(use_at, "Used by its own children")
    assert len(use) == 11
    labels = [b.label for at_ in (at, flows_at, use_at) for b in at_.get("download_button")]
    assert labels.count("Download CSV") >= 3 and labels.count("Download chart data (CSV)") >= 3


def test_la_link_shows_that_las_figures(app, sample_db):
    at = run_page(app, "pages/distance.py", la="Norfolk")
    n = sample_db.scalar("SELECT count(*) FROM children WHERE la_code = $la", {"la": NORFOLK})
    assert metrics(at)["Children"] == f"{n:,}"
    assert at.title[0].value == "Distance and flows: Norfolk"


def test_age_band_and_meeting_mode(app, sample_db):
    at = run_page(app, "pages/distance.py", state=TABLE_OPEN, age="16-17", meeting="1")
    n = sample_db.scalar("SELECT count(*) FROM children WHERE age BETWEEN 16 AND 17")
    assert metrics(at)["Children"] == f"{n:,}"
    by_la = table_with(at, "% over 20 miles")
    assert not by_la["Children"].isin(["1", "2", "3", "4"]).any()


def test_cohort_table_once_cohorts_exist(app, sample_db):
    rid = int(sample_db.q("rounds")["round_id"].iat[0])
    plant_exploitation_cohort(sample_db, rid)
    # DuckDB shares one instance per path within a process: close ours so the app opens the new file.
    sample_db.close()
    at = run_page(app, "pages/distance.py", view="By cohort")
    cohorts = table_with(at, "Cohort")
    assert cohorts["Cohort"].tolist() == ["Exploitation", "Other", "All"]
    assert not at.get("vega_lite_chart")  # the cohort table is a view of its own
