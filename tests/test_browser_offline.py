"""Offline means offline: a freshly started app, visited page by page, asks nothing of any other host.

Streamlit made a page's Material-icon favicon a fonts.gstatic.com URL on the first deep-link visit,
and its headless start asked checkip.amazonaws.com for the machine's outside address. The first is
checked here in a real browser, the second by running Streamlit's start-up banner with the project's
config and recording what it would fetch.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from pages.ui import PAGES
from tests.browser_probe import Watch, favicons, folium_frames, open_page
from tests.browser_support import ROOT, start_app


@pytest.fixture
def fresh_server(sample_db_path, tmp_path):
    db = tmp_path / "audit.duckdb"
    shutil.copy2(sample_db_path, db)
    proc, url = start_app(db)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.mark.browser
def test_every_page_after_a_fresh_start_requests_only_the_app_itself(page, fresh_server):
    watch = Watch(fresh_server).attach(page)
    paths = [url for *_, url in PAGES]
    # The first visit is a deep link (the case that fetched the icon), then every other page.
    order = ["map"] + [p for p in paths if p != "map"]
    icons = {}
    for path in order:
        open_page(page, f"{fresh_server}/{path}")
        if path in ("map", "overview"):
            folium_frames(page)
        page.wait_for_timeout(800)  # late fetches: fonts, icons, images
        icons[path] = favicons(page)
        assert page.get_by_test_id("stException").count() == 0, path
    assert len(watch.requests) > 50   # the recorder saw the app's own traffic
    assert watch.outside() == []
    bad_icons = {p: [i for i in v if not (i.startswith(fresh_server) or i.startswith("data:"))] for p, v in icons.items()}
    assert not any(bad_icons.values()), bad_icons


BANNER = textwrap.dedent("""
    import streamlit.net_util as net_util
    from streamlit import config
    from streamlit.web import bootstrap

    fetched = []
    net_util._make_blocking_http_get = lambda url, timeout=5: fetched.append(url)
    config.get_config_options(force_reparse=True)
    assert config.get_option("server.headless")
    bootstrap._print_url(False)
    print("FETCHED", fetched)
""")


def _banner_fetches(cwd) -> str:
    """What Streamlit's start-up banner fetches with the config.toml found in cwd (server.address unset)."""
    out = subprocess.run([sys.executable, "-c", BANNER], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split("FETCHED", 1)[1].strip()


def test_a_headless_start_does_not_ask_an_outside_service_for_the_address(tmp_path):
    assert _banner_fetches(ROOT) == "[]"
    # Without browser.serverAddress the same start asks checkip.amazonaws.com: the check can fail.
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text("[server]\nheadless = true\n")
    assert "checkip.amazonaws.com" in _banner_fetches(tmp_path)
