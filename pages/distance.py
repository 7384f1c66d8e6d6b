"""Distance and flows: how far from home children are placed, and whose children fill which LA's places."""

import streamlit as st

from audit.analysis import distance
from audit.charts import flows as figures_flows
from audit.suppress import headline_tiles
from pages import ui

ctx = ui.context()
where = ui.header("Distance and flows", "How far from home children in residential care are placed, and which LAs' "
                  "children fill which LAs' places.")

summary = ui.cached(distance.by_la, ctx.filters, ctx.viewer)
key = "All" if ctx.filters.la is None else ctx.filters.la
row = summary.display[summary.display["la_code"] == key]
if len(row):
    r = row.iloc[0]
    fmt = lambda v, suffix="%": v if isinstance(v, str) else ("–" if v != v else f"{v:.0f}{suffix}")
    tiles, hidden_note = headline_tiles({
        "Children": str(r["Children"]) if isinstance(r["Children"], str) else f"{int(r['Children']):,}",
        "Median distance": fmt(r["Median km"], " km"),
        "Over 20 miles from home": fmt(r["% over 20 miles"]),
        "Outside own LA": fmt(r["% outside own LA"]),
        "Outside the region": fmt(r["% outside the region"]),
    })
    ui.kpi_tiles(tiles, per_row=5)
    if hidden_note:
        st.caption(hidden_note)

VIEWS = ["Distance from home", "By cohort", "Where children are placed", "Who uses each LA's places"]


def distance_view() -> None:
    """How far from home each LA's children (and each cohort's) are placed."""
    bands = ui.cached(distance.bands, ctx.filters, ctx.viewer)
    labels = [b[2] for b in distance.BANDS]
    chart_data = bands.numeric[labels].assign(LA=bands.display["LA"].to_numpy())
    ui.chart(figures_flows.distance_bands_figure(chart_data, labels, large=ctx.meeting, marks=bands.display),
             bands.display.drop(columns="la_code"), "distance_bands")
    # The full table opens on request, so the view draws its chart first (as on the overview).
    if table := ui.expander("Every distance figure for every LA", "distance_table_open"):
        with table:
            ui.table(summary, "distance_by_la", hide=("la_code",))


def cohort_view() -> None:
    """How far from home each cohort's children are placed."""
    cohorts = ui.cached(distance.by_cohort, ctx.filters, ctx.viewer)
    if cohorts is None:
        st.caption("Cohorts appear here once they have been fitted for this audit round.")
    else:
        ui.table(cohorts, "distance_by_cohort", hide=("la_code",))


def flows_view() -> None:
    """Which LA each LA's children are placed in: the matrix as a chart and as a table."""
    flows_s = ui.cached(distance.flow_matrix, ctx.filters, ctx.viewer)
    named = distance.flow_table(flows_s)
    ui.chart(figures_flows.flow_matrix_chart(flows_s.display, flows_s.numeric, large=ctx.meeting),
             named.display, "flows")
    st.caption("Rows are the LA responsible for the child, columns the LA where the child lives now; outlined cells are "
               "children placed in their own LA. Grey cells are flows of fewer than 5 children (\"<5\"), or flows "
               "hidden so that totals cannot reveal them (\"c\").")
    ui.table(named, "flows_matrix")


def local_use_view() -> None:
    """Whose children fill each LA's children's home places."""
    use = ui.cached(distance.local_use, ctx.viewer)
    ui.chart(figures_flows.local_use_figure(use.numeric, large=ctx.meeting, marks=use.display),
             distance.labelled_use(use).display.drop(columns="la_code"), "local_place_use")
    ui.table(distance.labelled_use(use), "local_place_use_table", hide=("la_code",))


view, box = ui.views(VIEWS)
with box:
    {VIEWS[0]: distance_view, VIEWS[1]: cohort_view, VIEWS[2]: flows_view, VIEWS[3]: local_use_view}[view]()
