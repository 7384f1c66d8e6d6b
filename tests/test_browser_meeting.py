"""Meeting mode on a 1366x768 shared screen: for every page and view, the key visual starts on the first screen,
nothing runs off the right, table text is at least 20 px, and the sidebar starts collapsed."""

from __future__ import annotations

import pytest

from tests.browser_support import wait_for_app_idle
from tests.gallery import MAP, MEASURE_JS, SCREENS, VISUAL, screen_url

pytestmark = pytest.mark.browser

FOLD = 768
MIN_TABLE_PX = 20


def _open(page, url: str, visual: str | None) -> dict:
    """Open a screen at 1366x768, wait for its key visual, and measure what the room sees."""
    page.set_viewport_size({"width": 1366, "height": FOLD})
    page.goto(url)
    wait_for_app_idle(page, timeout=120_000)
    if visual:
        page.wait_for_selector(visual, timeout=120_000)
        if visual == MAP:
            page.frame_locator(MAP).first.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # Vega-Lite sizes its chart to the column after the first paint
    assert page.get_by_test_id("stException").count() == 0, url
    return page.evaluate(MEASURE_JS, VISUAL)


@pytest.mark.parametrize("path,view,extra,visual", SCREENS, ids=[f"{p}-{v}" for p, v, _, _ in SCREENS])
def test_meeting_mode_fits_a_shared_screen(page, app_url, path, view, extra, visual):
    m = _open(page, screen_url(app_url, path, view, extra, meeting=True), visual)
    assert m["scrollWidth"] <= m["clientWidth"] + 1, f"the page scrolls sideways: {m}"
    assert m["widest"] <= m["mainRight"] + 1, f"{m['culprit']} runs off the right: {m}"
    assert not m["gridOverflow"], "a table scrolls sideways inside itself"
    assert not m["sidebarOpen"], "the sidebar should start collapsed in meeting mode"
    if visual:
        assert m["visualTop"] is not None and m["visualTop"] < FOLD, f"key visual starts below the fold: {m}"
        if m["tableFont"] is not None:
            assert m["tableFont"] >= MIN_TABLE_PX, f"table text {m['tableFont']} px: {m}"


def test_normal_mode_keeps_the_sidebar_open(page, app_url):
    m = _open(page, screen_url(app_url, "distance", None, {}, meeting=False), None)
    assert m["sidebarOpen"]
