"""Where to open N new children's homes of P places so that most children who cannot now be placed near home could be.

The problem is a capacitated maximal covering location problem. Candidate sites
are the region's towns (optionally one LA's). The children to cover are those
in the chosen group (all, a cohort or a need category) whom matching
(audit.analysis.matching) could not place within the catchment: no place left for them,
or a place only further away. A new home covers a child within the catchment of
its town, and covers at most P children.

Coverage of a set of sites is the largest number of these children that can be
given a place in one of them within reach (a bipartite matching with P places
per site). That function is submodular, so choosing sites greedily, each time
the town that raises coverage most, is within (1 - 1/e), about 63%, of the best
possible set (Nemhauser, Wolsey & Fisher 1978). Gains are exact: a new site may
take a child from an earlier site if that frees a place there for a child only
the earlier site can reach (augmenting paths), so the greedy never
under-counts. Ties go to the town with more uncovered children within reach,
where the demand is. A town may be chosen twice when its demand fills two
homes. The children finally given to the chosen sites are re-optimised
(linear_sum_assignment) so the same number are covered at the least total
distance.

A new home is assumed able to meet every need of the children it is planned
for: designing its registration and staffing around them is the point of
commissioning it. It takes only children of the chosen group.

What it would change: matching is run again with the new homes added (the same
method as before), so the before/after figures are like for like and include
knock-on moves (a child moving to a new home frees an existing place). Per new
home the planner reports the children its own coverage brought within reach,
their mean distance from home today (their actual placement) and to the new
home, and the E2SFCA access ratio (audit.analysis.gaps, the provision map's measure) at
its town before and after, counting the places matching can use.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from audit.analysis import gaps
from audit.analysis import matching
from audit.analysis import provision
from audit.geography import region
from audit.db import Database
from audit.analysis.matching import CATCHMENT_KM, MatchResult
from audit.suppress import PUBLIC, Suppressed, Viewer, hidden_count, hidden_share, suppress

ALL = ""
MAX_HOMES = 20
MAX_PLACES = 12


# -- site choice (pure) ---------------------------------------------------------------------------------

@dataclass
class Sites:
    """The chosen towns (rows of the candidate table, in order chosen) and which child each new home takes."""

    towns: list[int]
    owner: np.ndarray      # per child: position in towns of the new home that takes it, -1 if none
    km: np.ndarray         # per child: km to that new home
    gains: list[int]       # children each choice added to coverage when it was made
    in_reach: list[int]    # children still to cover within reach of the town when it was chosen
    town_counts: np.ndarray = field(default_factory=lambda: np.empty(0, int))  # children to cover near each town
    stopped_early: bool = False
    status: str = ""       # the MILP's: "optimal", or why it stopped (time limit)


def _reach(child_lat, child_lon, town_lat, town_lon, radius_km: float) -> tuple[list[np.ndarray], sparse.csr_matrix]:
    """For each town, the children within the catchment (nearest first), and the same as a towns x children matrix."""
    n_c, n_t = len(child_lat), len(town_lat)
    if n_c == 0 or n_t == 0:
        return [np.empty(0, int) for _ in range(n_t)], sparse.csr_matrix((n_t, n_c))
    tree = cKDTree(matching._xyz(child_lat, child_lon))
    hits = tree.query_ball_point(matching._xyz(town_lat, town_lon), matching._km_chord(radius_km) * (1 + 1e-9))
    reach = []
    for t, h in enumerate(hits):
        h = np.asarray(h, int)
        d = matching.geo.haversine_km(town_lat[t], town_lon[t], child_lat[h], child_lon[h])
        keep = d <= radius_km * (1 + 1e-9)
        reach.append(h[keep][np.argsort(d[keep], kind="stable")])
    rows = np.repeat(np.arange(n_t), [len(r) for r in reach])
    cols = np.concatenate(reach) if reach else np.empty(0, int)
    return reach, sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n_t, n_c))


def _augment(site: int, owner: np.ndarray, site_reach: list[np.ndarray]) -> bool:
    """Give `site` one more child: directly, or by moving children between sites along an augmenting path."""
    parent, via = {site: None}, {}
    queue = deque([site])
    while queue:
        s = queue.popleft()
        r = site_reach[s]
        free = r[owner[r] < 0]
        if free.size:
            owner[free[0]] = s
            while parent[s] is not None:
                owner[via[s]] = parent[s]
                s = parent[s]
            return True
        for c in r[(owner[r] >= 0) & (owner[r] != s)].tolist():
            s2 = int(owner[c])
            if s2 not in parent:
                parent[s2], via[s2] = s, c
                queue.append(s2)
    return False


def _gain(town: int, places: int, owner: np.ndarray, site_reach: list[np.ndarray], reach: list[np.ndarray],
          direct: int) -> int:
    """Exact increase in coverage from opening a home of `places` in `town` (owner is not changed)."""
    if direct >= places:
        return places
    trial, trial_reach = owner.copy(), site_reach + [reach[town]]
    gained = 0
    while gained < places and _augment(len(site_reach), trial, trial_reach):
        gained += 1
    return gained


def choose_sites(child_lat, child_lon, town_lat, town_lon, n_homes: int, places: int,
                 radius_km: float = CATCHMENT_KM, per_town: int | None = None, min_children: int = 1) -> Sites:
    """Greedy capacitated maximal covering: n_homes towns, each taking up to `places` children within radius_km.

    The children passed in are those to cover (already without a place within
    reach). A town takes at most per_town homes (None: no limit) and a home is
    opened only when it brings at least min_children within reach. Stops early
    when no town would bring enough children within reach.
    """
    child_lat, child_lon = np.asarray(child_lat, float), np.asarray(child_lon, float)
    town_lat, town_lon = np.asarray(town_lat, float), np.asarray(town_lon, float)
    reach, a = _reach(child_lat, child_lon, town_lat, town_lon, radius_km)
    owner = np.full(len(child_lat), -1)
    chosen: list[int] = []
    site_reach: list[np.ndarray] = []
    gains: list[int] = []
    in_reach: list[int] = []
    stopped = False
    for _ in range(n_homes):
        direct = np.asarray(a @ (owner < 0).astype(float)).ravel().astype(int)
        best, best_key = None, None
        # Fewer than `places` direct children: only augmenting paths can add more, so test those towns exactly.
        for t in np.argsort(-direct, kind="stable").tolist():
            if per_town is not None and chosen.count(t) >= per_town:
                continue
            upper = min(places, len(reach[t]))
            if best_key is not None and (upper, direct[t]) < best_key[:2]:
                continue
            g = _gain(t, places, owner, site_reach, reach, int(direct[t]))
            key = (g, int(direct[t]), -t)
            if best_key is None or key > best_key:
                best, best_key = t, key
        if best is None or best_key[0] < max(1, int(min_children)):
            stopped = True
            break
        chosen.append(best)
        site_reach.append(reach[best])
        gained = 0
        while gained < places and _augment(len(site_reach) - 1, owner, site_reach):
            gained += 1
        gains.append(gained)
        in_reach.append(best_key[1])
    if min_children > 1:
        # Re-spreading for the least distance could leave a home short of its minimum: keep the covering as built.
        km = np.full(len(child_lat), np.nan)
        got = owner >= 0
        km[got] = matching.geo.haversine_km(child_lat[got], child_lon[got], town_lat[np.asarray(chosen)[owner[got]]],
                                            town_lon[np.asarray(chosen)[owner[got]]])
    else:
        owner, km = _closest_assignment(child_lat, child_lon, town_lat[chosen], town_lon[chosen], site_reach, places,
                                        int((owner >= 0).sum()))
    return Sites(chosen, owner, km, gains, in_reach, np.array([len(r) for r in reach], int), stopped)


# -- exact site choice (MILP, HiGHS) -----------------------------------------------------------------------

# Above this many (child, town) pairs within reach the exact model is left to the greedy (national scale).
MILP_MAX_PAIRS = 200_000
# A page waits for the plan: past this the MILP's best plan so far is used (or the greedy's, if better).
MILP_TIME_LIMIT_S = 20.0
# Up to this many homes the model carries x_it <= y_t (see solve_covering).
STRONG_MAX_HOMES = 5


def weights(km: np.ndarray, radius_km: float, n_children: int) -> np.ndarray:
    """Objective weight of covering a child at km: 1, plus a closeness bonus too small to trade for a child.

    The bonuses of all children together stay under 1, so the objective first
    maximises the children brought within reach, then how close they are.
    """
    eps = 0.5 / (n_children + 1)
    return 1.0 + eps * np.clip(1 - np.asarray(km, float) / radius_km, 0, 1)


def objective(owner: np.ndarray, km: np.ndarray, radius_km: float) -> float:
    """The distance-weighted coverage of an assignment (what the MILP maximises), for comparing solutions."""
    got = np.asarray(owner) >= 0
    return float(weights(np.asarray(km)[got], radius_km, len(owner)).sum())


@dataclass
class Exact:
    """The covering model's answer: homes per town, the assignment, and how good it is proven to be."""

    homes: np.ndarray      # per town: new homes opened there
    pair_child: np.ndarray
    pair_town: np.ndarray
    pair_km: np.ndarray
    x: np.ndarray          # per pair: 1 when the child is given to a home in that town
    value: float           # objective value (distance-weighted coverage)
    bound: float           # best proven upper bound (the LP relaxation's when relaxed)
    status: str


def _pairs(child_lat, child_lon, town_lat, town_lon, radius_km: float):
    """(child, town, km) for every pair within reach."""
    reach, _ = _reach(child_lat, child_lon, town_lat, town_lon, radius_km)
    t = np.repeat(np.arange(len(reach)), [len(r) for r in reach])
    c = np.concatenate(reach) if reach else np.empty(0, int)
    km = matching.geo.haversine_km(child_lat[c], child_lon[c], town_lat[t], town_lon[t]) if c.size else np.empty(0)
    return c.astype(int), t.astype(int), np.asarray(km, float)


def solve_covering(child_lat, child_lon, town_lat, town_lon, n_homes: int, places: int, radius_km: float = CATCHMENT_KM,
                   per_town: int | None = 1, min_children: int = 1, fixed: np.ndarray | None = None,
                   relax: bool = False, time_limit: float = MILP_TIME_LIMIT_S) -> Exact:
    """Capacitated maximal covering by MILP (scipy.optimize.milp, HiGHS): the best towns, not a greedy's.

    Variables: y_t (homes in town t, 0..per_town) and x_it (child i to a home in
    town t, pairs within reach only). Maximise sum w_it x_it subject to
    sum_t y_t <= n_homes, sum_t x_it <= 1, min_children y_t <= sum_i x_it <=
    places y_t. fixed pins y (the greedy's towns, for its best assignment);
    relax solves the LP relaxation, an upper bound on any plan. x_it <= y_t
    is added for up to STRONG_MAX_HOMES homes to tighten the relaxation.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    child_lat, child_lon = np.asarray(child_lat, float), np.asarray(child_lon, float)
    town_lat, town_lon = np.asarray(town_lat, float), np.asarray(town_lon, float)
    n_c, n_t = len(child_lat), len(town_lat)
    pc, pt, pk = _pairs(child_lat, child_lon, town_lat, town_lon, radius_km)
    n_p = pc.size
    cap = int(per_town) if per_town is not None else int(n_homes)
    if n_p == 0:
        return Exact(np.zeros(n_t, int), pc, pt, pk, np.zeros(0), 0.0, 0.0, "nothing within reach")
    w = weights(pk, radius_km, n_c)
    cost = np.concatenate([-w, np.zeros(n_t)])
    xs, ys = np.arange(n_p), n_p + np.arange(n_t)
    rows = [
        # one home per child
        sparse.csr_matrix((np.ones(n_p), (pc, xs)), shape=(n_c, n_p + n_t)),
        # places: sum_i x_it - places y_t <= 0; minimum: sum_i x_it - min y_t >= 0
        sparse.csr_matrix((np.concatenate([np.ones(n_p), -float(places) * np.ones(n_t)]),
                           (np.concatenate([pt, np.arange(n_t)]), np.concatenate([xs, ys]))), shape=(n_t, n_p + n_t)),
        sparse.csr_matrix((np.concatenate([np.ones(n_p), -float(min_children) * np.ones(n_t)]),
                           (np.concatenate([pt, np.arange(n_t)]), np.concatenate([xs, ys]))), shape=(n_t, n_p + n_t)),
        sparse.csr_matrix((np.ones(n_t), (np.zeros(n_t, int), ys)), shape=(1, n_p + n_t)),
        # x_it <= y_t: redundant for integers, but with few homes it tightens the relaxation a great deal (one
        # home of 12 places: the weak model spreads y over every town at 1/12). With many homes the extra rows
        # cost HiGHS more than they save (measured on the sample: 10 homes of 8 timed out with them).
        sparse.csr_matrix((np.concatenate([np.ones(n_p), -np.ones(n_p)]),
                           (np.tile(np.arange(n_p), 2), np.concatenate([xs, n_p + pt]))), shape=(n_p, n_p + n_t)),
    ]
    cons = [LinearConstraint(rows[0], -np.inf, 1), LinearConstraint(rows[1], -np.inf, 0),
            LinearConstraint(rows[2], 0, np.inf), LinearConstraint(rows[3], -np.inf, n_homes),
            *([LinearConstraint(rows[4], -np.inf, 0)] if n_homes <= STRONG_MAX_HOMES else [])]
    lo = np.zeros(n_p + n_t)
    hi = np.concatenate([np.ones(n_p), np.full(n_t, float(cap))])
    if fixed is not None:
        lo[ys] = hi[ys] = np.asarray(fixed, float)
    integrality = np.zeros(n_p + n_t) if relax else np.ones(n_p + n_t)
    res = milp(cost, constraints=cons, integrality=integrality, bounds=Bounds(lo, hi),
               options={"time_limit": time_limit, "disp": False, "mip_rel_gap": 1e-7})
    if res.x is None:
        raise RuntimeError(f"the covering model found no solution: {res.message}")
    x = np.round(res.x[:n_p], 6) if relax else np.round(res.x[:n_p])
    y = res.x[n_p:] if relax else np.round(res.x[n_p:]).astype(int)
    bound = -float(res.fun) if relax or res.status == 0 else -float(getattr(res, "mip_dual_bound", res.fun))
    return Exact(y, pc, pt, pk, x, -float(res.fun), bound, "optimal" if res.status == 0 else res.message)


def choose_sites_exact(child_lat, child_lon, town_lat, town_lon, n_homes: int, places: int,
                       radius_km: float = CATCHMENT_KM, per_town: int | None = 1, min_children: int = 1) -> Sites:
    """The MILP's plan as Sites (towns in order of children taken, repeated when a town has two homes)."""
    child_lat, child_lon = np.asarray(child_lat, float), np.asarray(child_lon, float)
    town_lat, town_lon = np.asarray(town_lat, float), np.asarray(town_lon, float)
    ex = solve_covering(child_lat, child_lon, town_lat, town_lon, n_homes, places, radius_km, per_town, min_children)
    sites = _sites_from(ex, child_lat, child_lon, town_lat, town_lon, n_homes, places, radius_km)
    sites.status = ex.status
    return sites


def _sites_from(ex: Exact, child_lat, child_lon, town_lat, town_lon, n_homes: int, places: int,
                radius_km: float) -> Sites:
    """Split each town's children over its homes (up to `places` each), biggest first, as Sites."""
    n = len(child_lat)
    owner, km = np.full(n, -1), np.full(n, np.nan)
    take = ex.x > 0.5
    per_town = np.bincount(ex.pair_town[take], minlength=len(town_lat))
    order = [t for t in np.argsort(-per_town, kind="stable").tolist() if ex.homes[t] > 0]
    towns, gains = [], []
    reach, _ = _reach(child_lat, child_lon, town_lat, town_lon, radius_km)
    for t in order:
        kids = ex.pair_child[take & (ex.pair_town == t)]
        dist = ex.pair_km[take & (ex.pair_town == t)]
        o = np.argsort(dist, kind="stable")
        for h in range(int(ex.homes[t])):
            part = o[h * places:(h + 1) * places]
            owner[kids[part]] = len(towns)
            km[kids[part]] = dist[part]
            towns.append(t)
            gains.append(int(part.size))
    in_reach = [int(len(reach[t])) for t in towns]
    return Sites(towns, owner, km, gains, in_reach, np.array([len(r) for r in reach], int), len(towns) < n_homes)



def _closest_assignment(child_lat, child_lon, site_lat, site_lon, site_reach: list[np.ndarray], places: int,
                        covered: int) -> tuple[np.ndarray, np.ndarray]:
    """The same number of children covered by the chosen sites, at the least total distance."""
    n = len(child_lat)
    owner, km = np.full(n, -1), np.full(n, np.nan)
    if not site_reach or covered == 0:
        return owner, km
    rows = np.unique(np.concatenate(site_reach))
    d = matching.geo.haversine_km(child_lat[rows][:, None], child_lon[rows][:, None],
                                  np.asarray(site_lat)[None, :], np.asarray(site_lon)[None, :])
    ok = np.zeros(d.shape, bool)
    pos = pd.Series(np.arange(len(rows)), index=rows)
    for s, r in enumerate(site_reach):
        ok[pos[r].to_numpy(), s] = True
    slot_site = np.repeat(np.arange(len(site_reach)), places)
    big = (len(rows) + 1) * (np.nanmax(d) + 1.0)
    cost = np.where(ok, d, big)[:, slot_site]
    r, c = linear_sum_assignment(cost)
    keep = ok[r, slot_site[c]]
    owner[rows[r[keep]]] = slot_site[c[keep]]
    km[rows[r[keep]]] = d[r[keep], slot_site[c[keep]]]
    return owner, km


# -- the plan on the database ----------------------------------------------------------------------------

def target_options(db: Database, round_id: int | None) -> dict[str, str]:
    """Who new homes can be planned for: all children, a fitted cohort, or children with a need category."""
    options = {ALL: "All children"}
    for row in provision.cohorts(db, round_id).itertuples(index=False):
        options[f"cohort:{int(row.cohort)}"] = f"Cohort: {row.name}"
    categories, labels = matching.taxonomy(db)
    options.update({f"category:{c}": f"Children with: {labels[c]}" for c in categories})
    return options


def resolve_target(value: str | None, options: dict[str, str]) -> str | None:
    """A target from a URL or the command line: a key, a bare category or cohort number, or a cohort name."""
    if not value:
        return ALL
    if value in options:
        return value
    for candidate in (f"category:{value}", f"category:{value.lower()}", f"cohort:{value}"):
        if candidate in options:
            return candidate
    for key, label in options.items():
        if label.split(": ", 1)[-1].casefold() == value.casefold():
            return key
    return None


def in_group(children: pd.DataFrame, target: str, categories: list[str]) -> np.ndarray:
    """Which children a target covers."""
    if not target:
        return np.ones(len(children), bool)
    kind, key = target.split(":", 1)
    if kind == "cohort":
        return (children["cohort"] == int(key)).fillna(False).to_numpy(bool)
    if kind == "category":
        if key not in categories:
            raise ValueError(f"unknown need category {key!r}")
        return (children["mask"].to_numpy(np.int64) & (1 << categories.index(key))) != 0
    raise ValueError(f"target must be '', 'cohort:N' or 'category:NAME', not {target!r}")


@dataclass
class Plan:
    """A plan: the new homes (raw numbers), matching before and after, and what was asked."""

    sites: pd.DataFrame
    before: MatchResult
    after: MatchResult
    group: np.ndarray
    target: str
    target_label: str
    n_homes: int
    places: int
    la: str | None = None
    stopped_early: bool = False
    candidates: int = 0
    town_reach: pd.DataFrame = field(default_factory=pd.DataFrame)
    todo: np.ndarray = field(default_factory=lambda: np.empty(0, int))
    for_la: bool = False
    per_town: int | None = 1
    min_children: int = 1
    solver: dict = field(default_factory=dict)

    @property
    def radius_km(self) -> float:
        """The catchment both matchings used."""
        return self.before.radius_km


def _new_homes(towns: pd.DataFrame, picked: list[int], places: int, mask: int) -> pd.DataFrame:
    """The proposed homes as rows matching can use: all needs met, only the group's children."""
    t = towns.iloc[picked].reset_index(drop=True)
    return pd.DataFrame({
        "urn": [f"NEW-{i + 1}" for i in range(len(t))], "name": [f"New home {i + 1} ({n})" for i, n in enumerate(t["name"])],
        "provider": "Proposed", "la_code": t["la_code"], "district_code": t["district_code"],
        "lat": t["lat"].astype(float), "lon": t["lon"].astype(float), "places": places, "occupied": 0, "own": 0,
        "available": places, "mask": np.int64(mask), "needs_met": "All needs of the children it is planned for",
        "ofsted_grade": "Proposed",
    })


def _site_access(db: Database, base: MatchResult, round_id: int | None, target: str, sites: pd.DataFrame,
                 new: pd.DataFrame) -> pd.DataFrame:
    """E2SFCA access (places per child within reach, as on the provision map) at each site, before and after.

    Supply is the places matching can use (audit.analysis.matching's available places) in
    the homes registered for the group's need (provision.supply's rule); demand
    is the group's children. New homes add their places.
    """
    sel = provision.Selection(need=target, round_id=round_id)
    demand = base.children.loc[in_group(base.children, target, base.categories), ["lat", "lon"]].dropna()
    ids = set(provision.supply(db, sel)["id"])
    homes = base.homes[base.homes["urn"].isin(ids)]
    supply = pd.DataFrame({"lat": homes["lat"], "lon": homes["lon"], "capacity": homes["available"].astype(float)})
    added = pd.concat([supply, new[["lat", "lon"]].assign(capacity=new["places"].astype(float))], ignore_index=True)
    where = sites[["lat", "lon"]]
    before = gaps.e2sfca(demand, supply, where, base.radius_km)["access_ratio"].to_numpy()
    after = gaps.e2sfca(demand, added, where, base.radius_km)["access_ratio"].to_numpy()
    return pd.DataFrame({"access_before": before, "access_after": after}, index=sites.index)


def make_plan(db: Database, round_id: int | None, n_homes: int, places: int, target: str = ALL,
              radius_km: float = CATCHMENT_KM, la: str | None = None, vacancies_only: bool = False,
              method: str = "auto", mode: str = "today", for_la: bool = False, per_town: int | None = 1,
              min_children: int = 1, solver: str = "auto") -> Plan:
    """Choose towns for n_homes new homes of `places` places and say what they would change.

    la limits the sites to that LA's towns; for_la also limits the children to
    that LA's. per_town caps the homes in one town (None: no cap);
    min_children is the fewest children a home must bring within reach.
    solver: "exact" (MILP), "greedy", or "auto" (exact up to MILP_MAX_PAIRS).
    """
    if not 1 <= int(n_homes) <= MAX_HOMES:
        raise ValueError(f"homes must be between 1 and {MAX_HOMES}")
    if not 1 <= int(places) <= MAX_PLACES:
        raise ValueError(f"places must be between 1 and {MAX_PLACES}")
    if not 1 <= int(min_children) <= int(places):
        raise ValueError("the minimum children per home must be between 1 and the places in it")
    if solver not in ("auto", "exact", "greedy"):
        raise ValueError(f"solver must be auto, exact or greedy, not {solver!r}")
    for_la = bool(for_la and la)
    base = matching.matching(db, round_id, radius_km, vacancies_only, method, mode)
    group = in_group(base.children, target, base.categories)
    if for_la:
        group &= (base.children["la_code"] == la).to_numpy()
    kids = base.children
    located = kids["lat"].notna() & kids["lon"].notna()
    todo = np.flatnonzero(group & (kids["outcome"] != "near").to_numpy() & located.to_numpy())
    towns = provision.towns(db)
    towns = (towns if la is None else towns[towns["la_code"] == la]).reset_index(drop=True)
    sites, report = _choose(kids["lat"].to_numpy(float)[todo], kids["lon"].to_numpy(float)[todo],
                            towns["lat"].to_numpy(float), towns["lon"].to_numpy(float), int(n_homes), int(places),
                            radius_km, per_town, int(min_children), solver)

    # Matching again with the new homes: a spare bit marks children outside the group, which the existing
    # homes accept and the new homes do not.
    outside = np.int64(1 << len(base.categories))
    everything = np.int64((1 << len(base.categories)) - 1)
    new = _new_homes(towns, sites.towns, int(places), int(everything))
    children2 = kids[base.children.columns.intersection(
        ["child_id", "la_code", "age", "age_band", "district_code", "lat", "lon", "km_today", "placement_urn",
         "cohort", "n_needs", "mask"])].copy()
    children2["mask"] = np.where(group, children2["mask"], children2["mask"] | outside)
    homes2 = base.homes.drop(columns="taken").copy()
    homes2["mask"] = homes2["mask"] | outside
    after = matching.match(children2, pd.concat([homes2, new], ignore_index=True), base.categories, base.labels,
                           radius_km, base.method, base.mode, vacancies_only=vacancies_only,
                           cohort_names=base.cohort_names)
    after.children["binding_near"] &= everything
    after.children["binding_region"] &= everything

    # Per new home, from the planner's own coverage.
    rows = []
    for s, t in enumerate(sites.towns):
        mine = todo[sites.owner == s]
        km_new = sites.km[sites.owner == s]
        today = kids["km_today"].to_numpy(float)[mine]
        town = towns.iloc[t]
        rows.append({"rank": s + 1, "town_id": int(town["town_id"]), "town": town["name"],
                     "district": town.get("district_name") or town["district_code"],
                     "la": town.get("la_name") or town["la_code"], "district_code": town["district_code"],
                     "la_code": town["la_code"], "lat": float(town["lat"]), "lon": float(town["lon"]),
                     "places": int(places), "in_reach": sites.in_reach[s], "children": int(len(mine)),
                     "gain_when_chosen": sites.gains[s],
                     "km_today": float(np.nanmean(today)) if np.isfinite(today).any() else np.nan,
                     "km_new": float(np.mean(km_new)) if len(km_new) else np.nan})
    table = pd.DataFrame(rows, columns=["rank", "town_id", "town", "district", "la", "district_code", "la_code", "lat",
                                        "lon", "places", "in_reach", "children", "gain_when_chosen", "km_today",
                                        "km_new"])
    table["reduction_km"] = table["km_today"] - table["km_new"]
    table = table.join(_site_access(db, base, round_id, target, table, new))

    reach = pd.DataFrame({"town_id": towns["town_id"], "children_in_reach": sites.town_counts})
    options = target_options(db, round_id)
    label = options.get(target, target)
    if for_la:
        label = f"{label} in {region.la_name(la)}"
    return Plan(table, base, after, group, target, label, int(n_homes), int(places), la,
                sites.stopped_early, len(todo), reach, todo, for_la, per_town, int(min_children), report)


def _choose(c_lat, c_lon, t_lat, t_lon, n_homes: int, places: int, radius_km: float, per_town: int | None,
            min_children: int, solver: str) -> tuple[Sites, dict]:
    """The sites by the chosen solver, with the greedy's result and the LP bound beside them for the report."""
    import time

    pairs = int(_reach(c_lat, c_lon, t_lat, t_lon, radius_km)[1].nnz)
    use = solver if solver != "auto" else ("exact" if pairs <= MILP_MAX_PAIRS else "greedy")
    t0 = time.perf_counter()
    greedy = choose_sites(c_lat, c_lon, t_lat, t_lon, n_homes, places, radius_km, per_town, min_children)
    t_greedy = time.perf_counter() - t0
    report = {"solver": use, "pairs": pairs, "greedy_children": int((greedy.owner >= 0).sum()),
              "greedy_objective": objective(greedy.owner, greedy.km, radius_km), "greedy_seconds": t_greedy}
    if use == "exact":
        t0 = time.perf_counter()
        try:
            sites = choose_sites_exact(c_lat, c_lon, t_lat, t_lon, n_homes, places, radius_km, per_town, min_children)
        except RuntimeError:   # no plan at all within the time limit: the greedy's stands
            report["solver"] = "greedy (the MILP found no plan in time)"
            sites = greedy
            use = "greedy"
    if use == "exact":
        report.update(exact_seconds=time.perf_counter() - t0, exact_children=int((sites.owner >= 0).sum()),
                      exact_objective=objective(sites.owner, sites.km, radius_km), exact_status=sites.status)
        if report["exact_objective"] < report["greedy_objective"]:
            # Only when the time limit cut the search short: never offer a worse plan than the greedy's.
            sites, report["solver"] = greedy, "greedy (better than the time-limited MILP)"
    else:
        sites = greedy
    if pairs <= MILP_MAX_PAIRS:   # the LP at national size was not timed here: a counting bound is safe
        lp = solve_covering(c_lat, c_lon, t_lat, t_lon, n_homes, places, radius_km, per_town, min_children, relax=True)
        report["bound"], report["bound_kind"] = lp.bound, "LP relaxation"
    else:
        report["bound"], report["bound_kind"] = simple_bound(c_lat, c_lon, t_lat, t_lon, n_homes, places, radius_km,
                                                             per_town), "counting bound"
    b = report["bound"]
    report["greedy_gap_pct"] = (100 * (b - report["greedy_objective"]) / b) if b > 0 else 0.0
    return sites, report


def simple_bound(c_lat, c_lon, t_lat, t_lon, n_homes: int, places: int, radius_km: float,
                 per_town: int | None) -> float:
    """An upper bound on the objective too large for the LP: the n best homes' children in reach, however shared.

    A town's k-th home can take at most min(places, children in reach - (k-1) places); no plan covers more
    than the n largest of these together, nor more children than are within reach of any town.
    """
    reach, a = _reach(np.asarray(c_lat, float), np.asarray(c_lon, float), np.asarray(t_lat, float),
                      np.asarray(t_lon, float), radius_km)
    sizes = np.array([len(r) for r in reach], int)
    k = int(per_town) if per_town is not None else int(n_homes)
    homes = np.concatenate([np.clip(sizes - j * places, 0, places) for j in range(k)]) if sizes.size else np.zeros(0)
    best = float(np.sort(homes)[::-1][:n_homes].sum())
    coverable = float((np.asarray(a.sum(axis=0)).ravel() > 0).sum())
    cover = min(best, coverable)
    return cover * (1 + 0.5 / (len(c_lat) + 1))


# -- figures and suppressed display --------------------------------------------------------------------------

def figures(plan: Plan) -> pd.DataFrame:
    """Before/after for the group (and all children when a group is chosen): raw counts and percentages."""
    rows = []
    today = plan.before.mode == "today"
    # From today: of the children whose distance today is known, those beyond reach today and still beyond
    # (like for like with today's share); if every place were free: every child not placed within reach.
    beyond = (lambda c: c["far_after"]) if today else (lambda c: c["children"] - c["placed_near"])
    base = (lambda c: c["today_known"]) if today else (lambda c: c["children"])
    scope = ((plan.before.children["la_code"] == plan.la).to_numpy() if plan.for_la
             else np.ones(len(plan.group), bool))
    everyone = "All children" + (f" in {region.la_name(plan.la)}" if plan.for_la else "")
    groups = [("group", plan.group)] if not plan.target else [("group", plan.group), ("all", scope)]
    for name, g in groups:
        before = matching.counts(plan.before.children[g], plan.radius_km)
        after = matching.counts(plan.after.children[g], plan.radius_km)
        rows.append({"who": plan.target_label if name == "group" else everyone,
                     "children": before["children"], "known_today": before["today_known"],
                     "far_today": before["today_far"],
                     "near_today": before["today_known"] - before["today_far"],
                     "near_before": before["placed_near"], "near_after": after["placed_near"],
                     "pct_far_today": 100 * before["today_far"] / before["today_known"] if before["today_known"] else np.nan,
                     "beyond_before": beyond(before), "beyond_after": beyond(after), "beyond_base": base(before),
                     "pct_far_before": 100 * beyond(before) / base(before) if base(before) else np.nan,
                     "pct_far_after": 100 * beyond(after) / base(after) if base(after) else np.nan})
    return pd.DataFrame(rows)


def figure_rows(plan: Plan, viewer: Viewer = PUBLIC) -> Suppressed:
    """The before/after table for display."""
    f = figures(plan).drop(columns=["known_today", "far_today", "beyond_before", "beyond_after", "beyond_base"])
    for c in ("pct_far_today", "pct_far_before", "pct_far_after"):
        f[c] = f[c].round(0)
    s = suppress(f, ["children", "near_today", "near_before", "near_after"],
                 rates={"pct_far_today": "children", "pct_far_before": "children", "pct_far_after": "children"},
                 viewer=viewer)
    m = miles_label(plan.radius_km, short=True)
    names = {"who": "Children", "children": "Number", "near_today": f"Within {m}, today",
             "near_before": f"Within {m}, matched", "near_after": f"Within {m}, new homes",
             "pct_far_today": "% beyond, today", "pct_far_before": "% beyond, matched",
             "pct_far_after": "% beyond, new homes"}
    return Suppressed(s.display.rename(columns=names), s.numeric.rename(columns=names), s.mask.rename(columns=names))


def miles_label(radius_km: float, short: bool = False) -> str:
    """'20 miles' (or one decimal when the catchment is not a whole number of miles); 'mi' when short."""
    m = matching.miles(radius_km)
    n = f"{m:.0f}" if abs(m - round(m)) < 0.05 else f"{m:.1f}"
    return f"{n} {'mi' if short else 'miles'}"


def _why(plan: Plan, row: pd.Series) -> str:
    """Why this town: the children to bring closer around it and what its home does for them (counts as shown)."""
    m = miles_label(plan.radius_km)
    text = (f"{row['in_reach']} of the children to bring closer live within {m}; its home brings {row['children']} "
            f"within reach")
    if isinstance(row["km_today"], float) and isinstance(row["km_new"], float) and np.isfinite(row["km_today"]):
        text += f", {row['km_today']:.0f} km from home today → {row['km_new']:.0f} km"
    return text + "."


SITE_LABELS = {"why": "Why here", "rank": "Home", "town": "Town", "district": "District", "la": "LA", "places": "Places",
               "in_reach": "Children in reach", "children": "Brought within reach",
               "km_today": "Mean km today", "km_new": "Mean km to it", "reduction_km": "Km saved",
               "access_before": "Access before", "access_after": "Access after"}


def site_rows(plan: Plan, viewer: Viewer = PUBLIC, labels: bool = True) -> Suppressed:
    """One row per proposed home: counts of 1-4 hidden, and the distances that rest on them.

    Access ratios (places per child within reach, decayed) are shown as on the
    provision map: they are ratios over every child in reach, not counts.
    labels=False keeps the short column names (the `audit plan` CSV).
    """
    t = plan.sites
    out = pd.DataFrame({
        "rank": t["rank"], "town": t["town"], "district": t["district"], "la": t["la"], "places": t["places"],
        "in_reach": t["in_reach"], "children": t["children"], "km_today": t["km_today"].round(1),
        "km_new": t["km_new"].round(1), "reduction_km": t["reduction_km"].round(1),
        "access_before": t["access_before"].round(2), "access_after": t["access_after"].round(2),
        "lat": t["lat"].round(5), "lon": t["lon"].round(5), "la_code": t["la_code"],
    })
    s = suppress(out, ["in_reach", "children"], rates={"km_today": "children", "km_new": "children",
                                                       "reduction_km": "children"},
                 la_col="la_code", viewer=viewer)
    s.display["why"] = [_why(plan, r) for _, r in s.display.iterrows()]
    s.numeric["why"] = s.display["why"]
    s.mask["why"] = False
    names = SITE_LABELS if labels else {}
    return Suppressed(s.display.rename(columns=names), s.numeric.rename(columns=names), s.mask.rename(columns=names))


def district_rows(plan: Plan, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children to bring closer by the district they live in (the map's shading), 1-4 hidden."""
    kids = plan.before.children.iloc[plan.todo]
    from audit.geography import geo

    d = geo.districts()[["district_code", "district_name", "la_code", "la_name"]]
    n = kids.groupby("district_code").size()
    out = d.assign(children=d["district_code"].map(n).fillna(0).astype(int)).reset_index(drop=True)
    return suppress(out, ["children"], col_totals=True, la_col="la_code", viewer=viewer)


def tiles(plan: Plan, viewer: Viewer = PUBLIC) -> dict[str, str]:
    """Headline figures for the group; arrows go from matching with today's homes to matching with the new ones."""
    f = figures(plan).iloc[0]
    # Figures for the whole region are never one LA's to see unsuppressed.
    see = viewer.may_see(plan.la) if plan.for_la else False
    m = miles_label(plan.radius_km)

    def pct(part: int, whole: int) -> str:
        """A share, hidden when it rests on 1-4 children or gives back 1-4 on either side."""
        return "–" if not whole else (hidden_share(int(part), int(whole), see) or f"{100 * part / whole:.0f}%")

    n = int(f["children"])
    return {
        "Children to bring closer": hidden_count(plan.candidates, see),
        f"Placed within {m}": f"{hidden_count(f['near_before'], see)} → {hidden_count(f['near_after'], see)}",
        f"Beyond {m}": f"{pct(f['beyond_before'], f['beyond_base'])} → {pct(f['beyond_after'], f['beyond_base'])}",
        f"Beyond {m} today": pct(f["far_today"], f["known_today"]),
    }


def scope_text(plan: Plan) -> str:
    """What an LA choice changes: where the homes go, and whether the children and figures are the LA's or the region's."""
    if plan.la is None:
        return ""
    name = region.la_name(plan.la)
    if plan.for_la:
        return (f"With {name} chosen for {name}'s children, the new homes go in its towns and take only its "
                "children; the figures above are its own.")
    return (f"With {name} chosen, the new homes go in its towns; the children they could bring "
            "closer, and the figures above, are the whole region's, because a home takes children from any LA.")


def who_text(plan: Plan) -> str:
    """Who the plan is for and under which rules, in one sentence for the page."""
    where = f"in {region.la_name(plan.la)}'s towns" if plan.la else "anywhere in the region"
    per_town = ("at most one home per town" if plan.per_town == 1 else
                "no limit on homes per town" if plan.per_town is None else f"at most {plan.per_town} homes per town")
    how = plan.solver.get("solver", "greedy")
    return (f"Planned for: {plan.target_label}{'' if plan.for_la else ' across the region'}, "
            f"{hidden_count(plan.candidates)} of them to bring closer; "
            f"{plan.n_homes} new home{'s' if plan.n_homes != 1 else ''} of {plan.places} places {where}, {per_town}, "
            f"each bringing at least {plan.min_children} within reach; towns chosen "
            + ("by exact optimisation (MILP)." if how == "exact" else "greedily (too large for the exact model)."))


def solver_text(plan: Plan) -> str:
    """How good the chosen towns are: the exact optimum against the greedy, or the greedy against the LP bound."""
    r = plan.solver
    if not r:
        return ""
    bound = (f" The {r.get('bound_kind', 'LP relaxation')} bounds any plan at {r['bound']:.2f}; the greedy's gap "
             f"to it is {r['greedy_gap_pct']:.2f}%." if "bound" in r else "")
    if r.get("solver") == "exact":
        proven = "" if r.get("exact_status") == "optimal" else f" (stopped at the {MILP_TIME_LIMIT_S:.0f} s limit: best found, not proven)"
        return (f"Exact plan (HiGHS MILP, {r['exact_seconds']:.1f} s{proven}): {r['exact_children']} children brought within "
                f"reach, objective {r['exact_objective']:.3f}; the greedy's towns would bring {r['greedy_children']} "
                f"(objective {r['greedy_objective']:.3f}).{bound} The objective counts each child brought within "
                "reach as 1, plus a small bonus for being nearer.")
    how = "Greedy plan" if r.get("solver") == "greedy" else f"Plan by the {r['solver']}"
    return (f"{how} ({r['greedy_seconds']:.1f} s): {r['greedy_children']} children brought within reach, "
            f"objective {r['greedy_objective']:.3f}.{bound}")


def method_text(plan: Plan) -> str:
    """How sites are chosen, in a paragraph for the page."""
    m = miles_label(plan.radius_km)
    return (
        f"The children to bring closer are those in the chosen group whom matching (from today's placements unless "
        f"the 'every place free' scenario is on) leaves without a matching place within {m} of home. Each new home is "
        "assumed able to meet every need of the children it is planned for, and takes only them. The towns are chosen "
        "as a capacitated maximal covering problem: open at most the homes asked for, each taking up to "
        f"{plan.places} children who live within {m} of its town, so that the most children are brought within reach, "
        "then as close as possible. At regional scale it is solved exactly (mixed-integer programming, HiGHS); at "
        "national scale a greedy (each time the town that adds most) takes over, and its gap to an upper bound (the "
        "linear relaxation, or a counting bound when that is too large) is reported. The before and after figures come from running the matching again with the "
        "new homes added, so they include children who move into a new home and free a place elsewhere. Places per "
        "child nearby is the provision map's access measure (E2SFCA) at the town, before and after."
    ) + (" " + scope_text(plan) if plan.la else "")
