"""The co-occurring needs page's server-side run (Streamlit AppTest): cold, warm, and each of its own controls.

Issue 4's target: at regional scale the needs page reruns in under 300 ms after a
filter change with the data cached. Timed here, per scale, in one AppTest session
that runs app.py and the page in full on every run (as the real server does):

- cold: every cache cleared (Streamlit's, the needs view's and the Fisher test's),
  then a new session opens the page;
- warm rerun: the same view again (what any widget change elsewhere costs);
- a new measure (lift, phi, % of row): only the heatmap's tables are new;
- back to a measure already shown (warm);
- need codes instead of categories (new), and back (warm);
- a sex filter (new view), an LA with its side-by-side region comparison (new view),
  and back to the whole region (warm): the "filter change, cached data" of the target.

Run: python -m benchmarks.bench_pages_needs [--scale regional national] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import time

from benchmarks.bench_pages import clear_caches, floor, keep_navigation_in_charge
from benchmarks.common import APP, RESULTS, Row, ensure_db, print_table, write_rows

PAGE = "pages/needs.py"
TARGET_MS = {"regional": 300.0, "national": 1000.0}


def forget_everything() -> None:
    """Clear every cache a cold start would not have: Streamlit's and the audit library's own."""
    from audit.analysis import cooccur
    from audit.analysis import needs_view

    clear_caches()
    needs_view._MEMO.clear()
    cooccur._fisher.cache_clear()


class Session:
    """One browser session on the needs page."""

    def __init__(self):
        from streamlit.testing.v1 import AppTest

        self.at = AppTest.from_file(str(APP), default_timeout=600)
        self.at.switch_page(PAGE)

    def run(self) -> float:
        """One full run of app.py and the page, in ms; a page that raised has no meaningful time."""
        t0 = time.perf_counter()
        self.at.run()
        ms = (time.perf_counter() - t0) * 1000
        if self.at.exception:
            raise RuntimeError(self.at.exception[0].value[:300])
        return ms

    def set(self, key: str, value) -> "Session":
        """Change one of the page's or the sidebar's widgets by key (the next run is the rerun)."""
        for kind in ("button_group", "radio", "selectbox", "toggle"):
            found = [w for w in self.at.get(kind) if getattr(w, "key", None) == key]
            if found:
                found[0].set_value(value)
                return self
        raise KeyError(key)


def bench(scale: str, repeat: int) -> list[Row]:
    """All steps at one scale."""
    os.environ["AUDIT_DB"] = str(ensure_db(scale))
    os.environ.pop("AUDIT_VIEWER_LAS", None)
    keep_navigation_in_charge()
    Session().run()  # imports (pandas, altair, stepmix...) are not billed to the first cold run
    target = TARGET_MS[scale]
    rows = [Row("needs page", "AppTest floor (blank script rerun)", scale, "ms", floor(repeat))]

    cold = []
    for _ in range(repeat):
        forget_everything()
        s = Session()
        cold.append(s.run())
    charts = len(s.at.get("vega_lite_chart"))
    rows.append(Row("needs page", "cold: caches cleared, new session", scale, "ms", cold,
                    note=f"{charts} charts, {len(s.at.metric)} tiles"))
    rows.append(Row("needs page", "warm rerun, same view", scale, "ms", [s.run() for _ in range(repeat)], target))

    new = [s.set("needs_measure", m).run() for m in ("lift", "phi", "row_pct")]
    rows.append(Row("needs page", "measure switch, new (lift, phi, % of row)", scale, "ms", new))
    warm = []
    for i in range(repeat):
        warm.append(s.set("needs_measure", ("count", "lift")[i % 2]).run())
    rows.append(Row("needs page", "measure switch, warm", scale, "ms", warm, target))

    rows.append(Row("needs page", "22 need codes, new", scale, "ms", [s.set("needs_level", "codes").run()]))
    warm = [s.set("needs_level", ("categories", "codes")[i % 2]).run() for i in range(repeat)]
    rows.append(Row("needs page", "categories / codes switch, warm", scale, "ms", warm, target))
    s.set("needs_level", "categories").run()

    rows.append(Row("needs page", "sex filter, new view", scale, "ms", [s.set("needs_sex", "F").run()]))
    s.set("needs_sex", "").run()
    rows.append(Row("needs page", "LA with region comparison, new view", scale, "ms",
                    [s.set("f_la", "Norfolk").run()]))
    warm = []
    for i in range(repeat):
        warm.append(s.set("f_la", ("Whole region", "Norfolk")[i % 2]).run())
    rows.append(Row("needs page", "LA filter change, cached data (the target)", scale, "ms", warm, target))
    return rows


def main() -> None:
    """Print every figure, and save them beside the other benchmark results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", nargs="+", choices=["regional", "national"], default=["regional"])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    rows = []
    for scale in args.scale:
        rows += bench(scale, args.repeat)
    print_table(rows)
    write_rows(rows, RESULTS / f"pages-needs-{'-'.join(args.scale)}.json")


if __name__ == "__main__":
    main()
