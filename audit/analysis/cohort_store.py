"""A round's cohorts in the database: fit them, store each child's cohort and the cohort names,
and summarise each cohort (suppressed) for the cohorts page, maps, matching and `audit cohorts`.

The clustering itself is ``audit.analysis.cohorts``. Cohorts are fitted on the 22 need
codes of every child in the round (the whole region), so a cohort means the
same thing in every LA; the summaries then respect the page's filters.
Fits are memoised in this process by the content of the needs data, not the
database file's version, so storing cohorts or renaming one (which replaces
the file) never triggers a refit.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from audit.analysis import cohorts
from audit.analysis import cooccur
from audit.geography import region
from audit.db import Database
from audit.filters import AGE_BANDS, Filters
from audit.analysis.needs_view import SEX_LABELS, Selection, children, matrix, may_see, suppress_view
from audit.suppress import PRIMARY, PUBLIC, THRESHOLD, Suppressed, Viewer, suppress

Progress = Callable[[float, str], None]
METHODS = {"lca": "Latent class analysis", "kmodes": "k-modes"}
K_RANGE = range(2, 9)
SEED = 0
N_BOOT = 20
NEEDS_LEVEL = "codes"  # what cohorts are fitted on: the 22 binary need codes


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that show none."""


# -- fitting (memoised by data content) ------------------------------------------
_MEMO: OrderedDict = OrderedDict()
_MEMO_SIZE = 48
_LOCK = threading.Lock()


def round_matrix(db: Database, round_id: int) -> pd.DataFrame:
    """Every child of the round x 22 need codes, indexed by (la_code, child_id)."""
    return matrix(db, Selection(Filters(round_id=round_id)), NEEDS_LEVEL)


def fingerprint(X: pd.DataFrame) -> str:
    """A digest of which child has which need: equal data, equal fits, whatever the file version."""
    h = hashlib.sha1()
    h.update("|".join(f"{a}/{b}" for a, b in X.index).encode())
    h.update(",".join(X.columns).encode())
    h.update(np.packbits(X.to_numpy(dtype=bool)).tobytes())
    return h.hexdigest()


@dataclass
class _Flight:
    """A fit under way: callers asking for the same fit wait for it and are shown its progress."""

    done: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    text: str = "Starting"


_FLIGHTS: dict[tuple, _Flight] = {}
WAIT_POLL_S = 0.5


def _memo(key: tuple, compute: Callable[[Progress], object], progress: Progress | None = None):
    """Return a memoised result or compute and keep it (a few dozen recent results).

    One computation per key at a time: six visitors opening Cohorts together share one fit,
    each shown its progress, instead of six fits fighting for the same CPUs. A caller whose
    fit stopped (a visitor left mid-run) leaves the next waiter to start it again.
    """
    progress = progress or _noop
    while True:
        with _LOCK:
            if key in _MEMO:
                _MEMO.move_to_end(key)
                return _MEMO[key]
            flight = _FLIGHTS.get(key)
            if flight is None:
                flight = _FLIGHTS[key] = _Flight()
                break
        while not flight.done.wait(WAIT_POLL_S):
            progress(flight.fraction, f"{flight.text} (a fit another visitor started)")

    def relay(fraction: float, text: str) -> None:
        flight.fraction, flight.text = fraction, text
        progress(fraction, text)

    try:
        value = compute(relay)
        with _LOCK:
            _MEMO[key] = value
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
        return value
    finally:
        with _LOCK:
            _FLIGHTS.pop(key, None)
        flight.done.set()


def is_fitted(db: Database, round_id: int, method: str = "lca", k: int | None = None) -> bool:
    """Whether this fit is already in memory (the page shows progress only when it is not)."""
    fp = fingerprint(round_matrix(db, round_id))
    return ("search", fp) in _MEMO and (method == "lca" or ("kmodes", fp, k) in _MEMO)


def search(db: Database, round_id: int, progress: Progress | None = None) -> cohorts.LcaSearch:
    """LCA for k = 2-8 on the round, so the BIC curve and any k the user picks are at hand."""
    X = round_matrix(db, round_id)
    return _memo(("search", fingerprint(X)), lambda p: cohorts.lca_search(X, K_RANGE, seed=SEED, progress=p), progress)


def bic_table(db: Database, round_id: int) -> pd.DataFrame:
    """BIC, AIC and entropy for each k, and which k BIC chooses."""
    s = search(db, round_id)
    t = s.table[["k", "bic", "aic", "loglik", "entropy", "converged"]].copy()
    t["chosen"] = t["k"] == s.k
    return t


def chosen_k(db: Database, round_id: int) -> int:
    """The number of cohorts with the lowest BIC (k-modes borrows it: it has no BIC of its own)."""
    return search(db, round_id).k


def fit(db: Database, round_id: int, method: str = "lca", k: int | None = None,
        progress: Progress | None = None) -> cohorts.CohortFit:
    """The fit for a method and k (None: the k BIC chooses), from memory when already fitted."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    s = search(db, round_id, progress)
    k = s.k if k is None else int(k)
    if method == "lca":
        if k in s.fits:
            return s.fits[k]
        X = round_matrix(db, round_id)
        return _memo(("lca", fingerprint(X), k), lambda p: cohorts.fit_lca(X, k, seed=SEED), progress)
    X = round_matrix(db, round_id)
    return _memo(("kmodes", fingerprint(X), k), lambda p: cohorts.fit_kmodes(X, k, seed=SEED), progress)


def _names_at(X: pd.DataFrame, labels) -> dict[int, str]:
    """Names from the needs most over-represented in each cohort, at the level of X's columns."""
    prof = cohorts.profiles(X, labels)
    return {int(c): n for c, n in cohorts.name_cohorts(prof, cooccur.prevalence(X)).items()}


def auto_names(X: pd.DataFrame, labels) -> dict[int, str]:
    """Each cohort named from its most over-represented need categories ("Exploitation and going missing").

    Category names read best on a shared screen; where two cohorts would share one,
    both are named from their need codes instead, which tell them apart.
    """
    by_code = _names_at(X, labels)
    by_cat = _names_at(cooccur.categories_from_codes(X), labels)
    def terms(name: str) -> frozenset:
        # "Self-harm and mental health" and "Mental health and self-harm (2)" are the same name.
        if name.endswith(")") and name.rsplit(" (", 1)[-1][:-1].isdigit():
            name = name.rsplit(" (", 1)[0]
        return frozenset(t.strip().lower() for t in name.replace(" and ", ", ").split(","))

    clash = pd.Series({c: terms(n) for c, n in by_cat.items()}).duplicated(keep=False)
    names = {c: (by_code[c] if clash[c] else by_cat[c]) for c in by_cat}
    seen: dict[str, int] = {}
    for c in sorted(names):  # a code-level name can still equal another cohort's category name
        seen[names[c]] = seen.get(names[c], 0) + 1
        if seen[names[c]] > 1:
            names[c] = f"{names[c]} ({seen[names[c]]})"
    return names


# -- storage ------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredFit:
    """What is stored for a round: how its cohorts were fitted and what they are called."""

    round_id: int
    method: str
    k: int
    fitted_at: object
    names: dict
    edited: dict

    def matches(self, method: str, k: int) -> bool:
        """Whether the stored cohorts are this method and k."""
        return self.method == method and self.k == int(k)


def stored(db: Database, round_id: int) -> StoredFit | None:
    """The round's stored cohort fit and names, or None when cohorts have not been fitted."""
    f = db.q("cohort_fit", round_id=round_id)
    if f.empty:
        return None
    n = db.q("cohort_names", round_id=round_id)
    return StoredFit(round_id, str(f["method"].iat[0]), int(f["k"].iat[0]), f["fitted_at"].iat[0],
                     {int(c): str(x) for c, x in zip(n["cohort"], n["name"])},
                     {int(c): bool(e) for c, e in zip(n["cohort"], n["edited"])})


def store(db: Database, round_id: int, fitted: cohorts.CohortFit) -> StoredFit:
    """Write each child's cohort, the fit and its names; edited names survive when k is unchanged."""
    X = round_matrix(db, round_id)
    labels = fitted.labels.reindex(X.index)
    names = auto_names(X, labels.to_numpy())
    rows = pd.DataFrame({"round_id": round_id, "la_code": X.index.get_level_values(0),
                         "child_id": X.index.get_level_values(1), "cohort": labels.to_numpy(dtype=int)})
    with db.write() as con:
        before = con.execute("SELECT k FROM cohort_fits WHERE round_id = ?", [round_id]).fetchone()
        kept = {}
        if before is not None and int(before[0]) == fitted.k:
            kept = dict(con.execute("SELECT cohort, name FROM cohort_names WHERE round_id = ? AND edited",
                                    [round_id]).fetchall())
        con.execute("DELETE FROM child_cohorts WHERE round_id = ?", [round_id])
        con.register("_cohorts", rows)
        con.execute("INSERT INTO child_cohorts (round_id, la_code, child_id, cohort) "
                    "SELECT round_id, la_code, child_id, cohort FROM _cohorts")
        con.unregister("_cohorts")
        con.execute("DELETE FROM cohort_fits WHERE round_id = ?", [round_id])
        con.execute("INSERT INTO cohort_fits (round_id, method, k) VALUES (?, ?, ?)", [round_id, fitted.method, fitted.k])
        con.execute("DELETE FROM cohort_names WHERE round_id = ?", [round_id])
        for c in range(1, fitted.k + 1):
            con.execute("INSERT INTO cohort_names (round_id, cohort, name, edited) VALUES (?, ?, ?, ?)",
                        [round_id, c, kept.get(c, names.get(c, f"Cohort {c}")), c in kept])
    return stored(db, round_id)


def fit_and_store(db: Database, round_id: int, method: str = "lca", k: int | None = None,
                  progress: Progress | None = None) -> StoredFit:
    """Fit the round's cohorts (k None: chosen by BIC) and store them for every other page to use."""
    progress = progress or _noop
    fitted = fit(db, round_id, method, k, progress=lambda f, t: progress(0.9 * f, t))
    progress(0.92, "Storing each child's cohort")
    out = store(db, round_id, fitted)
    progress(1.0, "Cohorts stored")
    return out


def ensure(db: Database, round_id: int, progress: Progress | None = None) -> StoredFit:
    """The stored cohorts, fitting and storing them first if this round has none yet."""
    return stored(db, round_id) or fit_and_store(db, round_id, progress=progress)


def rename(db: Database, round_id: int, names: Mapping[int, str]) -> StoredFit:
    """Save people's names for cohorts; a blank name gives the cohort back its automatic name."""
    current = stored(db, round_id)
    if current is None:
        raise LookupError("no cohorts are stored for this round yet")
    auto = auto_names(round_matrix(db, round_id), assignment(db, round_id, current.method, current.k).labels.to_numpy())
    changes = []
    for c, name in names.items():
        c = int(c)
        if c not in current.names:
            raise KeyError(f"cohort {c} does not exist (this round has {current.k})")
        text = " ".join(str(name or "").split())[:80]
        if not text:
            changes.append((auto.get(c, f"Cohort {c}"), False, c))
        elif text != current.names[c]:
            changes.append((text, True, c))
    if changes:
        with db.write() as con:
            for text, edited, c in changes:
                con.execute("UPDATE cohort_names SET name = ?, edited = ? WHERE round_id = ? AND cohort = ?",
                            [text, edited, round_id, c])
    return stored(db, round_id)


# -- what the page shows -----------------------------------------------------------
@dataclass
class Assignment:
    """Each child's cohort for one method and k, with names: the stored cohorts, or a preview."""

    method: str
    k: int
    labels: pd.Series
    names: dict
    is_stored: bool


def assignment(db: Database, round_id: int, method: str = "lca", k: int | None = None) -> Assignment:
    """Stored cohorts when they are this method and k; otherwise the fit, named automatically (a preview)."""
    k = chosen_k(db, round_id) if k is None else int(k)
    X = round_matrix(db, round_id)
    st = stored(db, round_id)
    if st is not None and st.matches(method, k):
        lab = db.q("cohort_labels", round_id=round_id)
        labels = pd.Series(lab["cohort"].to_numpy(), index=pd.MultiIndex.from_frame(lab[["la_code", "child_id"]]))
        labels = labels.reindex(X.index)
        if labels.notna().all():
            return Assignment(method, k, labels.astype(int).rename("cohort"), dict(st.names), True)
    fitted = fit(db, round_id, method, k)
    labels = fitted.labels.reindex(X.index).astype(int).rename("cohort")
    return Assignment(method, k, labels, auto_names(X, labels.to_numpy()), False)


def _cohort_label(c: int, names: Mapping) -> str:
    """'2. Exploitation and going missing'."""
    return f"{c}. {names.get(c, f'Cohort {c}')}"


def profile_table(db: Database, round_id: int, method: str = "lca", k: int | None = None,
                  level: str = "categories") -> Suppressed:
    """Share (0-1) of each cohort's children with each need, over the whole round; cells on 1-4 children hidden."""
    a = assignment(db, round_id, method, k)
    X = matrix(db, Selection(Filters(round_id=round_id)), level)
    prof = cohorts.profiles(X, a.labels.to_numpy()).reindex(range(1, a.k + 1))
    counts = cohorts.as_matrix(X).T @ np.eye(a.k, dtype=np.int64)[a.labels.to_numpy() - 1]
    counts = pd.DataFrame(counts.T, index=prof.index, columns=prof.columns)
    hide = ((counts >= 1) & (counts < THRESHOLD)).to_numpy().copy()
    sizes = np.bincount(a.labels.to_numpy(), minlength=a.k + 1)[1:]
    hide |= ((sizes >= 1) & (sizes < THRESHOLD))[:, None]
    display = prof.round(3).astype(object).mask(hide, PRIMARY)
    return Suppressed(display, prof.mask(hide), pd.DataFrame(hide, index=prof.index, columns=prof.columns))


def cohort_sizes(db: Database, round_id: int, method: str = "lca", k: int | None = None) -> dict[int, str]:
    """Children in each cohort over the whole round, as shown ('<5' for 1-4)."""
    a = assignment(db, round_id, method, k)
    sizes = np.bincount(a.labels.to_numpy(), minlength=a.k + 1)[1:]
    return {c: (PRIMARY if 1 <= n < THRESHOLD else f"{n:,}") for c, n in zip(range(1, a.k + 1), sizes)}


def profile_csv(table: Suppressed, names: Mapping, sizes: Mapping) -> pd.DataFrame:
    """The profile heatmap's data as a CSV: one row per cohort, % with each need."""
    pct = table.display.apply(lambda col: col.map(lambda v: v if isinstance(v, str) else round(float(v) * 100, 1)))
    pct.columns = [cooccur.label_of(c) for c in pct.columns]
    pct.insert(0, "Children", [sizes.get(c, "") for c in pct.index])
    pct.insert(0, "Cohort", [names.get(c, f"Cohort {c}") for c in pct.index])
    pct.insert(0, "Number", list(pct.index))
    return pct.reset_index(drop=True)


def nuffield_table(db: Database, round_id: int, method: str = "lca", k: int | None = None) -> pd.DataFrame:
    """Which of Nuffield FJO's three groups each cohort most resembles, and how clearly."""
    a = assignment(db, round_id, method, k)
    X = matrix(db, Selection(Filters(round_id=round_id)), "categories")
    prof = cohorts.profiles(X, a.labels.to_numpy()).reindex(range(1, a.k + 1))
    cmp = cohorts.compare_to_nuffield(prof, cooccur.prevalence(X), a.names)
    out = pd.DataFrame({
        "Cohort": [_cohort_label(int(c), a.names) for c in cmp["cohort"]],
        "Nearest Nuffield FJO group": cmp["nuffield_group"].where(cmp["clear_match"], "None clearly (" + cmp["nuffield_group"] + " closest)"),
        "Similarity": cmp["similarity"].round(2),
    })
    for key, spec in cohorts.NUFFIELD_GROUPS.items():
        out[f"Similarity to {spec['label'].lower()}"] = cmp[f"sim_{key}"].round(2)
    return out


def _view_labels(db: Database, sel: Selection, method: str, k: int | None) -> tuple[pd.DataFrame, Assignment]:
    """The view's children with their cohort."""
    a = assignment(db, sel.filters.round_id, method, k)
    kids = children(db, sel).copy()
    kids["cohort"] = a.labels.reindex(kids.index).to_numpy()
    return kids, a


def summary_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, method: str = "lca",
                  k: int | None = None) -> Suppressed:
    """Per cohort in this view: children, share, % outside own LA, % over 20 miles, average weekly cost, nearest Nuffield group."""
    kids, a = _view_labels(db, sel, method, k)
    nuff = nuffield_table(db, sel.filters.round_id, method, a.k)["Nearest Nuffield FJO group"]
    nuff.index = range(1, a.k + 1)
    g = kids.groupby("cohort")
    idx = pd.Index(range(1, a.k + 1), name="cohort")
    n = g.size().reindex(idx, fill_value=0)
    located = g["located"].sum().reindex(idx, fill_value=0)
    outside = g["outside_own_la"].sum().reindex(idx, fill_value=0)
    has_dist = g["has_distance"].sum().reindex(idx, fill_value=0)
    far = g["over_20_miles"].sum().reindex(idx, fill_value=0)
    cost = g["weekly_cost"].mean().reindex(idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = pd.DataFrame({
            "Cohort": [_cohort_label(c, a.names) for c in idx],
            "Children": n.to_numpy(dtype=int),
            "% of children": (n / max(len(kids), 1) * 100).round(1).to_numpy(),
            "% outside own LA": np.where(located > 0, outside / located.where(located > 0, 1) * 100, np.nan).round(1),
            "% over 20 miles": np.where(has_dist > 0, far / has_dist.where(has_dist > 0, 1) * 100, np.nan).round(1),
            "Weekly cost (£)": cost.round(0).to_numpy(),
            "Nearest Nuffield FJO group": [nuff.get(c, "") for c in idx],
        })
    rates = {c: "Children" for c in ["% of children", "% outside own LA", "% over 20 miles", "Weekly cost (£)"]}
    # The view's total is shown on the page, so one hidden cohort size could be worked out: col_totals.
    shares = {"% of children": pd.Series(len(kids), index=df.index), "% outside own LA": located.to_numpy(),
              "% over 20 miles": has_dist.to_numpy()}
    return suppress_view(df, ["Children"], sel, viewer, len(kids), rates=rates, col_totals=True, shares=shares)


BREAKDOWNS = {"la": "LA", "age_band": "Age band", "sex": "Sex"}


def breakdown_table(db: Database, sel: Selection, viewer: Viewer = PUBLIC, method: str = "lca",
                    k: int | None = None, by: str = "la", short: bool = False) -> Suppressed:
    """Children per cohort by LA, age band or sex in this view, with row and column totals protected.

    short heads the columns "Cohort 1", "Cohort 2"... so the table fits a shared screen.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {list(BREAKDOWNS)}")
    kids, a = _view_labels(db, sel, method, k)
    if by == "la":
        key = kids.index.get_level_values("la_code").map(region.la_name)
        order = sorted(region.REGION_LAS.values()) if sel.filters.la is None else [region.la_name(sel.filters.la)]
    elif by == "age_band":
        key = kids["age_band"]
        order = [b for b in AGE_BANDS if sel.filters.age_band in (None, b)]
    else:
        key = kids["sex"].map(lambda s: SEX_LABELS.get(s, s or "Not recorded"))
        order = [SEX_LABELS[s] for s in ("F", "M", "X", "U")]
        order += sorted(set(key) - set(order))
    # One row per LA (or band), one column per cohort: a long list reads down a shared screen.
    cohort_cols = [f"Cohort {c}" if short else _cohort_label(c, a.names) for c in range(1, a.k + 1)]
    tab = pd.crosstab(np.asarray(key), kids["cohort"].to_numpy()).reindex(
        index=order, columns=range(1, a.k + 1), fill_value=0)
    df = pd.DataFrame(tab.to_numpy(), columns=cohort_cols)
    df.insert(0, BREAKDOWNS[by], order)
    df["All cohorts"] = tab.sum(axis=1).to_numpy()
    if may_see(sel, viewer):
        return suppress_view(df, cohort_cols + ["All cohorts"], sel, viewer, len(kids))
    # Row totals (children per LA or band) and column totals (cohort sizes) are both shown elsewhere.
    out = suppress(df, cohort_cols, row_totals=True, col_totals=True)
    total = suppress(df[["All cohorts"]], ["All cohorts"], col_totals=True)
    for part in ("display", "numeric", "mask"):
        getattr(out, part)["All cohorts"] = getattr(total, part)["All cohorts"]
    return out


# -- stability --------------------------------------------------------------------
def stability(db: Database, round_id: int, method: str = "lca", k: int | None = None,
              n_boot: int = N_BOOT, progress: Progress | None = None) -> dict:
    """Bootstrap the fit and measure how often children stay together (mean adjusted Rand index)."""
    k = chosen_k(db, round_id) if k is None else int(k)
    X = round_matrix(db, round_id)
    return _memo(("stability", fingerprint(X), method, k, n_boot),
                 lambda p: cohorts.stability(X, k, n_boot=n_boot, seed=SEED, method=method, progress=p), progress)


def is_stability_known(db: Database, round_id: int, method: str, k: int, n_boot: int = N_BOOT) -> bool:
    """Whether the bootstrap has already run for this fit (else the page shows its progress)."""
    return ("stability", fingerprint(round_matrix(db, round_id)), method, int(k), n_boot) in _MEMO


def stability_words(result: Mapping) -> tuple[str, str]:
    """A verdict and one plain sentence on what the mean adjusted Rand index means for using the cohorts."""
    ari = result.get("mean_ari", np.nan)
    if ari is None or np.isnan(ari):
        return "Not known", "The bootstrap could not be run on this data."
    n = len(result.get("per_boot", []))
    head = (f"We refitted the cohorts on {n} resampled versions of the audit. On average the new cohorts "
            f"agreed with these ones with an adjusted Rand index of {ari:.2f} (1 = the same children grouped "
            f"together every time; 0 = no better than chance).")
    if ari >= 0.85:
        return "Stable", head + " The split is reproducible: these cohorts can be used to plan provision."
    if ari >= 0.65:
        return "Fairly stable", (head + " The broad groups are real, but children near the edges of a cohort "
                                 "move between cohorts: plan around the core of each cohort, not its exact size.")
    return "Unstable", (head + " A small change in the data regroups many children: do not design provision "
                        "around these exact cohorts; try fewer cohorts or more data.")


# -- `audit cohorts` ------------------------------------------------------------
def children_csv(db: Database, round_id: int) -> pd.DataFrame:
    """child_id, la, cohort, cohort_name for every child of the round (data-contract.md section 4)."""
    return db.q("cohort_children", round_id=round_id)
