"""Stored script injection: names carrying script, HTML and Markdown payloads, loaded through the real
importers and planted straight in the database, are shown as text on every page, map and table.

Every tooltip of every map layer is opened (hidden overlays and clustered markers too), a town is
clicked for the details panel, and the test fails on any dialog, any request outside the app, any
element a payload made, or a payload's script having run, in the page or any of its frames.
"""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pandas as pd
import pytest

from audit.db import Database
from audit.intake import ofsted as import_ofsted
from audit.intake.problems import ImportFailed
from audit.paths import SAMPLE_DATA
from audit.sample.build import load_files
from pages.ui import PAGES
from tests.browser_probe import OPEN_EVERY_TOOLTIP, Watch, folium_frames, injected, open_page, outside_or_relative_x
from tests.browser_support import start_app

pytestmark = pytest.mark.browser

HTML_PAYLOADS = ['<img src=x onerror="window.__xss=1;alert(1)">', "<script>window.__xss=1</script>",
                 '"><svg onload="window.__xss=1;alert(2)">']
MARKDOWN_PAYLOADS = ["![x](http://127.0.0.9/leak.png)", "[Session expired - sign in again](http://127.0.0.9/login)",
                     "http://127.0.0.9/bare www.example.org :material/warning:"]
PAYLOADS = HTML_PAYLOADS + MARKDOWN_PAYLOADS
ROUND = "Hostile round"


def _with_payloads(names: pd.Series, payloads: list[str], shift: int = 0) -> list[str]:
    """Each name with one of the payloads in front of it, in turn."""
    return [f"{payloads[(i + shift) % len(payloads)]} {n}" for i, n in enumerate(names)]


def _hostile_files(folder, payloads: list[str]) -> None:
    """The sample's contract files with payloads in every name: home, provider (owner), short-break provider."""
    shutil.copytree(SAMPLE_DATA, folder, dirs_exist_ok=True)
    homes = pd.read_csv(folder / "homes.csv", dtype=str, keep_default_na=False)
    homes["name"] = _with_payloads(homes["name"], payloads)
    homes["provider"] = _with_payloads(homes["provider"], payloads, 1)
    homes.to_csv(folder / "homes.csv", index=False)
    sb = pd.read_csv(folder / "shortbreak_providers.csv", dtype=str, keep_default_na=False)
    sb["name"] = _with_payloads(sb["name"], payloads, 2)
    sb.to_csv(folder / "shortbreak_providers.csv", index=False)


def _ofsted_file(path, payloads: list[str]) -> None:
    """An Ofsted list (one release's columns) renaming 40 of the sample's homes, for update mode."""
    homes = pd.read_csv(SAMPLE_DATA / "homes.csv", dtype=str, keep_default_na=False).head(40)
    pd.DataFrame({"URN": homes["urn"], "Provider Type": "Children's home", "Registration status": "Active",
                  "Setting name": _with_payloads(homes["name"], payloads, 3),
                  "Owner Name": _with_payloads(homes["provider"], payloads, 4), "Local Authority": homes["la"],
                  "Max Users": homes["places"], "Overall Effectiveness": homes["ofsted_grade"]}).to_csv(path, index=False)


def _load_through_importers(db: Database, work) -> list[str]:
    """Import the hostile files; if the importers refuse '<' and '>' in names, the Markdown payloads alone.

    Returns the payloads the importers took. Either way the HTML payloads are planted in the
    database afterwards, so the rendering path is tested even when the importers refuse them.
    """
    for payloads in (PAYLOADS, MARKDOWN_PAYLOADS):
        folder = work / f"files{len(payloads)}"
        _hostile_files(folder, payloads)
        try:
            load_files(db, folder, ROUND, True)
            _ofsted_file(work / "ofsted.csv", payloads)
            import_ofsted.load(db, work / "ofsted.csv", mode="update")
            return payloads
        except ImportFailed:
            continue
    raise AssertionError("the importers refused Markdown payloads in names, which are harmless as text")


def _plant(db: Database) -> None:
    """Put every payload into every name column directly, as a compromised or older import could have."""
    with db.write() as con:
        for table, key, columns in (("homes", "urn", ("name", "provider")),
                                    ("shortbreak_providers", "provider_id", ("name",))):
            keys = [r[0] for r in con.execute(f"SELECT {key} FROM {table} ORDER BY {key}").fetchall()]
            for col_no, col in enumerate(columns):
                con.executemany(f"UPDATE {table} SET {col} = ? WHERE {key} = ?",
                                [[f"{PAYLOADS[(i + col_no) % len(PAYLOADS)]} {k}", k] for i, k in enumerate(keys)])
        con.execute("UPDATE cohort_names SET name = ? || ' ' || name WHERE cohort % 2 = 1", [HTML_PAYLOADS[0]])
        con.execute("UPDATE cohort_names SET name = ? || ' ' || name WHERE cohort % 2 = 0", [MARKDOWN_PAYLOADS[0]])


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The app serving a database whose every name carries a payload."""
    work = tmp_path_factory.mktemp("hostile")
    db = Database(work / "audit.duckdb")
    taken = _load_through_importers(db, work)
    _plant(db)
    names = db.query("SELECT name FROM homes")["name"]
    assert names.str.contains("<img", regex=False).any() and names.str.contains("](http", regex=False).any()
    db.close()
    proc, url = start_app(work / "audit.duckdb")
    yield url, taken
    proc.terminate()
    proc.wait(10)


def _assert_clean(page, watch: Watch, where: str) -> None:
    """No dialog, no outside request (nor the app-relative 'x' an <img src=x> fetches), nothing injected."""
    page.wait_for_timeout(600)   # onerror and onload handlers run after the content is set
    assert watch.dialogs == [], (where, watch.dialogs)
    assert outside_or_relative_x(watch) == [], where
    assert injected(page) == {}, where
    assert page.get_by_test_id("stException").count() == 0, where


def _hover_every_map(page) -> list[str]:
    """Open every tooltip of every map on the page; returns their text."""
    return [text for frame in folium_frames(page) for text in frame.evaluate(OPEN_EVERY_TOOLTIP)]


def test_the_importers_took_at_least_the_markdown_payloads(hostile_app):
    _, taken = hostile_app
    assert set(MARKDOWN_PAYLOADS) <= set(taken)


@pytest.mark.parametrize("link", ["/map", "/map?service=short-breaks", "/overview", "/planner?view=Planning+new+homes"])
def test_every_tooltip_of_every_map_shows_names_as_text(page, hostile_app, link):
    url, _ = hostile_app
    watch = Watch(url).attach(page)
    open_page(page, url + link)
    shown = _hover_every_map(page)
    assert len(shown) > 40, "the tooltips were opened"
    _assert_clean(page, watch, link)
    # Every payload is there, as the text typed, in the tooltips just opened.
    texts = " ".join(shown)
    assert all(p in texts for p in PAYLOADS), [p for p in PAYLOADS if p not in texts]


def test_a_towns_details_and_the_tables_beside_the_map_show_names_as_text(page, hostile_app):
    url, _ = hostile_app
    watch = Watch(url).attach(page)
    open_page(page, url + "/map")
    frame = folium_frames(page)[0]
    page.get_by_text("Largest gaps in view").wait_for(timeout=60_000)
    # Click the first town (a circle marker with a 'nearest provision' name) as Leaflet would see it.
    frame.evaluate("""() => {
        const towns = [];
        Object.values(window.map._layers).forEach(g => g.getLayers && g.getLayers().forEach(l => {
            if (l.feature && l.feature.properties.kind === 'town') towns.push(l); }));
        const t = towns[0];
        t.fire('click', {latlng: t.getLatLng()}, true);
    }""")
    page.get_by_text("Nearest matching provision:").wait_for(timeout=60_000)
    wait = page.get_by_test_id("stMarkdownContainer").filter(has_text="Nearest matching provision:")
    shown = wait.first.inner_text().replace("\u2060", "")  # word joiners stop autolinking; invisible
    assert any(p.split(" ")[0][:8] in shown for p in PAYLOADS), shown   # a payload, shown as typed
    _assert_clean(page, watch, "town details")
    page.get_by_role("tab", name="Towns ranked by gap").click()
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=60_000)
    _assert_clean(page, watch, "ranked towns")


def test_every_page_shows_the_planted_names_as_text(page, hostile_app):
    url, _ = hostile_app
    watch = Watch(url).attach(page)
    for *_, path in PAGES:
        open_page(page, f"{url}/{path}")
        _assert_clean(page, watch, path)


def test_a_link_typed_into_a_url_parameter_is_shown_as_text(page, hostile_app):
    url, _ = hostile_app
    watch = Watch(url).attach(page)
    payload = "[Session expired - sign in again](http://127.0.0.9/login) ![x](http://127.0.0.9/p.png) :material/lock:"
    open_page(page, f"{url}/overview?la={quote(payload)}&age={quote('<img src=x onerror=alert(3)>')}")
    note = page.get_by_test_id("stSidebar").get_by_test_id("stAlert").filter(has_text="Eastern LAs")
    note.first.wait_for(timeout=30_000)
    assert "[Session expired - sign in again](http://127.0.0.9/login)" in note.first.inner_text().replace("\u2060", "")
    assert page.locator("a[href*='127.0.0.9']").count() == 0
    _assert_clean(page, watch, "URL parameters")
