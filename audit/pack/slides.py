"""What goes on each slide of the meeting pack: titles, takeaways written from the figures, pictures and tables.

Every number comes from the functions the pages and `audit export` use
(`audit.extracts`, `audit.analysis`, `audit.charts`), always for the public
viewer: a pack leaves the room, so it is the suppressed view whoever builds it.
A takeaway is written from the displayed (suppressed) figures only, so it can
never say a number a table hides.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from audit import extracts
from audit.db import Database
from audit.filters import Filters
from audit.geography import region
from audit.pack.images import Picture, chart_png, gap_map, overview_map
from audit.suppress import LEGEND, PRIMARY, PUBLIC, SECONDARY

MISSING = "–"


class Unavailable(Exception):
    """A view has nothing to show for this round (e.g. no cohorts fitted, no SSDA903 history): it is left out."""


@dataclass(frozen=True)
class Table:
    """A slide's key table as text cells, exactly as the pack prints them, and the extract it comes from."""

    columns: list[str]
    rows: list[list[str]]
    extract: str
    highlight: tuple[int, ...] = ()  # rows in bold: the chosen LA's, in a table of every LA


@dataclass(frozen=True)
class Slide:
    """One view: title, one-sentence takeaway, picture, key table and where the figures come from."""

    key: str
    title: str
    takeaway: str
    picture: Picture | None
    table: Table | None
    source: str
    caption: str = ""


@dataclass(frozen=True)
class Scope:
    """What the pack is about: the round, the LA (or the region) and the database; the viewer is always public."""

    db: Database
    filters: Filters
    round_label: str
    data_date: str
    sample: bool

    @property
    def where(self) -> str:
        """'Norfolk' or 'the Eastern region', for sentences and titles."""
        return region.la_name(self.filters.la) if self.filters.la else "the Eastern region"

    @property
    def place(self) -> str:
        """'Norfolk' or 'Eastern region', for titles."""
        return region.la_name(self.filters.la) if self.filters.la else "Eastern region"

    @property
    def viewer(self):
        """Always the public viewer: a pack is circulated, so it is never an LA's unsuppressed view."""
        return PUBLIC


@dataclass
class Pack:
    """The whole pack: what it covers, its slides, and the views left out with the reason."""

    scope: Scope
    slides: list[Slide]
    skipped: dict[str, str] = field(default_factory=dict)
    built: dt.date = field(default_factory=dt.date.today)

    @property
    def title(self) -> str:
        """The first slide's title."""
        return f"Needs audit: {self.scope.place}"

    @property
    def subtitle(self) -> str:
        """Round, data date and build date, as the first slide says them."""
        return (f"Audit round {self.scope.round_label} · data as at {self.scope.data_date} · "
                f"pack made {day(self.built)}")


# -- formatting -----------------------------------------------------------------------------------------------

def day(when) -> str:
    """'3 December 2026': how a date reads in a sentence."""
    when = pd.Timestamp(when)
    return f"{when.day} {when:%B %Y}"


def cell(value: object, money: bool = False) -> str:
    """One table cell as text: suppression marks as they are, counts with separators, rates as the extract rounds them.

    A float keeps at least one decimal, so a rate or mean can never be mistaken for a count of 1-4.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, (bool,)):
        return "yes" if value else "no"
    if isinstance(value, (int,)) or (hasattr(value, "dtype") and "int" in str(getattr(value, "dtype", ""))):
        return f"£{int(value):,}" if money else f"{int(value):,}"
    if isinstance(value, float) or hasattr(value, "__float__"):
        v = float(value)
        if money:
            return f"£{v:,.0f}"
        text = f"{v:,.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return str(value)


def table_from(df: pd.DataFrame, extract: str, columns: dict[str, str], money: tuple[str, ...] = (),
               rows: int | None = None, highlight: str | None = None) -> Table:
    """A slide table from an extract's frame: chosen columns under the pack's headings, cells formatted by cell().

    highlight names the LA whose row is set in bold (its first cell), as the pages highlight the chosen LA.
    """
    shown = df[list(columns)].head(rows) if rows else df[list(columns)]
    body = [[cell(v, money=c in money and not isinstance(v, str)) for c, v in zip(columns, r)]
            for r in shown.itertuples(index=False)]
    bold = tuple(i for i, r in enumerate(body) if highlight is not None and r[0] == highlight)
    return Table(list(columns.values()), body, extract, bold)


def said(value: object, unit: str = "") -> str:
    """A displayed figure in a sentence: a hidden one says so rather than showing a mark."""
    if value == PRIMARY:
        return "fewer than 5"
    if value == SECONDARY:
        return "a hidden number"
    text = cell(value)
    return text + unit if text != MISSING else "not known"


def shown(value: object) -> bool:
    """Whether a displayed figure is a number a sentence may rank or quote (not hidden, not missing)."""
    return not isinstance(value, str) and value is not None and not (isinstance(value, float) and math.isnan(value))


def _extract(scope: Scope, name: str) -> pd.DataFrame:
    """An extract exactly as `audit export` and the Data page give it, for the public viewer."""
    try:
        return extracts.EXTRACTS[name][1](scope.db, scope.filters, scope.viewer)
    except KeyError as exc:
        raise Unavailable(str(exc.args[0])) from exc


def _source(scope: Scope, what: str) -> str:
    """The footer: the data date, where the figures come from and the protection applied."""
    kind = "Synthetic sample data, not real children. " if scope.sample else ""
    return (f"{kind}Data as at {scope.data_date}. Source: {what}. Counts of 1-4 children are shown as \"<5\"; "
            f"\"c\" hides a number that totals could reveal.")


# -- the views ------------------------------------------------------------------------------------------------

def overview_slide(scope: Scope) -> Slide:
    """Children in the audit by LA, on the map with the region's homes, and the LA comparison table."""
    from audit.analysis import overview

    f = scope.filters
    kpis = overview.kpis(scope.db, f, scope.viewer)
    table = _extract(scope, "overview_by_la")
    counts = table[table["Children"].map(shown)]
    top = counts.loc[pd.to_numeric(counts["Children"]).idxmax()] if len(counts) else None
    if f.la is None:
        lead = f"{kpis['Children in the audit']} children are in the audit across the region's 11 LAs"
        lead += f", most of them from {top['LA']} ({cell(top['Children'])})" if top is not None else ""
    else:
        lead = f"{scope.where} has {said(kpis['Children in the audit'])} children in the audit"
    takeaway = (f"{lead}; {said(kpis['With 4 or more needs'])} of them have 4 or more need categories and "
                f"{said(kpis['Over 20 miles from home'])} live over 20 miles from home.")
    shapes, homes = overview.map_layers(scope.db, f, scope.viewer)
    alt = (f"Map of {scope.where}: LAs shaded by the number of children in the audit (grey where fewer than 5), "
           f"with children's homes marked by Ofsted grade and sized by places. {takeaway}")
    return Slide("overview", f"Children in the audit: {scope.place}", takeaway,
                 overview_map(shapes, homes, f.la, alt),
                 table_from(table, "overview_by_la", {"LA": "LA", "Children": "Children", "Mean needs": "Mean needs",
                                                      "% with 4+ needs": "4+ needs (%)",
                                                      "% over 20 miles": "Over 20 mi (%)",
                                                      "Avg weekly cost (£)": "Weekly cost"},
                            money=("Avg weekly cost (£)",), highlight=scope.where if f.la else None),
                 _source(scope, f"needs audit round {scope.round_label}; children's homes register"),
                 "Homes are Ofsted registrations: public figures, not counts of children.")


def needs_slide(scope: Scope) -> Slide:
    """How common each need category is, against Nuffield FJO's national figures."""
    from audit.analysis import needs_view
    from audit.charts import needs_page

    sel = needs_view.Selection(scope.filters)
    prev = _extract(scope, "prevalence")
    head = needs_view.headline(scope.db, sel, scope.viewer)
    ranked = prev[prev["% of children"].map(shown)].copy()
    parts = []
    if len(ranked):
        ranked["_pct"] = pd.to_numeric(ranked["% of children"])
        first = ranked.sort_values("_pct", ascending=False, kind="mergesort").iloc[0]
        parts.append(f"the most common need in {scope.where} is {first['Need'].lower()} "
                     f"({cell(first['% of children'])}% of children)")
    four = next((v for k, v in head.items() if "4 or more" in k), None)
    if four is not None:
        parts.append(f"{said(four)} have 4 or more of the 11 categories")
    pairs = _extract(scope, "cooccurring_pairs")
    # The pairs extract prints lift as text ("1.18"); hidden ones are marks, which to_numeric leaves out.
    lift = pd.to_numeric(pairs["Lift"], errors="coerce")
    linked = pairs.assign(_l=lift)[(pairs["Significant"] == "yes") & lift.notna()]
    if len(linked):
        best = linked.sort_values("_l", ascending=False, kind="mergesort").iloc[0]
        parts.append(f"{best['Need'].lower()} and {best['With'].lower()} occur together most often beyond chance "
                     f"({cell(best['Lift'])} times as often as if unrelated)")
    takeaway = (parts[0][0].upper() + parts[0][1:] + "; " + "; ".join(parts[1:]) + ".") if parts else \
        "Too few children to show how common each need is."
    fig = needs_page.prevalence(scope.db, sel, scope.viewer, "categories", compare=scope.filters.la is not None,
                               large=True)
    alt = (f"Bar chart of the share of children with each of the 11 need categories in {scope.where}, "
           f"with Nuffield FJO's national figures marked. {takeaway}")
    return Slide("needs", f"Co-occurring needs: how common each need is, {scope.place}", takeaway,
                 chart_png(fig, alt),
                 table_from(prev, "prevalence", {"Need": "Need", "Children": "Children", "% of children": "% of children",
                                                 "Nuffield FJO %": "Nuffield FJO %"}),
                 _source(scope, f"needs audit round {scope.round_label}; Nuffield FJO national figures"),
                 "Lift: how many times more often two needs occur together than if unrelated (Fisher's exact test, "
                 "Benjamini-Hochberg 5%).")


def _cohort(label: str) -> str:
    """'1. Mental health and self-harm' as it reads in a sentence: 1, "Mental health and self-harm"."""
    number, _, name = label.partition(". ")
    return f'{number}, "{name}"' if name else f'"{label}"'


def cohorts_slide(scope: Scope) -> Slide:
    """The round's stored cohorts: what each needs, how big it is, how far from home and at what cost."""
    from audit.analysis import cohort_store, needs_view
    from audit.charts import needs as fn

    summary = _extract(scope, "cohort_summary")
    st = cohort_store.stored(scope.db, scope.filters.round_id)
    rid = scope.filters.round_id
    profile = cohort_store.profile_table(scope.db, rid, st.method, st.k, "categories")
    sizes = cohort_store.cohort_sizes(scope.db, rid, st.method, st.k)
    overall = needs_view.prevalence_table(scope.db, needs_view.Selection(scope.filters.with_(la=None, age_band=None)),
                                          scope.viewer, "categories")
    fig = fn.cohort_profile_heatmap(profile.display, names=st.names, overall=needs_view.for_figure(overall),
                                    sizes=sizes, large=True)
    sized = summary[summary["Children"].map(shown)]
    parts = [f"{st.k} cohorts of children with similar co-occurring needs ({cohort_store.METHODS[st.method].lower()})"]
    if len(sized):
        big = sized.loc[pd.to_numeric(sized["Children"]).idxmax()]
        parts.append(f"the largest in {scope.where} is cohort {_cohort(big['Cohort'])} with {cell(big['Children'])} children")
    far = summary[summary["% over 20 miles"].map(shown)]
    if len(far) > 1:
        f = far.loc[pd.to_numeric(far["% over 20 miles"]).idxmax()]
        parts.append(f"cohort {_cohort(f['Cohort'])} has the most placed over 20 miles from home "
                     f"({cell(f['% over 20 miles'])}%)")
    takeaway = "; ".join(parts) + "."
    alt = (f"Heatmap of the percentage of each cohort's children with each need category, with all children as the "
           f"last row. {takeaway}")
    return Slide("cohorts", f"Cohorts: groups of children with similar needs, {scope.place}", takeaway,
                 chart_png(fig, alt),
                 table_from(summary, "cohort_summary", {"Cohort": "Cohort", "Children": "Children",
                                                        "% of children": "% of children",
                                                        "% over 20 miles": "Over 20 mi (%)",
                                                        "Weekly cost (£)": "Weekly cost"},
                            money=("Weekly cost (£)",)),
                 _source(scope, f"needs audit round {scope.round_label}; cohorts fitted on the whole region's round"),
                 "Cohorts are fitted on every child in the region's round, so a cohort means the same in every LA.")


def _gaps_slide(scope: Scope, service: str, key: str, extract: str) -> Slide:
    """Towns ranked by gap in one service, on the provision map, with the towns with the largest gaps."""
    from audit.analysis import provision

    sel = provision.selection(service, provision.ALL_NEEDS, scope.filters)
    view = provision.view(scope.db, sel, None, "gaussian", scope.filters.la, scope.viewer)
    table = _extract(scope, extract)
    name = "children's home places" if service == "residential" else "short breaks"
    short = "places" if service == "residential" else "short-break places a week"
    tiles = view.tiles
    ranked = table[table["gap_score"].map(shown)]
    lead = f"{tiles['Towns with a gap']} towns in {scope.where} have a gap in {name}"
    if len(ranked):
        t = ranked.iloc[0]
        lead += (f"; the largest is {t['town']} ({t['la']}), {cell(t['gap_score'])} {short} short of a fair share for "
                 f"{said(t['demand'])} children, its nearest matching provision {cell(t['nearest_km'])} km away")
    takeaway = lead + "."
    radius = provision.DEFAULT_RADIUS_KM[service]
    alt = (f"Map of {scope.where}: districts shaded by gap score in {name} within {radius:g} km, towns with a gap "
           f"marked, and the matching provision. {takeaway}")
    return Slide(key, f"Gaps in {name}: {scope.place}", takeaway,
                 gap_map(view.layers, service, scope.filters.la, alt),
                 table_from(table, extract, {"town": "Town", "la": "LA", "demand": "Children",
                                             "gap_score": "Gap score", "nearest_supply": "Nearest provision",
                                             "nearest_km": "km"}, rows=10),
                 _source(scope, f"needs audit round {scope.round_label}; " +
                         ("children's homes register" if service == "residential" else "short-break providers and children")),
                 f"Gap score: places short of a fair share within {radius:g} km (E2SFCA); the 10 largest of "
                 f"{len(table):,} towns.")


def gaps_residential_slide(scope: Scope) -> Slide:
    """Gaps in children's home places."""
    return _gaps_slide(scope, "residential", "gaps_residential", "gaps_residential")


def gaps_short_breaks_slide(scope: Scope) -> Slide:
    """Gaps in short breaks."""
    return _gaps_slide(scope, "short-breaks", "gaps_short_breaks", "gaps_short_breaks")


def distance_slide(scope: Scope) -> Slide:
    """How far from home each LA's children are placed."""
    from audit.analysis import distance
    from audit.charts import flows as figures_flows

    table = _extract(scope, "distance_by_la")
    bands = distance.bands(scope.db, scope.filters, scope.viewer)
    labels = [b[2] for b in distance.BANDS]
    fig = figures_flows.distance_bands_figure(bands.numeric[labels].assign(LA=bands.display["LA"].to_numpy()), labels,
                                                     large=True)
    key = scope.where if scope.filters.la else "Whole region"
    row = table[table["LA"] == key]
    parts = []
    if len(row):
        r = row.iloc[0]
        parts.append(f"Children from {scope.where} live a median {said(r['Median km'], ' km')} from home; "
                     f"{said(r['% over 20 miles'], '%')} over 20 miles and {said(r['% outside the region'], '%')} "
                     f"outside the region")
    las = table[(table["LA"] != "Whole region") & table["Median km"].map(shown)]
    if len(las) and scope.filters.la is None:
        far = las.loc[pd.to_numeric(las["Median km"]).idxmax()]
        parts.append(f"{far['LA']}'s children are placed furthest (median {cell(far['Median km'])} km)")
    takeaway = ("; ".join(parts) + ".") if parts else "Too few children with a known placement to show distances."
    alt = f"Stacked bar chart of children per distance band from home, for each LA. {takeaway}"
    return Slide("distance", f"Distance from home: {scope.place}", takeaway, chart_png(fig, alt),
                 table_from(table, "distance_by_la", {"LA": "LA", "Children": "Children", "Median km": "Median km",
                                                      "% over 20 miles": "Over 20 mi (%)",
                                                      "% outside own LA": "% outside own LA",
                                                      "% outside the region": "% outside region"},
                            highlight=scope.where if scope.filters.la else "Whole region"),
                 _source(scope, f"needs audit round {scope.round_label} (home and placement postcodes)"),
                 "Straight-line distance from the home postcode sector to the placement; 20 miles is the DfE's "
                 "measure of a distant placement.")


def forecast_slide(scope: Scope) -> Slide:
    """Children looked after by placement category: history, and the forecast with its 80% range."""
    from audit.analysis import forecast
    from audit.charts import forecast as figures_forecast

    table = _extract(scope, "forecast")
    key = scope.filters.la or forecast.TOTAL
    mine = table[table["la"] == key]
    if mine.empty:
        raise Unavailable(f"the SSDA903 history loaded does not cover {scope.where}")
    last = mine[mine["year"] == mine["year"].max()]
    year = pd.Timestamp(last["year"].iat[0]).year
    try:
        chart, _ = figures_forecast.page_chart(scope.db, forecast.DEFAULT_YEARS, scope.filters.la, None,
                                               f"Children looked after by placement category, {scope.place}",
                                               large=True, viewer=scope.viewer)
    except forecast.NoHistory as exc:
        raise Unavailable(str(exc)) from exc
    res = last[last["category"] == "residential"]
    if len(res):
        r = res.iloc[0]
        takeaway = (f"Children in residential care in {scope.where}: {said(r['observed'])} at "
                    f"{day(r['observed_at'])}, forecast {said(r['demand'])} by 31 March {year} "
                    f"(80% range {said(r['lower'])} to {said(r['upper'])}).")
    else:
        takeaway = f"No residential placements in the SSDA903 history of {scope.where}."
    alt = (f"Line chart of children looked after in each placement category at each month end, then the forecast "
           f"to 31 March {year} with its 80% range shaded. {takeaway}")
    shown_table = last.assign(category=last["category"].map(forecast.CATEGORY_LABELS))
    return Slide("forecast", f"Forecast to 31 March {year}: {scope.place}", takeaway, chart_png(chart, alt),
                 table_from(shown_table, "forecast", {"category": "Category", "observed": "Now",
                                                      "demand": f"March {year}", "lower": "Lower (80%)",
                                                      "upper": "Upper (80%)"}),
                 _source(scope, "SSDA903 returns (children looked after at each month end)"),
                 "Damped-trend exponential smoothing per LA and category; 4 years in 5 the number should fall in "
                 "the range.")


def scenarios_slide(scope: Scope) -> Slide:
    """Saved planning scenarios side by side (the newest four), as the planner's Scenarios view compares them."""
    from audit.analysis import scenarios

    kept = scenarios.saved(scope.db, scope.filters.round_id)
    if kept.empty:
        raise Unavailable("no planning scenarios are saved for this round")
    names = kept["name"].head(scenarios.MAX_COMPARE).tolist()
    table = scenarios.compare(scope.db, scope.filters.round_id, names, PUBLIC)
    rows = {r["Figure"]: r for _, r in table.iterrows()}
    best = max(names, key=lambda n: _number_or(rows["Brought within reach"][n]))
    takeaway = (f"{len(names)} saved plan{'s' if len(names) > 1 else ''} for round {scope.round_label}: "
                f"'{best}' brings the most children within reach ({rows['Brought within reach'][best]}), "
                f"running at {rows['Running cost a year'][best]} a year against "
                f"{rows['Placements replaced, a year'][best]} for the placements it replaces.")
    keep = ["Planned for", "New homes × places", "Towns", "Children to bring closer", "Within reach, before",
            "Within reach, after", "Brought within reach", "Running cost a year", "Placements replaced, a year",
            "Saving a year", "Miles saved"]
    shown = table[table["Figure"].isin(keep)]
    return Slide("scenarios", f"Saved planning scenarios: {scope.place}", takeaway, None,
                 Table(["Figure"] + names, shown[["Figure"] + names].astype(str).values.tolist(), "scenarios"),
                 _source(scope, f"planning scenarios saved for round {scope.round_label}"),
                 "Each plan starts from today's placements; a new home is assumed to meet every need of the "
                 "children it is planned for.")


def _number_or(text: str, default: float = -1.0) -> float:
    """A shown count as a number for ranking; hidden ('<5', 'c') ranks below every shown one."""
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return default


Builder = Callable[[Scope], Slide]
VIEWS: dict[str, tuple[str, Builder]] = {
    "overview": ("Overview: children in the audit and homes, by LA", overview_slide),
    "needs": ("Co-occurring needs: how common each need is", needs_slide),
    "cohorts": ("Cohorts of children with similar needs", cohorts_slide),
    "gaps_short_breaks": ("Gaps in short breaks", gaps_short_breaks_slide),
    "gaps_residential": ("Gaps in children's home places", gaps_residential_slide),
    "distance": ("Distance from home", distance_slide),
    "scenarios": ("Saved planning scenarios (when any are saved)", scenarios_slide),
    "forecast": ("Forecast of placement demand", forecast_slide),
}
DEFAULT_VIEWS = tuple(VIEWS)


def scope(db: Database, round_label: str | None = None, la: str | None = None) -> Scope:
    """The pack's scope from names a person types; KeyError naming the problem for an unknown round or LA."""
    from audit.analysis import overview

    code = region.la_code(la) if la else None
    if la and code is None:
        raise KeyError(f"'{la}' is not one of the 11 Eastern LAs")
    rid = extracts.round_id(db, round_label)
    if rid is None:
        raise KeyError("no audit round is loaded; run `audit import needs FILE --round LABEL` first")
    r = overview.rounds(db)
    r = r[r["round_id"] == rid].iloc[0]
    # A round without an audit date is dated by its import, and says so.
    when = day(r["audit_date"]) if pd.notna(r["audit_date"]) else f"{day(r['imported_at'])} (imported)"
    return Scope(db, Filters(round_id=rid, la=code), str(r["label"]), when,
                 bool(r.get("is_sample", False)))


def build(db: Database, round_label: str | None = None, la: str | None = None,
          views: tuple[str, ...] | list[str] = DEFAULT_VIEWS, progress: Callable[[float, str], None] | None = None) -> Pack:
    """Every chosen view's slide for the round and LA; views with nothing to show are listed with the reason."""
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        raise KeyError(f"unknown view(s) {', '.join(unknown)}; choose from: {', '.join(VIEWS)}")
    s = scope(db, round_label, la)
    pack = Pack(s, [])
    for i, name in enumerate(views):
        if progress:
            progress(i / (len(views) + 1), f"{VIEWS[name][0]}…")
        try:
            pack.slides.append(VIEWS[name][1](s))
        except Unavailable as exc:
            pack.skipped[name] = str(exc)
    return pack


METHOD_NOTES = [
    "Every figure is the app's public view: counts of 1-4 children are shown as \"<5\", and a number that a total "
    "could reveal is hidden as \"c\". Rates and means resting on fewer than 5 children are hidden too. " + LEGEND,
    "Needs: the 22 need codes of the audit template grouped into 11 categories; a child counts in every category they "
    "have. Nuffield FJO's national figures are for children subject to deprivation-of-liberty applications.",
    "Cohorts: latent class analysis (or k-modes) on the 22 need codes of every child in the region's round; the number "
    "of cohorts is the one with the lowest BIC unless chosen.",
    "Gaps: enhanced two-step floating catchment area (E2SFCA), Gaussian distance decay; 32 km for children's homes, "
    "15 km for short breaks. Distances are straight lines between postcode-sector centres and homes.",
    "Forecast: damped-trend exponential smoothing of children looked after at each month end (SSDA903), per LA and "
    "placement category, with 80% intervals; totals add up simulated LA forecasts.",
]
GLOSSARY = {
    "Co-occurring needs": "needs a child has at the same time; most children in residential care have several.",
    "Need category": "one of the 11 groups of the 22 need codes (e.g. mental health, going missing).",
    "Cohort": "a group of children whose needs are alike, found from the data, that provision can be designed for.",
    "Lift": "how many times more often two needs occur together than if they were unrelated (1 = no link).",
    "Gap score": "places (or short-break capacity) a town is short of a fair share, given the children nearby.",
    "Catchment": "the straight-line distance a child could be expected to travel to a service.",
    "80% range": "the forecast's interval: 4 years in 5 the number should fall inside it.",
    "<5 and c": "a count of 1-4 children, and a number hidden so that totals cannot reveal one.",
}
