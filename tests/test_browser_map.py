"""Browser tests of the provision map page: district polygons drawn, a click shows details, the gap table downloads."""

from __future__ import annotations

import pytest

from tests.browser_support import download_csv, wait_for_app_idle

pytestmark = pytest.mark.browser
STRATEGY_GAP_TOWNS = {"Fakenham", "Swaffham", "East Dereham", "Downham Market", "Thetford"}
LINK = "/map?la=Norfolk&service=short-breaks&need=SEMH"


def open_map(page, app_url):
    """Open the Norfolk short-breaks link and wait for the Leaflet map inside streamlit-folium's iframe."""
    page.goto(app_url + LINK)
    wait_for_app_idle(page)
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=60_000)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    return frame


def test_map_draws_district_polygons_towns_and_providers(page, app_url):
    frame = open_map(page, app_url)
    paths = frame.locator("path.leaflet-interactive")
    shapes = paths.evaluate_all("ps => ps.map(p => p.getAttribute('d'))")
    # Polygons are line paths; towns are circle markers, drawn as arcs.
    polygons = [d for d in shapes if "a" not in d.lower()]
    circles = [d for d in shapes if "a" in d.lower()]
    assert len(polygons) == 45 and len(circles) > 20
    assert frame.locator(".audit-provider").count() > 10
    assert frame.locator(".audit-legend").count() == 2
    assert page.get_by_role("heading", name="Provision map and gaps: Norfolk").count() == 1


def test_clicking_a_district_shows_its_details_beside_the_map(page, app_url):
    frame = open_map(page, app_url)
    page.get_by_text("Largest gaps in view").wait_for()
    # The first interactive path is the first district; a DOM click is what Leaflet listens to.
    frame.locator("path.leaflet-interactive").first.dispatch_event("click")
    page.get_by_text("District in").first.wait_for(timeout=30_000)
    assert page.get_by_text("Children who need the service:").count() == 1
    assert page.get_by_text("Largest gaps in view").count() == 0


def test_gap_table_csv_downloads_suppressed_and_ranked(page, app_url):
    open_map(page, app_url)
    # The ranked towns are their own view, drawn when its tab is clicked; the URL then names it.
    page.get_by_role("tab", name="Towns ranked by gap").click()
    page.wait_for_function("() => location.search.includes('view=Towns')", timeout=30_000)
    name, raw, df = download_csv(page, "Download CSV")
    assert name == "towns_with_a_gap_short_breaks.csv"  # not the Data page's differently made gaps_short_breaks.csv
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(df.columns[:4]) == ["Town", "District", "LA", "Children"]
    assert set(df["LA"]) == {"Norfolk"}
    assert not df["Children"].isin(["1", "2", "3", "4"]).any()
    assert len(STRATEGY_GAP_TOWNS & set(df["Town"].head(10))) >= 3
