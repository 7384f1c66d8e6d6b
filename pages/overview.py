"""Regional overview: how many children, how many needs, where they are placed, and what it costs."""

import streamlit as st

from audit.charts import overview as figures
from audit.charts import maps
from audit.analysis import overview
from audit.geography import region
from audit.filters import HIDDEN_VIEW_NOTE, view_hidden
from audit.suppress import headline_tiles
from pages import ui
from pages.map_component import folium_map

ctx = ui.context()
st.title("Regional overview" if ctx.filters.la is None else f"Overview: {region.la_name(ctx.filters.la)}")
st.caption("Children in residential care in the audit round, their co-occurring needs, and the homes in the region.")

tiles, hidden_note = headline_tiles(ui.cached(overview.kpis, ctx.filters, ctx.viewer))
ui.kpi_tiles(tiles)
if note := (HIDDEN_VIEW_NOTE if ui.cached(view_hidden, ctx.filters, ctx.viewer) else hidden_note):
    st.caption(note)

table = ui.cached(overview.la_table, ctx.filters, ctx.viewer)


def _overview_map(filters, viewer, large: bool):
    """The map for one view of the page (folium_map prepares it once per view)."""
    shapes, homes = ui.cached(overview.map_layers, filters, viewer)
    return maps.region_overview_map(shapes, homes, focus=filters.la, large=large)


def map_view() -> None:
    """Where the children come from, and where the region's homes are."""
    folium_map(_overview_map, ctx.filters, ctx.viewer, ctx.meeting, key="overview_map",
               height=620 if ctx.meeting else 540)
    st.caption("Areas are shaded by children in the audit (grey: fewer than 5); circles are children's homes, sized by "
               "places and coloured by Ofsted grade.")


def la_view() -> None:
    """Children in the audit by LA as a chart, with every figure for every LA one click away."""
    ui.chart(figures.la_children_bar(table, highlight=ctx.filters.la, large=ctx.meeting),
             table.display[["LA", "Children"]], "children_by_la")
    # The full table opens on request, so the view draws its chart first.
    if box := ui.expander("LA comparison: every figure for every LA", "overview_table_open"):
        with box:
            ui.table(table, "overview_by_la", hide=("la_code",))


# One view at a time, the map first: on a shared screen each gets the full width.
view, box = ui.views(["Map of children and homes", "Children by LA"])
with box:
    (map_view if view == "Map of children and homes" else la_view)()
