"""Norfolk short breaks for the synthetic sample: children by SEN primary need, and providers.

Calibrated to Norfolk County Council's Short Breaks Strategy 2023-2026: about
1,700 children aged 5-17 (December 2022), SEMH and autism the largest primary
needs (27.3% and 27.1% among EHCPs), the four Circle of Support tiers. The
group-based providers reproduce the strategy's August 2022 provider map as it
describes it: provision clustered in and around Norwich, Great Yarmouth, King's
Lynn and the north-east coast, with none near the market towns the strategy
lists as gaps. This module models that real-world map, so it names those towns;
the gap analysis never does and has to find them from the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.sample import geo as sample_geo

NORFOLK = "E10000020"

NEEDS = ["SEMH", "ASD", "SLCN", "MLD", "SLD", "SPLD", "PD", "PMLD", "HI", "VI", "MSI", "OTH"]
# SEMH was the commonest primary need among short-break users; among EHCPs SEMH 27.3% and ASD 27.1%.
NEED_P = np.array([29.0, 26.5, 12.0, 9.0, 7.0, 4.0, 4.0, 3.0, 2.0, 1.0, 0.5, 2.0])
TIERS = ["Universal", "Additional", "Complex", "Specialist"]
# Tier mix by need: profound and severe needs sit in the Complex and Specialist tiers.
_TIER_P = {"PMLD": [0.02, 0.08, 0.35, 0.55], "SLD": [0.05, 0.15, 0.45, 0.35], "MSI": [0.05, 0.20, 0.40, 0.35],
           "PD": [0.15, 0.30, 0.35, 0.20]}
_TIER_DEFAULT = [0.42, 0.32, 0.18, 0.08]

# Market towns the strategy found without group provision (GeoNames centres).
GAP_TOWNS = {"Fakenham": (52.82996, 0.8477), "Swaffham": (52.64692, 0.68871), "Dereham": (52.68333, 0.93333),
             "Downham Market": (52.60289, 0.37899), "Thetford": (52.41667, 0.75)}
# Clear of the gap towns by more than the 15 km a family might travel, with a margin for where a town's
# centre is taken to be.
GAP_CLEARANCE_KM = 18.0
# Postcode districts of the places the map shows provision in, and how many group providers each has.
GROUP_CLUSTERS = {
    ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6", "NR7"): 12,   # Norwich
    ("NR30", "NR31"): 5,                                       # Great Yarmouth and Gorleston
    ("PE30",): 4,                                              # King's Lynn
    ("NR27", "NR26"): 2,                                       # Cromer and Sheringham
    ("NR28",): 2,                                              # North Walsham
    ("NR11",): 1,                                              # Aylsham
    ("NR12", "NR13"): 2,                                       # Wroxham and Acle
    ("IP22",): 2,                                              # Diss
    ("NR17",): 1,                                              # Attleborough
    ("NR15", "NR35", "IP20"): 2,                               # Long Stratton, Bungay fringe, Harleston
    ("PE36",): 1,                                              # Hunstanton
}
OTHER_TYPES = {"community club": 8, "overnight": 3, "home-based": 4}
_NAME_WORDS = ["Saturday", "Holiday", "Explorers", "Adventurers", "Friends", "Discovery", "Sunshine", "Rainbow",
               "Horizons", "Pathways", "Stepping Stones", "Kites", "Lighthouse", "Harbour", "Meadow", "Riverside"]
_NAME_TAILS = {"group": "Club", "community club": "Youth Club", "overnight": "Short Break House",
               "home-based": "Home Support"}


def _district(sector: pd.Series) -> pd.Series:
    """Outward code of a sector ('NR30 2' -> 'NR30')."""
    return sector.str.split(" ").str[0]


def _provider_sectors(rng: np.random.Generator, sectors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sector rows and types for the providers, every one clear of the gap towns."""
    d_gap = np.min([sample_geo.haversine_km(sectors["lat"], sectors["lon"], lat, lon)
                    for lat, lon in GAP_TOWNS.values()], axis=0)
    ok = d_gap > GAP_CLEARANCE_KM
    district = _district(sectors["sector"]).to_numpy()
    w = sectors["n_postcodes"].to_numpy(float)
    rows, types = [], []
    for districts, n in GROUP_CLUSTERS.items():
        cand = np.flatnonzero(np.isin(district, districts) & ok)
        rows.append(rng.choice(cand, size=n, p=w[cand] / w[cand].sum()))
        types += ["group"] * n
    # Clubs, overnight units and home-based services' offices sit in the same towns.
    towns = np.flatnonzero(np.isin(district, [d for ds in GROUP_CLUSTERS for d in ds]) & ok)
    for kind, n in OTHER_TYPES.items():
        rows.append(rng.choice(towns, size=n, p=w[towns] / w[towns].sum()))
        types += [kind] * n
    return np.concatenate(rows), np.array(types)


def providers_norfolk(rng: np.random.Generator, sectors: pd.DataFrame) -> pd.DataFrame:
    """Short-break providers on the Norfolk framework, at sector centroids."""
    norfolk = sectors[sectors["la_code"] == NORFOLK].reset_index(drop=True)
    rows, types = _provider_sectors(rng, norfolk)
    return _provider_frame(rng, norfolk.iloc[rows].reset_index(drop=True), types, "SB")


def _provider_frame(rng: np.random.Generator, at: pd.DataFrame, types: np.ndarray, prefix: str) -> pd.DataFrame:
    """Provider rows (id, name, location, capacity, ages, needs supported, type) for located providers."""
    n = len(at)
    cap_lo = pd.Series(types).map({"group": 10, "community club": 15, "overnight": 4, "home-based": 8}).to_numpy()
    cap_hi = pd.Series(types).map({"group": 40, "community club": 50, "overnight": 10, "home-based": 30}).to_numpy()
    min_age = rng.choice([5, 5, 5, 8, 11], size=n)
    max_age = np.where(min_age >= 11, 17, rng.choice([11, 17, 17, 17], size=n))
    specific = ["ASD;SLCN", "SEMH", "SLD;PMLD;PD;MSI", "ASD;SEMH;SLCN", "MLD;SLD;SPLD", "HI;VI;MSI"]
    needs = np.where(rng.random(n) < 0.55, "ALL", rng.choice(specific, size=n))
    words = rng.choice(_NAME_WORDS, size=n)
    return pd.DataFrame({
        "provider_id": [f"{prefix}{i + 1:04d}" for i in range(n)],
        "name": [f"{w} {_NAME_TAILS[t]} ({s})" for w, t, s in zip(words, types, at["sector"].str.split(" ").str[0])],
        "postcode": at["sector"].to_numpy(),
        "lat": at["lat"].to_numpy(),
        "lon": at["lon"].to_numpy(),
        "capacity": rng.integers(cap_lo, cap_hi + 1),
        "min_age": min_age,
        "max_age": max_age,
        "needs_supported": needs,
        "type": types,
    })


def children(rng: np.random.Generator, sectors: pd.DataFrame, la_codes: np.ndarray, la_labels: np.ndarray,
             prefix: str = "SBC") -> pd.DataFrame:
    """Children using short breaks, living where postcodes are (households), aged 5-17, by SEN primary need."""
    n = len(la_codes)
    loc = sample_geo.draw_sectors_within(rng, sectors, la_codes)
    need = rng.choice(NEEDS, size=n, p=NEED_P / NEED_P.sum())
    table = np.array([_TIER_P.get(x, _TIER_DEFAULT) for x in NEEDS])
    tp = table[pd.Series(need).map({x: i for i, x in enumerate(NEEDS)}).to_numpy()]
    cum = tp.cumsum(axis=1)
    tier = np.array(TIERS)[(rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 3)]
    ages = np.arange(5, 18)
    age_w = np.array([0.5, 0.7, 0.9, 1.0, 1.1, 1.15, 1.2, 1.2, 1.15, 1.1, 1.0, 0.9, 0.7])
    ids = rng.choice(np.arange(100_000, 1_000_000), size=n, replace=False)
    return pd.DataFrame({
        "child_id": [f"{prefix}{i}" for i in ids],
        "la": la_labels,
        "age": rng.choice(ages, size=n, p=age_w / age_w.sum()),
        "home_postcode": sectors["sector"].to_numpy()[loc],
        "primary_need": need,
        "tier": tier,
    })


def providers_anywhere(rng: np.random.Generator, sectors: pd.DataFrame, n: int) -> pd.DataFrame:
    """Providers spread with the population, for the national benchmark scale."""
    rows = rng.choice(len(sectors), size=n, p=(w := sectors["n_postcodes"].to_numpy(float)) / w.sum())
    types = rng.choice(["group", "community club", "overnight", "home-based"], size=n, p=[0.6, 0.2, 0.1, 0.1])
    return _provider_frame(rng, sectors.iloc[rows].reset_index(drop=True), types, "SBN")
