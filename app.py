"""Eastern Region Needs Audit: the router. Shared filters live here; pages live in pages/."""

import streamlit as st

from pages import ui

st.set_page_config(page_title="Eastern Region Needs Audit", page_icon=":material/diversity_3:", layout="wide")

ui.first_run()
PAGES = [
    st.Page("pages/overview.py", title="Regional overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/needs.py", title="Co-occurring needs", icon=":material/hub:", url_path="needs"),
    st.Page("pages/cohorts.py", title="Cohorts", icon=":material/groups:", url_path="cohorts"),
    st.Page("pages/map.py", title="Provision map and gaps", icon=":material/map:", url_path="map"),
    st.Page("pages/distance.py", title="Distance and flows", icon=":material/route:", url_path="distance"),
    st.Page("pages/planner.py", title="Matching and planning", icon=":material/add_home:", url_path="planner"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
]
nav = st.navigation(PAGES)
ctx = ui.sidebar()
st.session_state["ctx"] = ctx
ui.style(ctx.meeting)
ui.banner()
nav.run()
