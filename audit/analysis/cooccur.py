"""Which needs travel together: prevalence, needs per child, co-occurrence and combinations.

Input convention: a DataFrame with one row per child and one boolean column per
need, either the 22 need codes of ``needs_taxonomy.csv`` (in taxonomy order) or
the 11 categories. Functions return raw numbers; small-number suppression is
applied afterwards by ``audit.suppress``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Mapping

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact

from audit import taxonomy

# Nuffield Family Justice Observatory, "Children deprived of their liberty: an
# analysis of the first two months of applications to the national deprivation
# of liberty court" (Roe & Ryan, Feb 2023), 208 children, Jul-Aug 2022.
# Percentage of children with each category; only categories with a published
# figure are listed (exploitation was published combined, so it is left out).
NUFFIELD_PREVALENCE: dict[str, float] = {
    "risk_to_others": 69.2,
    "mental_health": 59.1,
    "placement_breakdown": 55.3,
    "self_harm": 52.4,
    "going_missing": 46.6,
    "disability": 33.7,
}
NUFFIELD_SOURCE = (
    "Nuffield FJO, Children deprived of their liberty (Roe & Ryan, Feb 2023), "
    "208 children, Jul-Aug 2022"
)
# Same study: mean number of categories per child and shares with several.
NUFFIELD_SUMMARY: dict[str, float] = {
    "mean": 4.2,
    "pct_more_than_one": 95.2,
    "pct_4plus": 65.7,
}

Measure = Literal["count", "row_pct", "lift", "phi"]
MEASURES: tuple[str, ...] = ("count", "row_pct", "lift", "phi")


def _taxonomy_cached() -> pd.DataFrame:
    """The shared taxonomy table (read once by audit.taxonomy from the packaged copy)."""
    return taxonomy.load()


def load_taxonomy() -> pd.DataFrame:
    """Return the 22 need codes with their categories, from the copy shipped in the package."""
    return _taxonomy_cached().drop(columns="ord", errors="ignore").copy()


def code_order() -> list[str]:
    """The 22 need codes in taxonomy order, the column order every X uses."""
    return taxonomy.codes()


def category_order() -> list[str]:
    """The 11 categories in taxonomy order (first appearance)."""
    return taxonomy.categories()


@lru_cache(maxsize=1)
def _labels_cached() -> dict[str, str]:
    """Plain-English label for each code and category, for charts and cohort names."""
    tax = _taxonomy_cached()
    labels = dict(zip(tax["code"], tax["label"]))
    labels.update(dict(zip(tax["category"], tax["category_label"])))
    return labels


def need_labels() -> dict[str, str]:
    """Map need codes and category ids to the labels people read."""
    return dict(_labels_cached())


def label_of(need: str, labels: Mapping[str, str] | None = None) -> str:
    """One need's readable label, falling back to the column name for unknown needs."""
    return (labels or _labels_cached()).get(need, str(need))


def categories_from_codes(
    X_codes: pd.DataFrame, taxonomy_df: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Collapse codes to categories: a category is present when any of its codes is present."""
    tax = load_taxonomy() if taxonomy_df is None else taxonomy_df
    codes = _as_bool(X_codes)
    out = {}
    for category, group in tax.groupby("category", sort=False):
        cols = [c for c in group["code"] if c in codes.columns]
        if not cols:
            raise KeyError(f"no columns for category {category!r} in the need codes given")
        out[category] = codes[cols].any(axis=1)
    return pd.DataFrame(out, index=X_codes.index)


def _as_bool(X: pd.DataFrame) -> pd.DataFrame:
    """Treat blanks as absent, as the data contract says, and make every column boolean."""
    if all(dt == bool for dt in X.dtypes):
        return X
    return X.fillna(0).astype(bool)


def as_matrix(X: pd.DataFrame) -> np.ndarray:
    """Children x needs as 0/1 int64, the form matrix products need."""
    return _as_bool(X).to_numpy(dtype=np.int64)


def prevalence(X: pd.DataFrame) -> pd.DataFrame:
    """How many children have each need, and what share of all children that is."""
    counts = as_matrix(X).sum(axis=0)
    n = len(X)
    pct = counts / n * 100 if n else np.full(len(counts), np.nan)
    return pd.DataFrame({"need": list(X.columns), "n": counts, "pct": pct})


def needs_per_child(Xcat: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the number of needs per child, every count from 0 to all needs."""
    per_child = as_matrix(Xcat).sum(axis=1)
    children = np.bincount(per_child, minlength=Xcat.shape[1] + 1)
    n = len(Xcat)
    pct = children / n * 100 if n else np.full(len(children), np.nan)
    return pd.DataFrame(
        {"n_needs": np.arange(len(children)), "children": children, "pct": pct}
    )


def summary(Xcat: pd.DataFrame) -> dict:
    """Headline figures comparable with Nuffield's: mean needs, % with 4+ and with more than one."""
    per_child = as_matrix(Xcat).sum(axis=1)
    n = len(per_child)
    if n == 0:
        return {"mean": np.nan, "pct_4plus": np.nan, "pct_more_than_one": np.nan,
                "n": 0, "median": np.nan, "max": np.nan}
    return {
        "mean": float(per_child.mean()),
        "pct_4plus": float((per_child >= 4).mean() * 100),
        "pct_more_than_one": float((per_child > 1).mean() * 100),
        "n": int(n),
        "median": float(np.median(per_child)),
        "max": int(per_child.max()),
    }


def _pair_counts(M: np.ndarray) -> tuple[np.ndarray, ...]:
    """The four 2x2 cells for every pair of needs at once, from one matrix product."""
    n = M.shape[0]
    n11 = M.T @ M
    ones = np.diag(n11)
    n10 = ones[:, None] - n11
    n01 = ones[None, :] - n11
    n00 = n - n11 - n10 - n01
    return n11, n10, n01, n00


def _lift(n11: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Observed joint count over the count expected if the two needs were independent."""
    expected = a.astype(float) * b / n if n else np.zeros(np.broadcast(a, b).shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, n11 / np.where(expected > 0, expected, 1), np.nan)


def _phi(n11, n10, n01, n00) -> np.ndarray:
    """Pearson correlation of two binary needs (phi), NaN when a need never or always occurs."""
    n11, n10, n01, n00 = (np.asarray(v, dtype=float) for v in (n11, n10, n01, n00))
    denom = np.sqrt((n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (n11 * n00 - n10 * n01) / np.where(denom > 0, denom, 1), np.nan)


def cooccurrence(X: pd.DataFrame, measure: Measure = "count") -> pd.DataFrame:
    """Needs x needs matrix of how often needs occur together, in one of four measures.

    count: children with both (diagonal: children with the need);
    row_pct: % of children with the row need who also have the column need;
    lift: observed / expected under independence (diagonal NaN);
    phi: correlation of the two binary needs (diagonal 1).
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, not {measure!r}")
    M = as_matrix(X)
    n = M.shape[0]
    n11, n10, n01, n00 = _pair_counts(M)
    ones = np.diag(n11)
    if measure == "count":
        values = n11
    elif measure == "row_pct":
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(ones[:, None] > 0, n11 / np.maximum(ones, 1)[:, None] * 100, np.nan)
    elif measure == "lift":
        values = _lift(n11, ones[:, None], ones[None, :], n)
        np.fill_diagonal(values, np.nan)
    else:
        values = _phi(n11, n10, n01, n00)
        np.fill_diagonal(values, np.where(ones > 0, 1.0, np.nan))
    cols = list(X.columns)
    return pd.DataFrame(values, index=pd.Index(cols, name="need"), columns=cols)


@lru_cache(maxsize=4096)
def _fisher(n11: int, n10: int, n01: int, n00: int) -> tuple[float, float]:
    """Two-sided Fisher exact test on one 2x2 table; cached because filters repeat tables."""
    res = fisher_exact([[n11, n10], [n01, n00]], alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def bh_adjust(p_values) -> np.ndarray:
    """Benjamini-Hochberg q-values, so 'significant' holds for the whole matrix, not one pair."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return q


def pair_tests(X: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Every pair of needs with its 2x2 table, lift, phi, odds ratio and BH-corrected Fisher test."""
    M = as_matrix(X)
    n = M.shape[0]
    n11, n10, n01, n00 = _pair_counts(M)
    ia, ib = np.triu_indices(M.shape[1], k=1)
    cells = [c[ia, ib] for c in (n11, n10, n01, n00)]
    ones = np.diag(n11)
    tests = [_fisher(*map(int, t)) for t in zip(*cells)]
    odds = np.array([t[0] for t in tests], dtype=float)
    p = np.array([t[1] for t in tests], dtype=float)
    q = bh_adjust(p)
    cols = np.asarray(X.columns, dtype=object)
    return pd.DataFrame(
        {
            "a": cols[ia],
            "b": cols[ib],
            "n11": cells[0],
            "n10": cells[1],
            "n01": cells[2],
            "n00": cells[3],
            "lift": _lift(cells[0], ones[ia], ones[ib], n),
            "phi": _phi(*cells),
            "odds_ratio": odds,
            "p_value": p,
            "q_value": q,
            "significant": q < alpha,
        }
    )


def combinations(
    X: pd.DataFrame,
    top: int | None = 20,
    include_empty: bool = True,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The exact combinations of needs children have, most common first (UpSet style)."""
    M = as_matrix(X)
    cols = list(X.columns)
    if len(cols) > 62:
        raise ValueError("combinations supports at most 62 needs")
    # Each child's combination becomes one integer, so counting is a single np.unique.
    weights = np.left_shift(np.int64(1), np.arange(len(cols), dtype=np.int64))
    keys = M @ weights
    uniq, counts = np.unique(keys, return_counts=True)
    if not include_empty:
        keep = uniq != 0
        uniq, counts = uniq[keep], counts[keep]
    # Most children first; ties broken by the key so the order is reproducible.
    order = np.lexsort((uniq, -counts))
    if top is not None:
        order = order[:top]
    n = len(X)
    rows = []
    for key, count in zip(uniq[order], counts[order]):
        combo = tuple(c for i, c in enumerate(cols) if (int(key) >> i) & 1)
        label = " + ".join(label_of(c, labels) for c in combo) if combo else "No recorded needs"
        rows.append((combo, label, len(combo), int(count), count / n * 100))
    return pd.DataFrame(rows, columns=["combination", "label", "n_needs", "children", "pct"])
