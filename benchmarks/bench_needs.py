"""Time the needs and cohorts analysis at regional (650) and national (85,000) scale and print medians.

Targets (issue 4): the needs page recomputes in under 300 ms at regional scale;
nationally the co-occurrence matrix takes under 1 s and LCA with k chosen over
2-8 under 60 s. Children are drawn from the sample's own needs model
(audit.sample.needs: three latent cohorts calibrated to Nuffield FJO), which is
what audit.sample.generate.generate uses for its needs columns.

Run: python benchmarks/bench_needs.py [--repeat N] [--boot N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from audit.analysis import cohorts  # noqa: E402
from audit.analysis import cooccur  # noqa: E402
from audit.charts import needs as fn  # noqa: E402

REGIONAL, NATIONAL = 650, 85_000


def children(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """n children's need codes and their true cohort, from the sample's latent class model."""
    try:
        from audit.sample import needs as sample_needs
    except ImportError:  # the generator is someone else's module; fall back to independent needs
        rng = np.random.default_rng(seed)
        codes = cooccur.code_order()
        X = pd.DataFrame(rng.random((n, len(codes))) < 0.2, columns=codes)
        return X, np.zeros(n, dtype=int)
    rng = np.random.default_rng(seed)
    z = sample_needs.draw_cohorts(rng, n)
    return sample_needs.draw_codes(rng, z), z


def timed(fn_, repeat: int, setup=None) -> tuple[float, object]:
    """Median wall time in seconds over repeats, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        if setup:
            setup()
        t = time.perf_counter()
        out = fn_()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def show(label: str, seconds: float, target: str = "") -> None:
    """One aligned line of the report."""
    value = f"{seconds * 1000:8.1f} ms" if seconds < 1 else f"{seconds:8.2f} s "
    print(f"  {label:<58}{value}  {target}")


def needs_page(X: pd.DataFrame, figures: bool) -> None:
    """Everything the needs page computes after a filter change (and optionally its figures)."""
    Xc = cooccur.categories_from_codes(X)
    prev = cooccur.prevalence(Xc)
    prev_codes = cooccur.prevalence(X)
    dist = cooccur.needs_per_child(Xc)
    stats = cooccur.summary(Xc)
    matrix = cooccur.cooccurrence(Xc, "lift")
    tests = cooccur.pair_tests(Xc)
    combos = cooccur.combinations(Xc, top=20)
    if figures:
        fn.prevalence_bar(prev)
        fn.prevalence_bar(prev_codes)
        fn.needs_per_child_bar(dist, stats)
        fn.cooccurrence_heatmap(matrix, "lift", tests)
        fn.upset_chart(combos)


def main() -> None:
    """Print every timing with its target, so the figures can be pasted into the issue."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="repeats for the fast steps")
    p.add_argument("--slow-repeat", type=int, default=1, help="repeats for LCA over k = 2-8")
    p.add_argument("--boot", type=int, default=20, help="bootstrap refits for stability")
    p.add_argument("--quick", action="store_true", help="skip the national LCA and stability")
    args = p.parse_args()
    print(f"Needs and cohorts benchmark ({os.cpu_count()} cores; median of repeats)")

    print(f"\nRegional scale: {REGIONAL:,} children, 22 codes")
    Xr, _ = children(REGIONAL, seed=1)
    clear = cooccur._fisher.cache_clear
    t, _ = timed(lambda: needs_page(Xr, figures=False), args.repeat, setup=clear)
    show("needs page computations (Fisher cache cold)", t, "target < 300 ms")
    t, _ = timed(lambda: needs_page(Xr, figures=True), args.repeat, setup=clear)
    show("needs page computations + 5 figures (cache cold)", t, "target < 300 ms")
    t, _ = timed(lambda: cohorts.lca_search(cooccur.categories_from_codes(Xr)), args.repeat)
    show("LCA k = 2-8 on categories", t)

    print(f"\nNational scale: {NATIONAL:,} children, 22 codes")
    X, z = children(NATIONAL, seed=0)
    Xc = cooccur.categories_from_codes(X)
    u_codes = len(cohorts._patterns(X)[1])
    u_cats = len(cohorts._patterns(Xc)[1])
    print(f"  distinct need patterns: {u_codes:,} (codes), {u_cats:,} (categories)")
    t, _ = timed(lambda: cooccur.categories_from_codes(X), args.repeat)
    show("categories_from_codes", t)
    for measure in cooccur.MEASURES:
        t, _ = timed(lambda: cooccur.cooccurrence(X, measure), args.repeat)
        show(f"cooccurrence({measure!r}) 22 x 22", t, "target < 1 s")
    t, _ = timed(lambda: cooccur.cooccurrence(Xc, "phi"), args.repeat)
    show("cooccurrence('phi') 11 x 11", t, "target < 1 s")
    t, _ = timed(lambda: cooccur.pair_tests(X), args.repeat, setup=clear)
    show("pair_tests 231 code pairs, Fisher + BH (cache cold)", t)
    t, _ = timed(lambda: cooccur.pair_tests(X), args.repeat)
    show("pair_tests 231 code pairs (cache warm)", t)
    t, _ = timed(lambda: cooccur.pair_tests(Xc), args.repeat, setup=clear)
    show("pair_tests 55 category pairs (cache cold)", t)
    t, _ = timed(lambda: cooccur.combinations(Xc, top=20), args.repeat)
    show("combinations top 20 (categories)", t)
    t, _ = timed(lambda: needs_page(X, figures=True), args.repeat, setup=clear)
    show("whole needs page + figures (cache cold)", t)

    t, km = timed(lambda: cohorts.fit_kmodes(X, 3, seed=0), 1)
    show("k-modes k = 3 on codes", t, f"ARI vs truth {adjusted_rand_score(z, km.labels):.3f}")
    t, search = timed(lambda: cohorts.lca_search(Xc, seed=0), args.repeat)
    show("LCA k = 2-8 on categories (choose_k)", t,
         f"target < 60 s; k = {search.k}, ARI vs truth {adjusted_rand_score(z, search.best.labels):.3f}")
    if args.quick:
        return
    t, search = timed(lambda: cohorts.lca_search(X, seed=0), args.slow_repeat)
    show("LCA k = 2-8 on codes (choose_k)", t,
         f"target < 60 s; k = {search.k}, ARI vs truth {adjusted_rand_score(z, search.best.labels):.3f}")
    for k, fit in search.fits.items():
        print(f"    k = {k}: BIC {fit.bic:,.0f}, entropy {fit.entropy:.3f}, converged {fit.converged}")
    t, stab = timed(lambda: cohorts.stability(X, search.k, n_boot=args.boot, seed=0), 1)
    show(f"stability, {args.boot} bootstrap refits at k = {search.k} (codes)", t,
         f"mean ARI {stab['mean_ari']:.3f} (sd {stab['sd_ari']:.3f})")


if __name__ == "__main__":
    main()
