"""Eastern Region Needs Audit: the router. Shared filters live here; pages live in pages/."""

import streamlit as st

from pages import ui

# On a shared screen the sidebar starts collapsed: the page gets the width, and its labels are not cut.
st.set_page_config(page_title="Eastern Region Needs Audit", page_icon="pages/favicon.png", layout="wide",
                   initial_sidebar_state="collapsed" if ui.meeting_requested() else "auto")

ui.first_run()
ui.guard_clear_cache()  # once per process: only administrators may empty everyone's caches
account = ui.signed_in()  # who this session acts as (pages/ui.py, audit/access); None: sign in first
nav = ui.navigation("sidebar" if account else "hidden")  # the list of pages lives in pages/ui.py (PAGES)
if account is None:
    from pages import signin

    st.session_state.pop("ctx", None)  # nothing of an earlier signed-in view survives signing out
    signin.form()  # the page asked for stays in the URL and opens once signed in
    st.stop()
ui.account_box(account)
ctx = ui.sidebar(account)
st.session_state["ctx"] = ctx
ui.style(ctx.meeting)
ui.banner(ctx.meeting, ctx.round_label)
ui.begin_page()
nav.run()
ui.more_tiles()
ui.freeze_long_lived()  # once per newly imported set of modules, e.g. a page's first visit
