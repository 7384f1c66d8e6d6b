"""The needs page's tables: one view of the audit (filters incl. sex and placement type) turned into
suppressed prevalence, needs-per-child, co-occurrence and combination tables, and an LA-vs-region comparison.

The statistics themselves live in ``audit.analysis.cooccur``; this module fetches the
children of a view from the database, calls those functions and applies
small-number suppression, so that pages and extracts only lay tables out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from audit import taxonomy
from audit.analysis import cooccur
from audit.geography import region
from audit.db import Database
from audit.filters import Filters, view_hidden
from audit.suppress import PRIMARY, PUBLIC, SECONDARY, THRESHOLD, Suppressed, Viewer, hidden_count, hidden_share, suppress

Level = Literal["categories", "codes"]
LEVELS: tuple[str, ...] = ("categories", "codes")

SEX_LABELS = {"F": "Female", "M": "Male", "X": "Another term (X)", "U": "Not known"}
# SSDA903 PLACE codes (shared/reference/ssda903.md) in plain words.
PLACEMENT_LABELS = {
    "K1": "Secure children's home", "K2": "Children's home", "K3": "Registered supported accommodation",
    "R1": "Residential care home", "R2": "NHS or health establishment", "R3": "Family centre or mother and baby unit",
    "R5": "Young offender institution", "S1": "Residential school", "H5": "Semi-independent living",
    "P1": "With parents", "P2": "Independent living", "P3": "Residential employment",
}
# Nuffield FJO figures published for single need codes (facts.md): physical aggression and
# sexually harmful behaviour within risk to others, and placement breakdown, which is one code.
NUFFIELD_CODE_PREVALENCE: dict[str, float] = {"rto_physical": 57.5, "rto_sexual": 8.2, "placement_breakdown": 55.3}


@dataclass(frozen=True)
class Selection:
    """One view of the audit: the shared filters plus the needs page's sex and placement type."""

    filters: Filters
    sex: str | None = None
    placement: str | None = None

    def params(self) -> dict:
        """Named parameters for the needs_*.sql queries."""
        return {**self.filters.params(), "sex": self.sex, "placement": self.placement}

    def region(self) -> "Selection":
        """The same view for the whole region (every LA), to compare one LA against."""
        return replace(self, filters=self.filters.with_(la=None))


# Fetching and pivoting a view's needs is shared by every table of a page run, so it
# is memoised per database version; a handful of recent views is plenty.
_MEMO: OrderedDict = OrderedDict()
_MEMO_SIZE = 32
_MEMO_LOCK = threading.Lock()


def _fetch(db: Database, sel: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Children of the view and their 22 need codes as a boolean matrix (same row order)."""
    kids = db.q("needs_children", **sel.params())
    present = db.q("needs_present", **sel.params())
    index = pd.MultiIndex.from_frame(kids[["la_code", "child_id"]])
    codes = taxonomy.codes()
    M = np.zeros((len(kids), len(codes)), dtype=bool)
    if len(present):
        rows = index.get_indexer(pd.MultiIndex.from_frame(present[["la_code", "child_id"]]))
        cols = pd.Index(codes).get_indexer(present["code"])
        ok = (rows >= 0) & (cols >= 0)
        M[rows[ok], cols[ok]] = True
    kids.index = index
    return kids, pd.DataFrame(M, index=index, columns=codes)


def view(db: Database, sel: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The view's children and need-code matrix, read once per database version."""
    key = (str(db.path), db.version, sel)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    result = _fetch(db, sel)
    with _MEMO_LOCK:
        _MEMO[key] = result
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return result


def matrix(db: Database, sel: Selection, level: Level = "codes") -> pd.DataFrame:
    """Children x needs (codes or categories) as booleans, indexed by (la_code, child_id)."""
    _, X = view(db, sel)
    if level == "codes":
        return X
    if level == "categories":
        return cooccur.categories_from_codes(X)
    raise ValueError(f"level must be one of {LEVELS}, not {level!r}")


def children(db: Database, sel: Selection) -> pd.DataFrame:
    """The view's children with age band, sex, placement, distance and cost."""
    return view(db, sel)[0]


def options(db: Database, round_id: int | None) -> dict[str, dict[str, str]]:
    """Sexes and placement types present in a round, code -> label, most common first."""
    df = db.q("needs_options", round_id=round_id)
    out: dict[str, dict[str, str]] = {"sex": {}, "placement": {}}
    for field, value in zip(df["field"], df["value"]):
        labels = SEX_LABELS if field == "sex" else PLACEMENT_LABELS
        out[field][value] = labels.get(value, value) if field == "sex" else f"{labels.get(value, value)} ({value})"
    return out


# -- suppression helpers -------------------------------------------------------
def may_see(sel: Selection, viewer: Viewer) -> bool:
    """Whether this viewer sees the view unsuppressed (their own LA, not on a shared screen)."""
    return viewer.may_see(sel.filters.la)


def suppress_view(df: pd.DataFrame, counts: list[str], sel: Selection, viewer: Viewer, base: int,
              rates: dict[str, str] | None = None, col_totals: bool = False,
              shares: dict | None = None, db: Database | None = None) -> Suppressed:
    """suppress() for a whole view, also hiding every rate when the view has fewer than 5 children, and every
    figure when the view itself is hidden against the other LAs and age bands (audit.filters.hidden_views)."""
    if may_see(sel, viewer):
        return Suppressed(df.copy().astype(object), df.copy(), pd.DataFrame(False, index=df.index, columns=df.columns))
    out = suppress(df, counts, rates=rates, col_totals=col_totals, shares=shares)
    if db is not None and view_hidden(db, sel.filters, viewer, sel.sex, sel.placement):
        for col in [*counts, *(rates or {})]:
            nonzero = pd.to_numeric(df[col], errors="coerce").fillna(0) != 0
            out.display.loc[nonzero, col] = SECONDARY
            out.numeric[col] = np.nan
            out.mask[col] = True
        return out
    if 1 <= base < THRESHOLD:
        for col in (rates or {}):
            out.display[col] = PRIMARY
            out.numeric[col] = np.nan
            out.mask[col] = True
    return out


def _labels(needs) -> list[str]:
    """Readable labels of codes or categories."""
    return [cooccur.label_of(n) for n in needs]


def _category_of(needs) -> list[str]:
    """The category label of each code (a category is its own category)."""
    tax = taxonomy.load()
    code_cat = dict(zip(tax["code"], tax["category_label"]))
    cat_label = taxonomy.category_labels()
    return [code_cat.get(n, cat_label.get(n, n)) for n in needs]


# -- tables ----------------------------------------------------------------------
def headline(db: Database, sel: Selection, viewer: Viewer = PUBLIC) -> dict[str, str]:
    """Headline tiles comparable with Nuffield's: children, mean categories, % with more than one and 4+."""
    X = matrix(db, sel, "categories")
    s = cooccur.summary(X)
    n = s["n"]
    per_child = cooccur.as_matrix(X).sum(axis=1)
    own = may_see(sel, viewer)
    if not own and view_hidden(db, sel.filters, viewer, sel.sex, sel.placement):
        return {k: "–" for k in ("Children", "Mean needs", "With more than one", "With 4 or more")}

    def shown(value: float, fmt: str, part: int | None = None) -> str:
        # A share can give away a count of 1-4 on either side (80% of 5 is 4 children; 98% of
        # 100 leaves 2), so it is hidden when the children it counts, or the rest, number 1-4.
        if n == 0:
            return "–"
        mark = hidden_share(n if part is None else part, n, own)
        return mark or fmt.format(value)

    return {
        "Children": hidden_count(n, own),
        "Mean needs": shown(s["mean"], "{:.1f} of 11"),
        "With more than one": shown(s["pct_more_than_one"], "{:.0f}%", int((per_child > 1).sum())),
        "With 4 or more": shown(s["pct_4plus"], "{:.0f}%", int((per_child >= 4).sum())),
    }


def summary_stats(db: Database, sel: Selection, viewer: Viewer = PUBLIC) -> dict | None:
    """Mean and % with 4+ for the chart's marker line, or None when the view is too small to show."""
    X = matrix(db, sel, "categories")
    s = cooccur.summary(X)
    if s["n"] == 0 or (s["n"] < THRESHOLD and not may_see(sel, viewer)):
        return None
    if not may_see(sel, viewer) and view_hidden(db, sel.filters, viewer, sel.sex, sel.placement):
        return None
    four = int((cooccur.as_matrix(X).sum(axis=1) >= 4).sum())
    if (_small(four) or _small(s["n"] - four)) and not may_see(sel, viewer):
        return None
    return s


def _small(count: int) -> bool:
    """A count that must not be shown or worked out: 1 to 4."""
    return 1 <= count < THRESHOLD


def prevalence_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: Level = "categories") -> Suppressed:
    """Children with each need and their share, with Nuffield's national figure beside it where published."""
    X = matrix(db, sel, level)
    prev = cooccur.prevalence(X)
    ref = cooccur.NUFFIELD_PREVALENCE if level == "categories" else NUFFIELD_CODE_PREVALENCE
    df = pd.DataFrame({
        "need": prev["need"],
        "Need": _labels(prev["need"]),
        "Category": _category_of(prev["need"]),
        "Children": prev["n"].astype(int),
        "% of children": prev["pct"].round(1),
        "Nuffield FJO %": [ref.get(x, np.nan) for x in prev["need"]],
    })
    if level == "categories":
        df = df.drop(columns="Category")
    # Needs overlap (a child has several), so no total is derivable: primary suppression only.
    return suppress_view(df, ["Children"], sel, viewer, len(X), rates={"% of children": "Children"}, db=db)


def needs_per_child_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC) -> Suppressed:
    """Children by number of need categories (0-11), suppressed so no hidden count can be worked back."""
    X = matrix(db, sel, "categories")
    dist = cooccur.needs_per_child(X)
    df = pd.DataFrame({
        "Need categories": dist["n_needs"].astype(int),
        "Children": dist["children"].astype(int),
        "% of children": dist["pct"].round(1),
    })
    out = suppress_view(df, ["Children"], sel, viewer, len(X), rates={"% of children": "Children"}, db=db)
    if may_see(sel, viewer):
        return out
    # The total is shown and so is the share with 4 or more, so neither group (0-3, 4+)
    # may hold a single hidden count: secondary suppression within each group.
    four = (df["Need categories"] >= 4).to_numpy()
    split = pd.DataFrame({"lt4": df["Children"].where(~four, 0), "ge4": df["Children"].where(four, 0)})
    s = suppress(split, ["lt4", "ge4"], col_totals=True)
    hidden = (s.mask["lt4"] | s.mask["ge4"]).to_numpy()
    mark = np.where(four, s.display["ge4"].astype(str), s.display["lt4"].astype(str))
    for col in ("Children", "% of children"):
        out.display.loc[hidden, col] = mark[hidden]
        out.numeric.loc[hidden, col] = np.nan
        out.mask.loc[hidden, col] = True
    return out


def _round_measure(values: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Round a co-occurrence matrix as it is read: counts whole, % to 1 dp, ratios to 2 dp."""
    return values.round({"count": 0, "row_pct": 1}.get(measure, 2))


def cooccurrence_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: Level = "categories",
                       measure: str = "count") -> Suppressed:
    """Needs x needs matrix in one measure; any cell resting on 1-4 children shows as '<5'.

    Every measure lets the joint count be worked back from the needs' own counts
    (row % x row count, lift x expected, phi with the margins), so the rule is the
    same for all: hide a cell when the children with both needs, or with either
    need alone, number 1-4.
    """
    X = matrix(db, sel, level)
    counts = cooccur.cooccurrence(X, "count").to_numpy()
    values = _round_measure(cooccur.cooccurrence(X, measure), measure)
    n = len(X)
    if may_see(sel, viewer):
        hide = np.zeros(counts.shape, dtype=bool)
    else:
        small = (counts >= 1) & (counts < THRESHOLD)
        margin = np.diag(counts)
        small_margin = (margin >= 1) & (margin < THRESHOLD)
        hide = small | small_margin[:, None]
        hide |= small_margin[None, :]
        if 1 <= n < THRESHOLD:
            hide[:] = True
    display = values.astype(object).mask(hide, PRIMARY)
    numeric = values.mask(hide)
    return Suppressed(display, numeric, pd.DataFrame(hide, index=values.index, columns=values.columns))


def matrix_csv(table: Suppressed) -> pd.DataFrame:
    """A co-occurrence matrix as a CSV-ready frame: readable labels as the first column and the header."""
    df = table.display.copy()
    df.columns = _labels(df.columns)
    df.insert(0, "Need", _labels(table.display.index))
    return df.reset_index(drop=True)


def pair_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: Level = "categories",
               alpha: float = 0.05) -> Suppressed:
    """Every pair of needs with lift, phi and its Fisher test after Benjamini-Hochberg correction."""
    X = matrix(db, sel, level)
    t = cooccur.pair_tests(X, alpha=alpha)
    df = pd.DataFrame({
        "a": t["a"], "b": t["b"],
        "Need": _labels(t["a"]), "With": _labels(t["b"]),
        "Children with both": t["n11"].astype(int),
        "Children with the first": (t["n11"] + t["n10"]).astype(int),
        "Children with the second": (t["n11"] + t["n01"]).astype(int),
        "Lift": t["lift"].round(2),
        "Phi": t["phi"].round(3),
        "q-value": t["q_value"],
        "Significant": t["significant"].map({True: "yes", False: "no"}),
    })
    out = suppress_view(df, ["Children with both", "Children with the first", "Children with the second"], sel, viewer,
                    len(X), rates={"Lift": "Children with both", "Phi": "Children with both"}, db=db)
    if not may_see(sel, viewer):
        # Lift and phi also rest on each need's own count; the test result is kept only where the pair is shown.
        for side in ("Children with the first", "Children with the second"):
            small = df[side].between(1, THRESHOLD - 1)
            for col in ("Lift", "Phi"):
                out.display.loc[small, col] = PRIMARY
                out.numeric.loc[small, col] = np.nan
                out.mask.loc[small, col] = True
        hidden = out.mask["Lift"]
        out.display.loc[hidden, ["q-value", "Significant"]] = ""
        out.numeric.loc[hidden, "q-value"] = np.nan
    # Written out here: the grid would otherwise round every number to one decimal place.
    for col, fmt in (("Lift", "{:.2f}"), ("Phi", "{:.3f}"), ("q-value", None)):
        shown = ~out.mask[col] & pd.to_numeric(df[col], errors="coerce").notna()
        if col == "q-value":
            shown &= out.display["q-value"].ne("")
        out.display.loc[shown, col] = [(_fmt_q(v) if fmt is None else fmt.format(v)) for v in df.loc[shown, col]]
    return out


def _fmt_q(q: float) -> str:
    """A q-value as people read it: '<0.001' rather than a long decimal."""
    return "<0.001" if q < 0.001 else f"{q:.3f}"


def significant_pairs(table: Suppressed) -> pd.DataFrame:
    """The a, b, q_value, significant columns the heatmap uses to star pairs (hidden pairs unstarred)."""
    d = table.display
    return pd.DataFrame({
        "a": d["a"], "b": d["b"],
        "q_value": pd.to_numeric(table.numeric["q-value"], errors="coerce"),
        "significant": d["Significant"].eq("yes"),
    })


def combinations_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: Level = "categories",
                       top: int = 20) -> Suppressed:
    """The most common exact combinations of needs (UpSet rows), children per combination suppressed."""
    X = matrix(db, sel, level)
    combos = cooccur.combinations(X, top=top)
    df = pd.DataFrame({
        "combination": combos["combination"],
        "Combination": combos["label"],
        "Needs": combos["n_needs"].astype(int),
        "Children": combos["children"].astype(int),
        "% of children": combos["pct"].round(1),
    })
    # Only the top combinations are shown, so their sum does not reveal a hidden one.
    return suppress_view(df, ["Children"], sel, viewer, len(X), rates={"% of children": "Children"}, db=db)


def compare_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: Level = "categories") -> Suppressed:
    """One LA's prevalence beside the region's (same age band, sex and placement type), and the gap."""
    if sel.filters.la is None:
        raise ValueError("choose an LA to compare with the region")
    la = prevalence_table(db, sel, viewer, level)
    reg = prevalence_table(db, sel.region(), viewer, level)
    name = region.la_name(sel.filters.la)
    la_pct = pd.to_numeric(la.numeric["% of children"], errors="coerce")
    reg_pct = pd.to_numeric(reg.numeric["% of children"], errors="coerce")
    display = pd.DataFrame({
        "need": la.display["need"], "Need": la.display["Need"],
        f"{name}: children": la.display["Children"], f"{name}: %": la.display["% of children"],
        "Region: children": reg.display["Children"], "Region: %": reg.display["% of children"],
        "Difference (% points)": (la_pct - reg_pct).round(1).astype(object),
    })
    gap_hidden = la_pct.isna() | reg_pct.isna()
    display.loc[gap_hidden, "Difference (% points)"] = ""
    numeric = pd.DataFrame({
        "need": la.numeric["need"], "Need": la.numeric["Need"],
        f"{name}: children": la.numeric["Children"], f"{name}: %": la_pct,
        "Region: children": reg.numeric["Children"], "Region: %": reg_pct,
        "Difference (% points)": (la_pct - reg_pct).round(1),
    })
    mask = pd.DataFrame({
        "need": False, "Need": False,
        f"{name}: children": la.mask["Children"], f"{name}: %": la.mask["% of children"],
        "Region: children": reg.mask["Children"], "Region: %": reg.mask["% of children"],
        "Difference (% points)": gap_hidden & (la.mask["% of children"] | reg.mask["% of children"]),
    })
    return Suppressed(display, numeric, mask)


def for_figure(table: Suppressed, count: str = "Children", pct: str = "% of children") -> pd.DataFrame:
    """need, n, pct as the needs figures expect them (suppression marks kept as text)."""
    d = table.display
    return pd.DataFrame({"need": d["need"].to_numpy(), "n": d[count].to_numpy(), "pct": d[pct].to_numpy()})


def combinations_for_figure(table: Suppressed) -> pd.DataFrame:
    """combination, label, children as the UpSet chart expects them (suppression marks kept as text)."""
    d = table.display
    return pd.DataFrame({"combination": d["combination"].to_numpy(), "label": d["Combination"].to_numpy(),
                         "children": d["Children"].to_numpy()})


def is_hidden(db: Database, sel: Selection, viewer: Viewer = PUBLIC) -> bool:
    """Whether this view shows none of its figures to this viewer (see audit.filters.view_hidden)."""
    return not may_see(sel, viewer) and view_hidden(db, sel.filters, viewer, sel.sex, sel.placement)
