"""Browser tests: the real app in headless Debian Chromium — numbers, map polygons, deep links, downloads."""

from __future__ import annotations

import pytest

from tests.browser_support import download_csv, wait_for_app_idle

pytestmark = pytest.mark.browser


def map_frame(page):
    """The streamlit-folium iframe that holds the Leaflet map."""
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=60_000)
    return page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first


def test_overview_shows_numbers_and_draws_map(page, app_url, sample_db_path):
    import duckdb

    con = duckdb.connect(str(sample_db_path), read_only=True)
    n = con.execute("SELECT count(*) FROM children").fetchone()[0]
    con.close()
    page.goto(app_url)
    wait_for_app_idle(page)
    page.get_by_text("Children in the audit").first.wait_for()
    assert page.get_by_test_id("stMetricValue").first.inner_text() == f"{n:,}"
    frame = map_frame(page)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    assert frame.locator("path.leaflet-interactive").count() >= 11
    # Nothing was fetched from a CDN: Leaflet is inlined.
    assert page.locator("text=Synthetic sample data").count() >= 1


def test_deep_link_selects_la(page, app_url):
    page.goto(app_url + "/?la=Suffolk&age=13-15")
    wait_for_app_idle(page)
    page.get_by_role("heading", name="Overview: Suffolk").wait_for(timeout=30_000)
    assert "la=Suffolk" in page.url and "age=13-15" in page.url
    assert page.get_by_text("Page not found").count() == 0


def test_csv_download_is_the_suppressed_table(page, app_url):
    page.goto(app_url)
    wait_for_app_idle(page)
    # The LA chart is the second view; its table is drawn only once its expander is opened.
    page.get_by_role("tab", name="Children by LA").click()
    page.wait_for_function("() => location.search.includes('view=Children')", timeout=30_000)
    page.get_by_text("LA comparison: every figure for every LA").wait_for(timeout=30_000)
    assert page.get_by_test_id("stDataFrame").count() == 0
    page.get_by_text("LA comparison: every figure for every LA").click()
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=30_000)
    _, raw, df = download_csv(page, "Download CSV", last=True)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert len(df) == 11 and {"LA", "Children"} <= set(df.columns)
    assert not df["Children"].isin(["1", "2", "3", "4"]).any()
