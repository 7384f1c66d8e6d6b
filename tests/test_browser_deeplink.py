"""A link to a page, opened first on a freshly started server, shows that page with the linked view."""

from __future__ import annotations

import shutil

import pytest

from tests.browser_support import start_app, wait_for_app_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server(sample_db_path, tmp_path):
    db = tmp_path / "audit.duckdb"
    shutil.copy2(sample_db_path, db)
    proc, url = start_app(db)
    yield url
    proc.terminate()
    proc.wait(10)


def test_first_request_is_a_deep_link_to_a_page(page, fresh_server):
    page.goto(fresh_server + "/distance?la=Norfolk&age=13-15")
    wait_for_app_idle(page)
    page.get_by_role("heading", name="Distance and flows: Norfolk").wait_for(timeout=60_000)
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Regional overview" in nav and "Distance and flows" in nav
    assert "\nui\n" not in f"\n{nav}\n"  # the helper module is not offered as a page
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_test_id("stException").count() == 0
    assert "age=13-15" in page.url
