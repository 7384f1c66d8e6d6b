"""Where provision is out of reach of the children who need it: E2SFCA access and gap scores.

Method: the enhanced two-step floating catchment area (E2SFCA, Luo & Qi 2009).

1. For every provider j, the supply-to-demand ratio
   R_j = S_j / sum_k W(d_kj) * D_k over the demand points k within the catchment
   radius of j (S_j = places or short-break capacity, D_k = children at k).
2. For every location i (a town, a district centroid or a child's home),
   A_i = sum_j W(d_ij) * R_j over the providers within the radius of i.

A_i is "places per child" within reach, discounted by distance. Because every
place is shared out over the children who can reach it, the demand-weighted
mean of A over all children equals total supply / total demand whenever every
provider has children in reach (supply is conserved); providers with nobody in
reach are idle and contribute no access.

Gap score of a town: gap_i = demand_i * max(0, 1 - A_i / A_ref), where demand_i
is the number of children whose nearest town is i (so each child is counted
once and the scores add up across towns), A_i is the access at the town centre
and A_ref is the region-wide supply / demand ratio, i.e. the access every child
would have if the same provision were spread evenly. The score reads as "children
short of a fair share of provision": a town with access at or above the regional
fair share scores 0, a town with nothing in reach scores all its children. It
ranks towns by both the size of the need and how poorly it is served, which
neither the ratio (tiny towns with no provision) nor the headcount (big, well
served towns) does alone.

Assumptions: straight-line (great-circle) distance, not travel time; a hard
catchment radius (nothing beyond it counts); distance decay inside it; children
located at their home postcode (sector) centroid; provision available to any
child within reach regardless of LA boundary; demand and supply already filtered
by the caller to the chosen service, need and age band. Points without
coordinates and providers with no capacity are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

# Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
DECAYS = ("gaussian", "step", "linear")
# Luo & Qi's three travel-time zones, scaled to thirds of the catchment radius.
LUO_QI_ZONES = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))

GAP_COLUMNS = ["town", "district", "la", "demand", "supply", "access_ratio",
               "gap_score", "nearest_supply", "nearest_km"]


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between coordinate arrays, because catchments are straight-line."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on a sphere of Earth's radius, so a k-d tree's chord lengths map exactly to great circles."""
    p, l = np.radians(lat), np.radians(lon)
    return EARTH_RADIUS_KM * np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Convert chord length to great-circle distance (they differ by <0.01% at 30 km, but be exact)."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / (2 * EARTH_RADIUS_KM), 0, 1))


def _km_to_chord(km: float) -> float:
    """Chord length spanning a great-circle distance, the search radius a k-d tree understands."""
    return 2 * EARTH_RADIUS_KM * np.sin(min(km, np.pi * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM))


def decay_weights(d_km: np.ndarray, radius_km: float, decay: str = "gaussian",
                  zones: Sequence[tuple[float, float]] | None = None) -> np.ndarray:
    """Weight of a provider at distance d, so nearer provision counts for more; 0 beyond the radius.

    gaussian: (exp(-d²/2r²) - exp(-1/2)) / (1 - exp(-1/2)), 1 at the door falling
    smoothly to 0 at the radius (Dai 2010's continuous form of Luo & Qi's weights).
    step: 1 inside the catchment (the original 2SFCA). linear: 1 - d/r.
    zones: ((upper_km, weight), ...) in increasing order, Luo & Qi's discrete
    zones; overrides `decay`; distances beyond the last zone weigh 0.
    """
    d = np.asarray(d_km, float)
    inside = d <= radius_km * (1 + 1e-9)
    if zones is not None:
        uppers = np.array([z[0] for z in zones], float)
        weights = np.append(np.array([z[1] for z in zones], float), 0.0)
        if np.any(np.diff(uppers) <= 0):
            raise ValueError("zones must have increasing upper bounds")
        w = weights[np.searchsorted(uppers * (1 + 1e-9), d, side="left")]
    elif decay == "step":
        w = np.ones_like(d)
    elif decay == "linear":
        w = np.clip(1 - d / radius_km, 0, 1)
    elif decay == "gaussian":
        floor = np.exp(-0.5)
        w = np.clip((np.exp(-0.5 * (d / radius_km) ** 2) - floor) / (1 - floor), 0, 1)
    else:
        raise ValueError(f"decay must be one of {DECAYS}, not {decay!r}")
    return np.where(inside, w, 0.0)


def _pairs(tree_a: cKDTree, tree_b: cKDTree, radius_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (a, b) index pairs within the radius with their great-circle km, as sparse lists not a dense matrix."""
    m = tree_a.sparse_distance_matrix(tree_b, _km_to_chord(radius_km) * (1 + 1e-9), output_type="ndarray")
    d = _chord_to_km(m["v"])
    keep = d <= radius_km * (1 + 1e-9)
    return m["i"][keep], m["j"][keep], d[keep]


def _demand_points(demand: pd.DataFrame) -> pd.DataFrame:
    """Collapse children at the same point (postcode-sector centroids) so the work scales with places, not heads."""
    d = demand.loc[:, ["lat", "lon"]].astype(float)
    d["weight"] = demand["weight"].astype(float) if "weight" in demand else 1.0
    d = d.dropna()
    d = d[d["weight"] > 0]
    return d.groupby(["lat", "lon"], as_index=False, sort=False)["weight"].sum()


def _supply_points(supply: pd.DataFrame) -> pd.DataFrame:
    """Providers with coordinates and some capacity; a provider with no places offers no access."""
    s = supply.copy()
    s["capacity"] = pd.to_numeric(s["capacity"], errors="coerce").fillna(0.0).astype(float)
    s = s.dropna(subset=["lat", "lon"])
    return s[s["capacity"] > 0].reset_index(drop=True)


@dataclass
class _Catchment:
    """Step 1 of E2SFCA done once, so towns, districts and children can all be scored from it."""

    demand: pd.DataFrame          # unique demand points: lat, lon, weight
    supply: pd.DataFrame          # providers with capacity
    radius_km: float
    decay: str
    zones: Sequence[tuple[float, float]] | None
    ratio: np.ndarray             # R_j per provider
    access_at_demand: np.ndarray  # A_k at each demand point
    reach_pairs: tuple[np.ndarray, np.ndarray]  # (provider j, demand k) within the radius

    @property
    def a_ref(self) -> float:
        """Region-wide places per child: the access every child would have with provision spread evenly."""
        total = self.demand["weight"].sum()
        return float(self.supply["capacity"].sum() / total) if total > 0 else np.nan

    def weights(self, d: np.ndarray) -> np.ndarray:
        """Decay weights with this catchment's settings."""
        return decay_weights(d, self.radius_km, self.decay, self.zones)


def _catchment(demand: pd.DataFrame, supply: pd.DataFrame, radius_km: float,
               decay: str = "gaussian", zones=None) -> _Catchment:
    """Compute every provider's supply-to-demand ratio R_j (E2SFCA step 1)."""
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}, not {decay!r}")
    if not radius_km > 0:
        raise ValueError("radius_km must be positive")
    dem, sup = _demand_points(demand), _supply_points(supply)
    ratio = np.zeros(len(sup))
    access = np.zeros(len(dem))
    pj = pk = np.empty(0, int)
    if len(dem) and len(sup):
        s_tree = cKDTree(_xyz(sup["lat"].to_numpy(), sup["lon"].to_numpy()))
        d_tree = cKDTree(_xyz(dem["lat"].to_numpy(), dem["lon"].to_numpy()))
        pj, pk, dist = _pairs(s_tree, d_tree, radius_km)
        w = decay_weights(dist, radius_km, decay, zones)
        reached = np.bincount(pj, weights=w * dem["weight"].to_numpy()[pk], minlength=len(sup))
        # A provider nobody can reach is idle: it offers no access rather than an infinite ratio.
        ratio = np.divide(sup["capacity"].to_numpy(), reached, out=np.zeros(len(sup)), where=reached > 0)
        access = np.bincount(pk, weights=w * ratio[pj], minlength=len(dem))
    return _Catchment(dem, sup, radius_km, decay, zones, ratio, access, (pj, pk))


def _locations_xyz(locations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Unit-sphere coordinates of locations and a mask of those that have coordinates."""
    lat = pd.to_numeric(locations["lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(locations["lon"], errors="coerce").to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    return _xyz(lat[ok], lon[ok]), ok


def _access_at(c: _Catchment, locations: pd.DataFrame) -> pd.DataFrame:
    """E2SFCA step 2 at arbitrary locations, with the places and children within their catchment."""
    n = len(locations)
    out = {k: np.full(n, np.nan) for k in ("access_ratio", "supply_in_reach", "demand_in_reach")}
    xyz, ok = _locations_xyz(locations)
    acc, sup_reach, dem_reach = np.zeros(ok.sum()), np.zeros(ok.sum()), np.zeros(ok.sum())
    if ok.any() and len(c.supply):
        s_tree = cKDTree(_xyz(c.supply["lat"].to_numpy(), c.supply["lon"].to_numpy()))
        li, sj, d = _pairs(cKDTree(xyz), s_tree, c.radius_km)
        acc = np.bincount(li, weights=c.weights(d) * c.ratio[sj], minlength=ok.sum())
        sup_reach = np.bincount(li, weights=c.supply["capacity"].to_numpy()[sj], minlength=ok.sum())
    if ok.any() and len(c.demand):
        d_tree = cKDTree(_xyz(c.demand["lat"].to_numpy(), c.demand["lon"].to_numpy()))
        li, dk, d = _pairs(cKDTree(xyz), d_tree, c.radius_km)
        dem_reach = np.bincount(li, weights=c.weights(d) * c.demand["weight"].to_numpy()[dk],
                                minlength=ok.sum())
    out["access_ratio"][ok], out["supply_in_reach"][ok], out["demand_in_reach"][ok] = acc, sup_reach, dem_reach
    return pd.DataFrame(out, index=locations.index)


def e2sfca(demand: pd.DataFrame, supply: pd.DataFrame, locations: pd.DataFrame, radius_km: float,
           decay: str = "gaussian", zones: Sequence[tuple[float, float]] | None = None) -> pd.DataFrame:
    """Access ratio A_i at each location (E2SFCA), so provision can be compared where children live.

    demand: lat, lon[, weight]; supply: lat, lon, capacity (other columns kept
    out of the sums); locations: lat, lon plus any identifying columns. Returns
    the locations with access_ratio (places per child within reach, decayed),
    supply_in_reach (places within the radius, undecayed) and demand_in_reach
    (children within the radius, decayed). Locations without coordinates get NaN.
    """
    c = _catchment(demand, supply, radius_km, decay, zones)
    out = locations.copy()
    for col, values in _access_at(c, locations).items():
        out[col] = values.to_numpy()  # positional, so duplicate index labels cannot misalign
    return out


def _nearest(points: pd.DataFrame, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Index of each point's nearest target and the great-circle km to it (-1 / NaN if none)."""
    idx = np.full(len(points), -1)
    km = np.full(len(points), np.nan)
    xyz, ok = _locations_xyz(points)
    t_xyz, t_ok = _locations_xyz(targets)
    if ok.any() and t_ok.any():
        chord, j = cKDTree(t_xyz).query(xyz)
        idx[ok] = np.flatnonzero(t_ok)[j]
        km[ok] = _chord_to_km(chord)
    return idx, km


def _supply_names(supply: pd.DataFrame) -> np.ndarray:
    """Provider labels for the table: name, else id, else row number."""
    for col in ("name", "id"):
        if col in supply:
            return supply[col].astype(object).to_numpy()
    return supply.index.to_numpy(dtype=object)


def _gap_scores(demand: np.ndarray, access: np.ndarray, a_ref: float) -> np.ndarray:
    """Children short of a fair share: demand * max(0, 1 - A/A_ref); no supply anywhere means all of them."""
    demand = np.asarray(demand, float)
    if not a_ref > 0:
        return demand.copy()
    shortfall = np.clip(1 - np.nan_to_num(access, nan=0.0) / a_ref, 0, 1)
    return demand * shortfall


def _town_table(c: _Catchment, towns: pd.DataFrame, a_ref: float | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-town demand, access and gap score, plus each demand point's town (for district roll-ups)."""
    towns = towns.reset_index(drop=True)
    town_of_point, _ = _nearest(c.demand, towns)
    assigned = town_of_point >= 0
    demand = np.bincount(town_of_point[assigned], weights=c.demand["weight"].to_numpy()[assigned],
                         minlength=len(towns))
    acc = _access_at(c, towns)
    near_idx, near_km = _nearest(towns, c.supply)
    names = _supply_names(c.supply)
    ref = c.a_ref if a_ref is None else a_ref
    table = pd.DataFrame({
        "town": towns["name"].to_numpy(),
        "district": towns["district_code"].to_numpy() if "district_code" in towns else None,
        "la": towns["la_code"].to_numpy() if "la_code" in towns else None,
        "demand": demand,
        "supply": acc["supply_in_reach"].to_numpy(),
        "access_ratio": acc["access_ratio"].to_numpy(),
        "gap_score": _gap_scores(demand, acc["access_ratio"].to_numpy(), ref),
        "nearest_supply": [names[i] if i >= 0 else None for i in near_idx],
        "nearest_km": near_km,
        "demand_in_reach": acc["demand_in_reach"].to_numpy(),
        "town_id": towns["town_id"].to_numpy() if "town_id" in towns else towns.index.to_numpy(),
    })
    if "district_name" in towns:
        table["district_name"] = towns["district_name"].to_numpy()
    return table, town_of_point


def gap_table(demand: pd.DataFrame, supply: pd.DataFrame, towns: pd.DataFrame, radius_km: float,
              decay: str = "gaussian", zones: Sequence[tuple[float, float]] | None = None,
              a_ref: float | None = None) -> pd.DataFrame:
    """Towns ranked by gap score, so the places where children are short of provision come first.

    towns: town_id, name, lat, lon, district_code, la_code. Columns: town,
    district (code), la (code), demand (children whose nearest town this is),
    supply (places within the radius), access_ratio, gap_score, nearest_supply,
    nearest_km, then demand_in_reach (children within the radius, decayed),
    town_id and, when towns has it, district_name. a_ref overrides the fair-share ratio (default: total supply / total
    demand). Sorted by gap_score, then demand, descending.
    """
    c = _catchment(demand, supply, radius_km, decay, zones)
    table, _ = _town_table(c, towns, a_ref)
    return _ranked(table)


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Sort by gap then demand (name breaks ties) so the ranking is stable run to run."""
    return (table.sort_values(["gap_score", "demand", "town"], ascending=[False, False, True], kind="stable")
            .reset_index(drop=True))


def district_access(demand: pd.DataFrame, supply: pd.DataFrame, towns: pd.DataFrame, radius_km: float,
                    decay: str = "gaussian", zones: Sequence[tuple[float, float]] | None = None,
                    a_ref: float | None = None) -> pd.DataFrame:
    """Access and gaps per district, for a choropleth that does not hide badly served children in an average.

    Each child belongs to the district of its nearest town. Columns:
    district_code, la_code, towns, demand, access_ratio (demand-weighted mean of
    the access at the children's own locations), supply_in_reach (places within
    the radius of at least one of the district's children), gap_score (sum of
    its towns' gap scores). Districts with towns but no children have demand 0
    and access NaN.
    """
    c = _catchment(demand, supply, radius_km, decay, zones)
    table, town_of_point = _town_table(c, towns, a_ref)
    district_of_town = table["district"].to_numpy()
    ok = town_of_point >= 0
    w = c.demand["weight"].to_numpy()[ok]
    per_child = pd.DataFrame({"district_code": district_of_town[town_of_point[ok]], "w": w,
                              "wa": w * c.access_at_demand[ok]})
    agg = per_child.groupby("district_code").agg(demand=("w", "sum"), wa=("wa", "sum"))
    agg["access_ratio"] = agg["wa"] / agg["demand"]

    pj, pk = c.reach_pairs
    point_district = np.full(len(c.demand), None, dtype=object)
    point_district[ok] = district_of_town[town_of_point[ok]]
    reach = pd.DataFrame({"district_code": point_district[pk], "j": pj}).dropna().drop_duplicates()
    reach["capacity"] = c.supply["capacity"].to_numpy()[reach["j"].to_numpy()]
    supply_in_reach = reach.groupby("district_code")["capacity"].sum()

    towns_by = table.groupby("district").agg(la_code=("la", "first"), towns=("town", "size"),
                                              gap_score=("gap_score", "sum"))
    out = towns_by.join(agg[["demand", "access_ratio"]]).join(supply_in_reach.rename("supply_in_reach"))
    out["demand"] = out["demand"].fillna(0.0)
    out["supply_in_reach"] = out["supply_in_reach"].fillna(0.0)
    out = out.rename_axis("district_code").reset_index()
    cols = ["district_code", "la_code", "towns", "demand", "access_ratio", "supply_in_reach", "gap_score"]
    return out[cols].sort_values(["gap_score", "demand"], ascending=False, kind="stable").reset_index(drop=True)


def method_text(radius_km: float | None = None, decay: str = "gaussian") -> str:
    """One plain-English paragraph for the app, so readers know what the gap score does and does not mean."""
    radius = f"{radius_km:g} km ({radius_km / 1.609344:.0f} miles)" if radius_km else "the chosen catchment"
    falloff = {
        "gaussian": "counts fully at the door and fades smoothly to nothing at the edge",
        "linear": "counts less in a straight line the further away it is",
        "step": "counts the same anywhere inside it",
    }.get(decay, "counts less the further away it is")
    return (
        "Access uses the enhanced two-step floating catchment area method. Each place is shared "
        f"among the children who live within {radius} of it, and each town's access is the share of "
        f"places within that distance of it; provision {falloff}. Distances are straight lines between "
        "postcode-sector centres and homes, not travel times, and LA boundaries are ignored. "
        "Each child is counted in their nearest town. A town's gap score is roughly the number of its "
        "children who are short of a fair share of provision, where a fair share is the region's places "
        "per child: 0 means the town is at least as well served as the region as a whole, and a town "
        "with nothing in reach scores all its children."
    )
