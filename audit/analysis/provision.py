"""Demand and supply for the gap analysis, read from the database for one service, need and age range.

Residential places: demand is the children in an audit round (at their home
postcode sector) who have the chosen need or belong to the chosen cohort;
supply is the places in children's homes registered for that need. Short
breaks: demand is the children using short breaks with the chosen SEN primary
need; supply is the weekly capacity of providers that support that need and
whose age range overlaps the chosen ages. The analysis returns raw numbers;
`gap_rows` and `district_rows` apply small-number suppression to what is shown
or exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audit.analysis import gaps
from audit.db import Database
from audit.geography import region
from audit.filters import Filters
from audit.suppress import PUBLIC, Suppressed, Viewer, hidden_count, suppress

if TYPE_CHECKING:
    import geopandas as gpd

SERVICES = {"residential": "Residential (children's home places)", "short-breaks": "Short breaks"}
# 20 miles (the DfE distance measure) for residential care; 15 km is what a family might travel for a short break.
DEFAULT_RADIUS_KM = {"residential": 32.0, "short-breaks": 15.0}
SUPPLY_UNIT = {"residential": "places", "short-breaks": "children a week"}
SEN_NEEDS = {
    "SEMH": "Social, emotional and mental health", "ASD": "Autistic spectrum disorder",
    "SLCN": "Speech, language and communication needs", "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty", "PMLD": "Profound and multiple learning difficulty",
    "SPLD": "Specific learning difficulty", "PD": "Physical disability", "HI": "Hearing impairment",
    "VI": "Visual impairment", "MSI": "Multi-sensory impairment", "OTH": "Other difficulty or disability",
}
# A need category defines a cohort (and a home must meet it) when at least half the cohort's children have it.
COHORT_DEFINING_SHARE = 0.5
ALL_NEEDS = ""
NEED_KINDS = ("category", "code", "sen", "cohort")

TOWN_COLUMNS = ["town", "district", "la", "demand", "supply", "access_ratio", "gap_score",
                "nearest_supply", "nearest_km"]


@dataclass(frozen=True)
class Selection:
    """What the gap analysis is about: a service, a need (or cohort), an audit round and an age range.

    need is "" for all needs, else "<kind>:<key>" with kind category or code
    (residential needs taxonomy), sen (short-break SEN primary need) or cohort
    (a fitted cohort number, residential only).
    """

    service: str = "residential"
    need: str = ALL_NEEDS
    round_id: int | None = None
    age_min: int | None = None
    age_max: int | None = None

    def __post_init__(self):
        if self.service not in SERVICES:
            raise ValueError(f"service must be one of {list(SERVICES)}, not {self.service!r}")
        if self.need and self.kind not in NEED_KINDS:
            raise ValueError(f"need must be '<kind>:<key>' with kind one of {NEED_KINDS}, not {self.need!r}")

    @property
    def kind(self) -> str | None:
        """Which sort of need is chosen (None for all needs)."""
        return self.need.split(":", 1)[0] if self.need else None

    @property
    def key(self) -> str | None:
        """The chosen need's code, category, SEN code or cohort number, as text."""
        return self.need.split(":", 1)[1] if self.need else None

    @property
    def cohort(self) -> int | None:
        """The chosen cohort's number, if a cohort is chosen."""
        return int(self.key) if self.kind == "cohort" else None


def age_range(band: str | None) -> tuple[int | None, int | None]:
    """Inclusive ages of a shared-filter age band ('13-15' -> (13, 15), '18+' -> (18, None))."""
    if not band:
        return None, None
    if band.endswith("+"):
        return int(band[:-1]), None
    lo, hi = band.split("-")
    return int(lo), int(hi)


def selection(service: str, need: str, f: Filters) -> Selection:
    """The selection a page's pickers and the shared filters describe."""
    lo, hi = age_range(f.age_band)
    return Selection(service, need or ALL_NEEDS, f.round_id, lo, hi)


def cohorts(db: Database, round_id: int | None) -> pd.DataFrame:
    """Cohorts fitted for the round (cohort, name, children); empty when none have been fitted."""
    if round_id is None:
        return pd.DataFrame(columns=["cohort", "name", "children"])
    return db.q("gaps_cohorts", round_id=round_id)


def need_options(db: Database, service: str, round_id: int | None = None) -> dict[str, str]:
    """Picker values -> labels: all needs, then cohorts (if fitted), categories and codes; SEN needs for short breaks."""
    options = {ALL_NEEDS: "All needs"}
    if service == "short-breaks":
        options.update({f"sen:{c}": f"{label} ({c})" for c, label in SEN_NEEDS.items()})
        return options
    for row in cohorts(db, round_id).itertuples(index=False):
        options[f"cohort:{int(row.cohort)}"] = f"Cohort: {row.name}"
    taxonomy = db.q("gaps_need_codes")
    for cat, part in taxonomy.groupby("category", sort=False):
        options[f"category:{cat}"] = part["category_label"].iat[0]
        for row in part.itertuples(index=False):
            options[f"code:{row.code}"] = f"{row.category_label}: {row.label}"
    return options


def resolve_need(value: str | None, options: dict[str, str]) -> str | None:
    """A picker value from a URL: the value itself, or a bare key (category before code); None if unknown."""
    if not value:
        return ALL_NEEDS
    if value in options:
        return value
    for kind in NEED_KINDS:
        for candidate in (f"{kind}:{value}", f"{kind}:{value.upper()}", f"{kind}:{value.lower()}"):
            if candidate in options:
                return candidate
    return None


def cohort_categories(db: Database, round_id: int | None, cohort: int) -> list[str]:
    """Need categories at least half of a cohort's children have: what a home must meet to serve the cohort."""
    shares = db.q("gaps_cohort_categories", round_id=round_id, cohort=cohort)
    return shares.loc[shares["share"] >= COHORT_DEFINING_SHARE, "category"].tolist()


def _need_params(sel: Selection) -> dict:
    """SQL parameters for the chosen need."""
    return {"need_code": sel.key if sel.kind == "code" else None,
            "need_category": sel.key if sel.kind == "category" else None}


def demand(db: Database, sel: Selection, la: str | None = None) -> pd.DataFrame:
    """One row per child who needs the chosen provision (child_id, la_code, age, lat, lon, district_code, ...)."""
    ages = {"age_min": sel.age_min, "age_max": sel.age_max, "la": la}
    if sel.service == "short-breaks":
        return db.q("gaps_sb_children", sen=sel.key.upper() if sel.kind == "sen" else None, **ages)
    return db.q("gaps_children", round_id=sel.round_id, cohort=sel.cohort, **_need_params(sel), **ages)


def covered_las(db: Database, service: str, round_id: int | None) -> frozenset[str]:
    """The LAs (codes) that loaded data for this service: elsewhere the map says "no data loaded", not "fewer than 5"."""
    return frozenset(db.q("covered_las", service=service, round_id=round_id)["la_code"])


def supply(db: Database, sel: Selection) -> pd.DataFrame:
    """One row per matching provider (id, name, lat, lon, capacity, la_code, district_code, ...)."""
    if sel.service == "short-breaks":
        return db.q("gaps_sb_providers", sen=sel.key.upper() if sel.kind == "sen" else None,
                    age_min=sel.age_min, age_max=sel.age_max)
    categories = cohort_categories(db, sel.round_id, sel.cohort) if sel.cohort is not None else []
    homes = db.q("gaps_homes", categories=categories, **_need_params(sel))
    return competing(db, homes, sel.round_id)


def competing(db: Database, homes: pd.DataFrame, round_id: int | None) -> pd.DataFrame:
    """Homes with the places children of LAs outside the audit use taken off their capacity (occupancy data).

    Those places are not there for the audited children, so counting them
    would overstate access. places keeps the registered number.
    """
    used = db.q("gaps_outside_use", round_id=round_id).set_index("urn")["used_outside"]
    out = homes.copy()
    out["used_outside"] = out["id"].map(used).fillna(0).astype(int)
    out["capacity"] = (out["places"] - out["used_outside"]).clip(lower=0)
    return out


def supply_note(db: Database, sel: Selection) -> str:
    """What residential access counts and what it does not, with the figures, for the method note."""
    homes = supply(db, sel)
    places, outside = int(homes["places"].sum()), int(homes["used_outside"].sum())
    beyond = homes[~homes["la_code"].isin(region.REGION_LAS)]
    share = f" ({100 * outside / places:.0f}%)" if places else ""
    return (f"Counted: the {int(homes['capacity'].sum()):,} places of the matching homes left for the audited LAs' "
            f"children: {places:,} registered less {outside:,}{share} used by children of LAs outside the audit "
            "(occupancy data). "
            + (f"{len(beyond):,} homes just outside the region are in the data and count where within reach. "
               if len(beyond) else "Homes just outside the region would count where within reach, but the data "
               "has none. ")
            + "Not counted: places used by the audited LAs' own children are counted as available to them (they are "
            "the children the access is for); vacancies are not known beyond the occupancy data; children of LAs "
            "outside the audit are not demand.")


def towns(db: Database) -> pd.DataFrame:
    """The region's towns with district and LA codes and names: the places the gap table ranks."""
    return db.q("gaps_towns")


@dataclass
class GapResult:
    """A gap analysis: town and district tables (raw numbers) and the totals behind them."""

    towns: pd.DataFrame
    districts: pd.DataFrame
    a_ref: float
    children: int
    located: int
    providers: int
    capacity: float
    radius_km: float
    decay: str
    unit: str = "places"
    supply_points: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyse(demand: pd.DataFrame, supply: pd.DataFrame, towns: pd.DataFrame, radius_km: float,
            decay: str = "gaussian", unit: str = "places") -> GapResult:
    """Run E2SFCA for towns and districts on given demand and supply, and label the results with names."""
    located = demand.dropna(subset=["lat", "lon"])
    town_table = gaps.gap_table(located, supply, towns, radius_km, decay)
    info = towns.set_index("town_id")
    for col in ("lat", "lon", "district_name", "la_name"):
        if col in info:
            town_table[col] = info[col].reindex(town_table["town_id"]).to_numpy()
    town_table = town_table.rename(columns={"district": "district_code", "la": "la_code"})
    town_table["district"] = town_table.get("district_name", town_table["district_code"])
    town_table["la"] = town_table.get("la_name", town_table["la_code"])

    dist = gaps.district_access(located, supply, towns, radius_km, decay)
    home_counts = demand.groupby("district_code").size().rename("children")
    dist = dist.join(home_counts, on="district_code")
    dist["children"] = dist["children"].fillna(0).astype(int)
    names = towns.drop_duplicates("district_code").set_index("district_code")
    dist["district"] = names["district_name"].reindex(dist["district_code"]).to_numpy() if "district_name" in names else dist["district_code"]
    dist["la"] = names["la_name"].reindex(dist["district_code"]).to_numpy() if "la_name" in names else dist["la_code"]
    usable = supply.dropna(subset=["lat", "lon"])
    usable = usable[pd.to_numeric(usable["capacity"], errors="coerce").fillna(0) > 0]
    total_demand = float(len(located))
    return GapResult(
        towns=town_table, districts=dist,
        a_ref=float(usable["capacity"].sum() / total_demand) if total_demand else float("nan"),
        children=len(demand), located=len(located), providers=len(usable),
        capacity=float(usable["capacity"].sum()), radius_km=float(radius_km), decay=decay, unit=unit,
        supply_points=supply,
    )


def gap_analysis(db: Database, sel: Selection, radius_km: float | None = None, decay: str = "gaussian") -> GapResult:
    """Every town's and district's access and gap score for a selection, over the whole region's children.

    Demand is never cut to one LA: provision across a boundary serves both sides,
    so an LA view filters the result rows, not the inputs.
    """
    radius = float(radius_km) if radius_km else DEFAULT_RADIUS_KM[sel.service]
    return analyse(demand(db, sel), supply(db, sel), towns(db), radius, decay, SUPPLY_UNIT[sel.service])


def gap_rows(result: GapResult, viewer: Viewer = PUBLIC, la: str | None = None, only_children: bool = False) -> Suppressed:
    """The ranked gap table (town, district, LA, demand, supply, access ratio, gap score, nearest provision).

    Demand counts of 1-4 are hidden, and so is the gap score that rests on them
    (with no provision in reach it equals the count); column totals are
    derivable, so secondary suppression applies down the demand column.
    """
    t = result.towns
    if la is not None:
        t = t[t["la_code"] == la]
    if only_children:
        t = t[t["demand"] > 0]
    out = pd.DataFrame({
        "town": t["town"], "district": t["district"], "la": t["la"],
        "demand": t["demand"].round().astype(int),
        "supply": t["supply"].round(0).astype(int),
        "access_ratio": t["access_ratio"].round(3),
        "gap_score": t["gap_score"].round(1),
        "nearest_supply": t["nearest_supply"],
        "nearest_km": t["nearest_km"].round(1),
        "la_code": t["la_code"], "district_code": t["district_code"], "town_id": t["town_id"],
    }).reset_index(drop=True)
    return suppress(out, ["demand"], rates={"gap_score": "demand"}, col_totals=True, la_col="la_code", viewer=viewer)


def district_rows(result: GapResult, viewer: Viewer = PUBLIC) -> Suppressed:
    """Per district: children living there, access, places in reach and gap score, suppressed for display.

    children counts where children live; the gap score sums the district's towns,
    whose children are those nearest to them, so it is hidden when either count is 1-4.
    """
    d = result.districts
    out = pd.DataFrame({
        "district": d["district"], "la": d["la"], "children": d["children"].astype(int),
        "demand": d["demand"].round().astype(int),
        "access_ratio": d["access_ratio"].round(3),
        "supply_in_reach": d["supply_in_reach"].round(0).astype(int),
        "gap_score": d["gap_score"].round(1),
        "district_code": d["district_code"], "la_code": d["la_code"],
    }).reset_index(drop=True)
    s = suppress(out, ["children", "demand"], rates={"gap_score": "demand"}, col_totals=True,
                 la_col="la_code", viewer=viewer)
    hide = s.mask["children"] & ~s.mask["gap_score"]
    s.display.loc[hide, "gap_score"] = s.display.loc[hide, "children"].to_numpy()
    s.numeric.loc[hide, "gap_score"] = np.nan
    s.mask["gap_score"] = s.mask["gap_score"] | hide
    return Suppressed(s.display.drop(columns="demand"), s.numeric.drop(columns="demand"), s.mask.drop(columns="demand"))


@dataclass
class MapLayers:
    """Everything the provision map draws, already suppressed for the viewer."""

    districts: "gpd.GeoDataFrame"
    las: "gpd.GeoDataFrame"
    towns: pd.DataFrame
    homes: pd.DataFrame
    providers: pd.DataFrame


def _text(values: pd.Series) -> pd.Series:
    """Display strings for tooltips: numbers without binary noise, suppression markers as they are."""
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                      else (f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)))


def map_layers(db: Database, result: GapResult, sel: Selection, viewer: Viewer = PUBLIC) -> MapLayers:
    """District shapes with suppressed children and gap scores, the towns with children, and both kinds of provision.

    The chosen service's provision is what matches the selection; the other
    service's provision is all of it, for context.
    """
    from audit.geography import geo

    d = district_rows(result, viewer)
    shown = d.display.assign(children_value=d.numeric["children"], gap_value=d.numeric["gap_score"])
    for col in ("children", "gap_score", "access_ratio"):
        shown[col] = _text(shown[col])
    shapes = geo.districts()[["district_code", "geometry"]].merge(
        shown.drop(columns=["la_code"]), on="district_code", how="left")
    names = geo.districts().set_index("district_code")
    shapes["district"] = shapes["district"].fillna(shapes["district_code"].map(names["district_name"]))
    shapes["la"] = shapes["la"].fillna(shapes["district_code"].map(names["la_name"]))
    for col in ("children", "gap_score", "access_ratio"):
        shapes[col] = shapes[col].fillna("0" if col == "children" else "")

    g = gap_rows(result, viewer, only_children=True)
    towns = g.display.assign(gap_value=g.numeric["gap_score"])
    where = result.towns.set_index("town_id")[["lat", "lon"]]
    towns["lat"] = where["lat"].reindex(towns["town_id"]).to_numpy()
    towns["lon"] = where["lon"].reindex(towns["town_id"]).to_numpy()
    towns["nearest"] = [f"{n} ({km:g} km)" if isinstance(n, str) else "none"
                        for n, km in zip(towns["nearest_supply"], towns["nearest_km"])]
    for col in ("demand", "gap_score", "access_ratio"):
        towns[col] = _text(towns[col])

    other = Selection("short-breaks" if sel.service == "residential" else "residential", ALL_NEEDS, sel.round_id)
    homes = result.supply_points if sel.service == "residential" else supply(db, other)
    providers = result.supply_points if sel.service == "short-breaks" else supply(db, other)
    return MapLayers(shapes, geo.las(), towns, homes, providers)


def headline(db: Database, sel: Selection, result: GapResult, la: str | None = None,
             viewer: Viewer = PUBLIC) -> dict[str, str]:
    """Headline tiles for the selection in the chosen LA (or region), with small numbers hidden."""
    from audit.analysis import flows

    may_see = viewer.may_see(la)
    kids = demand(db, sel, la)
    n = len(kids)
    usable = result.supply_points.dropna(subset=["lat", "lon"])
    if la is not None:
        usable = usable[usable["la_code"] == la]
    towns = result.towns if la is None else result.towns[result.towns["la_code"] == la]
    short = float(towns["gap_score"].sum())
    tiles = {
        "Children who need it": hidden_count(n, may_see),
        ("Matching homes" if sel.service == "residential" else "Matching providers"): f"{len(usable):,}",
        ("Places in them" if sel.service == "residential" else "Weekly capacity"): f"{int(usable['capacity'].sum()):,}",
        "Short of a fair share": hidden_count(int(round(short)), may_see) if n else "–",
        "Towns with a gap": f"{int((towns['gap_score'] >= 1).sum()):,}",
        "Fair share per child": "–" if not np.isfinite(result.a_ref) else f"{result.a_ref:.2f}",
    }
    if sel.service == "residential":
        far = flows.distance_summary(kids.assign(group="all"), by=["group"])
        pct = far["pct_over_20_miles"].iat[0] if len(far) else np.nan
        tiles["Over 20 miles from home"] = ("<5" if 1 <= n < 5 and not may_see
                                                   else "–" if not np.isfinite(pct) else f"{pct:.0f}%")
    return tiles


@dataclass
class View:
    """Everything the map page shows for one selection, computed once and cached together."""

    result: GapResult
    tiles: dict[str, str]
    gaps: Suppressed
    districts: Suppressed
    layers: MapLayers


def view(db: Database, sel: Selection, radius_km: float | None = None, decay: str = "gaussian",
         la: str | None = None, viewer: Viewer = PUBLIC) -> View:
    """The gap analysis for a selection and all its suppressed outputs, so the page runs the analysis once."""
    result = gap_analysis(db, sel, radius_km, decay)
    return View(result, headline(db, sel, result, la, viewer), gap_rows(result, viewer, la, only_children=True),
                district_rows(result, viewer), map_layers(db, result, sel, viewer))


GAP_LABELS = {"town": "Town", "district": "District", "la": "LA", "demand": "Children",
              "access_ratio": "Access per child", "gap_score": "Gap score",
              "nearest_supply": "Nearest matching provision", "nearest_km": "Distance to it (km)"}


def labelled(s: Suppressed, service: str) -> Suppressed:
    """The gap table with plain-English headings for the page (the CSV from `audit gaps` keeps the contract's)."""
    names = {**GAP_LABELS, "supply": "Places within reach" if service == "residential"
             else "Capacity within reach (children a week)"}
    return Suppressed(s.display.rename(columns=names), s.numeric.rename(columns=names), s.mask.rename(columns=names))


def matching_text(sel: Selection) -> str:
    """What counts as demand and supply for this service, in one or two sentences for the method note."""
    if sel.service == "short-breaks":
        return ("Demand is the children using short breaks with the chosen SEN primary need, at their home postcode "
                "sector; supply is the weekly capacity of providers that support that need (or all needs) and whose "
                "age range overlaps the chosen ages.")
    cohort = (f" A cohort's homes are those registered for every need category that at least "
              f"{COHORT_DEFINING_SHARE:.0%} of its children have.")
    return ("Demand is the children in the audit round with the chosen need (or in the chosen cohort), at their home "
            "postcode sector; supply is the places in children's homes registered to meet that need, less the places "
            "children of LAs outside the audit use (occupancy data). Homes just outside the region count where they "
            "are in the data and within reach. Not counted: vacancies beyond what the occupancy data says, and "
            "children of LAs outside the audit as demand. Homes take "
            "children of any age, so the age band narrows demand only." + (cohort if sel.kind == "cohort" else ""))


def need_value(db: Database, service: str, need: str | None, round_id: int | None = None) -> str:
    """The picker value for a need typed on the command line or in a URL; KeyError naming the choices if unknown."""
    options = need_options(db, service, round_id)
    value = resolve_need(need, options)
    if value is None:
        keys = ", ".join(dict.fromkeys(k.split(":", 1)[1] for k in options if k))
        raise KeyError(f"need '{need}' is not known for {service}; choose from: {keys}")
    return value


def gaps_extract(db: Database, sel: Selection, radius_km: float | None = None, decay: str = "gaussian",
                 la: str | None = None, viewer: Viewer = PUBLIC) -> pd.DataFrame:
    """The `audit gaps` CSV: one row per town (town, district, la, demand, supply, access_ratio, gap_score,
    then nearest_supply and nearest_km), gap score descending, demand suppressed."""
    table = gap_rows(gap_analysis(db, sel, radius_km, decay), viewer, la).display
    return table[TOWN_COLUMNS].reset_index(drop=True)
