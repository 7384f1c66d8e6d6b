"""Eastern Region Needs Audit: the router. Shared filters live here; pages live in pages/."""

import streamlit as st

from pages import ui

# On a shared screen the sidebar starts collapsed: the page gets the width, and its labels are not cut.
st.set_page_config(page_title="Eastern Region Needs Audit", page_icon="pages/favicon.png", layout="wide",
                   initial_sidebar_state="collapsed" if ui.meeting_requested() else "auto")

ui.first_run()
nav = ui.navigation()  # the list of pages lives in pages/ui.py (PAGES)
ctx = ui.sidebar()
st.session_state["ctx"] = ctx
ui.style(ctx.meeting)
ui.banner(ctx.meeting, ctx.round_label)
ui.begin_page()
nav.run()
ui.more_tiles()
ui.freeze_long_lived()  # once per newly imported set of modules, e.g. a page's first visit
