"""Browser test: the co-occurring needs page draws its charts in Chromium and its CSV downloads are suppressed."""

from __future__ import annotations

import io

import pytest

from tests.browser_support import download_csv, wait_for_app_idle

pytestmark = pytest.mark.browser

CHART = '[data-testid="stVegaLiteChart"]'
# Streamlit draws Vega-Lite as SVG, so a chart's axis labels, legend and mark labels are page text.
VEGA_TEXT = "i => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')[i].innerText"


def painted_pixels(locator) -> int:
    """How many non-white pixels a drawn chart has (a screenshot of just that element)."""
    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(locator.screenshot())).convert("L")
    return int((np.asarray(img) < 235).sum())


def open_needs_from_menu(page, app_url):
    """Open the app at its root and go to the needs page the way a person would, from the menu."""
    page.goto(app_url)
    wait_for_app_idle(page)
    page.get_by_role("link", name="Co-occurring needs").click()
    page.get_by_role("heading", name="Co-occurring needs").wait_for(timeout=60_000)
    wait_for_app_idle(page)


def test_deep_link_on_a_fresh_server_reproduces_the_view(page, app_url):
    """First test of the module: the server has never run app.py when the link is opened."""
    page.goto(app_url + "/needs?la=Norfolk&measure=lift&view=Which+occur+together")
    wait_for_app_idle(page)
    page.get_by_role("heading", name="Co-occurring needs: Norfolk").wait_for(timeout=60_000)
    page.locator(CHART).nth(1).wait_for(timeout=60_000)  # Norfolk's heatmap and the region's, side by side
    assert page.locator(CHART).count() == 2
    assert "la=Norfolk" in page.url and "view=Which" in page.url  # lift is the default, so the link drops it
    assert page.get_by_text("Norfolk: lift").count() >= 1


def test_needs_page_draws_its_charts(page, app_url, sample_db_path):
    import duckdb

    con = duckdb.connect(str(sample_db_path), read_only=True)
    n = con.execute("SELECT count(*) FROM children").fetchone()[0]
    con.close()
    open_needs_from_menu(page, app_url)
    page.get_by_test_id("stMetricValue").get_by_text(f"{n:,}", exact=True).first.wait_for(timeout=30_000)
    charts = page.locator(CHART)
    charts.first.locator("svg.marks").wait_for(timeout=60_000)
    assert charts.count() == 1  # one view at a time: the prevalence chart
    assert painted_pixels(charts.first.locator("svg.marks")) > 500, "prevalence chart is blank"
    assert page.evaluate(VEGA_TEXT, 0).count("Nuffield FJO national figure") >= 1
    # Each other view is drawn when its tab is clicked, and the URL says which is open.
    for i, (tab, text) in enumerate((("Needs per child", "Number of need categories"),
                                     ("Which occur together", "Risk to others"),
                                     ("Combinations", "Children"))):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_function("t => decodeURIComponent(location.search.replace(/\\+/g, ' ')).includes('view=' + t)",
                               arg=tab, timeout=30_000)
        # Wait for the rerun to finish and the old view's elements to be gone (no stale elements left).
        page.wait_for_function("""() => { const a = document.querySelector('[data-testid="stApp"]');
            return a.getAttribute('data-test-script-state') === 'notRunning'
                && !document.querySelector('[data-testid="stMain"] [data-stale="true"]'); }""", timeout=30_000)
        chart = page.locator(CHART).first
        chart.locator("svg.marks").wait_for(timeout=30_000)
        assert page.locator(CHART).count() == 1, tab
        assert painted_pixels(chart.locator("svg.marks")) > 500, f"{tab} chart is blank"
        assert text in page.evaluate(VEGA_TEXT, 0), tab


def test_prevalence_csv_download_is_suppressed(page, app_url):
    open_needs_from_menu(page, app_url)
    name, raw, df = download_csv(page, "Download chart data (CSV)")
    assert name == "prevalence_categories.csv"
    assert raw.startswith(b"\xef\xbb\xbf")
    assert len(df) == 11 and {"Need", "Children", "% of children", "Nuffield FJO %"} <= set(df.columns)
    assert not df["Children"].isin(["1", "2", "3", "4"]).any()
