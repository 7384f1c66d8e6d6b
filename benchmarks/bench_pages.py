"""Every page's server-side run (Streamlit AppTest) after a filter change: cold, new view, and warm cache.

For each page in app.py's PAGES, at one scale per process (so peak memory is the scale's own):

- cold: Streamlit's caches cleared (as after an import changes the data), then a new
  session opens the page: app.py and the page script run in full;
- filter change, new view: in that session the sidebar's LA and age band change to a
  combination this process has not shown before, and the app reruns (cache misses for
  everything that depends on the filters);
- filter change, warm: the filters change back to a view already shown (cache hits);
  this is the rerun the targets are about (under 300 ms regional, 1 s national).

A blank one-line script's rerun is timed too, as the floor of AppTest's own overhead.

Run: python -m benchmarks.bench_pages --scale regional [--repeat N] [--profile] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

from benchmarks.common import (APP, RESULTS, ROOT, TARGETS, PageSpec, Row, ensure_db, pages_from_app, peak_rss_mb,
                               print_table, quiet_streamlit, write_rows)

TIMEOUT_S = 600


def keep_navigation_in_charge() -> None:
    """Make AppTest run app.py (the st.navigation router) on every run, as the real server does.

    AppTest resets PagesManager.uses_pages_directory before each run, and because a
    pages/ folder sits beside app.py it then takes the legacy multipage path: the
    second run, or a first run after switch_page, executes only the page script and
    the page finds no shared filters. app.py always calls st.navigation, so the legacy
    path is never wanted; pinning the flag to False makes reruns whole.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager.__init__, "_bench_patched", False):
        return
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._bench_patched = True
    PagesManager.__init__ = init


def views():
    """Filter combinations (LA, age band) in an order that changes both, never repeating."""
    from audit.geography import region
    from audit.filters import AGE_BANDS
    from pages.ui import ALL_AGES

    las = sorted(region.REGION_LAS.values())
    ages = AGE_BANDS + [ALL_AGES]
    return iter([(la, age) for age, la in itertools.product(ages, las)])


class PageRunner:
    """One page opened in one AppTest session, rerun after filter changes."""

    def __init__(self, page: PageSpec):
        from streamlit.testing.v1 import AppTest

        self.page = page
        self.at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        self.at.switch_page(page.script)

    def run(self) -> float:
        """Run the app once and return ms; raise if the page raised (a broken page has no meaningful time)."""
        import time

        t0 = time.perf_counter()
        self.at.run()
        ms = (time.perf_counter() - t0) * 1000
        if self.at.exception:
            raise RuntimeError(f"{self.page.script}: {self.at.exception[0].value[:300]}")
        return ms

    def set_view(self, la: str, age: str) -> None:
        """Change the sidebar's shared filters as a user would (the next run is the rerun)."""
        self.at.sidebar.selectbox(key="f_la").set_value(la)
        self.at.sidebar.selectbox(key="f_age").set_value(age)

    def counts(self) -> dict:
        """What the page drew, so a reader can see what a time covers."""
        tree = self.at
        return {"charts": len(tree.get("vega_lite_chart")), "dataframes": len(tree.dataframe),
                "components": len(tree.get("iframe")) + len(tree.get("component_instance")),
                "metrics": len(tree.metric)}


def clear_caches() -> None:
    """Forget everything Streamlit has cached, as when an import changes the database version."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def floor(repeat: int) -> list[float]:
    """A blank script's rerun in AppTest: the harness's own cost, under every page's figure."""
    import time

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("import streamlit as st\nst.title('Blank')\nst.write('x')", default_timeout=60)
    at.run()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        at.run()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def profile_warm(runner: PageRunner, view: tuple[str, str], out: Path) -> str:
    """A pyinstrument profile of one warm rerun's script thread, written as text (when pyinstrument is installed).

    AppTest runs the script in its own thread, which a profiler started here would
    not see, so the profiler is started and stopped inside that thread, around the
    function the script runner executes the app with.
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument not installed"
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling
    profiler = Profiler(interval=0.001)

    def profiled(func, ctx):
        profiler.start()
        try:
            return original(func, ctx)
        finally:
            profiler.stop()

    script_runner.exec_func_with_error_handling = profiled
    try:
        runner.set_view(*view)
        runner.run()
    finally:
        script_runner.exec_func_with_error_handling = original
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return str(out.relative_to(ROOT))


def bench_page(page: PageSpec, scale: str, repeat: int, fresh_views, profile: bool) -> list[Row]:
    """Cold, new-view and warm timings for one page."""
    cold = []
    for _ in range(repeat):
        clear_caches()
        runner = PageRunner(page)
        cold.append(runner.run())
    counts = runner.counts()
    new, seen = [], []
    for _ in range(repeat):
        view = next(fresh_views)
        runner.set_view(*view)
        new.append(runner.run())
        seen.append(view)
    warm = []
    for i in range(repeat):
        runner.set_view(*seen[i % len(seen)])  # a view this session has shown: every cache hits
        warm.append(runner.run())
    note = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)
    # Process-level memos (fitted cohorts, loaded geodata) survive a cache clear, so the first
    # cold run is what the first visitor after a server start waits for.
    note = f"first run {cold[0] / 1000:,.1f} s; {note}" if len(cold) > 1 else note
    rows = [Row("page", f"{page.title} - cold (caches cleared)", scale, "ms", cold, note=note, extra=counts),
            Row("page", f"{page.title} - filter change, new view", scale, "ms", new),
            Row("page", f"{page.title} - filter change, warm", scale, "ms", warm, TARGETS.get(("page_warm", scale)))]
    if profile:
        path = RESULTS / f"profile-{scale}-{Path(page.script).stem}.txt"
        rows[-1].note = "profile: " + profile_warm(runner, seen[0], path)
    return rows


def run(scale: str, repeat: int, profile: bool = False, only: list[str] | None = None) -> list[Row]:
    """Every page at one scale."""
    os.environ["AUDIT_DB"] = str(ensure_db(scale))
    os.environ.pop("AUDIT_VIEWER_LAS", None)
    quiet_streamlit()
    keep_navigation_in_charge()
    pages = [p for p in pages_from_app() if not only or Path(p.script).stem in only]
    # One untimed pass so that module imports (pandas, altair, folium...) are not billed to the first page.
    PageRunner(pages[0]).run()
    rows = [Row("page", "AppTest floor (blank script rerun)", scale, "ms", floor(repeat))]
    fresh = views()
    for page in pages:
        try:
            rows += bench_page(page, scale, repeat, fresh, profile)
        except Exception as exc:  # one broken page must not hide the others' figures
            rows.append(Row("page", f"{page.title} - FAILED", scale, "ms", [], note=str(exc)[:200]))
    rows.append(Row("memory", "AppTest process peak RSS (all pages)", scale, "MB", [peak_rss_mb()],
                    TARGETS.get(("memory", scale))))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure one scale, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["regional", "national"], default="regional")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="write a pyinstrument profile of each page's warm rerun")
    ap.add_argument("--pages", nargs="*", help="only these pages (file stems, e.g. map overview)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    rows = run(args.scale, args.repeat, args.profile, args.pages)
    write_rows(rows, args.out or RESULTS / f"pages-{args.scale}.json")
    print_table(rows)


if __name__ == "__main__":
    main()
