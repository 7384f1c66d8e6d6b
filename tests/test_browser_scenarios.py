"""Browser: save two plans as scenarios from the planning view and compare them side by side."""

from __future__ import annotations

import pytest

from tests.browser_support import download_csv, wait_for_app_idle

pytestmark = pytest.mark.browser


def _save(page, app_url, homes: int, name: str) -> None:
    """Open the planning view with a number of homes, name the plan and save it."""
    page.goto(app_url + f"/planner?view=Planning+new+homes&homes={homes}&places=4")
    wait_for_app_idle(page, timeout=120_000)
    box = page.get_by_label("Save this plan as")
    box.wait_for(timeout=120_000)
    box.fill(name)
    box.press("Enter")
    wait_for_app_idle(page, timeout=60_000)
    page.get_by_role("button", name="Save scenario").click()
    page.get_by_text(f"Saved '{name}'").wait_for(timeout=60_000)


def test_two_saved_scenarios_compare_side_by_side(page, app_url):
    _save(page, app_url, 2, "Two homes")
    _save(page, app_url, 4, "Four homes")
    page.goto(app_url + "/planner?view=Scenarios")
    wait_for_app_idle(page, timeout=120_000)
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=60_000)
    # The grid draws on a canvas: read the table through its CSV download, as a user exporting it would.
    _, _, df = download_csv(page, "Download CSV")
    assert list(df.columns) == ["Figure", "Four homes", "Two homes"]
    rows = df.set_index("Figure")
    assert rows.loc["New homes × places", "Four homes"] == "4 × 4" and rows.loc["New homes × places", "Two homes"] == "2 × 4"
    assert {"Saving a year", "Within reach, after", "Towns"} <= set(rows.index)
    # The sites of both scenarios are on one map.
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=60_000)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=30_000)
    assert frame.locator(".leaflet-marker-icon").count() == 6
