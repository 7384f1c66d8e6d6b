"""How far children are placed from home and whose children fill whose places, as suppressed tables for the app.

The arithmetic is in audit.analysis.flows; this module reads the database, applies the
shared filters and small-number suppression, and gives the columns plain names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.analysis import flows
from audit.db import Database
from audit.filters import Filters, hidden_views
from audit.geography.region import la_name
from audit import disclosure
from audit.suppress import PRIMARY, PUBLIC, SECONDARY, Suppressed, Viewer, matrix_result, suppress

MILE_KM = 1.609344
# Distance bands in miles: wide enough that most cells hold 5 or more children, with 20 miles (the DfE measure) an edge.
BANDS = [(0, 10, "Under 10 miles"), (10, 20, "10–20 miles"), (20, 50, "20–50 miles"),
         (50, 100, "50–100 miles"), (100, np.inf, "100 miles or more")]
USE_LABELS = {"la": "LA", "places": "Places in its homes", "used_by_own_la": "Used by its own children",
              "used_by_other_eastern": "Used by other Eastern LAs", "used_by_outside_region": "Used by LAs outside the region",
              "used_by_unknown": "Used by an LA not recorded"}
USE_COUNTS = ["used_by_own_la", "used_by_other_eastern", "used_by_outside_region", "used_by_unknown"]


def placed_children(db: Database, f: Filters) -> pd.DataFrame:
    """Children in the round and age band with distance, placement LA, region flag and cohort (if fitted)."""
    return db.q("flows_children", round_id=f.round_id, age_band=f.age_band)


def has_cohorts(children: pd.DataFrame) -> bool:
    """Whether cohorts have been fitted for these children."""
    return bool(children["cohort"].notna().any())


def _summary_table(summary: pd.DataFrame, label: str, names: pd.Series, viewer: Viewer,
                   la_codes: pd.Series | None = None, family_hidden: pd.DataFrame | None = None) -> Suppressed:
    """A distance summary with readable columns; percentages and the median hidden on fewer than 5 children."""
    out = pd.DataFrame({
        label: names.to_numpy(),
        "Children": summary["children"].astype(int).to_numpy(),
        "Median km": summary["median_km"].round(1).to_numpy(),
        "% over 20 miles": summary["pct_over_20_miles"].round(1).to_numpy(),
        "% outside own LA": summary["pct_outside_own_la"].round(1).to_numpy(),
        "% outside the region": summary["pct_outside_region"].round(1).to_numpy(),
    })
    if la_codes is not None:
        out["la_code"] = la_codes.to_numpy()
    rates = {c: "Children" for c in ["Median km", "% over 20 miles", "% outside own LA", "% outside the region"]}
    # The "All" row is the column total, so one hidden count above it could be derived.
    shares = {"% over 20 miles": summary["known_distance"], "% outside own LA": summary["known_own_la"],
              "% outside the region": summary["known_region"]}
    s = suppress(out, ["Children"], rates=rates, col_totals=family_hidden is None,
                 la_col="la_code" if la_codes is not None else None, viewer=viewer, shares=shares)
    return s if family_hidden is None else _apply_family(s, family_hidden)


def _apply_family(s: Suppressed, hidden: pd.DataFrame) -> Suppressed:
    """Hide what the table family's protection hides (complements chosen jointly with the flows and bands)."""
    for col in hidden.columns:
        extra = hidden[col].to_numpy(bool) & ~s.mask[col].to_numpy(bool)
        s.display.loc[extra, col] = SECONDARY
        s.numeric.loc[extra, col] = np.nan
        s.mask.loc[extra, col] = True
    s.method = "milp (flows, distance bands and this table protected together)"
    return s


def by_la(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Per LA: children, median km, % over 20 miles, % outside own LA and % outside the region, with a regional row.

    Its children are the flow matrix's row totals and its shares rest on the flow and band
    cells, so what it shows is decided with them (`flow_protection`, `band_protection`).
    """
    kids = placed_children(db, f)
    s = flows.distance_summary(kids, by=["la_code"], total=True)
    s = s.iloc[sorted(range(len(s)), key=lambda i: (s["la_code"].iat[i] == "All", la_name(s["la_code"].iat[i])))]
    names = s["la_code"].map(lambda c: "Whole region" if c == "All" else la_name(c))
    fp, bp = flow_protection(db, f, viewer), band_protection(db, f, viewer)
    hidden = pd.DataFrame({
        "Children": [fp.hidden_total(c) for c in s["la_code"]],
        "% outside own LA": [fp.hidden_share("own", c) for c in s["la_code"]],
        "% outside the region": [fp.hidden_share("region", c) for c in s["la_code"]],
        "% over 20 miles": [bp.hidden_share("over20", c) for c in s["la_code"]],
    }, index=s.index)
    return _summary_table(s, "LA", names, viewer, s["la_code"], hidden)


class TableProtection:
    """A matrix (LA rows) protected together with the row shares published from it."""

    def __init__(self, matrix: pd.DataFrame, fam: disclosure.Family, table: dict, shares: dict,
                 prot: disclosure.Protection):
        self.matrix, self.fam, self.table, self.shares, self.prot = matrix, fam, table, shares, prot

    def hidden_total(self, la: str) -> bool:
        """Whether the LA's row total (or the grand total, for "All") is hidden."""
        if la == "All":
            return bool(self.prot.pattern.counts[self.table["total"]])
        i = list(self.matrix.index).index(la) if la in self.matrix.index else None
        return i is not None and bool(self.prot.pattern.counts[self.table["rows"][i]])

    def hidden_share(self, kind: str, la: str) -> bool:
        """Whether the protection hides this share (its part or rest is hidden, or it would pin a hidden cell)."""
        k = self.shares.get((kind, la))
        return k is not None and bool(self.prot.pattern.shares[k])

    def result(self) -> Suppressed:
        """The matrix as shown."""
        return matrix_result(self.matrix, self.fam, self.table, self.prot)


def _protect_matrix(m: pd.DataFrame, viewer: Viewer, share_defs, hidden_rows=frozenset()) -> TableProtection:
    """Protect a matrix with its margins and the shares share_defs(grid) -> {(kind, la): (num, base)} adds.

    hidden_rows: LAs whose view is hidden against the other filter values (audit.filters.hidden_views).
    """
    exempt = [viewer.may_see(r) for r in m.index]
    fam, t = disclosure.matrix_family(m.to_numpy(int), True, True, exempt)
    for i, la in enumerate(m.index):
        if la in hidden_rows and not exempt[i]:
            fam.counts[t["rows"][i]].force = True
    atoms = m.to_numpy(int).ravel()
    grid = np.arange(m.size).reshape(m.shape)
    shares = {}
    for (kind, la), (num, base) in share_defs(grid).items():
        shares[(kind, la)] = fam.add_share((kind, la), num, base, atoms, decimals=1)
        if viewer.may_see(la):
            fam.shares[shares[(kind, la)]].primary = False
    return TableProtection(m, fam, t, shares, disclosure.protect(fam))


_CACHE: dict = {}


def _cached(kind: str, db: Database, f: Filters, viewer: Viewer, build):
    """One protection per database version, filters and viewer: by_la, the flows and the bands share it."""
    key = (kind, str(db.path), db.version, f, viewer)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = build()
    return _CACHE[key]


def flow_protection(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> TableProtection:
    """Flows (home LA x placement LA) protected with their margins and the distance table's LA shares.

    % outside own LA = children placed away from their LA / children whose placement LA is known;
    % outside the region = the "Outside region" column / the same base. Both rest on the flow cells,
    so a share shown at one decimal could pin a hidden flow; the MILP hides the share or more cells.
    """
    def build():
        m = flows.flow_matrix(placed_children(db, f))
        cols = list(m.columns)

        def defs(grid):
            known = [j for j, c in enumerate(cols) if c != flows.UNKNOWN]
            out_col = [cols.index(flows.OUTSIDE_REGION)] if flows.OUTSIDE_REGION in cols else []
            d = {}
            for i, la in enumerate(m.index):
                away = [j for j in known if cols[j] != la]
                d[("own", la)] = (grid[i, away], grid[i, known])
                d[("region", la)] = (grid[i, out_col], grid[i, known])
            away_all = np.concatenate([grid[i, [j for j in known if cols[j] != la]] for i, la in enumerate(m.index)])
            d[("own", "All")] = (away_all, grid[:, known].ravel())
            d[("region", "All")] = (grid[:, out_col].ravel(), grid[:, known].ravel())
            return d
        return _protect_matrix(m, viewer, defs, _hidden_las(db, f, viewer))
    return _cached("flows", db, f, viewer, build)


def _hidden_las(db: Database, f: Filters, viewer: Viewer) -> frozenset:
    """LAs whose view of this age band is hidden against their other bands."""
    if f.age_band is None:
        return frozenset()
    return frozenset(la for la, band in hidden_views(db, f.round_id, viewer) if band == f.age_band and la)


def _band_matrix(db: Database, f: Filters) -> pd.DataFrame:
    """Children per LA (codes as index) in each distance band."""
    kids = placed_children(db, f).dropna(subset=["distance_km"])
    miles = kids["distance_km"] / MILE_KM
    edges = [b[0] for b in BANDS] + [np.inf]
    band = pd.cut(miles, edges, right=False, labels=[b[2] for b in BANDS])
    m = pd.crosstab(kids["la_code"], band).reindex(columns=[b[2] for b in BANDS], fill_value=0)
    return m.reindex(sorted(m.index, key=la_name)).rename_axis(index="la_code", columns=None).astype(int)


def band_protection(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> TableProtection:
    """Distance bands protected with their margins and % over 20 miles (the bands from 20 miles up over the row)."""
    def build():
        m = _band_matrix(db, f)
        far = [j for j, b in enumerate(BANDS) if b[0] >= 20]

        def defs(grid):
            d = {("over20", la): (grid[i, far], grid[i, :]) for i, la in enumerate(m.index)}
            d[("over20", "All")] = (grid[:, far].ravel(), grid.ravel())
            return d
        return _protect_matrix(m, viewer, defs, _hidden_las(db, f, viewer))
    return _cached("bands", db, f, viewer, build)


def by_cohort(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed | None:
    """The same measures per cohort (within the chosen LA, if any); None until cohorts have been fitted."""
    kids = placed_children(db, f)
    if f.la is not None:
        kids = kids[kids["la_code"] == f.la]
    if kids.empty or not has_cohorts(kids):
        return None
    kids = kids.assign(cohort_name=kids["cohort_name"].fillna("Not assigned"))
    s = flows.distance_summary(kids, by=["cohort_name"], total=True)
    la = pd.Series(f.la, index=s.index) if f.la is not None else None
    return _summary_table(s, "Cohort", s["cohort_name"], viewer, la)


def bands(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children per LA in each distance band (miles), complements chosen with % over 20 miles (band_protection)."""
    r = band_protection(db, f, viewer).result()

    def framed(df: pd.DataFrame, names) -> pd.DataFrame:
        out = df.reset_index()
        out.insert(0, "LA", names)
        return out

    names = [la_name(c) for c in r.display.index]
    return Suppressed(framed(r.display, names), framed(r.numeric, names),
                      framed(r.mask, False).assign(la_code=False), method=r.method)


def flow_matrix(db: Database, f: Filters, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children by home LA (rows) and placement LA (columns), every cell suppressed; codes as index and columns."""
    return flow_protection(db, f, viewer).result()


def flow_table(s: Suppressed) -> Suppressed:
    """The suppressed flow matrix with LA names and a "Home LA" column, for display and download."""
    def named(df: pd.DataFrame, first) -> pd.DataFrame:
        out = df.copy()
        out.columns = [la_name(c) for c in out.columns]
        out.insert(0, "Home LA", first)
        return out.reset_index(drop=True)

    names = [la_name(c) for c in s.display.index]
    return Suppressed(named(s.display, names), named(s.numeric, names), named(s.mask, False))


def local_use(db: Database, viewer: Viewer = PUBLIC, f: Filters | None = None) -> Suppressed:
    """Per LA: places in its homes and how many its own children, other Eastern LAs and LAs outside the region use.

    Places used are children, so they are suppressed; vacant places are not
    shown, because places minus the shown uses would otherwise reveal a hidden one.
    The same children are the flow matrix's diagonal ("used by its own children") and,
    with other Eastern LAs, its column totals: where the flows hide those, so does this table.
    """
    use = flows.local_place_use(db.q("flows_occupancy"), db.q("flows_homes"))
    use = use[use["la_code"].isin(list(flows.REGION_LAS))].reset_index(drop=True)
    out = use[["la_code", "places", *USE_COUNTS]].copy()
    out.insert(1, "la", out["la_code"].map(la_name))
    for c in ["places", *USE_COUNTS]:
        out[c] = out[c].round().astype(int)
    return suppress(out, USE_COUNTS, row_totals=True, col_totals=True, la_col="la_code", viewer=viewer,
                    hide=_linked_to_flows(db, out["la_code"], f or _latest(db), viewer))


def _latest(db: Database) -> Filters:
    """The latest round, all ages: the children the occupancy describes."""
    r = db.q("rounds")
    return Filters(round_id=int(r["round_id"].iat[0]) if len(r) else None)


def _linked_to_flows(db: Database, las: pd.Series, f: Filters, viewer: Viewer) -> pd.DataFrame:
    """Local-use cells to hide because the flows hide the same children: the diagonal, and column totals."""
    fp = flow_protection(db, f, viewer)
    pat, t, m = fp.prot.pattern, fp.table, fp.matrix
    own, other = [], []
    for la in las:
        i = list(m.index).index(la) if la in m.index else None
        j = list(m.columns).index(la) if la in m.columns else None
        own.append(i is not None and j is not None and bool(pat.counts[t["cells"][i, j]]))
        other.append(j is not None and bool(pat.counts[t["cols"][j]]))
    return pd.DataFrame({"used_by_own_la": own, "used_by_other_eastern": other}, index=las.index)


def labelled_use(s: Suppressed) -> Suppressed:
    """Local place use with plain-English headings."""
    return Suppressed(s.display.rename(columns=USE_LABELS), s.numeric.rename(columns=USE_LABELS),
                      s.mask.rename(columns=USE_LABELS))
