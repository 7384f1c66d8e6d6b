"""Children's homes and their providers for the synthetic sample.

Calibrated to the CCRAG figures for the Eastern region (230 homes, 113
providers, 986 places), Ofsted's 83% good or outstanding and the published
average fee of about GBP 6,100 a week (voluntary providers about GBP 1,000
lower, a tail of placements at GBP 10,000 or more).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from audit import taxonomy
from audit.sample import geo as sample_geo

LA_RUN_SHARE = 0.115  # share of homes run by the LAs themselves
VOLUNTARY_HOME_SHARE = 0.14  # of homes not run by LAs
PLACES_PMF = np.array([0.09, 0.14, 0.17, 0.20, 0.14, 0.12, 0.04, 0.04, 0.02, 0.02, 0.01, 0.01])  # 1..12 places

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not yet inspected"]
GRADE_P = [0.21, 0.62, 0.12, 0.02, 0.03]

# Home types and P(registered and staffed to meet a category | type): most homes take
# externalising behaviour and mental health; a minority are disability homes; few specialise in exploitation.
HOME_TYPES = ("general", "therapeutic", "disability", "exploitation")
HOME_TYPE_P = [0.62, 0.13, 0.17, 0.08]
NEEDS_MET_P: dict[str, tuple[float, float, float, float]] = {
    "risk_to_others": (0.95, 0.90, 0.60, 0.90),
    "going_missing": (0.88, 0.80, 0.30, 1.00),
    "self_harm": (0.85, 0.95, 0.50, 0.80),
    "mental_health": (0.90, 1.00, 0.50, 0.80),
    "neurodevelopmental": (0.60, 0.60, 0.95, 0.40),
    "disability": (0.08, 0.10, 1.00, 0.05),
    "sexual_exploitation": (0.18, 0.30, 0.02, 0.95),
    "criminal_exploitation": (0.18, 0.20, 0.02, 0.95),
    "substance_misuse": (0.40, 0.30, 0.02, 0.90),
    "placement_breakdown": (0.90, 0.95, 0.70, 0.90),
    "out_of_education": (0.85, 0.80, 0.50, 0.90),
}
# Base fees before the size, specialism and spread multipliers (which add about 16% on average).
FEE_BASE = {"Private": 5430.0, "Local authority": 5170.0, "Voluntary": 4400.0}
FEE_TYPE = np.array([1.0, 1.08, 1.04, 1.10])

_WORDS = ("Acorn Alder Ash Aspen Beacon Beech Birch Bluebell Bramble Briar Brook Buttercup Cedar Chestnut Clover "
          "Compass Copper Cornflower Cypress Daisy Elder Elm Fern Field Foxglove Hawthorn Hazel Heather Heron "
          "Holly Honeysuckle Juniper Kestrel Lantern Larch Laurel Lavender Lime Linden Maple Marsh Meadow Mill "
          "Mulberry Oak Orchard Osprey Otter Pebble Pine Poplar Primrose Quay Rowan Sage Sandpiper Skylark "
          "Sorrel Spindle Spring Swallow Sycamore Teal Thistle Timber Wren Walnut Willow Windmill Yew").split()
_PRIVATE_TAILS = ["Care Ltd", "Children's Services Ltd", "Care Group Ltd", "Residential Care Ltd", "Childcare Ltd",
                  "Homes Ltd", "Care Services Ltd", "Family Care Ltd", "Young People's Services Ltd", "Support Ltd"]
_VOLUNTARY_TAILS = ["Trust", "Foundation", "Children's Charity", "Community Care", "Youth Trust"]
_QUALIFIERS = ["", "Northern ", "Southern ", "Eastern ", "Western ", "Coastal ", "Country ", "Central "]
_HOME_TAILS = ["House", "Lodge", "Cottage", "View", "Farm", "Court", "Barn", "Grange", "Place", "Mews"]

# How each council styles itself, for LA-run providers in the region.
_COUNCIL_STYLE = {"E06000031": "Peterborough City Council", "E06000033": "Southend-on-Sea City Council",
                  "E06000034": "Thurrock Council", "E06000056": "Central Bedfordshire Council",
                  "E06000055": "Bedford Borough Council", "E06000032": "Luton Borough Council"}


def _council_name(code: str) -> str:
    """The provider name an LA's own homes appear under in the Ofsted list."""
    if code in _COUNCIL_STYLE:
        return _COUNCIL_STYLE[code]
    name = sample_geo.utla_names().get(code, code)
    return f"{name} County Council" if code.startswith("E10") else f"{name} Council"


def _unique_names(rng: np.random.Generator, n: int, parts: list[list[str]], fmt) -> list[str]:
    """n distinct synthetic names drawn from the product of word lists (no real organisation is meant)."""
    combos = list(itertools.product(*parts))
    if n > len(combos):
        raise ValueError("not enough name combinations")
    pick = rng.choice(len(combos), size=n, replace=False)
    return [fmt(*combos[i]) for i in pick]


def _provider_sizes(rng: np.random.Generator, n_providers: int, n_homes: int) -> np.ndarray:
    """Homes per provider: every provider has one, the rest follow a Zipf-like market of a few large groups."""
    extra = n_homes - n_providers
    w = 1.0 / np.arange(1, n_providers + 1) ** 1.05
    sizes = 1 + rng.multinomial(extra, w / w.sum())
    return sizes[rng.permutation(n_providers)]


def _places(rng: np.random.Generator, n: int, target_total: int) -> np.ndarray:
    """Registered places per home, nudged one place at a time so the total matches the published count."""
    places = rng.choice(np.arange(1, 13), size=n, p=PLACES_PMF / PLACES_PMF.sum())
    diff = int(target_total - places.sum())
    while diff != 0:
        step = 1 if diff > 0 else -1
        ok = np.flatnonzero((places > 1) if step < 0 else (places < 12))
        take = rng.choice(ok, size=min(abs(diff), ok.size), replace=False)
        places[take] += step
        diff = int(target_total - places.sum())
    return places


def _needs_met(rng: np.random.Generator, home_type: np.ndarray) -> np.ndarray:
    """Semicolon-separated category labels each home is registered and staffed to meet."""
    labels = taxonomy.category_labels()
    cats = list(NEEDS_MET_P)
    p = np.array([NEEDS_MET_P[c] for c in cats]).T[home_type]
    met = rng.random(p.shape) < p
    # Every home is registered for something; emotional and behavioural needs is the commonest registration.
    met[~met.any(axis=1), 0] = True
    lab = np.array([labels[c] for c in cats], dtype=object)
    return np.array([";".join(lab[row]) for row in met], dtype=object)


def generate_homes(rng: np.random.Generator, sectors: pd.DataFrame, child_counts: pd.Series, *,
                   n_homes: int, n_providers: int, total_places: int,
                   la_weight: dict[str, float] | None = None) -> pd.DataFrame:
    """Homes with provider, sector (ownership), location, places, grade, needs met and weekly fee.

    `sectors` are candidate locations (sector, la_code, lat, lon, n_postcodes);
    `child_counts` (children per LA code) decides which LAs run homes of their own.
    Internal columns la_code, home_type and la_run are kept for the placement step.
    """
    n_la = int(round(LA_RUN_SHARE * n_homes))
    la_w = child_counts.astype(float) ** 1.5
    la_homes = rng.multinomial(n_la, (la_w / la_w.sum()).to_numpy())
    la_codes = child_counts.index.to_numpy()[la_homes > 0]
    la_homes = la_homes[la_homes > 0]
    n_other_prov = n_providers - len(la_codes)
    sizes = _provider_sizes(rng, n_other_prov, n_homes - n_la)
    # Voluntary organisations, taken in random order until they run their share of the independent homes.
    order = rng.permutation(n_other_prov)
    n_vol = int(np.searchsorted(np.cumsum(sizes[order]), VOLUNTARY_HOME_SHARE * sizes.sum())) + 1
    voluntary = np.zeros(n_other_prov, dtype=bool)
    voluntary[order[:n_vol]] = True

    names_private = _unique_names(rng, n_other_prov, [_QUALIFIERS, _WORDS, _PRIVATE_TAILS],
                                  lambda q, w, t: f"{q}{w} {t}")
    names_vol = _unique_names(rng, n_other_prov, [_QUALIFIERS, _WORDS, _VOLUNTARY_TAILS],
                              lambda q, w, t: f"{q}{w} {t}")
    prov_name = np.where(voluntary, names_vol, names_private)

    home_provider = np.concatenate([np.repeat([_council_name(c) for c in la_codes], la_homes),
                                    np.repeat(prov_name, sizes)])
    home_sector_kind = np.concatenate([np.repeat("Local authority", n_la),
                                       np.repeat(np.where(voluntary, "Voluntary", "Private"), sizes)])
    run_by = np.concatenate([np.repeat(la_codes, la_homes), np.repeat("", n_homes - n_la)])
    prov_index = np.concatenate([np.repeat(np.arange(len(la_codes)), la_homes),
                                 len(la_codes) + np.repeat(np.arange(n_other_prov), sizes)])

    # Locations: an LA's own homes lie in that LA; independent homes anywhere, weighted towards
    # the counties with most homes, and clustered around each provider's base.
    loc = np.empty(n_homes, dtype=np.int64)
    own = run_by != ""
    loc[own] = sample_geo.draw_sectors_within(rng, sectors, run_by[own])
    w = sectors["n_postcodes"].to_numpy(float)
    if la_weight:
        w = w * sectors["la_code"].map(la_weight).fillna(1.0).to_numpy(float)
    w = w / w.sum()
    other = np.flatnonzero(~own)
    loc[other] = rng.choice(len(sectors), size=other.size, p=w)
    base = pd.Series(loc[other]).groupby(prov_index[other]).transform("first").to_numpy()
    pts = sample_geo.xyz(sectors["lat"], sectors["lon"])
    _, near = sample_geo.nearest(pts[base], pts, 40)
    cluster = rng.random(other.size) < 0.5
    loc[other[cluster]] = near[cluster, rng.integers(0, near.shape[1], cluster.sum())]

    home_type = rng.choice(len(HOME_TYPES), size=n_homes, p=HOME_TYPE_P)
    places = _places(rng, n_homes, total_places)
    size_factor = np.select([places == 1, places == 2], [1.7, 1.3], 1.0)
    fee = (pd.Series(home_sector_kind).map(FEE_BASE).to_numpy() * size_factor * FEE_TYPE[home_type]
           * rng.lognormal(0.0, 0.20, n_homes))
    urn_numbers = rng.choice(np.arange(10_000, 1_000_000), size=n_homes, replace=False)
    home_names = (pd.Series(rng.choice(_WORDS, size=n_homes)) + " "
                  + pd.Series(rng.choice(_HOME_TAILS, size=n_homes))).to_numpy()

    s = sectors.iloc[loc].reset_index(drop=True)
    homes = pd.DataFrame({
        "urn": [f"SC{u:06d}" for u in urn_numbers],
        "name": home_names,
        "provider": home_provider,
        "sector": home_sector_kind,
        "la": s["la_code"].map(sample_geo.utla_names()).to_numpy(),
        "postcode": s["sector"].to_numpy(),
        "lat": s["lat"].to_numpy(),
        "lon": s["lon"].to_numpy(),
        "places": places,
        "ofsted_grade": rng.choice(GRADES, size=n_homes, p=GRADE_P),
        "needs_met": _needs_met(rng, home_type),
        "weekly_fee": (np.round(fee / 10) * 10).astype(np.int64),
        "la_code": s["la_code"].to_numpy(),
        "home_type": np.asarray(HOME_TYPES)[home_type],
        "run_by": run_by,
    })
    return homes.sort_values("urn", kind="stable").reset_index(drop=True)
