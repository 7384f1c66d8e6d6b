"""Small-number suppression for every aggregate the audit shows or exports.

Counts of 1-4 are shown as "<5" (primary suppression). Where a row or column
total is shown, or can be worked out, a line with a single hidden cell would
reveal it, so the next smallest count in that line is hidden too (secondary
suppression, shown as "c"). Rates and means built on fewer than 5 children are
hidden. A viewer allowed to see child-level data for an LA sees that LA's rows
unsuppressed (never in meeting mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit import disclosure

THRESHOLD = 5
PRIMARY = "<5"
SECONDARY = "c"
LEGEND = '"<5": between 1 and 4 children; "c": hidden so that totals cannot reveal a number under 5.'


@dataclass(frozen=True)
class Viewer:
    """Who is looking: which LAs' child-level data they may see, and whether on a shared screen."""

    child_level_las: frozenset[str] = field(default_factory=frozenset)
    meeting_mode: bool = False

    def may_see(self, la_code: str | None) -> bool:
        """True when counts for this LA need no suppression for this viewer."""
        return not self.meeting_mode and la_code is not None and la_code in self.child_level_las


PUBLIC = Viewer()


@dataclass
class Suppressed:
    """A table after suppression: what to display, numbers for charts (NaN when hidden), and the mask."""

    display: pd.DataFrame
    numeric: pd.DataFrame
    mask: pd.DataFrame
    # How the complements were chosen ("rule", "milp", "heuristic (...)"), for the method note and the audit.
    method: str = "rule"

    @property
    def any(self) -> bool:
        """Whether anything was hidden (the page then shows the legend)."""
        return bool(self.mask.to_numpy().any())


def primary_mask(values: pd.DataFrame) -> pd.DataFrame:
    """Cells holding 1-4."""
    v = values.apply(pd.to_numeric, errors="coerce")
    return (v >= 1) & (v < THRESHOLD)


def secondary_mask(values: pd.DataFrame, mask: pd.DataFrame, rows: bool, cols: bool) -> pd.DataFrame:
    """Hide the next smallest count in any row/column that has exactly one hidden cell."""
    v = values.apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    m = mask.to_numpy(bool).copy()
    changed = True
    while changed:
        changed = False
        for axis, enabled in ((1, rows), (0, cols)):
            if not enabled:
                continue
            for i in range(m.shape[0] if axis == 1 else m.shape[1]):
                line_m = m[i, :] if axis == 1 else m[:, i]
                line_v = v[i, :] if axis == 1 else v[:, i]
                if line_m.sum() == 1 and len(line_m) > 1:
                    candidates = np.where(~line_m & (line_v > 0), line_v, np.inf)
                    j = int(np.argmin(candidates))
                    if np.isfinite(candidates[j]):
                        if axis == 1:
                            m[i, j] = True
                        else:
                            m[j, i] = True
                        changed = True
    return pd.DataFrame(m, index=mask.index, columns=mask.columns)


def suppress(df: pd.DataFrame, counts: list[str], *, rates: dict[str, str] | None = None,
             row_totals: bool = False, col_totals: bool = False, la_col: str | None = None,
             viewer: Viewer = PUBLIC, shares: dict[str, "str | pd.Series"] | None = None,
             hide: pd.DataFrame | None = None) -> Suppressed:
    """Suppress count columns (and rates that rest on them) for a viewer.

    rates maps a derived column (percentage, mean, cost) to the count column of
    children it is computed over: it is hidden when that count is under 5.
    shares maps a percentage of children to its base (a column or a Series of
    counts): with the base known, the share gives back the children it counts
    and the rest, so it is hidden ("c") when either is 1-4.
    row_totals / col_totals say whether totals across a row / down a column are
    shown or derivable, which calls for secondary suppression along that line.
    hide: extra count cells to hide as "c" because a linked table (same children) hides them.
    """
    rates = rates or {}
    exempt = pd.Series(False, index=df.index)
    if la_col is not None:
        exempt = df[la_col].map(viewer.may_see).astype(bool)
    counts_df = df[counts]
    prim = primary_mask(counts_df) & ~exempt.to_numpy()[:, None]
    start = prim if hide is None else prim | (hide.reindex(columns=counts, fill_value=False).astype(bool)
                                              & ~exempt.to_numpy()[:, None])
    sec = secondary_mask(counts_df, start, row_totals, col_totals) & ~exempt.to_numpy()[:, None]
    display = df.copy().astype(object)
    numeric = df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    for c in counts:
        display.loc[sec[c], c] = SECONDARY
        display.loc[prim[c], c] = PRIMARY
        numeric.loc[sec[c], c] = np.nan
        mask[c] = sec[c]
    for rate_col, base_col in rates.items():
        base = pd.to_numeric(df[base_col], errors="coerce")
        hide = (base >= 1) & (base < THRESHOLD) & ~exempt
        if base_col in counts:
            hide = hide | sec[base_col]
        display.loc[hide, rate_col] = display.loc[hide, base_col].where(display.loc[hide, base_col].isin([PRIMARY, SECONDARY]), PRIMARY)
        numeric.loc[hide, rate_col] = np.nan
        mask[rate_col] = hide
    for share_col, base in (shares or {}).items():
        b = pd.to_numeric(df[base] if isinstance(base, str) else pd.Series(np.asarray(base), index=df.index),
                          errors="coerce")
        part = (pd.to_numeric(df[share_col], errors="coerce") * b / 100).round()
        hide = (_small_count(part) | _small_count(b - part)) & ~mask[share_col] & ~exempt
        display.loc[hide, share_col] = SECONDARY
        numeric.loc[hide, share_col] = np.nan
        mask[share_col] = mask[share_col] | hide
    return Suppressed(display, numeric, mask)


def _small_count(values: pd.Series) -> pd.Series:
    """Counts of 1-4 (NaN is not small)."""
    return (values >= 1) & (values < THRESHOLD)


def hidden_share(part: int, whole: int, viewer_may_see: bool = False) -> str | None:
    """The mark hiding a headline share, or None when it may be shown.

    "<5" when it rests on fewer than 5 children; "c" when the children it counts,
    or the rest, number 1-4 (the share and the total beside it would give them back).
    """
    if viewer_may_see or whole == 0:
        return None
    if whole < THRESHOLD:
        return PRIMARY
    if 1 <= part < THRESHOLD or 1 <= whole - part < THRESHOLD:
        return SECONDARY
    return None


def suppress_matrix(matrix: pd.DataFrame, viewer: Viewer = PUBLIC, totals: bool = True,
                    la_rows: bool = True) -> Suppressed:
    """Suppress every cell of a cross-tabulation (e.g. LA x LA flows) with totals on both axes, complements by MILP.

    la_rows: the index holds LA codes, so rows the viewer may see stay unsuppressed.
    """
    exempt = [la_rows and viewer.may_see(r) for r in matrix.index]
    fam, t = disclosure.matrix_family(matrix.to_numpy(int), totals, totals, exempt)
    return matrix_result(matrix, fam, t, disclosure.protect(fam))


def matrix_result(matrix: pd.DataFrame, fam: "disclosure.Family", t: dict,
                  prot: "disclosure.Protection") -> Suppressed:
    """The matrix as shown for a chosen pattern: '<5' for primaries, 'c' for complements, NaN in numbers."""
    hidden = prot.pattern.counts[t["cells"]]
    primary = np.vectorize(lambda i: fam.counts[i].primary)(t["cells"]) & hidden
    display = matrix.astype(object).copy()
    display = display.mask(hidden & ~primary, SECONDARY).mask(primary, PRIMARY)
    numeric = matrix.astype(float).mask(hidden)
    return Suppressed(display, numeric, pd.DataFrame(hidden, index=matrix.index, columns=matrix.columns),
                      method=prot.method)


def hidden_count(value: float | int, viewer_may_see: bool = False) -> str:
    """Format one headline count, hiding 1-4."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if not viewer_may_see and 1 <= value < THRESHOLD:
        return PRIMARY
    return f"{int(value):,}"


def partition_counts(parts: dict[str, int], viewer_may_see: bool = False) -> dict[str, str]:
    """Headline counts that add up to a total shown beside them, with primary and secondary suppression.

    With the total on screen, one hidden part could be worked out by subtraction,
    so the next smallest part is hidden too (shown as "c").
    """
    if viewer_may_see:
        return {k: f"{int(v):,}" for k, v in parts.items()}
    s = suppress(pd.DataFrame({"n": list(parts.values())}, index=list(parts)), ["n"], col_totals=True)
    return {k: (v if isinstance(v, str) else f"{int(v):,}") for k, v in s.display["n"].items()}


HIDDEN_TILE = "–"


def headline_tiles(tiles: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Headline tiles never show "<5" or "c" (a tile reads as a number): hidden ones show "–", with a short
    note naming them and why (a mean or share on fewer than 5 children is hidden for the same reason)."""
    out, small, linked = {}, [], []
    for label, value in tiles.items():
        if value in (PRIMARY, SECONDARY):
            out[label] = HIDDEN_TILE
            (small if value == PRIMARY else linked).append(label)
        else:
            out[label] = value
    notes = []
    if small:
        notes.append(f"{', '.join(small)}: hidden, fewer than 5 children.")
    if linked:
        notes.append(f"{', '.join(linked)}: hidden, it would reveal a count of fewer than 5 children.")
    return out, " ".join(notes) or None


def _northwest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A joint table with margins a and b (north-west corner rule): any joint gives the right class sums."""
    a, b = a.astype(int).copy(), b.astype(int).copy()
    out = np.zeros((len(a), len(b)), int)
    i = j = 0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        out[i, j] = x
        a[i] -= x
        b[j] -= x
        if a[i] == 0:
            i += 1
        else:
            j += 1
    return out


def suppress_partitions(df: pd.DataFrame, total: str, partitions: tuple[list[str], list[str]],
                        shares: dict[str, list[str]] | None = None, rates: dict[str, str] | None = None,
                        la_col: str | None = None, viewer: Viewer = PUBLIC) -> Suppressed:
    """Rows whose total is split two ways (e.g. children by reach and by outcome), with column totals, and
    shares of the total (e.g. % placed far = (far + unplaced) / children) shown at 0 decimals: protected as one
    family by the MILP (audit.disclosure), so no hidden count falls out of a row, a column or a share.

    shares maps a share column to the classes of the second partition it counts.
    """
    first, second = partitions
    exempt = [la_col is not None and viewer.may_see(c) for c in (df[la_col] if la_col else [None] * len(df))]
    k1, k2 = len(first), len(second)
    fam = disclosure.Family(n_atoms=len(df) * k1 * k2)
    cells = {}
    values = np.zeros(fam.n_atoms)
    for i in range(len(df)):
        grid = np.arange(k1 * k2).reshape(k1, k2) + i * k1 * k2
        values[grid.ravel()] = _northwest(df[first].iloc[i].to_numpy(), df[second].iloc[i].to_numpy()).ravel()
        # Each row's children are shown elsewhere too (the overview, the cohort page): they stay shown here.
        cells[(i, total)] = fam.add_count((i, total), grid.ravel(), df[total].iat[i], keep=True)
        parts = {**{c: grid[a, :] for a, c in enumerate(first)}, **{c: grid[:, b] for b, c in enumerate(second)}}
        for c, atoms in parts.items():
            cells[(i, c)] = fam.add_count((i, c), atoms, df[c].iat[i])
        for line in (first, second):
            fam.relations.append((cells[(i, total)], [cells[(i, c)] for c in line]))
        for c, classes in (shares or {}).items():
            num = np.concatenate([parts[x] for x in classes])
            k = fam.add_share((i, c), num, grid.ravel(), values, decimals=0)
            fam.shares[k].primary |= exempt[i]  # hidden from the MILP's concern: the viewer sees it anyway
        if exempt[i]:
            for c in [total, *first, *second]:
                fam.counts[cells[(i, c)]].primary = False
                fam.counts[cells[(i, c)]].keep = True
    for c in [total, *first, *second]:
        # The region's totals are headline tiles elsewhere, shown unless 1-4: they stay shown here too.
        col = fam.add_count(("total", c), np.concatenate([fam.counts[cells[(i, c)]].atoms for i in range(len(df))]),
                            df[c].sum(), keep=True)
        fam.relations.append((col, [cells[(i, c)] for i in range(len(df))]))
    prot = disclosure.protect(fam)
    counts = [total, *first, *second]
    hide = pd.DataFrame({c: [bool(prot.pattern.counts[cells[(i, c)]]) for i in range(len(df))] for c in counts},
                        index=df.index)
    s = suppress(df, counts, rates=rates, la_col=la_col, viewer=viewer, hide=hide)
    share_keys = [(i, c) for i in range(len(df)) for c in (shares or {})]
    for (i, c), hidden in zip(share_keys, prot.pattern.shares):
        if hidden and not exempt[i] and not s.mask[c].iat[i]:
            s.display.iloc[i, s.display.columns.get_loc(c)] = SECONDARY
            s.numeric.iloc[i, s.numeric.columns.get_loc(c)] = np.nan
            s.mask.iloc[i, s.mask.columns.get_loc(c)] = True
    s.method = prot.method
    return s
