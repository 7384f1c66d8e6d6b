"""Eastern Region Needs Audit: the router. Shared filters live here; pages live in pages/."""

import streamlit as st

from pages import ui

st.set_page_config(page_title="Eastern Region Needs Audit", page_icon="pages/favicon.png", layout="wide")

ui.first_run()
nav = ui.navigation()  # the list of pages lives in pages/ui.py (PAGES)
ctx = ui.sidebar()
st.session_state["ctx"] = ctx
ui.style(ctx.meeting)
ui.banner()
nav.run()
ui.freeze_long_lived()  # once per newly imported set of modules, e.g. a page's first visit
