"""Regional overview: how many children, how many needs, where they are placed, and what it costs."""

import streamlit as st
from streamlit_folium import st_folium

from audit import figures, maps, overview, region
from pages import ui

ctx = ui.context()
st.title("Regional overview" if ctx.filters.la is None else f"Overview: {region.la_name(ctx.filters.la)}")
st.caption("Children in residential care in the audit round, their co-occurring needs, and the homes in the region.")

ui.kpi_tiles(ui.cached(overview.kpis, ctx.filters, ctx.viewer))

table = ui.cached(overview.la_table, ctx.filters, ctx.viewer)
left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Children in the audit by LA")
    ui.chart(figures.la_children_bar(table, highlight=ctx.filters.la, large=ctx.meeting),
             table.display[["LA", "Children"]], "children_by_la")
with right:
    st.subheader("Where the children come from, and where the homes are")
    shapes, homes = ui.cached(overview.map_layers, ctx.filters, ctx.viewer)
    m = maps.region_overview_map(shapes, homes, focus=ctx.filters.la, large=ctx.meeting)
    st_folium(m, returned_objects=[], height=560 if ctx.meeting else 480, use_container_width=True, key="overview_map")
    st.caption("Circles are children's homes, sized by places and coloured by Ofsted grade. Areas with fewer than 5 children are grey.")

# The full table opens on request, so the landing page draws its chart and map first.
if box := ui.expander("LA comparison: every figure for every LA", "overview_table_open"):
    with box:
        ui.table(table, "overview_by_la", hide=("la_code",))
