"""Folium maps in the app, prepared once per view instead of on every rerun.

st_folium turns a folium map into the streamlit-folium component's arguments (about 85 ms for
the regional provision map, about 900 ms at national scale) each time a page runs, even when
nothing on the map changed. Here the arguments are worked out once per data version and view,
and each rerun only hands them to the component. streamlit-folium has no public way to get
the arguments, so its component function is wrapped: in the thread that is preparing a map
the call is recorded instead of sent; every other call goes straight through. If a future
streamlit-folium renames it, maps are drawn the ordinary (slower) way and
tests/test_map_component.py fails, so the upgrade is noticed.
"""

from __future__ import annotations

import threading

import streamlit as st
import streamlit_folium
from streamlit_folium import st_folium

from pages import ui

_REAL = getattr(streamlit_folium, "_component_func", None)
_recording = threading.local()


def _component(**kwargs):
    """streamlit-folium's component, except while this thread is preparing a map: then keep the arguments."""
    box = getattr(_recording, "box", None)
    if box is not None:
        box.update(kwargs)
        return None
    return _REAL(**kwargs)


ACTIVE = _REAL is not None
if ACTIVE and getattr(streamlit_folium._component_func, "__name__", "") != "_component":
    streamlit_folium._component_func = _component


def _arguments(m, key: str, height: int, returned_objects: list[str]) -> dict:
    """What st_folium would send to the browser for map m (nothing is drawn)."""
    _recording.box = {}
    try:
        # render=False: st_folium renders the map itself; rendering the whole figure first only doubles the work.
        st_folium(m, render=False, returned_objects=returned_objects, height=height, use_container_width=True, key=key)
        return dict(_recording.box)
    finally:
        _recording.box = None


@st.cache_resource(show_spinner=False, max_entries=24)
def _prepared(_build, name: str, version: str, args: tuple, key: str, height: int, returned: tuple) -> dict:
    """The component's arguments for one map, per data version and view (shared by every session)."""
    return _arguments(_build(*args), key, height, list(returned))


def folium_map(build, *args, key: str, height: int, returned_objects: tuple[str, ...] = ()):
    """Draw the map build(*args) makes, preparing it only the first time this view is shown; returns what st_folium returns.

    build takes plain, hashable arguments (filters, selections, flags) and returns a folium map.
    """
    if not ACTIVE:
        return st_folium(build(*args), render=False, returned_objects=list(returned_objects), height=height,
                         use_container_width=True, key=key)
    prepared = _prepared(build, ui.qualified_name(build), ui.database().version, args, key, height,
                         tuple(returned_objects))
    return _REAL(**prepared)
