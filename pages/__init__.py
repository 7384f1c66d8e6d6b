"""Streamlit pages: each binds widgets to audit/ functions; no analysis happens here."""
