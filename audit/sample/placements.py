"""Where the sample's children live: region homes, homes outside the region, secure homes and schools.

Children are matched to homes by a gravity model with capacity: each child
proposes a home near where they live (closer is likelier, their own LA's homes
likelier still) or a setting outside the frame of homes when one is nearer;
homes accept proposals up to the places they have for the audited LAs, and
refused children propose again. Calibrated to the NAO's 67% placed outside
their LA and 49% more than 20 miles from home, and to the CCRAG count of 247
region places used by Eastern LAs in 28% of homes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.sample import geo as sample_geo

# Real upper-tier LAs that place children in Eastern homes (London boroughs most), with relative weights.
OUTSIDE_LAS: dict[str, float] = {
    **{f"E09{n:06d}": 0.50 / 33 for n in range(1, 34)},
    "E10000019": 0.05, "E10000016": 0.05, "E06000035": 0.02, "E06000060": 0.03, "E06000042": 0.03,
    "E06000061": 0.03, "E06000062": 0.03, "E10000030": 0.03, "E10000014": 0.02, "E08000025": 0.03,
    "E10000018": 0.02, "E10000024": 0.02, "E10000025": 0.02,
    "Outside region": 0.12,
}


@dataclass(frozen=True)
class Settings:
    """Places outside the homes frame: other children's homes, secure homes, care homes and schools."""

    sector: np.ndarray      # row positions into the England sector table
    urn: np.ndarray
    kind: np.ndarray        # "K2", "K1" or "RS" (R1/S1)


def draw_place_types(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    """SSDA903 PLACE code: mostly K2; secure (K1) for trauma and exploitation; schools and care homes for disability."""
    p = np.array([[0.80, 0.005, 0.05, 0.145], [0.93, 0.04, 0.01, 0.02], [0.935, 0.05, 0.005, 0.01]])[cohort]
    cum = p.cumsum(axis=1)
    u = rng.random(len(cohort))[:, None]
    return np.array(["K2", "K1", "R1", "S1"])[(u > cum).sum(axis=1).clip(0, 3)]


def make_settings(rng: np.random.Generator, gb: pd.DataFrame, n_k2: int, n_k1: int, n_rs: int,
                  exclude_region: bool) -> Settings:
    """Settings outside the frame at real sectors: homes and secure homes outside the region, schools anywhere."""
    w = gb["n_postcodes"].to_numpy(float)
    outside = (~gb["in_region"].to_numpy()) if exclude_region else np.ones(len(gb), bool)
    w_out = np.where(outside, w, 0.0)
    k2 = rng.choice(len(gb), size=n_k2, p=w_out / w_out.sum())
    k1 = rng.choice(len(gb), size=n_k1, p=w_out / w_out.sum(), replace=False)
    rs = rng.choice(len(gb), size=n_rs, p=w / w.sum())
    # Newer Ofsted URNs are seven digits starting 2; schools and care homes carry six-digit URNs starting 1.
    home_urns = 2_000_000 + rng.choice(1_000_000, size=n_k2 + n_k1, replace=False)
    rs_urns = 100_000 + rng.choice(100_000, size=n_rs, replace=False)
    return Settings(
        sector=np.concatenate([k2, k1, rs]),
        urn=np.concatenate([home_urns.astype(str), rs_urns.astype(str)]).astype(object),
        kind=np.array(["K2"] * n_k2 + ["K1"] * n_k1 + ["RS"] * n_rs),
    )


def serving_slots(rng: np.random.Generator, homes: pd.DataFrame, *, home_share: float, place_share: float) -> np.ndarray:
    """Places in each home held for the audited LAs' children (0 for homes used only by others).

    An LA's own homes serve that LA; enough independent homes (voluntary ones
    likelier, as block contracts) join them for `home_share` of homes to serve
    the audited LAs, with `place_share` of all places between them.
    """
    places = homes["places"].to_numpy()
    own = homes["run_by"].to_numpy() != ""
    slots = np.zeros(len(homes), dtype=np.int64)
    slots[own] = np.maximum(1, rng.binomial(places[own], 0.92))
    n_more = max(0, int(round(home_share * len(homes))) - int(own.sum()))
    cand = np.flatnonzero(~own)
    w = np.where(homes["sector"].to_numpy()[cand] == "Voluntary", 2.5, 1.0)
    chosen = rng.choice(cand, size=min(n_more, cand.size), replace=False, p=w / w.sum())
    want = int(round(place_share * places.sum())) - int(slots.sum())
    if chosen.size and want > 0:
        share = min(1.0, want / places[chosen].sum())
        raw = places[chosen] * share
        base = np.maximum(1, np.floor(raw).astype(np.int64))
        short = want - int(base.sum())
        room = np.flatnonzero(base < places[chosen])
        if short > 0 and room.size:
            p = (raw - np.floor(raw))[room] + 1e-9
            add = rng.choice(room, size=min(short, room.size), replace=False, p=p / p.sum())
            base[add] += 1
        slots[chosen] = np.minimum(base, places[chosen])
    return slots


def match_to_homes(rng: np.random.Generator, child_xyz: np.ndarray, child_la: np.ndarray,
                   home_xyz: np.ndarray, home_la: np.ndarray, home_run_by: np.ndarray, slots: np.ndarray,
                   outside_km: np.ndarray, *, reach_km: float, own_la_boost: float, outside_pull: float,
                   rounds: int = 10, k: int = 40) -> np.ndarray:
    """Home index for each child, or -1 for a child placed outside the frame (gravity proposals with capacity)."""
    n = len(child_xyz)
    result = np.full(n, -1, dtype=np.int64)
    pending = np.arange(n)
    left = slots.copy()
    for _ in range(rounds):
        open_h = np.flatnonzero(left > 0)
        if pending.size == 0 or open_h.size == 0:
            break
        d, j = sample_geo.nearest(child_xyz[pending], home_xyz[open_h], k)
        h = open_h[j]
        w = np.exp(-d / reach_km) * np.where(home_la[h] == child_la[pending, None], own_la_boost, 1.0)
        w[(home_run_by[h] != "") & (home_run_by[h] != child_la[pending, None])] = 0.0
        w_out = outside_pull * np.exp(-outside_km[pending] / reach_km)
        pick = sample_geo.pick_by_weight(rng, np.column_stack([w, w_out + 1e-12]))
        chose_home = pick < w.shape[1]
        prop_child = pending[chose_home]
        prop_home = h[np.flatnonzero(chose_home), pick[chose_home]]
        # Homes take proposals in random order up to their free places.
        order = np.lexsort((rng.random(prop_home.size), prop_home))
        ph = prop_home[order]
        first = np.searchsorted(ph, ph, side="left")
        accept = (np.arange(ph.size) - first) < left[ph]
        result[prop_child[order][accept]] = ph[accept]
        np.subtract.at(left, ph[accept], 1)
        refused = prop_child[order][~accept]
        pending = np.sort(refused)  # children who chose outside are settled; only refused ones try again
    return result


def place_in_settings(rng: np.random.Generator, child_xyz: np.ndarray, setting_xyz: np.ndarray, *,
                      reach_km: float, far_share: float, k: int = 60) -> np.ndarray:
    """Setting index per child: mostly a nearby one (distance decay), some anywhere, as scarce places force."""
    d, j = sample_geo.nearest(child_xyz, setting_xyz, k)
    near = j[np.arange(len(j)), sample_geo.pick_by_weight(rng, np.exp(-d / reach_km))]
    far = rng.integers(0, len(setting_xyz), len(child_xyz))
    return np.where(rng.random(len(child_xyz)) < far_share, far, near)


def occupancy(rng: np.random.Generator, homes: pd.DataFrame, placed_home: np.ndarray, child_la: np.ndarray,
              other_fill: float) -> pd.DataFrame:
    """Rows (urn, la, places_used): the audited LAs' children as placed, other LAs filling part of what is left."""
    mask = placed_home >= 0
    ours = (pd.DataFrame({"urn": homes["urn"].to_numpy()[placed_home[mask]], "la": child_la[mask]})
            .groupby(["urn", "la"]).size().rename("places_used").reset_index())
    used = ours.groupby("urn")["places_used"].sum().reindex(homes["urn"]).fillna(0).to_numpy(np.int64)
    free = homes["places"].to_numpy() - used
    others = rng.binomial(np.maximum(free, 0), other_fill) if other_fill > 0 else np.zeros(len(homes), np.int64)
    las = np.array(list(OUTSIDE_LAS))
    p = np.array(list(OUTSIDE_LAS.values()))
    main = rng.choice(las, size=len(homes), p=p / p.sum())
    home_of_place = np.repeat(np.arange(len(homes)), others)
    # Half the placing LAs' children in a home come from its main customer, as spot-purchasing clusters.
    la_of_place = np.where(rng.random(home_of_place.size) < 0.5, main[home_of_place],
                           rng.choice(las, size=home_of_place.size, p=p / p.sum()))
    theirs = (pd.DataFrame({"urn": homes["urn"].to_numpy()[home_of_place], "la": la_of_place})
              .groupby(["urn", "la"]).size().rename("places_used").reset_index())
    out = pd.concat([ours, theirs], ignore_index=True)
    return out.sort_values(["urn", "la"]).reset_index(drop=True)
