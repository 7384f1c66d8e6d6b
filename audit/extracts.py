"""Every extract the app offers, by name, so `audit export` and the download buttons share one path."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from audit.analysis import overview
from audit.geography import region
from audit.db import Database
from audit.export import to_csv_bytes
from audit.filters import Filters
from audit.suppress import Viewer, suppress

Extract = Callable[[Database, Filters, Viewer], pd.DataFrame]
EXTRACTS: dict[str, tuple[str, Extract]] = {}


def register(name: str, title: str):
    """Decorator: make a function an extract available in the app and `audit export`."""
    def wrap(fn: Extract) -> Extract:
        EXTRACTS[name] = (title, fn)
        return fn
    return wrap


@register("overview_by_la", "LA comparison (children, needs, placements, homes)")
def _overview_by_la(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The overview's LA table as displayed (suppressed)."""
    return overview.la_table(db, f, viewer).display.drop(columns="la_code")


@register("homes", "Children's homes in the region")
def _homes(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Homes are public registrations (Ofsted), so no child counts and no suppression needed."""
    return db.q("homes_points", la=f.la)


@register("rounds", "Audit rounds loaded")
def _rounds(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """What has been imported, from which file, when; a round of 1-4 children shows "<5" unless the viewer sees every LA."""
    return _protect_rows(overview.rounds(db), viewer)


def _protect_rows(df: pd.DataFrame, viewer: Viewer, children: pd.Series | None = None) -> pd.DataFrame:
    """n_rows of 1-4 children shown as "<5" (where the rows are children), unless the viewer may see every LA."""
    from audit.geography.region import REGION_LAS
    from audit.suppress import hidden_count

    if "n_rows" not in df.columns or all(viewer.may_see(c) for c in REGION_LAS):
        return df
    out = df.copy()
    counts = children if children is not None else pd.Series(True, index=df.index)
    out["n_rows"] = [hidden_count(n) if is_children and pd.notna(n) else n
                     for n, is_children in zip(df["n_rows"], counts)]
    return out


@register("children", "Child-level needs profiles (own LA only)")
def _children(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Child-level rows: only for one LA the viewer may see, never in meeting mode."""
    if f.la is None or not viewer.may_see(f.la):
        raise PermissionError("Child-level extracts are only available for your own LA.")
    return db.q("children_extract", round_id=f.round_id, la=f.la, age_band=f.age_band)


def _needs_selection(f: Filters):
    """The needs page's view for the shared filters (all sexes and placement types)."""
    from audit.analysis.needs_view import Selection

    return Selection(f)


@register("prevalence", "Co-occurring needs: children with each need category")
def _prevalence(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Prevalence of the 11 categories with Nuffield's national figures, suppressed."""
    from audit.analysis import needs_view

    return needs_view.prevalence_table(db, _needs_selection(f), viewer, "categories").display.drop(columns="need")


@register("prevalence_codes", "Co-occurring needs: children with each need code")
def _prevalence_codes(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Prevalence of the 22 need codes, suppressed."""
    from audit.analysis import needs_view

    return needs_view.prevalence_table(db, _needs_selection(f), viewer, "codes").display.drop(columns="need")


@register("needs_per_child", "Co-occurring needs: number of need categories per child")
def _needs_per_child(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Children by number of categories, with secondary suppression."""
    from audit.analysis import needs_view

    return needs_view.needs_per_child_table(db, _needs_selection(f), viewer).display


@register("cooccurrence", "Co-occurring needs: children with both of each pair of categories")
def _cooccurrence(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The category x category count matrix, cells on 1-4 children hidden."""
    from audit.analysis import needs_view

    sel = _needs_selection(f)
    return needs_view.matrix_csv(needs_view.cooccurrence_table(db, sel, viewer, "categories", "count"))


@register("cooccurring_pairs", "Co-occurring needs: every pair of categories with lift, phi and significance")
def _cooccurring_pairs(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Pairs with Fisher exact tests after Benjamini-Hochberg correction."""
    from audit.analysis import needs_view

    return needs_view.pair_table(db, _needs_selection(f), viewer, "categories").display.drop(columns=["a", "b"])


@register("combinations", "Co-occurring needs: the 20 most common combinations of categories")
def _combinations(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Exact combinations, children per combination suppressed."""
    from audit.analysis import needs_view

    return needs_view.combinations_table(db, _needs_selection(f), viewer, "categories").display.drop(columns="combination")


def _stored_cohorts(db: Database, f: Filters):
    """The round's stored cohort fit; extracts describe what maps and matching use."""
    from audit.analysis import cohort_store

    st = cohort_store.stored(db, f.round_id) if f.round_id is not None else None
    if st is None:
        raise KeyError("no cohorts are stored for this round; run `audit cohorts --out FILE` first")
    return st


@register("cohort_summary", "Cohorts: size, placements away from home and weekly cost per cohort")
def _cohort_summary(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Per-cohort summary for the filters, suppressed."""
    from audit.analysis import cohort_store

    st = _stored_cohorts(db, f)
    return cohort_store.summary_table(db, _needs_selection(f), viewer, st.method, st.k).display


@register("cohort_profiles", "Cohorts: % of each cohort's children with each need category")
def _cohort_profiles(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The cohort profile heatmap's data (whole round: that is what defines a cohort)."""
    from audit.analysis import cohort_store

    st = _stored_cohorts(db, f)
    table = cohort_store.profile_table(db, f.round_id, st.method, st.k, "categories")
    return cohort_store.profile_csv(table, st.names, cohort_store.cohort_sizes(db, f.round_id, st.method, st.k))


@register("cohort_by_la", "Cohorts: children per cohort by LA")
def _cohort_by_la(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Cohort x LA counts with row and column totals protected."""
    from audit.analysis import cohort_store

    st = _stored_cohorts(db, f)
    return cohort_store.breakdown_table(db, _needs_selection(f), viewer, st.method, st.k, "la").display


@register("cohort_nuffield", "Cohorts: how each compares with Nuffield FJO's three groups")
def _cohort_nuffield(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Similarity of each cohort to the three published groups (no counts)."""
    from audit.analysis import cohort_store

    st = _stored_cohorts(db, f)
    return cohort_store.nuffield_table(db, f.round_id, st.method, st.k)


def round_id(db: Database, label: str | None) -> int | None:
    """The id of a round label, or of the newest round when no label is given."""
    rounds = overview.rounds(db)
    if rounds.empty:
        return None
    if label is None:
        return int(rounds["round_id"].iat[0])
    hit = rounds[rounds["label"] == label]
    if hit.empty:
        raise KeyError(f"audit round '{label}' not found")
    return int(hit["round_id"].iat[0])


@register("forecast", "Forecast: placement demand for the next five years by LA and category (80% intervals)")
def _forecast(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The forecast page's table: counts and bounds of 1-4 shown as '<5'."""
    from audit.analysis import forecast

    try:
        fc = forecast.forecast(db, forecast.DEFAULT_YEARS, f.la)
    except forecast.NoHistory as exc:
        raise KeyError(str(exc)) from exc
    table = forecast.extract(fc, viewer)
    return table[table["la"] != forecast.TOTAL] if f.la else table


@register("forecast_by_cohort", "Forecast: residential places each cohort will need, next five years (80% intervals)")
def _forecast_by_cohort(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The forecast page's cohort table: the residential forecast split by the round's stored cohorts."""
    from audit.analysis import forecast

    try:
        table = forecast.by_cohort(db, forecast.DEFAULT_YEARS, f.round_id, f.la, viewer)
    except forecast.NoHistory as exc:
        raise KeyError(str(exc)) from exc
    if table is None:
        raise KeyError("no cohorts are stored for this round: fit them first (`audit cohorts` or the Cohorts page)")
    return table.display


def extract(db: Database, name: str, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """One named extract for a viewer: the only way pages and the CLI take one, so none can skip the scope check.

    Child-level extracts are refused unless the filters name one LA the viewer may see (never in
    meeting mode), whatever the extract's own function does.
    """
    if name not in EXTRACTS:
        raise KeyError(f"unknown extract '{name}'; choose from: {', '.join(sorted(EXTRACTS))}")
    if name in CHILD_LEVEL and (f.la is None or not viewer.may_see(f.la)):
        raise PermissionError("Child-level extracts are only available for your own LA"
                              + (", and never in meeting mode." if viewer.meeting_mode else "."))
    return EXTRACTS[name][1](db, f, viewer)


def export(db: Database, name: str, la: str | None = None, round_label: str | None = None,
           viewer: Viewer | None = None, unsuppressed_for: str | None = None) -> bytes:
    """CSV bytes of a named extract, suppressed for the public (or for the given viewer, e.g. `audit export --as`).

    `la` only filters. Counts of 1-4 are shown for an LA only when `unsuppressed_for` names it
    (whoever runs the command says they may see that LA's child-level data); the file then says
    so in its first line, before the header.
    """
    if name not in EXTRACTS:
        raise KeyError(f"unknown extract '{name}'; choose from: {', '.join(sorted(EXTRACTS))}")
    code = _code(la)
    own = _code(unsuppressed_for)
    viewer = viewer or Viewer(child_level_las=frozenset({own}) if own else frozenset())
    f = Filters(round_id=round_id(db, round_label), la=code or own)
    data = to_csv_bytes(extract(db, name, f, viewer))
    if own:
        notice = (f"UNSUPPRESSED FOR {region.la_name(own)}: counts of 1-4 for this LA are shown. Share only with "
                  f"people allowed to see its child-level data.\r\n")
        data = data[:3] + notice.encode("utf-8") + data[3:]
    return data


def _code(la: str | None) -> str | None:
    """An Eastern LA's code from its name or code; KeyError naming it when it is not one."""
    code = region.la_code(la) if la else None
    if la and code is None:
        raise KeyError(f"'{la}' is not one of the 11 Eastern LAs")
    return code


# -- Data intake (issue 3) -------------------------------------------------------

# Extracts with one row per child: the app offers them only for the viewer's own LA.
CHILD_LEVEL = {"children", "episodes"}


@register("imports", "Imports loaded: files, rows, checksums and times")
def _imports(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The import log: which files went in, when, with what checksum; children's rows of 1-4 show "<5"."""
    log = db.q("imports")
    return _protect_rows(log, viewer, log["kind"].isin(["needs", "ssda903"]))


@register("ofsted_mapping", "How Ofsted registration categories map onto the needs taxonomy")
def _ofsted_mapping(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Documentation of the Ofsted import, as a table."""
    from audit.intake import ofsted as import_ofsted

    return import_ofsted.mapping_table()


@register("template_mapping", "Needs template columns and their Placements Data Standard v2 fields")
def _template_mapping(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Documentation of the template, as a table."""
    from audit.intake import template

    return template.mapping()


@register("episodes", "SSDA903 episode history (own LA only)")
def _episodes(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Child-level episode history: only for one LA the viewer may see, never in meeting mode."""
    if f.la is None or not viewer.may_see(f.la):
        raise PermissionError("Child-level extracts are only available for your own LA.")
    return db.q("episodes_extract", la=f.la)


def _gaps(service: str) -> Extract:
    """A gap-table extract for one service, all needs, default catchment, within the chosen LA and age band."""
    def extract(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
        from audit.analysis import provision

        return provision.gaps_extract(db, provision.selection(service, provision.ALL_NEEDS, f), la=f.la, viewer=viewer)
    return extract


register("gaps_residential", "Gap analysis: towns ranked by gap in children's home places (all needs, 32 km)")(_gaps("residential"))
register("gaps_short_breaks", "Gap analysis: towns ranked by gap in short breaks (all needs, 15 km)")(_gaps("short-breaks"))


@register("distance_by_la", "Distance from home: median km, % over 20 miles, % outside own LA and region, by LA")
def _distance_by_la(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The distance page's LA table as displayed (suppressed)."""
    from audit.analysis import distance

    return distance.by_la(db, f, viewer).display.drop(columns="la_code")


@register("distance_bands", "Distance from home: children per distance band, by LA")
def _distance_bands(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Children per LA in each distance band, suppressed along rows and columns."""
    from audit.analysis import distance

    return distance.bands(db, f, viewer).display.drop(columns="la_code")


@register("flows", "Flows: children by home LA and placement LA")
def _flows(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The LA-by-LA flow matrix, every cell suppressed."""
    from audit.analysis import distance

    return distance.flow_table(distance.flow_matrix(db, f, viewer)).display


@register("local_place_use", "Flows: who uses each LA's children's home places")
def _local_place_use(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Places in each LA's homes and how many its own children, other Eastern LAs and others use (suppressed)."""
    from audit.analysis import distance

    return distance.labelled_use(distance.local_use(db, viewer)).display.drop(columns="la_code")


@register("matching_by_la", "Matching: children with a matching home within 20 miles, placed by sharing places, by LA")
def _matching_by_la(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The planner page's matching table by LA (20-mile catchment), suppressed."""
    from audit.analysis import matching

    return matching.la_rows(matching.matching(db, f.round_id), viewer, f.age_band).display.drop(columns="la_code")


@register("matching_binding_needs", "Matching: need categories that stop children being matched within 20 miles")
def _matching_binding_needs(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The planner page's binding-needs table (20-mile catchment), suppressed."""
    from audit.analysis import matching

    return matching.binding_rows(matching.matching(db, f.round_id), viewer, f.la, f.age_band).display


@register("matching_by_cohort", "Matching: children with a matching home within 20 miles, by cohort")
def _matching_by_cohort(db: Database, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """The planner page's cohort table (empty until cohorts are fitted), suppressed."""
    from audit.analysis import matching

    rows = matching.cohort_rows(matching.matching(db, f.round_id), viewer, f.la, f.age_band)
    return pd.DataFrame(columns=["Cohort"]) if rows is None else rows.display.drop(columns="la_code")
