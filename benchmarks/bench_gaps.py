"""Time the all-town gap analysis at regional and national scale and print the medians.

Targets (issue 5): under 500 ms for every town in the region, under 5 s nationally.
Run: python benchmarks/bench_gaps.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.analysis.gaps import district_access, gap_table  # noqa: E402

GEODATA = ROOT / "geodata"
REGION_BBOX = ((51.45, 53.0), (-0.75, 1.8))    # lat, lon of the 11 Eastern LAs
ENGLAND_BBOX = ((50.0, 55.8), (-5.7, 1.8))
RESIDENTIAL_KM, SHORT_BREAK_KM = 32.19, 15.0


def random_points(rng, n, bbox) -> pd.DataFrame:
    """Uniform points in a lat/lon box."""
    return pd.DataFrame({"lat": rng.uniform(*bbox[0], n), "lon": rng.uniform(*bbox[1], n)})


def towns_for_region(rng) -> tuple[pd.DataFrame, str]:
    """The real town list when it has been built, else 1,000 random points in the region."""
    path = GEODATA / "towns.csv"
    if path.exists():
        return pd.read_csv(path), "geodata/towns.csv"
    t = random_points(rng, 1000, REGION_BBOX)
    return t.assign(town_id=range(len(t)), name=[f"town {i}" for i in range(len(t))],
                    district_code=[f"d{i % 45}" for i in range(len(t))], la_code="la"), "1,000 random points"


def at_sectors(rng, sectors: pd.DataFrame, n: int, jitter_deg: float = 0.0) -> pd.DataFrame:
    """Points at postcode-sector centroids, picked in proportion to postcodes (people), as children geocode."""
    pick = sectors.sample(n, replace=True, weights="n_postcodes", random_state=rng.integers(1 << 31))
    pts = pick[["lat", "lon"]].reset_index(drop=True)
    return pts + rng.normal(0, jitter_deg, pts.shape) if jitter_deg else pts


def supply(points: pd.DataFrame, rng, low: int, high: int) -> pd.DataFrame:
    """Providers at the given points with random capacity."""
    return points.assign(id=range(len(points)), name=[f"provider {i}" for i in range(len(points))],
                         capacity=rng.integers(low, high + 1, len(points)))


def national_clustered(rng, n_towns=3000, n_children=85_000, n_homes=4_000):
    """Towns with Zipf-like sizes and children/homes scattered round them: denser pairs than uniform points."""
    towns = random_points(rng, n_towns, ENGLAND_BBOX)
    size = 1 / np.arange(1, n_towns + 1) ** 0.9
    home_town = rng.choice(n_towns, n_children, p=size / size.sum())
    spread = 0.06  # ~5 km
    children = pd.DataFrame({"lat": towns["lat"].to_numpy()[home_town] + rng.normal(0, spread, n_children),
                             "lon": towns["lon"].to_numpy()[home_town] + rng.normal(0, spread * 1.6, n_children)})
    homes_at = rng.choice(n_towns, n_homes, p=size / size.sum())
    homes = pd.DataFrame({"lat": towns["lat"].to_numpy()[homes_at] + rng.normal(0, spread, n_homes),
                          "lon": towns["lon"].to_numpy()[homes_at] + rng.normal(0, spread * 1.6, n_homes)})
    towns = towns.assign(town_id=range(n_towns), name=[f"town {i}" for i in range(n_towns)],
                         district_code=[f"d{i % 300}" for i in range(n_towns)], la_code="la")
    return children, supply(homes, rng, 1, 6), towns


def median_ms(fn, repeat: int) -> tuple[float, float]:
    """Median and max wall time of fn over `repeat` runs after one warm-up, in ms."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def report(label: str, demand, sup, towns, radius, repeat: int, target_ms: float) -> None:
    """Time gap_table and district_access for one scenario and print one line each."""
    for name, fn in (("gap_table", gap_table), ("district_access", district_access)):
        med, worst = median_ms(lambda: fn(demand, sup, towns, radius, "gaussian"), repeat)
        flag = "ok" if med < target_ms else "OVER TARGET"
        print(f"{label:<62} {name:<16} median {med:8.1f} ms  max {worst:8.1f} ms  "
              f"(target {target_ms:,.0f} ms: {flag})")


def main() -> None:
    """Build each scenario and print its timings."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    sectors = pd.read_csv(GEODATA / "postcode_sectors.csv")
    towns, source = towns_for_region(rng)
    print(f"Regional towns: {len(towns):,} ({source}); children and providers at postcode-sector centroids.")

    homes = supply(at_sectors(rng, sectors, 230, jitter_deg=0.01), rng, 1, 6)
    children = at_sectors(rng, sectors, 650)
    report(f"regional residential: {len(children)} children, {len(homes)} homes, 32 km",
           children, homes, towns, RESIDENTIAL_KM, args.repeat, 500)

    providers = supply(at_sectors(rng, sectors, 40, jitter_deg=0.01), rng, 10, 60)
    sb_children = at_sectors(rng, sectors, 1700)
    report(f"regional short breaks: {len(sb_children)} children, {len(providers)} providers, 15 km",
           sb_children, providers, towns, SHORT_BREAK_KM, args.repeat, 500)

    national_towns = random_points(rng, 3000, ENGLAND_BBOX).pipe(
        lambda t: t.assign(town_id=range(3000), name=[f"town {i}" for i in range(3000)],
                           district_code=[f"d{i % 300}" for i in range(3000)], la_code="la"))
    n_children = random_points(rng, 85_000, ENGLAND_BBOX)
    n_homes = supply(random_points(rng, 4_000, ENGLAND_BBOX), rng, 1, 6)
    report("national uniform: 3,000 towns, 85,000 children, 4,000 homes", n_children, n_homes,
           national_towns, RESIDENTIAL_KM, max(3, args.repeat // 2), 5000)

    c, h, t = national_clustered(rng)
    report("national clustered: 3,000 towns, 85,000 children, 4,000 homes", c, h, t,
           RESIDENTIAL_KM, max(3, args.repeat // 2), 5000)


if __name__ == "__main__":
    main()
