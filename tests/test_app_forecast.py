"""AppTest: the forecast page on the sample (region, an LA, deep links, meeting mode) and on a database without 903 history."""

import pandas as pd

from tests.apptest_support import metrics, qp, run_page, table_with

PAGE = "pages/forecast.py"


def test_region_forecast_tiles_table_chart_and_method(app, sample_db):
    at = run_page(app, PAGE)
    tiles = metrics(at)
    now = sample_db.scalar("SELECT count(*) FROM episodes WHERE place IN ('K1','K2','R1','S1','P3') "
                           "AND decom <= DATE '2024-03-31' AND (dec IS NULL OR dec > DATE '2024-03-31')")
    assert tiles["Residential now (Mar 2024)"] == f"{now:,}"
    assert "Residential by March 2029" in tiles and tiles["Backtest error (MAPE)"].endswith("%")
    # One view at a time: the chart first, the table and the method one click (or ?view=) away.
    assert len(at.get("vega_lite_chart")) == 1 and not at.dataframe and qp(at, "view") is None
    # Residential is the default: on one axis with fostering it was flat. ?category=all shows every category.
    assert set(table_with(run_page(app, PAGE, view="Table"), "Forecast")["Category"]) == {"residential"}
    t = table_with(run_page(app, PAGE, view="Table", category="all"), "Forecast")
    assert set(t["31 March"]) == {f"{y}-03-31" for y in range(2025, 2030)}
    assert set(t["Category"]) == {"residential", "supported", "fostering", "other"}
    assert "All LAs loaded (total)" in set(t["LA"]) and t["LA"].nunique() == 12
    assert not t[["Now", "Forecast", "Lower", "Upper"]].isin(["1", "2", "3", "4"]).any().any()
    method = run_page(app, PAGE, view="How it is made")
    assert any("stock-and-flow model" in m.value and "rolling origins" in m.value for m in method.markdown)
    assert not method.get("vega_lite_chart")
    cands = table_with(method, "naive (last month)")
    assert "stock and flow" in cands.columns and "all" in set(cands["category"])
    assert qp(at, "years") == "5"


def test_deep_link_years_category_and_la(app):
    at = run_page(app, PAGE, years="3", category="residential", la="Norfolk", meeting="1", view="Table")
    assert at.session_state["fc_years"] == 3 and at.session_state["fc_category"] == "residential"
    assert at.title[0].value == "Forecast: Norfolk"
    t = table_with(at, "Forecast")
    assert set(t["Category"]) == {"residential"} and set(t["LA"]) == {"Norfolk"}
    assert set(t["31 March"]) == {"2025-03-31", "2026-03-31", "2027-03-31"}
    assert "Residential by March 2027" in metrics(at)
    assert qp(at, "category") is None and qp(at, "la") == "Norfolk"  # residential, the default, keeps the link short


def test_bad_parameters_fall_back_to_defaults(app):
    at = run_page(app, PAGE, years="lots", category="spaceships")
    assert at.session_state["fc_years"] == 5 and at.session_state["fc_category"] == "residential"  # the default


def test_without_903_history_the_page_explains_how_to_load_it(app, sample_db):
    with sample_db.write() as con:
        con.execute("DELETE FROM episodes")
    sample_db.close()
    at = run_page(app, PAGE)
    assert any("audit import 903" in i.value and "Data" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_cohort_view_splits_the_residential_forecast(app, sample_db):
    at = run_page(app, PAGE, view="By cohort", years="2")
    t = table_with(at, "Cohort")
    k = sample_db.scalar("SELECT count(DISTINCT cohort) FROM child_cohorts")
    assert len(t) == 2 * k and set(t["31 March"]) == {"2025-03-31", "2026-03-31"}
    assert any("keep the share" in c.value for c in at.caption)
    assert not at.get("vega_lite_chart")


def test_age_bands_and_scenarios_views(app):
    at = run_page(app, PAGE, view="Age bands", years="2")
    t = table_with(at, "under 10")
    assert {"10-15", "16+"} <= set(t.columns) and set(t["31 March"]) == {"2024-03-31", "2025-03-31", "2026-03-31"}
    at = run_page(app, PAGE, view="Scenarios and costs", years="2")
    t = table_with(at, "Baseline")
    assert (t["Change"] == "+0").all()  # no change asked for: the scenario is the baseline
    assert any("Enter a weekly cost" in c.value for c in at.caption)
