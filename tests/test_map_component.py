"""Maps are prepared once per view: the component gets exactly what st_folium would send, and reruns skip the work."""

import streamlit_folium
from streamlit_folium import st_folium

from audit.charts import provision_map
from audit.analysis import provision
from audit.suppress import Viewer
from pages import map_component
from tests.apptest_support import run_page


def _plain_st_folium_arguments(m, **kwargs) -> dict:
    """What st_folium sends when it renders the map its usual way (render=True), recorded, not drawn."""
    map_component._recording.box = {}
    try:
        st_folium(m, **kwargs)
        return dict(map_component._recording.box)
    finally:
        map_component._recording.box = None


def _provision_map(db):
    rid = int(db.q("rounds")["round_id"].iat[0])
    layers = provision.view(db, provision.Selection("residential", "", rid), 32.0, "gaussian", None, Viewer()).layers
    return provision_map.provision_map(layers.districts, layers.las, layers.towns, layers.homes, layers.providers,
                                       "residential", "gap")


def test_the_adapter_found_streamlit_folium_component():
    # If this fails after upgrading streamlit-folium, maps still draw, but every rerun rebuilds them.
    assert map_component.ACTIVE
    assert streamlit_folium._component_func is map_component._component


def test_prepared_arguments_are_what_st_folium_sends(sample_db):
    prepared = map_component._arguments(_provision_map(sample_db), "provision_map", 560, ["last_active_drawing"])
    plain = _plain_st_folium_arguments(_provision_map(sample_db), key="provision_map", height=560,
                                       use_container_width=True, returned_objects=["last_active_drawing"])
    assert set(prepared) == set(plain)
    for name in plain:
        if name != "on_change":  # a fresh closure each call
            assert prepared[name] == plain[name], name
    # The whole map is in them: 45 districts, the region's homes, and Leaflet inlined (no CDN).
    assert prepared["script"].count('"kind": "district"') == 45
    assert prepared["script"].count('"kind": "home"') == int(sample_db.scalar("SELECT count(*) FROM homes"))
    assert all(link.startswith("data:") for link in prepared["js_links"] + prepared["css_links"])


def test_rerunning_the_map_page_does_not_rebuild_the_map(app, monkeypatch):
    built = []
    original = provision_map.provision_map
    monkeypatch.setattr(provision_map, "provision_map", lambda *a, **k: built.append(1) or original(*a, **k))
    at = run_page(app, "pages/map.py")
    first = at.get("component_instance")
    at.run()
    assert not at.exception
    assert len(built) == 1
    assert len(first) == 1 and len(at.get("component_instance")) == 1
    # A different view is a different map.
    at = run_page(app, "pages/map.py", shade="children")
    assert not at.exception and len(built) == 2
