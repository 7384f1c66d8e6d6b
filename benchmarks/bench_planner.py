"""Time matching and the planner at regional and national scale, and measure what the greedy gives up.

Prints median (and min-max) milliseconds for: loading children and homes,
reach (nearest matching home and binding needs), the assignment (exact and
greedy where both fit), the whole matching call, and plans of 1, 5 and 20 new
homes. Then the exact method's cost as the problem grows (child x place cells,
subsampled from the national database), which is what sets EXACT_MAX_CELLS,
and the greedy's shortfall against the optimum where both can run.

Then the planner's site choice: the exact MILP against the greedy, with the LP
relaxation's bound and the greedy's gap to it (--sites-only for just that).

Run: python benchmarks/bench_planner.py [--repeat N] [--scale regional national] [--sites-only]
     [--regional PATH] [--national PATH]   (default: benchmarks/results/db/<scale>.duckdb, built if missing)
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.analysis import matching  # noqa: E402
from audit.analysis import planner  # noqa: E402
from audit.db import Database  # noqa: E402
from benchmarks.common import ensure_db, timed  # noqa: E402




def line(label: str, times: list[float], note: str = "") -> None:
    """One printed row: median and range."""
    med = statistics.median(times)
    print(f"  {label:<48} {med:>10,.0f} ms   ({min(times):,.0f}-{max(times):,.0f}, n={len(times)})  {note}")


def bench_scale(scale: str, path: Path, repeat: int) -> None:
    """Every step of matching and planning on one database."""
    db = Database(path)
    rid = int(db.scalar("SELECT max(round_id) FROM rounds"))
    cats, labels = matching.taxonomy(db)
    t, children = timed(lambda: matching.load_children(db, rid, cats), repeat)
    homes = matching.load_homes(db, cats, children)
    cells = matching.exact_cells(children, homes)
    print(f"\n{scale}: {len(children):,} children, {len(homes):,} homes, {int(homes['available'].sum()):,} places "
          f"they could use; exact matrix {cells:,} cells (limit {matching.EXACT_MAX_CELLS:,})")
    line("load children (provision.demand + profile)", t)
    line("load homes and places", timed(lambda: matching.load_homes(db, cats, children), repeat)[0])
    line("reach and binding needs", timed(lambda: matching.reach(children, homes, matching.CATCHMENT_KM), repeat)[0])
    g_t, (g_home, g_km) = timed(lambda: matching.assign_greedy(children, homes), repeat)
    line("assignment: greedy", g_t, f"within reach {(g_km <= matching.CATCHMENT_KM).sum():,}, placed {(g_home >= 0).sum():,}")
    if cells <= matching.EXACT_MAX_CELLS:
        o_t, (o_home, o_km) = timed(lambda: matching.assign_optimal(children, homes, matching.CATCHMENT_KM), repeat)
        line("assignment: optimal (Hungarian)", o_t,
             f"within reach {(o_km <= matching.CATCHMENT_KM).sum():,}, placed {(o_home >= 0).sum():,}")
    m_t, res = timed(lambda: matching.matching(db, rid), repeat)
    line(f"matching(): whole call ({res.method})", m_t)
    for n, p in ((1, 4), (5, 6), (20, 12)):
        p_t, plan = timed(lambda: planner.make_plan(db, rid, n, p), max(1, repeat // 2))
        f = planner.figures(plan).iloc[0]
        line(f"planner: {n} homes of {p} places (incl. 2 matchings)", p_t,
             f"within reach {int(f['near_before']):,} -> {int(f['near_after']):,}")
    db.close()


def site_solvers(scale: str, path: Path) -> None:
    """The planner's site choice: exact MILP (regional scale) against the greedy, with the LP bound and gap.

    Times the site choice alone (children to bring closer and candidate towns as
    make_plan builds them), so the matchings around it do not blur the figures.
    At national scale only the greedy runs (the MILP is skipped above
    planner.MILP_MAX_PAIRS pairs) and its gap is to the LP bound when that is small enough.
    """
    import time

    db = Database(path)
    rid = int(db.scalar("SELECT max(round_id) FROM rounds"))
    base = matching.matching(db, rid)
    kids = base.children
    todo = np.flatnonzero((kids["outcome"] != "near").to_numpy() & kids["lat"].notna().to_numpy())
    towns = planner.provision.towns(db)
    c_lat, c_lon = kids["lat"].to_numpy(float)[todo], kids["lon"].to_numpy(float)[todo]
    t_lat, t_lon = towns["lat"].to_numpy(float), towns["lon"].to_numpy(float)
    pairs = int(planner._reach(c_lat, c_lon, t_lat, t_lon, matching.CATCHMENT_KM)[1].nnz)
    print(f"\n{scale} site choice: {len(todo):,} children to bring closer, {len(towns):,} towns, {pairs:,} pairs "
          f"within reach (exact up to {planner.MILP_MAX_PAIRS:,})")
    print(f"  {'homes x places':>15} {'exact s':>8} {'greedy s':>9} {'LP s':>6} {'exact obj':>10} {'greedy obj':>11} "
          f"{'LP bound':>9} {'greedy gap':>11}")
    for n, p in ((3, 4), (5, 6), (10, 8), (20, 12)):
        t0 = time.perf_counter()
        g = planner.choose_sites(c_lat, c_lon, t_lat, t_lon, n, p, per_town=1)
        t_g = time.perf_counter() - t0
        g_obj = planner.objective(g.owner, g.km, matching.CATCHMENT_KM)
        e_obj, t_e = float("nan"), float("nan")
        if pairs <= planner.MILP_MAX_PAIRS:
            t0 = time.perf_counter()
            e = planner.choose_sites_exact(c_lat, c_lon, t_lat, t_lon, n, p)
            t_e = time.perf_counter() - t0
            e_obj = planner.objective(e.owner, e.km, matching.CATCHMENT_KM)
        t0 = time.perf_counter()
        lp = planner.solve_covering(c_lat, c_lon, t_lat, t_lon, n, p, relax=True)
        t_lp = time.perf_counter() - t0
        gap = 100 * (lp.bound - g_obj) / lp.bound if lp.bound else 0.0
        print(f"  {f'{n} x {p}':>15} {t_e:>8.2f} {t_g:>9.3f} {t_lp:>6.2f} {e_obj:>10.3f} {g_obj:>11.3f} "
              f"{lp.bound:>9.3f} {gap:>10.3f}%")
    db.close()


def exact_scaling(path: Path, repeat: int) -> None:
    """The exact method's time as children x places grows, on subsamples of the national data, with the greedy's result."""
    db = Database(path)
    rid = int(db.scalar("SELECT max(round_id) FROM rounds"))
    cats, _ = matching.taxonomy(db)
    children = matching.load_children(db, rid, cats)
    homes_all = matching.load_homes(db, cats, children)
    rng = np.random.default_rng(1)
    # Keep the national mix: children near many homes, places scarcer than children (about 1 place per 5 children).
    print("\nexact method vs greedy on national subsamples (same children and homes for both):")
    print(f"  {'children':>8} {'places':>7} {'cells':>12} {'optimal ms':>11} {'greedy ms':>10} "
          f"{'near: opt':>10} {'greedy':>7}")
    for n_kids, n_homes in ((500, 120), (1000, 240), (2000, 480), (3000, 720), (4500, 1000)):
        kids = children.iloc[rng.choice(len(children), n_kids, replace=False)].reset_index(drop=True)
        homes = homes_all.iloc[rng.choice(len(homes_all), n_homes, replace=False)].reset_index(drop=True)
        cells = matching.exact_cells(kids, homes)
        o_t, (_, o_km) = timed(lambda: matching.assign_optimal(kids, homes, matching.CATCHMENT_KM), repeat)
        g_t, (_, g_km) = timed(lambda: matching.assign_greedy(kids, homes), repeat)
        print(f"  {n_kids:>8,} {int(homes['available'].sum()):>7,} {cells:>12,} {statistics.median(o_t):>11,.0f} "
              f"{statistics.median(g_t):>10,.0f} {(o_km <= matching.CATCHMENT_KM).sum():>10,} "
              f"{(g_km <= matching.CATCHMENT_KM).sum():>7,}")
    db.close()


def main() -> None:
    """Parse arguments and print every table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale", nargs="+", choices=["regional", "national"], default=["regional", "national"])
    ap.add_argument("--regional", type=Path)
    ap.add_argument("--national", type=Path)
    ap.add_argument("--no-scaling", action="store_true", help="skip the exact-vs-greedy size sweep")
    ap.add_argument("--sites-only", action="store_true", help="only the planner's site choice: exact vs greedy vs LP")
    args = ap.parse_args()
    paths = {s: getattr(args, s) or ensure_db(s) for s in args.scale}
    ap_sites = args.sites_only
    for scale in args.scale:
        if not ap_sites:
            bench_scale(scale, paths[scale], args.repeat)
        site_solvers(scale, paths[scale])
    if "national" in paths and not args.no_scaling and not args.sites_only:
        exact_scaling(paths["national"], max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
