"""Forecast: how many children each placement category will need in the coming years, from SSDA903 history."""

import streamlit as st

from audit.charts import forecast as figures_forecast
from audit import glossary
from audit.analysis import forecast
from audit.filters import url_int
from audit.suppress import Suppressed
from pages import ui

ctx = ui.context()
ALL = "All categories"
# Residential is the network's question, and on one axis fostering (about 4,000 children) flattens it.
DEFAULT = "residential"
LABELS = {ALL: ALL, **forecast.CATEGORY_LABELS}


def _from_url() -> None:
    """First run on this page: the URL decides years and category, so a shared link reproduces the view."""
    if "fc_years" in st.session_state:
        return
    qp = st.query_params
    st.session_state["fc_years"], note = url_int(qp.get("years"), forecast.DEFAULT_YEARS, 1, forecast.MAX_YEARS,
                                                 "Years ahead")
    st.session_state["fc_notes"] = [note] * bool(note)
    chosen = qp.get("category")
    st.session_state["fc_category"] = chosen if chosen in forecast.CATEGORY_ORDER else ALL if chosen == "all" else DEFAULT


def _to_url() -> None:
    """Mirror the pickers in the URL next to the shared filters."""
    category = st.session_state["fc_category"]
    ui.url_params({"years": str(st.session_state["fc_years"]), "category": None if category == DEFAULT else "all" if category == ALL else category})


_from_url()
where = ui.header("Forecast", "Children looked after by placement category: the last five years from SSDA903 returns, "
                  "and a forecast with its uncertainty for the years ahead.", "fc_notes")
left, right = ui.controls().columns([2, 3])
years = left.slider("Years ahead", 1, forecast.MAX_YEARS, key="fc_years")
category = right.selectbox("Placement category", list(LABELS), format_func=LABELS.get, key="fc_category")
_to_url()

try:
    # Fitting every LA's and category's model takes several seconds on a cold server: say so.
    with st.spinner("Fitting the forecast from the SSDA903 history…"):
        fc = ui.cached(forecast.forecast, years)
except forecast.NoHistory as exc:
    st.info(f"**No forecast yet:** {exc}.\n\nThe forecast learns from SSDA903 (children looked after) returns. "
            "Load two or more years of them on the **Data** page (tab *SSDA903 returns*), or from the command line: "
            "`audit import 903 FOLDER`.", icon=":material/info:")
    st.stop()

key = ctx.filters.la or forecast.TOTAL
if key not in set(fc.table["la"]):
    st.info(f"The SSDA903 history loaded does not cover {where}: load its returns on the Data page.",
            icon=":material/info:")
    st.stop()
table = ui.cached(forecast.published_table, years, ctx.viewer)
ui.kpi_tiles(ui.cached(forecast.tiles, years, ctx.filters.la, ctx.viewer), per_row=5)
summary = forecast.backtest_summary(ui.cached(forecast.backtest, ctx.filters.la))

VIEWS = ["Chart", "Table", "Age bands", "Scenarios and costs", "By cohort", "How it is made"]


def chart_view() -> None:
    """History and forecast per category, with the forecast's range shaded."""
    title = f"Children looked after by placement category, {where}" if category == ALL else \
        f"{LABELS[category]}: children looked after, {where}"
    with st.spinner("Drawing the forecast…"):
        chart, chart_csv = ui.cached(figures_forecast.page_chart, years, ctx.filters.la,
                                     None if category == ALL else category, title, ctx.meeting, ctx.viewer)
    ui.chart(chart, chart_csv, "forecast_chart")
    st.caption(f"Solid: children looked after at each month end. Dashed: forecast for 31 March of each year, "
               f"with its {fc.level:.0%} range shaded. Numbers of 1-4 are not drawn.")


def table_view() -> None:
    """The forecast for every year (and LA) with its bounds, suppressed."""
    shown = table.display[table.display["la"] == key] if ctx.filters.la else table.display
    if category != ALL:
        shown = shown[shown["category"] == category]
    out = shown.rename(columns={"year": "31 March", "la_name": "LA", "category": "Category", "observed": "Now",
                                "observed_at": "Now (date)", "demand": "Forecast", "lower": "Lower", "upper": "Upper",
                                "interval": "Range"})
    # Wrapped as Suppressed so the table shows the legend when anything is hidden.
    ui.table(Suppressed(out, out, table.mask.loc[shown.index]), "forecast", hide=("la",),
             key=("31 March", "LA", "Category", "Forecast", "Range"))


def cohort_view() -> None:
    """How many residential places each cohort of the audit round will need, if its share stays the same."""
    split = ui.cached(forecast.by_cohort, years, ctx.filters.round_id, ctx.filters.la, ctx.viewer)
    if split is None:
        st.info("Cohorts appear here once they have been fitted for this audit round (Cohorts page).",
                icon=":material/info:")
        return
    st.caption(f"The residential forecast for {where}, split by the cohorts of the audit round in the sidebar: each "
               "cohort is assumed to keep the share of children in residential care it has in that round. Forecasts "
               "are rounded to whole children; shares and forecasts resting on a hidden count are hidden with it.")
    out = split.display.rename(columns={"year": "31 March", "cohort": "Cohort", "children_in_audit": "Children in audit",
                                        "share_pct": "Share (%)", "demand": "Forecast", "lower": "Lower",
                                        "upper": "Upper"})
    ui.table(Suppressed(out, out, split.mask.set_axis(out.columns, axis=1)), "forecast_by_cohort",
             key=("31 March", "Cohort", "Forecast", "Lower", "Upper"))


def bands_view() -> None:
    """Children by age band now and in each forecast year (the stock-and-flow model's split of the forecast)."""
    bands = ui.cached(forecast.age_bands_for, years, ctx.filters.la, ctx.viewer)
    if category != ALL:
        bands = bands[bands["category"] == category]
    st.caption(f"Children looked after in {where} by age band: the first year is the count now; later years split "
               "each category's forecast as the stock-and-flow model (entries, exits, moves and birthdays by age band) "
               "splits it. Numbers of 1-4 show as <5.")
    out = bands.rename(columns={"year": "31 March", "category": "Category"})
    ui.table(Suppressed(out, out, out.isin(["<5", "c"])), "forecast_age_bands")


def scenario_view() -> None:
    """A scenario the user sets against the baseline, and the weekly cost of the placements at costs they give."""
    a, b = st.columns(2)
    entries = a.slider("Children entering care each month (% change)", -50, 50, 0, step=5, key="fc_entries")
    step = b.slider("Extra step-downs: % of children in residential care moving to fostering each month", 0.0, 5.0,
                    0.0, step=0.5, key="fc_stepdown")
    comp = ui.cached(forecast.scenario_table, years, ctx.filters.la, float(entries), float(step), ctx.viewer)
    if category != ALL:
        comp = comp[comp["category"] == category]
    out = comp.rename(columns={"year": "31 March", "category": "Category", "baseline": "Baseline",
                               "scenario": "Scenario", "scenario_range": "Scenario range", "change": "Change"})
    ui.table(Suppressed(out, out, out.isin(["<5", "c"])), "forecast_scenario")
    st.caption("The scenario changes the stock-and-flow model's entries or moves and shifts every method's forecast by "
               "the difference it makes; the range moves with it.")
    st.markdown("**Weekly cost of the placements** (enter your own weekly cost per placement; none is assumed)")
    cols = st.columns(len(forecast.CATEGORY_ORDER))
    costs = tuple((c, float(col.number_input(forecast.CATEGORY_LABELS[c], min_value=0, value=0, step=50,
                                             key=f"fc_cost_{c}"))) for c, col in zip(forecast.CATEGORY_ORDER, cols))
    cost = ui.cached(forecast.costs_for, years, ctx.filters.la, costs, ctx.viewer)
    if cost.empty:
        st.caption("Enter a weekly cost for a category to see the cost of its forecast placements.")
        return
    shown = cost.rename(columns={"year": "31 March", "category": "Category", "weekly_cost": "£ a week",
                                 "lower": "Lower", "upper": "Upper"})
    ui.table(Suppressed(shown, shown, shown.isna()), "forecast_costs")


view, box = ui.views(VIEWS)
with box:
    if view == VIEWS[0]:
        chart_view()
    elif view == VIEWS[1]:
        table_view()
    elif view == VIEWS[2]:
        bands_view()
    elif view == VIEWS[3]:
        scenario_view()
    elif view == VIEWS[4]:
        cohort_view()
    else:
        st.markdown(forecast.method_note(fc, summary))
        st.dataframe(forecast.candidate_table(summary).round(2), hide_index=True, width="stretch")
        st.markdown("**Words used**\n" + glossary.note("MAPE") + "\n" + "\n".join(
            f"- **{code}**: {words}" for code, words in glossary.PLACEMENT_CODES.items()))
