"""In a real browser: time from navigation to each page being fully drawn, against a blank Streamlit page.

Headless Debian chromium (/usr/bin/chromium) driven by Playwright opens every page
in app.py's PAGES on a running `streamlit run app.py`, and a one-line blank
Streamlit app on a second server in the same run, interleaved so both see the
same machine load. "Fully drawn" means: the script has finished (stApp's
data-test-script-state is notRunning), the page title is there, every Vega-Lite
chart has drawn its SVG and every map has drawn its Leaflet polygons; and, after
the first load of a page, at least as many charts, maps and tables as that first
load drew. (A Leaflet GeoJSON layer adds all its polygons at once, so a map with
any polygon drawn has them all.) (Tables are counted, not required to be painted:
the grid paints its canvas only once it scrolls into view.) The time is performance.now() at that
moment, i.e. from the start of navigation. The ratio to the blank page is the
figure the target is about (within 2x).

The blank page is opened at the same kind of address as the page it is compared
with. Opened at a page's own address (/map), Streamlit's frontend first asks
/map/_stcore/health whether /map is the app's base path, gets a 404 and waits a
fixed 100 ms before asking / (its connection manager's first retry delay;
streamlit/streamlit#7074). Every deep link pays that, whatever the page holds, so
pages other than the default are compared with the blank page opened at a path
(/page), and the default page, served at the root, with the blank page at the
root. Both floors and the ratio to the root floor are reported as well.

Also measured: the first run from no database (server start, sample build and
the overview drawn) and the app server's peak memory (VmHWM).

Run: python -m benchmarks.bench_browser --scale regional [--repeat N] [--first-run N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import (APP, RESULTS, ROOT, TARGETS, PageSpec, Row, ensure_db, pages_from_app, print_table,
                               proc_status_mb, write_rows)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 1000}
TIMEOUT_MS = int(os.environ.get("BENCH_BROWSER_TIMEOUT_S", "120")) * 1000
# A page's first load in a fresh server may fit models (cohorts at national scale take minutes).
FIRST_LOAD_TIMEOUT_MS = max(TIMEOUT_MS, 900_000)
# The floor, and references that say what one part of a page costs by itself on this
# machine: ?with=vega a three-bar Vega-Lite chart (st.bar_chart), table a 20-row st.dataframe, map an offline folium map with one
# polygon, shell the app's sidebar (four filters) without any page content.
BLANK_APP = '''import streamlit as st

st.set_page_config(page_title="Blank", layout="wide")
st.title("Blank page")
what = st.query_params.get("with")
if what == "vega":
    import pandas as pd
    st.bar_chart(pd.DataFrame({"x": ["a", "b", "c"], "y": [1, 3, 2]}), x="x", y="y")
elif what == "table":
    import pandas as pd
    st.dataframe(pd.DataFrame({"LA": [f"LA {i}" for i in range(20)], "Children": range(20)}), hide_index=True)
elif what == "map":
    import folium
    from streamlit_folium import st_folium
    from audit.charts.maps import base_map
    m = base_map([[52.0, 0.0], [52.6, 1.0]])
    folium.GeoJson({"type": "Polygon", "coordinates": [[[0.1, 52.1], [0.9, 52.1], [0.9, 52.5], [0.1, 52.5], [0.1, 52.1]]]}).add_to(m)
    st_folium(m, returned_objects=[], height=480, use_container_width=True, key="m")
elif what == "shell":
    sb = st.sidebar
    sb.markdown("### View")
    sb.selectbox("Audit round", ["2024 sample"])
    sb.selectbox("Local authority", ["Whole region"] + [f"LA {i}" for i in range(11)])
    sb.selectbox("Age band", ["All ages", "0-9", "10-12"])
    sb.toggle("Meeting mode")
'''
# Any path that is not the root: the one-page blank app draws the same page there.
DEEP_PATH = "page"
REFERENCES = {"shell": ("blank page + the app's sidebar filters", {}),
              "table": ("blank page + one 20-row table", {"tables": 1}),
              "vega": ("blank page + one small Vega-Lite chart", {"vega": 1}),
              "map": ("blank page + one offline folium map, one polygon", {"maps": 1})}


# Counts what is on the page and whether each part has drawn. Maps are streamlit-folium
# iframes served from the same origin, so their documents can be inspected.
SURVEY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const q = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const tables = q('[data-testid="stDataFrame"]');
  const vega = q('[data-testid="stVegaLiteChart"]');
  const frames = q('iframe[title*="st_folium"]');
  const maps = frames.map(f => {
    try { const d = f.contentDocument; return d ? d.querySelectorAll('path.leaflet-interactive').length : -1; }
    catch (e) { return -1; }
  });
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    h1: q('h1').length,
    elements: q('[data-testid="stMain"] [data-testid="stElementContainer"]').length,
    maps: maps.length,
    map_paths: maps.reduce((a, b) => a + Math.max(b, 0), 0),
    maps_drawn: maps.filter(n => n > 0).length,
    tables: tables.length,
    vega: vega.length,
    vega_drawn: vega.filter(v => v.querySelector('canvas, svg.marks')).length,
    errors: q('[data-testid="stException"]').length,
    stale: q('[data-testid="stMain"] [data-stale="true"]').length,
    tables_drawn: tables.filter(t => t.querySelector('canvas')).length,
  };
}"""

# How much HTML the maps hold. Read once a page has settled, never while polling: serialising
# an 800 KB map document on every animation frame slowed the very page being timed.
MAP_KB_JS = """() => Math.round(Array.from(document.querySelectorAll('iframe[title*="st_folium"]')).reduce((a, f) => {
  try { return a + (f.contentDocument ? f.contentDocument.documentElement.outerHTML.length / 1024 : 0); }
  catch (e) { return a; }
}, 0))"""

# Polled on every animation frame, so it must cost the page almost nothing: while the script
# is still running (most frames) it reads one attribute and stops.
DRAWN_JS = """(expect) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const s = (%s)();
  if (s.state === 'notRunning' && s.h1 >= 1 && window.__scriptDoneAt === undefined)
    window.__scriptDoneAt = performance.now();
  if (s.state === 'notRunning' && s.errors > 0) return true;  // failed: wait_drawn reports it
  const ok = s.state === 'notRunning' && s.h1 >= 1
    && s.maps_drawn === s.maps && s.vega_drawn === s.vega
    && s.vega >= expect.vega && s.maps >= expect.maps && s.tables >= expect.tables;
  if (ok && window.__drawnAt === undefined) window.__drawnAt = performance.now();
  return ok;
}""" % SURVEY_JS

NOTHING_EXPECTED = {"vega": 0, "maps": 0, "tables": 0}


def free_port() -> int:
    """An unused localhost port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run SCRIPT` on localhost in its own process, so its memory can be read from /proc."""

    def __init__(self, script: Path, env_extra: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-streamlit-", suffix=".log", delete=False)
        env = dict(os.environ, **(env_extra or {}))
        env.pop("AUDIT_VIEWER_LAS", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)

    def wait_healthy(self, timeout_s: float = 90) -> float:
        """Block until the health check answers; ms since the process was started."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return (time.perf_counter() - self.started) * 1000
            except OSError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError("streamlit exited: " + Path(self.log.name).read_text()[-2000:])
        raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s")

    def peak_mb(self) -> float | None:
        """The server process's peak resident memory so far (VmHWM)."""
        return proc_status_mb(self.proc.pid, "VmHWM")

    def stop(self) -> None:
        """Stop this server (only the process this object started)."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def page_url(base: str, page: PageSpec | None) -> str:
    """The address a user would open: the root for the default page, else its url_path."""
    return base + "/" if page is None or page.default else f"{base}/{page.url_path}"


def load(context, url: str, expect: dict) -> tuple[float, dict]:
    """Open url in a new tab and return ms from navigation start to fully drawn, and what was drawn."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        wait_drawn(page, url, expect)
        ms, done = page.evaluate("() => [window.__drawnAt, window.__scriptDoneAt]")
        return ms, dict(page.evaluate(SURVEY_JS), script_done_ms=done)
    finally:
        page.close()


def wait_drawn(page, url: str, expect: dict, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait for DRAWN_JS; on timeout say what was and was not drawn, which is what one needs to fix it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(DRAWN_JS, arg=expect, polling="raf", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise RuntimeError(f"{url} not fully drawn after {timeout_ms / 1000:.0f} s: "
                           f"saw {page.evaluate(SURVEY_JS)}, expected at least {expect}") from None
    if page.evaluate(SURVEY_JS)["errors"]:
        text = page.locator('[data-testid="stException"]').first.inner_text()[:300]
        raise RuntimeError(f"{url} raised: {' '.join(text.split())}")


def settle_survey(context, url: str) -> tuple[float, dict]:
    """A page's first (untimed for the ratio) load, then a pause, then what it drew once nothing was pending."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        wait_drawn(page, url, NOTHING_EXPECTED, FIRST_LOAD_TIMEOUT_MS)
        ms = page.evaluate("() => window.__drawnAt")
        page.wait_for_timeout(1500)  # late iframes, plots and map paths get time to appear
        wait_drawn(page, url, NOTHING_EXPECTED)
        survey = dict(page.evaluate(SURVEY_JS), map_kb=page.evaluate(MAP_KB_JS))
        return ms, {k: survey[k] for k in (*NOTHING_EXPECTED, "map_paths", "map_kb")}
    finally:
        page.close()


NAV_CLICK_JS = """(link) => {
  window.__drawnAt = undefined; window.__scriptDoneAt = undefined; window.__ran = false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!window.__stateObserver) {
    window.__stateObserver = new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') === 'running') window.__ran = true;
    });
    window.__stateObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  window.__clickAt = performance.now();
  link.click();
}"""

NAV_DRAWN_JS = """(expect) => window.__ran && (%s)(expect) && !document.querySelector('[data-testid="stMain"] [data-stale="true"]')""" % DRAWN_JS


def sidebar_navigation(context, base: str, pages: list[PageSpec], expect: dict, repeat: int) -> dict[str, list[float]]:
    """ms from a click on a page's sidebar link to that page fully drawn, in one tab (what a meeting sees).

    The tab has already loaded Streamlit, Vega-Lite and the map component, so this is
    the page's own cost; each page is reached from the page before it in the list.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    out = {pg.script: [] for pg in pages}
    tab = context.new_page()
    try:
        tab.goto(page_url(base, pages[-1]), wait_until="commit", timeout=TIMEOUT_MS)
        wait_drawn(tab, base, NOTHING_EXPECTED)
        for _ in range(repeat):
            for pg in pages:
                link = tab.locator('[data-testid="stSidebarNav"] a').filter(has_text=pg.title).first
                link.evaluate(NAV_CLICK_JS)
                try:
                    tab.wait_for_function(NAV_DRAWN_JS, arg=expect[pg.script], polling="raf", timeout=TIMEOUT_MS)
                except PlaywrightTimeout:
                    raise RuntimeError(f"sidebar link to {pg.title}: not drawn; saw {tab.evaluate(SURVEY_JS)}") from None
                out[pg.script].append(tab.evaluate("() => window.__drawnAt - window.__clickAt"))
    finally:
        tab.close()
    return out


def launch(playwright):
    """Headless Debian chromium with the suite's flags."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


def pages_run(scale: str, repeat: int, references: bool = True) -> list[Row]:
    """Every page against the blank floor, interleaved, plus the app server's peak memory."""
    from playwright.sync_api import sync_playwright

    pages = pages_from_app()
    db = ensure_db(scale)
    work = Path(tempfile.mkdtemp(prefix="bench-blank-"))
    (work / "blank.py").write_text(BLANK_APP)
    app, blank = Server(APP, {"AUDIT_DB": str(db)}), Server(work / "blank.py")
    rows: list[Row] = []
    try:
        app.wait_healthy()
        blank.wait_healthy()
        with sync_playwright() as p:
            browser = launch(p)
            context = browser.new_context(viewport=VIEWPORT)
            settle_survey(context, page_url(blank.url, None))  # the browser caches Streamlit's JS for both servers alike
            first, expect, failed = {}, {}, {}
            for pg in pages:
                try:
                    first[pg.script], expect[pg.script] = settle_survey(context, page_url(app.url, pg))
                except Exception as exc:  # a page that does not draw is reported, and the others still measured
                    failed[pg.script] = str(exc)
            pages = [pg for pg in pages if pg.script not in failed]
            times = {pg.script: [] for pg in pages}
            done = {pg.script: [] for pg in pages}
            floor, deep_floor = [], []
            ratios, root_ratios = {pg.script: [] for pg in pages}, {pg.script: [] for pg in pages}
            refs = {k: [] for k in (REFERENCES if references else {})}
            settle_survey(context, f"{blank.url}/{DEEP_PATH}")
            for _ in range(repeat):
                b, _ = load(context, page_url(blank.url, None), NOTHING_EXPECTED)
                floor.append(b)
                deep, _ = load(context, f"{blank.url}/{DEEP_PATH}", NOTHING_EXPECTED)
                deep_floor.append(deep)
                for k in refs:
                    refs[k].append(load(context, f"{blank.url}/?with={k}", dict(NOTHING_EXPECTED, **REFERENCES[k][1]))[0])
                for pg in [pg for pg in pages if pg.script not in failed]:
                    try:
                        ms, seen = load(context, page_url(app.url, pg), {k: expect[pg.script][k] for k in NOTHING_EXPECTED})
                    except Exception as exc:
                        failed[pg.script] = str(exc)
                        continue
                    times[pg.script].append(ms)
                    done[pg.script].append(seen["script_done_ms"])
                    ratios[pg.script].append(ms / (b if pg.default else deep))
                    root_ratios[pg.script].append(ms / b)
            ok_pages, nav_error = [pg for pg in pages if pg.script not in failed], "no page drew"
            try:
                nav = sidebar_navigation(context, app.url, ok_pages,
                                         {pg.script: {k: expect[pg.script][k] for k in NOTHING_EXPECTED}
                                          for pg in ok_pages}, min(repeat, 2))
            except Exception as exc:  # the tab-load figures above still stand
                nav, nav_error = {}, str(exc)[:200]
            browser.close()
        rows.append(Row("browser", "blank Streamlit page (floor)", scale, "ms", floor))
        rows.append(Row("browser", "blank Streamlit page at a page address (floor for deep links)", scale, "ms",
                        deep_floor, note=f"{statistics.median(deep_floor) - statistics.median(floor):+,.0f} ms: "
                                         "Streamlit's base-path probe"))
        for k in refs:
            label = REFERENCES[k][0]
            rows.append(Row("browser", f"reference: {label}", scale, "ms", refs[k],
                            note=f"{statistics.median(refs[k]) / statistics.median(floor):.2f}x the floor"))
        for pg in pages_from_app():
            if pg.script in failed:
                rows.append(Row("browser", f"{pg.title} - FAILED", scale, "ms", [], note=failed[pg.script][:200]))
                continue
            e = expect[pg.script]
            drawn = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in e.items() if v)
            rows.append(Row("browser", f"{pg.title} - first load (server cache cold)", scale, "ms",
                            [first[pg.script]]))
            script_done = statistics.median(done[pg.script])
            rows.append(Row("browser", f"{pg.title} - fully drawn", scale, "ms", times[pg.script],
                            note=f"script done at {script_done:,.0f} ms; {drawn}", extra=dict(e, script_done_ms=done[pg.script])))
            rows.append(Row("browser", f"{pg.title} - ratio to blank", scale, "x", ratios[pg.script],
                            TARGETS.get(("browser_ratio", scale)),
                            note="blank page at the root" if pg.default else "blank page at a page address"))
            if not pg.default:
                rows.append(Row("browser", f"{pg.title} - ratio to blank at the root", scale, "x",
                                root_ratios[pg.script], note="includes Streamlit's base-path probe (a fixed 100 ms retry)"))
            if nav.get(pg.script):
                rows.append(Row("browser", f"{pg.title} - sidebar click to drawn (same tab)", scale, "ms",
                                nav[pg.script]))
        if not nav:
            rows.append(Row("browser", "sidebar navigation - FAILED", scale, "ms", [], note=nav_error))
        rows.append(Row("memory", "streamlit server peak RSS (VmHWM, browser run)", scale, "MB",
                        [app.peak_mb() or float("nan")], TARGETS.get(("memory", scale))))
    finally:
        app.stop()
        blank.stop()
        shutil.rmtree(work, ignore_errors=True)
    return rows


def first_run(repeat: int) -> list[Row]:
    """A newcomer's first start: no database, `streamlit run app.py`, the browser opened at the root."""
    from playwright.sync_api import sync_playwright

    total, after_nav, health = [], [], []
    with sync_playwright() as p:
        browser = launch(p)
        for _ in range(repeat):
            work = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
            server = Server(APP, {"AUDIT_DB": str(work / "data" / "audit.duckdb")})
            try:
                health.append(server.wait_healthy())
                context = browser.new_context(viewport=VIEWPORT)
                expect = dict(NOTHING_EXPECTED, maps=1)  # usable = the figures and the map drawn
                t_nav = time.perf_counter()
                ms, _ = load(context, page_url(server.url, None), expect)
                after_nav.append(ms)
                total.append((t_nav - server.started) * 1000 + ms)
                context.close()
            finally:
                server.stop()
                shutil.rmtree(work, ignore_errors=True)
        browser.close()
    return [Row("first_run", "no database to overview drawn (server start + build + draw)", "regional", "ms", total,
                TARGETS.get(("first_run", "regional"))),
            Row("first_run", "of which: server start to health check", "regional", "ms", health),
            Row("first_run", "of which: navigation to overview drawn (incl. build)", "regional", "ms", after_nav)]


def main(argv: list[str] | None = None) -> None:
    """Measure one scale (and, optionally, the first run), print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["regional", "national"], default="regional")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--first-run", type=int, default=0, help="how many first runs from no database to time")
    ap.add_argument("--no-references", action="store_true", help="skip the one-chart/one-map reference pages")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    rows = pages_run(args.scale, args.repeat, not args.no_references)
    if args.first_run:
        rows += first_run(args.first_run)
    write_rows(rows, args.out or RESULTS / f"browser-{args.scale}.json")
    print_table(rows)


if __name__ == "__main__":
    main()
