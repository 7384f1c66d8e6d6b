"""Each analysis on the benchmark databases: co-occurrence, LCA cohorts, E2SFCA gaps, matching, planner, forecast.

The inputs are read from the regional and national databases through the same
functions the pages use, so a figure here is a figure a page pays on a cache
miss. The statistics of the needs page are timed with bench_needs.needs_page and
the synthetic national gap scenario with bench_gaps.national_clustered, the
colleagues' own benchmark functions, so the two stay in step. Modules that do
not exist yet (matching, planner, forecast) are skipped with a note; so is the forecast on a database built
before the sample had SSDA903 history.

Targets from the issues that own each analysis: needs page under 300 ms
(regional); co-occurrence matrix under 1 s and LCA k = 2-8 under 60 s
(national); gap analysis for every town under 500 ms (regional) and 5 s (national).

Run: python -m benchmarks.analyses --scale regional [--repeat N] [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path
from typing import Callable

from benchmarks.common import RESULTS, ROOT, TARGETS, Row, ensure_db, peak_rss_mb, print_table, time_ms, write_rows

ANALYSIS_TARGETS = {
    ("needs page statistics", "regional"): 300.0,
    ("co-occurrence matrix", "national"): 1000.0,
    ("LCA cohorts", "national"): 60_000.0,
    ("E2SFCA gaps", "regional"): 500.0,
    ("E2SFCA gaps", "national"): 5000.0,
}


def _target(kind: str, scale: str) -> float | None:
    """The owning issue's target for an analysis at a scale, if it set one."""
    return ANALYSIS_TARGETS.get((kind, scale))


def _exists(module: str) -> bool:
    """Whether an audit module has landed yet."""
    return importlib.util.find_spec(module) is not None


def _guard(rows: list[Row], label: str, scale: str, fn: Callable[[], list[Row]]) -> None:
    """Run one analysis's measurements; a failure becomes a row saying so instead of stopping the suite."""
    try:
        rows += fn()
    except Exception as exc:  # modules under active development must not hide the other figures
        rows.append(Row("analysis", f"{label} - FAILED", scale, "ms", [], note=f"{type(exc).__name__}: {exc}"[:200]))


def _round_id(db) -> int:
    """The benchmark database's (only) round."""
    return int(db.q("rounds")["round_id"].iloc[0])


def needs_matrix(db, round_id: int):
    """Every child of the round x 22 need codes, read the way the cohort store reads it."""
    from audit.analysis import cohort_store

    return cohort_store.round_matrix(db, round_id)


def cooccurrence_rows(db, scale: str, repeat: int) -> list[Row]:
    """The needs page's statistics (Fisher cache cold) and the 22 x 22 lift matrix."""
    from audit.analysis import cooccur
    from benchmarks.bench_needs import needs_page

    from audit.analysis import needs_view

    rid = _round_id(db)
    # needs_view memoises each view per database version; clearing it times the read a cache miss pays.
    load = time_ms(lambda: needs_matrix(db, rid), repeat, setup=getattr(needs_view, "_MEMO", {}).clear)
    X = needs_matrix(db, rid)
    clear = cooccur._fisher.cache_clear
    stats = time_ms(lambda: needs_page(X, figures=False), repeat, setup=clear)
    with_figs = time_ms(lambda: needs_page(X, figures=True), repeat, setup=clear)
    matrix = time_ms(lambda: cooccur.cooccurrence(X, "lift"), repeat)
    n = f"{len(X):,} children"
    return [Row("analysis", "co-occurrence: read needs matrix from the database", scale, "ms", load, note=n),
            Row("analysis", "co-occurrence: needs page statistics (Fisher cache cold)", scale, "ms", stats,
                _target("needs page statistics", scale), note="bench_needs.needs_page"),
            Row("analysis", "co-occurrence: needs page statistics + 5 figures", scale, "ms", with_figs),
            Row("analysis", "co-occurrence: 22 x 22 lift matrix", scale, "ms", matrix,
                _target("co-occurrence matrix", scale))]


def lca_rows(db, scale: str, repeat: int) -> list[Row]:
    """LCA over k = 2-8 on the 22 codes, as the cohort store fits it (without its memo)."""
    from audit.analysis import cohort_store
    from audit.analysis import cohorts

    X = needs_matrix(db, _round_id(db))
    chosen = {}

    def fit():
        chosen["k"] = cohorts.lca_search(X, cohort_store.K_RANGE, seed=cohort_store.SEED).k

    times = time_ms(fit, repeat)
    return [Row("analysis", "LCA cohorts: k = 2-8 on 22 codes (BIC choice)", scale, "ms", times,
                _target("LCA cohorts", scale), note=f"{len(X):,} children; k = {chosen.get('k')}")]


def gap_rows(db, scale: str, repeat: int) -> list[Row]:
    """E2SFCA gap analysis for every town, residential and short breaks, all needs, as the map page asks for it."""
    from audit.analysis import provision
    from audit.filters import Filters

    f = Filters(round_id=_round_id(db))
    rows = []
    for service in provision.SERVICES:
        sel = provision.selection(service, provision.ALL_NEEDS, f)
        times = time_ms(lambda: provision.gap_analysis(db, sel), repeat, warmup=1)
        rows.append(Row("analysis", f"E2SFCA gaps: {service}, all towns (from the database)", scale, "ms", times,
                        _target("E2SFCA gaps", scale)))
    return rows


def synthetic_gap_rows(repeat: int) -> list[Row]:
    """bench_gaps' clustered national scenario (3,000 towns, 85,000 children, 4,000 homes), E2SFCA only."""
    import numpy as np

    from audit.analysis.gaps import gap_table
    from benchmarks.bench_gaps import RESIDENTIAL_KM, national_clustered

    children, homes, towns = national_clustered(np.random.default_rng(2024))
    times = time_ms(lambda: gap_table(children, homes, towns, RESIDENTIAL_KM, "gaussian"), repeat, warmup=1)
    return [Row("analysis", "E2SFCA gaps: synthetic clustered England (bench_gaps)", "national", "ms", times,
                _target("E2SFCA gaps", "national"), note="3,000 towns, 85,000 children, 4,000 homes")]


def matching_rows(db, scale: str, repeat: int) -> list[Row]:
    """Every child matched to the homes that can meet their needs, within the catchment."""
    from audit.analysis import matching

    rid = _round_id(db)
    times = time_ms(lambda: matching.matching(db, rid), repeat, warmup=1)
    return [Row("analysis", "matching: whole round to homes (auto method)", scale, "ms", times)]


def planner_rows(db, scale: str, repeat: int) -> list[Row]:
    """Choosing towns for 3 new homes of 4 places for all children (includes a matching run)."""
    from audit.analysis import planner

    rid = _round_id(db)
    times = time_ms(lambda: planner.make_plan(db, rid, 3, 4), repeat, warmup=1)
    return [Row("analysis", "planner: 3 new homes of 4 places, all children", scale, "ms", times)]


def forecast_rows(db, scale: str, repeat: int) -> list[Row]:
    """Month-end history from the 903 episodes, the five-year forecast per LA and category, and its backtest."""
    from audit.analysis import forecast

    eps = int(db.scalar("SELECT count(*) FROM episodes"))
    if not eps:
        return [Row("analysis", "forecast: skipped", scale, "ms", [],
                    note="no SSDA903 history in this database: delete it so `audit sample` rebuilds it with one")]
    hist = time_ms(lambda: forecast.history(db), repeat, warmup=1)
    fc = forecast.forecast(db, 5)
    series = fc.history.groupby(["la_code", "category"]).ngroups
    total = fc.table[(fc.table["la"] == forecast.TOTAL) & (fc.table["year"] == fc.table["year"].min())]["observed"].sum()
    note = f"{eps:,} episodes, {series} series, {total:,} children looked after at the last month end"
    def fit() -> None:
        """A fresh fit: the app keeps one fit per data version in memory, which would time a lookup."""
        forecast._forecast_once.cache_clear()
        forecast.forecast(db, 5)

    run5 = time_ms(fit, repeat)
    def refit() -> None:
        """A fresh backtest, not the in-memory one."""
        forecast._backtest_once.cache_clear()
        forecast.backtest(db)

    back = time_ms(refit, max(1, repeat // 2))
    return [Row("analysis", "forecast: month-end history (SQL)", scale, "ms", hist, note=note),
            Row("analysis", "forecast: 5 years, every LA and category (history + ETS fits)", scale, "ms", run5),
            Row("analysis", "forecast: backtest, last 12 months held out", scale, "ms", back)]


def run(scale: str, repeat: int, quick: bool) -> list[Row]:
    """Every analysis at one scale."""
    from audit.db import Database

    db = Database(ensure_db(scale))
    rows: list[Row] = []
    slow_repeat = 1 if scale == "national" else max(1, repeat // 2)
    _guard(rows, "co-occurrence", scale, lambda: cooccurrence_rows(db, scale, repeat))
    if quick and scale == "national":
        rows.append(Row("analysis", "LCA cohorts: skipped (--quick)", scale, "ms", []))
    else:
        _guard(rows, "LCA cohorts", scale, lambda: lca_rows(db, scale, slow_repeat))
    _guard(rows, "E2SFCA gaps", scale, lambda: gap_rows(db, scale, repeat if scale == "regional" else slow_repeat + 1))
    if scale == "national":
        _guard(rows, "E2SFCA gaps (synthetic)", scale, lambda: synthetic_gap_rows(2))
    for module, label, fn in (("audit.analysis.matching", "matching", matching_rows), ("audit.analysis.planner", "planner", planner_rows)):
        if _exists(module):
            _guard(rows, label, scale, lambda: fn(db, scale, repeat if scale == "regional" else slow_repeat))
        else:
            rows.append(Row("analysis", f"{label}: skipped", scale, "ms", [], note=f"{module} does not exist yet"))
    if _exists("audit.analysis.forecast"):
        _guard(rows, "forecast", scale, lambda: forecast_rows(db, scale, repeat if scale == "regional" else slow_repeat))
    else:
        rows.append(Row("analysis", "forecast: skipped", scale, "ms", [], note="audit.analysis.forecast does not exist yet"))
    rows.append(Row("memory", "analyses process peak RSS", scale, "MB", [peak_rss_mb()], TARGETS.get(("memory", scale))))
    db.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure one scale, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["regional", "national"], default="regional")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the national LCA fit (about a minute)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    rows = run(args.scale, args.repeat, args.quick)
    write_rows(rows, args.out or RESULTS / f"analyses-{args.scale}.json")
    print_table(rows)


if __name__ == "__main__":
    main()
