"""Match each child's needs to the homes that can meet them, with the places those homes have left.

Rules
- A child has a need category when any code of the category is recorded as present
  (the data contract's rule). A home meets a category when it is registered
  (home_needs) for any code of that category; a home *matches* a child when it
  meets every category the child has. A home that states no needs meets no
  category, so it matches only a child with none recorded (the gap analysis's
  rule too). Homes carry no age range in the data, so ages are not matched.
- Places a home can offer: places - occupied (home_occupancy, every LA) + the
  places this round's own children hold there, because they are being matched,
  not added (a child already in a home can stay in it). With vacancies_only the
  round's own places are not released and only empty places count.
- Distance: great-circle km from the child's home postcode-sector centroid to
  the home. The catchment defaults to 20 miles (32.19 km), the DfE measure.

Two questions
- Reach (could): does a matching home with a place lie within the catchment?
  "near"; "far" (only further away, or the child's home is not located); "none"
  (no matching home with a place in the region). Each child is looked at alone,
  so two children may both count the same last place.
- Assignment (would): places are shared out so that no home takes more children
  than it has places. Objective, in order: most children placed within the
  catchment, then most children placed at all, then least total distance. It is
  solved exactly with the Hungarian algorithm (scipy linear_sum_assignment) on a
  child x place cost matrix with non-matching pairs prohibited when the matrix
  has at most EXACT_MAX_CELLS cells (the region: about 600 x 350). Above that
  (national scale: 85,000 children x 17,000 places) a greedy takes the pairs
  (child, one of its GREEDY_K nearest matching homes with a place): pairs
  within reach first, children with the fewest matching homes within reach
  choosing first, each its nearest; a pair is kept while the child is unplaced
  and the home has a place, and children whose candidates filled up try again
  with the homes that still have places. The greedy never moves a placed child
  to free a place for another, so it can place fewer children within reach
  than the optimum (on the regional sample 318 against 327; shortest-pair-first
  alone managed 292); benchmarks/bench_planner.py measures it.

Binding needs: for a child with no matching home within reach, a need category
binds when a home with a place within reach meets all the child's other
categories, so that one category alone stands between the child and a home
near where they live ("in the region": the same test over every home).

The analysis returns raw numbers per child; the *_rows and tiles functions
suppress small numbers for display and export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from audit.geography import geo
from audit.analysis import provision
from audit.geography import region
from audit.db import Database
from audit.filters import AGE_BANDS
from audit.suppress import (PUBLIC, Suppressed, Viewer, hidden_count, hidden_share, partition_counts, suppress,
                            suppress_partitions)

MILE_KM = 1.609344
CATCHMENT_KM = 20 * MILE_KM
# Above this many child x place cells the exact assignment's dense matrix gets too big (memory and
# O(n^3) time), so the greedy takes over. Measured (benchmarks/bench_planner.py, national subsamples,
# 2-core machine under load): 1M cells 0.08 s, 4.2M 0.5 s, 8.9M 1.7 s, 19M 8.4 s.
EXACT_MAX_CELLS = 5_000_000
# Candidates per child for the greedy; children whose candidates fill up get a fresh set.
GREEDY_K = 16
LEVELS = ("near", "far", "none")


def _xyz(lat, lon) -> np.ndarray:
    """Points on a sphere of Earth's radius, so k-d tree chords order exactly like great circles."""
    p, l = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return geo.EARTH_RADIUS_KM * np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def _chord_km(chord) -> np.ndarray:
    """Great-circle km of a chord length."""
    return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, float) / (2 * geo.EARTH_RADIUS_KM), 0, 1))


def _km_chord(km: float) -> float:
    """Chord length of a great-circle distance: the search radius a k-d tree understands."""
    return 2 * geo.EARTH_RADIUS_KM * np.sin(min(km, np.pi * geo.EARTH_RADIUS_KM) / (2 * geo.EARTH_RADIUS_KM))


def miles(km: float) -> float:
    """km as miles, for labels a reader recognises."""
    return km / MILE_KM


def category_masks(lists, categories: list[str]) -> np.ndarray:
    """One bit per need category, so 'meets all the child's needs' is a single bitwise test."""
    bit = {c: 1 << i for i, c in enumerate(categories)}
    return np.array([sum(bit[c] for c in set(l) if c in bit) if l is not None else 0 for l in lists], dtype=np.int64)


def matches(child_masks, home_masks) -> np.ndarray:
    """children x homes: True where the home meets every category the child has."""
    c = np.asarray(child_masks, np.int64)[:, None]
    h = np.asarray(home_masks, np.int64)[None, :]
    return (c & ~h) == 0


def _located(df: pd.DataFrame) -> np.ndarray:
    """Rows with usable coordinates."""
    return np.isfinite(pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)) & \
        np.isfinite(pd.to_numeric(df["lon"], errors="coerce").to_numpy(float))


def _pattern_split(masks: np.ndarray, idx: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Children grouped by need pattern: each pattern's feasible homes are found once, not per child."""
    if idx.size == 0:
        return []
    uniq, inverse = np.unique(masks[idx], return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(uniq)))[:-1]
    return list(zip(uniq.tolist(), np.split(idx[order], bounds)))


def _knn_pairs(children: pd.DataFrame, homes: pd.DataFrame, rows: np.ndarray, cols: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child, home, km) for each located child in rows and its k nearest matching homes among cols."""
    cm, hm = children["mask"].to_numpy(np.int64), homes["mask"].to_numpy(np.int64)
    cxyz = _xyz(children["lat"].to_numpy(float), children["lon"].to_numpy(float))
    hxyz = _xyz(homes["lat"].to_numpy(float), homes["lon"].to_numpy(float))
    out_c, out_h, out_d = [], [], []
    for pattern, kids in _pattern_split(cm, rows):
        ok = cols[(pattern & ~hm[cols]) == 0]
        if ok.size == 0:
            continue
        kk = min(k, ok.size)
        chord, j = cKDTree(hxyz[ok]).query(cxyz[kids], k=kk)
        chord, j = chord.reshape(len(kids), kk), j.reshape(len(kids), kk)
        out_c.append(np.repeat(kids, kk))
        out_h.append(ok[j.ravel()])
        out_d.append(_chord_km(chord.ravel()))
    if not out_c:
        return np.empty(0, int), np.empty(0, int), np.empty(0)
    return np.concatenate(out_c), np.concatenate(out_h), np.concatenate(out_d)


def _fallback_unlocated(children: pd.DataFrame, homes: pd.DataFrame, cap: np.ndarray, home: np.ndarray,
                        active: np.ndarray) -> None:
    """Children without a location take any matching home with places left (the one with most), in place."""
    cm, hm = children["mask"].to_numpy(np.int64), homes["mask"].to_numpy(np.int64)
    for i in np.flatnonzero(~_located(children) & (home < 0) & active):
        ok = np.flatnonzero(((cm[i] & ~hm) == 0) & (cap > 0))
        if ok.size:
            j = ok[np.argmax(cap[ok])]
            home[i] = j
            cap[j] -= 1


def assign_greedy(children: pd.DataFrame, homes: pd.DataFrame, radius_km: float = CATCHMENT_KM,
                  k: int = GREEDY_K, current: np.ndarray | None = None, active: np.ndarray | None = None,
                  near_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-feasible assignment with capacity, most constrained children first: fast enough for England.

    current (home row per child, -1 none) marks children who keep their home
    before anyone else is placed (from today: the greedy never moves a settled
    child); active limits who is matched; near_only takes pairs within reach only.
    Returns each child's home row (-1 when unplaced) and the km to it.
    """
    n = len(children)
    home, km = np.full(n, -1), np.full(n, np.nan)
    cap = homes["available"].to_numpy(int).copy()
    active = np.ones(n, bool) if active is None else np.asarray(active, bool)
    if current is not None:
        for i in np.flatnonzero(active & (np.asarray(current) >= 0)):
            j = int(current[i])
            if cap[j] > 0:
                home[i] = j
                km[i] = float(geo.haversine_km(children["lat"].iat[i], children["lon"].iat[i],
                                               homes["lat"].iat[j], homes["lon"].iat[j]))
                cap[j] -= 1
    left = int(cap.sum())
    pending = np.flatnonzero(_located(children) & active & (home < 0))
    while pending.size and left > 0:
        ci, hj, d = _knn_pairs(children, homes, pending, np.flatnonzero(cap > 0), k)
        if ci.size == 0:
            break
        near = d <= radius_km * (1 + 1e-9)
        if near_only:
            ci, hj, d, near = ci[near], hj[near], d[near], near[near]
        options = np.bincount(ci[near], minlength=n)
        # Pairs within reach first; among them children with the fewest options choose first, because a
        # child with many nearby homes can still be placed after a scarce place has gone to one with few.
        order = np.lexsort((d, options[ci], ~near))
        for c, h, dist in zip(ci[order].tolist(), hj[order].tolist(), d[order].tolist()):
            if home[c] < 0 and cap[h] > 0:
                home[c], km[c] = h, dist
                cap[h] -= 1
                left -= 1
                if left == 0:
                    break
        still = pending[home[pending] < 0]
        if still.size == pending.size:
            break
        pending = still
    if not near_only:
        _fallback_unlocated(children, homes, cap, home, active)
    return home, km


def _distance_matrix(children: pd.DataFrame, homes: pd.DataFrame) -> np.ndarray:
    """children x homes great-circle km (NaN where a child is not located)."""
    return geo.haversine_km(children["lat"].to_numpy(float)[:, None], children["lon"].to_numpy(float)[:, None],
                            homes["lat"].to_numpy(float)[None, :], homes["lon"].to_numpy(float)[None, :])


def assign_optimal(children: pd.DataFrame, homes: pd.DataFrame, radius_km: float, current: np.ndarray | None = None,
                   active: np.ndarray | None = None, near_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The best assignment that respects places: most within reach, then fewest moves, most placed, least distance.

    One column per place; the cost of a pair is its km, plus B when it is
    beyond the catchment and B + B2 when it is prohibited (needs not met, or
    beyond reach with near_only); a child kept in its current home (current)
    earns -D. B2 exceeds any total distance, D any total of B2s and distances,
    and B any total of D, B2 and distance, so the minimum-cost assignment is
    lexicographically best: a settled child is moved only when that brings
    another child within reach (all in float64, exact well beyond the 1e-3 km
    that matters).
    """
    n = len(children)
    home, km = np.full(n, -1), np.full(n, np.nan)
    active = np.ones(n, bool) if active is None else np.asarray(active, bool)
    cap = homes["available"].to_numpy(int)
    cols = np.flatnonzero(cap > 0)
    feas = matches(children["mask"].to_numpy(np.int64), homes["mask"].to_numpy(np.int64)[cols])
    d_all = _distance_matrix(children, homes.iloc[cols]) if near_only else None
    if near_only:
        feas &= np.isfinite(d_all) & (d_all <= radius_km * (1 + 1e-9))
    rows = np.flatnonzero(feas.any(axis=1) & active)
    if rows.size == 0:
        return home, km
    d = d_all[rows] if near_only else _distance_matrix(children.iloc[rows], homes.iloc[cols])
    feas = feas[rows]
    slot_home = np.repeat(np.arange(cols.size), cap[cols])
    dmax = float(np.nanmax(d)) if np.isfinite(d).any() else 0.0
    pairs = min(rows.size, slot_home.size)
    b2 = pairs * (dmax + 1.0) + 1.0
    cur = np.full(rows.size, -1) if current is None else np.asarray(current)[rows]
    # The current home's column (-1 when the child has none among the homes with a place).
    col_of = np.full(len(homes), -1)
    col_of[cols] = np.arange(cols.size)
    cur_col = np.where(cur >= 0, col_of[np.maximum(cur, 0)], -1)
    # Only a stay the rules allow earns the bonus (a home beyond reach, or one that does not meet the needs, is no stay).
    stay = np.flatnonzero(cur_col >= 0)
    stay = stay[feas[stay, cur_col[stay]]]
    moves = bool(stay.size)
    dd = pairs * (b2 + dmax + 1.0) + 1.0 if moves else 0.0
    b = pairs * (dd + b2 + dmax + 1.0) + 1.0
    located = np.isfinite(d)
    cost = np.where(located, d, 0.0) + np.where(located & (d <= radius_km), 0.0, b)
    cost = np.where(feas, cost, b + b2 + dmax)
    if moves:
        cost[stay, cur_col[stay]] -= dd
    r, c = linear_sum_assignment(cost[:, slot_home])
    keep = feas[r, slot_home[c]]
    r, h = r[keep], slot_home[c[keep]]
    home[rows[r]] = cols[h]
    km[rows[r]] = d[r, h]
    return home, km


def exact_cells(children: pd.DataFrame, homes: pd.DataFrame) -> int:
    """Size of the exact method's cost matrix (children with a matching place x places)."""
    cap = homes["available"].to_numpy(int)
    with_place = homes["mask"].to_numpy(np.int64)[cap > 0]
    pats = np.unique(children["mask"].to_numpy(np.int64))
    ok = set(pats[matches(pats, with_place).any(axis=1)].tolist()) if with_place.size else set()
    return int(children["mask"].isin(ok).sum()) * int(cap[cap > 0].sum())


def assign(children: pd.DataFrame, homes: pd.DataFrame, radius_km: float = CATCHMENT_KM,
           method: str = "auto", current: np.ndarray | None = None, active: np.ndarray | None = None,
           near_only: bool = False) -> tuple[np.ndarray, np.ndarray, str]:
    """Share the places out, exactly when the problem is small enough, greedily when not; says which it used."""
    if method == "auto":
        method = "optimal" if exact_cells(children, homes) <= EXACT_MAX_CELLS else "greedy"
    if method == "optimal":
        return (*assign_optimal(children, homes, radius_km, current, active, near_only), method)
    if method == "greedy":
        return (*assign_greedy(children, homes, radius_km, current=current, active=active, near_only=near_only), method)
    raise ValueError(f"method must be auto, optimal or greedy, not {method!r}")


def _count_matching(child_masks: np.ndarray, home_masks: np.ndarray) -> np.ndarray:
    """How many homes match each child, computed once per distinct need pattern."""
    if home_masks.size == 0:
        return np.zeros(len(child_masks), int)
    uniq, inverse = np.unique(child_masks, return_inverse=True)
    return matches(uniq, home_masks).sum(axis=1)[inverse]


def _single_missing(miss: np.ndarray) -> np.ndarray:
    """Pairs where the home lacks exactly one of the child's categories."""
    return (miss != 0) & ((miss & (miss - 1)) == 0)


def reach(children: pd.DataFrame, homes: pd.DataFrame, radius_km: float) -> pd.DataFrame:
    """Per child: matching homes, the nearest with a place, reach level and the categories that bind."""
    n = len(children)
    cm, hm = children["mask"].to_numpy(np.int64), homes["mask"].to_numpy(np.int64)
    cap = homes["available"].to_numpy(int)
    with_place = np.flatnonzero(cap > 0)
    out = pd.DataFrame({
        "homes_meeting": _count_matching(cm, hm),
        "homes_with_place": _count_matching(cm, hm[with_place]),
        "nearest_home": np.full(n, -1), "nearest_km": np.full(n, np.nan),
        "binding_near": np.zeros(n, np.int64), "home_near": np.zeros(n, bool),
        "binding_region": np.zeros(n, np.int64),
    }, index=children.index)
    located = np.flatnonzero(_located(children))
    ci, hj, d = _knn_pairs(children, homes, located, with_place, 1)
    out.iloc[ci, out.columns.get_loc("nearest_home")] = hj
    out.iloc[ci, out.columns.get_loc("nearest_km")] = d
    near = out["nearest_km"].to_numpy() <= radius_km * (1 + 1e-9)
    level = np.where(near, "near", np.where(out["homes_with_place"].to_numpy() > 0, "far", "none"))
    out["reach"] = level

    # Binding within reach: homes with a place inside the catchment that lack exactly one of the child's categories.
    lacking = located[level[located] != "near"]
    if lacking.size and with_place.size:
        tree = cKDTree(_xyz(homes["lat"].to_numpy(float)[with_place], homes["lon"].to_numpy(float)[with_place]))
        hits = tree.query_ball_point(_xyz(children["lat"].to_numpy(float)[lacking],
                                          children["lon"].to_numpy(float)[lacking]), _km_chord(radius_km) * (1 + 1e-9))
        sizes = np.fromiter((len(h) for h in hits), int, len(hits))
        pc = np.repeat(lacking, sizes)
        ph = with_place[np.fromiter((j for h in hits for j in h), int, int(sizes.sum()))]
        miss = cm[pc] & ~hm[ph]
        single = _single_missing(miss)
        binding = np.zeros(n, np.int64)
        np.bitwise_or.at(binding, pc[single], miss[single])
        out["binding_near"] = binding
        home_near = np.zeros(n, bool)
        home_near[pc] = True
        out["home_near"] = home_near
    # Binding in the region: the same test against every home with a place, per need pattern.
    none = np.flatnonzero(level == "none")
    if none.size and with_place.size:
        home_pats = np.unique(hm[with_place])
        for pattern, kids in _pattern_split(cm, none):
            miss = pattern & ~home_pats
            out.iloc[kids, out.columns.get_loc("binding_region")] = int(np.bitwise_or.reduce(miss[_single_missing(miss)],
                                                                                          initial=0))
    return out


MODES = {"today": "From today's placements", "free": "If every place were free"}
# A child's position today, before matching (see today_status).
TODAY = {"settled": "Within reach, in a home that meets their needs",
         "settled_other": "Within reach, not in one of the region's homes (needs not checked)",
         "unmet": "Within reach, in a home that does not meet their needs",
         "far": "Beyond reach", "unknown": "Distance not known"}
SETTLED = ("settled", "settled_other")


def today_status(children: pd.DataFrame, homes: pd.DataFrame, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Each child's position today (TODAY's keys) and the row of the home they are in (-1 when not one of ours).

    Settled children are within reach of home and either in a home that meets
    every need category they have or in a placement the data cannot check (not
    one of the region's homes, e.g. supported accommodation or a home outside
    the region): matching from today leaves them where they are.
    """
    n = len(children)
    urns = children["placement_urn"] if "placement_urn" in children else pd.Series([None] * n)
    index = pd.Series(np.arange(len(homes)), index=homes["urn"].to_numpy())
    current = urns.map(index).fillna(-1).astype(int).to_numpy()
    km = pd.to_numeric(children["km_today"], errors="coerce").to_numpy(float) if "km_today" in children \
        else np.full(n, np.nan)
    cm, hm = children["mask"].to_numpy(np.int64), homes["mask"].to_numpy(np.int64)
    meets = (current >= 0) & ((cm & ~hm[np.maximum(current, 0)]) == 0)
    near = np.isfinite(km) & (km <= radius_km * (1 + 1e-9))
    status = np.select([near & meets, near & (current < 0), near, np.isfinite(km)],
                       ["settled", "settled_other", "unmet", "far"], "unknown").astype(object)
    return status, current


@dataclass
class MatchResult:
    """Matching for one round: one row per child (internal, unsuppressed) and per home, with the settings used."""

    children: pd.DataFrame
    homes: pd.DataFrame
    categories: list[str]
    labels: dict[str, str]
    radius_km: float = CATCHMENT_KM
    method: str = "optimal"
    vacancies_only: bool = False
    cohort_names: dict[int, str] = field(default_factory=dict)
    mode: str = "today"

    @property
    def miles(self) -> float:
        """The catchment in miles, for labels."""
        return miles(self.radius_km)


def _outcome(status: np.ndarray, home: np.ndarray, km: np.ndarray, radius_km: float, mode: str) -> np.ndarray:
    """near / far / none per child: where matching leaves them (from today, an unmatched child stays as today)."""
    close = np.isfinite(km) & (km <= radius_km * (1 + 1e-9))
    if mode == "free":
        return np.where(close, "near", np.where(home >= 0, "far", "none"))
    # From today only moves within reach are made; anyone else stays where they are: within reach if settled,
    # in a home that does not meet their needs ("none": no matching place), or beyond reach.
    stays = np.where(np.isin(status, SETTLED), "near", np.where(status == "unmet", "none", "far"))
    return np.where(home >= 0, np.where(close, "near", "far"), stays)


def match(children: pd.DataFrame, homes: pd.DataFrame, categories: list[str], labels: dict[str, str] | None = None,
          radius_km: float = CATCHMENT_KM, method: str = "auto", mode: str = "today", **settings) -> MatchResult:
    """Reach and a capacity-respecting assignment for given children and homes.

    children: child_id, la_code, lat, lon, mask (category bits) and anything
    else to carry through (km_today, placement_urn, cohort, age_band...).
    homes: urn, lat, lon, mask, available (places it can offer). Adds to
    children: homes_meeting, homes_with_place, nearest_urn, nearest_km, reach,
    binding_near, binding_region, home_near, today, to_move, home_urn, home_km,
    outcome, moved.

    mode "today" (the default) starts from today's placements: settled
    children (within reach in a home that meets their needs, or within reach
    where the data cannot check) keep their place unless moving them brings
    another child within reach, and only moves within reach are made. mode
    "free" re-places every child as if every place were free.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
    children = children.reset_index(drop=True)
    homes = homes.reset_index(drop=True)
    r = reach(children, homes, radius_km)
    status, current = today_status(children, homes, radius_km)
    if mode == "free":
        home, km, used = assign(children, homes, radius_km, method)
    else:
        # Children settled outside the region's homes are not matched: nothing the region has would bring them closer.
        # Only a settled child's home is one to keep (the others' homes are beyond reach or do not meet their needs).
        home, km, used = assign(children, homes, radius_km, method, current=np.where(status == "settled", current, -1),
                                active=status != "settled_other", near_only=True)
    urns = homes["urn"].to_numpy(object)
    out = pd.concat([children, r], axis=1)
    # Object columns keep "no home" as None rather than pandas' missing-string marker.
    out["nearest_urn"] = pd.Series(np.where(r["nearest_home"].to_numpy() >= 0, urns[np.maximum(r["nearest_home"], 0)],
                                            None), dtype=object)
    out["today"] = status
    out["to_move"] = ~np.isin(status, SETTLED)
    out["home_urn"] = pd.Series(np.where(home >= 0, urns[np.maximum(home, 0)], None), dtype=object)
    out["home_km"] = km
    out["outcome"] = _outcome(status, home, km, radius_km, mode)
    out["moved"] = (status == "settled") & (home != current)
    out = out.drop(columns="nearest_home")
    homes = homes.assign(taken=np.bincount(home[home >= 0], minlength=len(homes)))
    return MatchResult(out, homes, list(categories), dict(labels or {c: c for c in categories}),
                       float(radius_km), used, mode=mode, **settings)


# -- the database -------------------------------------------------------------------------------

def taxonomy(db: Database) -> tuple[list[str], dict[str, str]]:
    """Need categories in the taxonomy's order, with their labels: the bit order of every mask."""
    t = db.q("gaps_need_codes").drop_duplicates("category")
    return t["category"].tolist(), dict(zip(t["category"], t["category_label"]))


def age_bands(ages: pd.Series) -> pd.Series:
    """The shared filter's age band of each age (audit.filters.AGE_BANDS), so views can filter matched children."""
    out = pd.Series(None, index=ages.index, dtype=object)
    for band in AGE_BANDS:
        lo, hi = provision.age_range(band)
        out[(ages >= lo) & ((ages <= hi) if hi is not None else True)] = band
    return out


def load_children(db: Database, round_id: int | None, categories: list[str]) -> pd.DataFrame:
    """The round's children, located at their home sector, with their need mask, current placement and cohort."""
    kids = provision.demand(db, provision.Selection(round_id=round_id))
    prof = db.q("match_child_profile", round_id=round_id)
    kids = kids.merge(prof, on=["la_code", "child_id"], how="left", validate="one_to_one")
    cats = kids["categories"].map(lambda v: list(v) if v is not None and not isinstance(v, float) else [])
    return pd.DataFrame({
        "child_id": kids["child_id"], "la_code": kids["la_code"], "age": kids["age"], "age_band": age_bands(kids["age"]),
        "district_code": kids["district_code"], "lat": kids["lat"].astype(float), "lon": kids["lon"].astype(float),
        "km_today": kids["distance_km"].astype(float), "placement_urn": kids["placement_urn"],
        "cohort": kids["cohort"].astype("Int64"), "n_needs": cats.map(len).astype(int),
        "mask": category_masks(cats, categories),
    })


def load_homes(db: Database, categories: list[str], children: pd.DataFrame, vacancies_only: bool = False) -> pd.DataFrame:
    """Every home with its category mask and the places it can offer the round's children (see module notes)."""
    homes = provision.supply(db, provision.Selection())
    places = db.q("match_home_places")
    homes = homes.merge(places, left_on="id", right_on="urn", how="inner", validate="one_to_one")
    own = children["placement_urn"].value_counts()
    homes["own"] = homes["urn"].map(own).fillna(0).astype(int)
    homes["places"] = homes["places"].astype(int)
    released = 0 if vacancies_only else np.minimum(homes["own"], homes["occupied"])
    homes["available"] = (homes["places"] - homes["occupied"] + released).clip(lower=0, upper=homes["places"]).astype(int)
    homes["mask"] = category_masks(homes["categories"].map(list), categories)
    return homes[["urn", "name", "provider", "la_code", "district_code", "lat", "lon", "places", "occupied", "own",
                  "available", "mask", "needs_met", "ofsted_grade"]]


def matching(db: Database, round_id: int | None, radius_km: float = CATCHMENT_KM, vacancies_only: bool = False,
             method: str = "auto", mode: str = "today") -> MatchResult:
    """Match every child in the round to the region's homes (the whole round at once: places are shared)."""
    categories, labels = taxonomy(db)
    children = load_children(db, round_id, categories)
    homes = load_homes(db, categories, children, vacancies_only)
    names = provision.cohorts(db, round_id)
    return match(children, homes, categories, labels, radius_km, method, mode, vacancies_only=vacancies_only,
                 cohort_names={int(c): str(n) for c, n in zip(names["cohort"], names["name"])})


# -- aggregates (raw) and their suppressed display ---------------------------------------------------

COUNTS = ["children", "settled", "to_move", "reach_near", "reach_far", "reach_none", "placed_near", "placed_far",
          "unplaced", "moved"]
EXTRA = ["today_known", "today_far", "far_after", "none_registered"]


def _view(result: MatchResult, la: str | None = None, age_band: str | None = None) -> pd.DataFrame:
    """The children a view shows; matching itself always runs on the whole round."""
    c = result.children
    if la is not None:
        c = c[c["la_code"] == la]
    if age_band is not None:
        c = c[c["age_band"] == age_band]
    return c


def counts(children: pd.DataFrame, radius_km: float = CATCHMENT_KM) -> dict[str, int]:
    """Raw totals: children, where they are today, reach levels, assignment outcomes and moves."""
    today = children["km_today"]
    to_move = children["to_move"] if "to_move" in children else pd.Series(True, index=children.index)
    far_today = today > radius_km * (1 + 1e-9)
    return {
        "children": len(children),
        "settled": int((~to_move).sum()),
        "to_move": int(to_move.sum()),
        "reach_near": int((children["reach"] == "near").sum()),
        "reach_far": int((children["reach"] == "far").sum()),
        "reach_none": int((children["reach"] == "none").sum()),
        "placed_near": int((children["outcome"] == "near").sum()),
        "placed_far": int((children["outcome"] == "far").sum()),
        "unplaced": int((children["outcome"] == "none").sum()),
        "moved": int(children["moved"].sum()) if "moved" in children else 0,
        "today_known": int(today.notna().sum()),
        "today_far": int(far_today.sum()),
        # Beyond reach today and still not within reach after matching: from today, nobody placed within reach
        # today is counted here, so a group's share can only fall.
        "far_after": int((far_today & (children["outcome"] != "near")).sum()),
        "none_registered": int((children["homes_meeting"] == 0).sum()),
    }


def _pct(part, whole):
    """A percentage, NaN on an empty base."""
    return np.where(np.asarray(whole, float) > 0, 100.0 * np.asarray(part, float) / np.maximum(np.asarray(whole, float), 1), np.nan)


def _grouped(children: pd.DataFrame, key: str, radius_km: float) -> pd.DataFrame:
    """counts() per value of key."""
    rows = [{key: k, **counts(g, radius_km)} for k, g in children.groupby(key, sort=True, dropna=True)]
    return pd.DataFrame(rows, columns=[key, *COUNTS, *EXTRA])


def _miles_text(result: MatchResult, short: bool = False) -> str:
    """'20 miles' (one decimal when the catchment is not a whole number of miles); 'mi' when short."""
    m = result.miles
    n = f"{m:.0f}" if abs(m - round(m)) < 0.05 else f"{m:.1f}"
    return f"{n} {'mi' if short else 'miles'}"


def _labels(result: MatchResult) -> dict[str, str]:
    """Short table headings with the catchment in them: 'Could' is each child alone, 'Placed' is places shared."""
    m = _miles_text(result, short=True)
    today = result.mode == "today"
    return {
        "children": "Children",
        "settled": "Settled today",
        "to_move": "To bring closer",
        "reach_near": f"Could: within {m}",
        "reach_far": "Could: only further",
        "reach_none": "Could: nowhere",
        "placed_near": f"Placed: within {m}",
        "placed_far": "Stays beyond reach" if today else "Placed: further",
        "unplaced": "Stays, needs not met" if today else "Placed: no place left",
        "moved": "Settled, moved",
        "pct_far": "% beyond, matched",
        "pct_far_today": "% beyond, today",
    }


def _display(result: MatchResult, table: pd.DataFrame, first: str, first_label: str, viewer: Viewer,
             la_col: str | None) -> Suppressed:
    """Rates, suppression (reach and outcome columns each add up to children) and headings."""
    t = table.copy()
    if result.mode == "today":
        # Like for like with today: of the children whose distance today is known, those beyond reach after matching.
        t["pct_far"] = np.round(_pct(t["far_after"], t["today_known"]), 0)
    else:
        t["pct_far"] = np.round(_pct(t["placed_far"] + t["unplaced"], t["children"]), 0)
    t["pct_far_today"] = np.round(_pct(t["today_far"], t["today_known"]), 0)
    # A share beside its base gives back the children it counts (and the rest): hidden when either is 1-4.
    bases = {"pct_far": t["today_known"] if result.mode == "today" else t["children"], "pct_far_today": t["today_known"]}
    t = t[[first, *COUNTS, "pct_far", "pct_far_today", *([la_col] if la_col and la_col != first else [])]]
    # Reach and outcome each split the children, and (every place free) % far counts far + unplaced: protected
    # together by the MILP (issue 12).
    reach, outcome = COUNTS[3:6], COUNTS[6:9]
    linked = {"pct_far": outcome[1:]} if result.mode != "today" else None
    fam = suppress_partitions(t, "children", (reach, outcome), shares=linked,
                              rates={"pct_far": "children", "pct_far_today": "children"}, la_col=la_col, viewer=viewer)
    # Settled + to move split the children too, and moved counts some of the settled: small cells and the cells that
    # would give them back are hidden; today's shares, whose base is today_known, hide when they give back 1-4.
    own = ["children", "settled", "to_move", "moved"]
    today_shares = {k: v for k, v in bases.items() if k != "pct_far" or result.mode == "today"}
    rest = suppress(t, own, rates={"pct_far": "children", "pct_far_today": "children"}, row_totals=True,
                    col_totals=True, la_col=la_col, viewer=viewer, shares=today_shares)
    display, numeric, mask = fam.display.copy(), fam.numeric.copy(), fam.mask.copy()
    for c in ["settled", "to_move", "moved", *today_shares]:
        by_family = fam.mask[c]
        display[c] = rest.display[c].where(~by_family, fam.display[c])
        mask[c] = rest.mask[c] | by_family
        numeric[c] = rest.numeric[c].where(~mask[c])
    s = Suppressed(display, numeric, mask)
    names = {first: first_label, **_labels(result)}
    return Suppressed(s.display.rename(columns=names), s.numeric.rename(columns=names), s.mask.rename(columns=names))


def la_rows(result: MatchResult, viewer: Viewer = PUBLIC, age_band: str | None = None) -> Suppressed:
    """Per LA of the child: reach, assignment and how many are far from home after matching and today."""
    t = _grouped(_view(result, None, age_band), "la_code", result.radius_km)
    t.insert(0, "la", t["la_code"].map(region.la_name))
    return _display(result, t, "la", "LA", viewer, "la_code")


def cohort_rows(result: MatchResult, viewer: Viewer = PUBLIC, la: str | None = None,
                age_band: str | None = None) -> Suppressed | None:
    """Per fitted cohort (None when no cohorts are fitted for the round)."""
    kids = _view(result, la, age_band)
    if kids["cohort"].isna().all():
        return None
    t = _grouped(kids, "cohort", result.radius_km)
    t["cohort"] = t["cohort"].astype(int)
    t.insert(0, "name", t["cohort"].map(lambda c: result.cohort_names.get(int(c), f"Cohort {int(c)}")))
    t["la_code"] = la
    out = _display(result, t.drop(columns="cohort"), "name", "Cohort", viewer, "la_code")
    return out


def binding(result: MatchResult, la: str | None = None, age_band: str | None = None) -> pd.DataFrame:
    """Per need category (raw): children with it, those of them without a home within reach, and how often it binds."""
    kids = _view(result, la, age_band)
    mask = kids["mask"].to_numpy(np.int64)
    lacking = (kids["reach"] != "near").to_numpy()
    rows = []
    for i, cat in enumerate(result.categories):
        bit = 1 << i
        has = (mask & bit) != 0
        rows.append({"category": cat, "label": result.labels.get(cat, cat),
                     "with_need": int(has.sum()), "without_near": int((has & lacking).sum()),
                     "binding_near": int(((kids["binding_near"].to_numpy(np.int64) & bit) != 0).sum()),
                     "binding_region": int(((kids["binding_region"].to_numpy(np.int64) & bit) != 0).sum())})
    t = pd.DataFrame(rows)
    return t.sort_values(["binding_near", "binding_region", "without_near"], ascending=False, kind="stable") \
        .reset_index(drop=True)


def obstacles(result: MatchResult, la: str | None = None, age_band: str | None = None) -> dict[str, int]:
    """Why children lack a home within reach: no home with a place near at all, one need, or two or more together."""
    kids = _view(result, la, age_band)
    lacking = kids[kids["reach"] != "near"]
    located = lacking["lat"].notna() & lacking["lon"].notna()
    one = lacking["binding_near"] != 0
    return {"without_near": len(lacking), "not_located": int((~located).sum()),
            "no_home_near": int((located & ~lacking["home_near"]).sum()),
            "one_need": int(one.sum()),
            "several_needs": int((located & lacking["home_near"] & ~one).sum())}


def binding_rows(result: MatchResult, viewer: Viewer = PUBLIC, la: str | None = None,
                 age_band: str | None = None) -> Suppressed:
    """The binding-needs table for display: a child can have several needs, so no totals are derivable."""
    t = binding(result, la, age_band).drop(columns="category")
    t["la_code"] = la
    counts_ = ["with_need", "without_near", "binding_near", "binding_region"]
    s = suppress(t, counts_, la_col="la_code", viewer=viewer)
    m = _miles_text(result, short=True)
    names = {"label": "Need category", "with_need": "Children with it",
             "without_near": f"Of them, no matching home within {m}",
             "binding_near": f"Only this need in the way: within {m}",
             "binding_region": "Only this need in the way: region"}
    drop = ["la_code"]
    return Suppressed(s.display.drop(columns=drop).rename(columns=names), s.numeric.drop(columns=drop).rename(columns=names),
                      s.mask.drop(columns=drop).rename(columns=names))


def tiles(result: MatchResult, viewer: Viewer = PUBLIC, la: str | None = None,
          age_band: str | None = None) -> dict[str, str]:
    """Headline figures for the view, with 1-4 hidden: four for each child alone, then four with places shared."""
    c = counts(_view(result, la, age_band), result.radius_km)
    see = viewer.may_see(la)
    m = _miles_text(result)

    def rate(part: int, whole: int) -> str:
        return "–" if whole == 0 else (hidden_share(part, whole, see) or f"{100 * part / whole:.0f}%")

    # The parts of each split add up to the children shown, so they are suppressed together.
    reach = partition_counts({"near": c["reach_near"], "far": c["reach_far"], "none": c["reach_none"]}, see)
    placed = partition_counts({"near": c["placed_near"], "far": c["placed_far"], "none": c["unplaced"]}, see)
    today = partition_counts({"settled": c["settled"], "to_move": c["to_move"]}, see)
    after = (rate(c["far_after"], c["today_known"]) if result.mode == "today"
             else rate(c["placed_far"] + c["unplaced"], c["children"]))
    # Short labels: a shared screen shows four tiles a row in large type. The page says which are which.
    return {
        "Children in the round": hidden_count(c["children"], see),
        f"Within {m}": reach["near"],
        "Only further away": reach["far"],
        "None with a place": reach["none"],
        "Settled today": today["settled"],
        "To bring closer": today["to_move"],
        f"Placed within {m}": placed["near"],
        ("Stays, needs not met" if result.mode == "today" else "No place left"): placed["none"],
        f"Beyond {_miles_text(result, short=True)}, matched": after,
        f"Beyond {m} today": rate(c["today_far"], c["today_known"]),
    }


def method_text(result: MatchResult) -> str:
    """How matching works, in a paragraph for the page."""
    how = ("the best possible sharing-out (Hungarian algorithm)" if result.method == "optimal" else
           "a greedy sharing-out, nearest matches first (the data is too large for the exact method; it can place "
           "a few children fewer within reach than the best possible)")
    places = ("Only empty places count." if result.vacancies_only else
              "A home's places are its registered places minus those occupied, plus those this round's own children "
              "hold there, since they are the children being matched.")
    m = f"{result.miles:.0f} miles"
    if result.mode == "today":
        start = (f"Matching starts from today's placements. A child is settled when placed within {m} of home in a "
                 "home that meets every need category they have, or within reach in a placement the data cannot "
                 "check (not one of the region's homes); settled children keep their place. The others are to bring "
                 f"closer: placed beyond {m}, or in a home not registered for all their needs. Only moves within reach "
                 "are made; a child who cannot be given a matching place within reach stays where they are. ")
        goal = (f"most children within {m} first, then fewest settled children moved (a settled child moves only "
                "when that frees a place bringing another child within reach), then least total distance.")
        after = (f" '% beyond, matched' counts, of the children whose distance today is known, those beyond {m} "
                 "today and still beyond after matching, so it can only fall below today's.")
    else:
        start = "Scenario: if every place were free. Every child is placed again from scratch, settled or not. "
        goal = f"most children within {m} first, then most children placed, then least total distance."
        after = (" This can move settled children further away to bring others closer, so a group's share beyond "
                 "reach can rise; the default starts from today's placements instead.")
    return (
        start + f"A home matches a child when it is registered to meet every need category the child has (it meets a "
        f"category when it is registered for any need in it). {places} A child has a matching home within reach when "
        f"one with a place lies within {m} of their home postcode sector, in a straight line. "
        f"Places are then shared out with {how}: {goal} A need binds when a home within reach meets all the child's "
        "other needs. Homes list no age range, so ages are not matched." + after
    )
