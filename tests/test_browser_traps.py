"""Traps a visitor fell into, in the real app: deleting the round being viewed, and the first run's sidebar."""

from __future__ import annotations

import shutil

import pytest

from tests.browser_support import start_app, wait_for_app_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def own_server(sample_db_path, tmp_path):
    """A server on a private copy of the sample, since the test changes the data."""
    db = tmp_path / "audit.duckdb"
    shutil.copy2(sample_db_path, db)
    proc, url = start_app(db)
    yield url
    proc.terminate()
    proc.wait(10)


def test_deleting_the_round_being_viewed_leaves_a_working_page(page, own_server):
    page.goto(own_server + "/data?view=Rounds+loaded&round=2024+sample")
    wait_for_app_idle(page)
    page.get_by_text("Delete a round").click()
    box = page.get_by_role("textbox", name="Type the round label to confirm")
    box.fill("2024 sample")
    box.press("Enter")
    wait_for_app_idle(page)
    page.get_by_role("button", name="Delete this round").click()
    page.get_by_text("Deleted round '2024 sample'").wait_for(timeout=60_000)
    wait_for_app_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    assert "round=" not in page.url and "view=Rounds" in page.url
    # Every other page still opens, now saying there is no round rather than failing.
    page.get_by_role("link", name="Regional overview").click()
    wait_for_app_idle(page)
    page.get_by_role("heading", name="Regional overview").wait_for(timeout=60_000)
    assert page.get_by_test_id("stException").count() == 0
