"""Group children into cohorts on their binary needs, so provision can be designed per cohort.

The main method is latent class analysis (a Bernoulli mixture fitted with
``stepmix``), with the number of cohorts chosen by BIC; k-modes is offered as a
simpler alternative. Children with identical needs are identical to both
methods, so every fit runs on the distinct need patterns weighted by how many
children have them: the result is exactly the fit on all children, at a
fraction of the cost. Cohorts are numbered 1..k from largest to smallest so the
numbering is stable between runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from audit.analysis.cooccur import as_matrix, category_order, label_of, load_taxonomy

Progress = Callable[[float, str], None]

# EM stops when the average log-likelihood per child improves by less than this;
# tighter tolerances cost minutes at national scale without changing assignments.
ABS_TOL = 1e-6
MAX_ITER = 1000
# Random starts per fit: EM finds local optima, the best of several starts is kept.
N_INIT = 3
KMODES_N_INIT = 5


@dataclass
class CohortFit:
    """One fitted clustering: each child's cohort plus the fit statistics needed to judge it."""

    method: str
    k: int
    seed: int
    needs: list[str]
    labels: pd.Series
    item_probs: pd.DataFrame
    sizes: np.ndarray
    loglik: float = np.nan
    n_params: int = 0
    bic: float = np.nan
    aic: float = np.nan
    entropy: float = np.nan
    converged: bool = True
    # The fitted model and the map from its component numbers to cohorts 1..k;
    # kept (rather than a closure) so a fit can be pickled into a cache.
    model: object = field(default=None, repr=False)
    relabel: np.ndarray | None = field(default=None, repr=False)
    # Posterior cohort probabilities per distinct pattern (LCA only) and each child's pattern.
    pattern_proba: np.ndarray | None = field(default=None, repr=False)
    pattern_of_child: np.ndarray | None = field(default=None, repr=False)

    @property
    def proba(self) -> np.ndarray | None:
        """Each child's probability of belonging to each cohort (columns = cohorts 1..k)."""
        if self.pattern_proba is None:
            return None
        return self.pattern_proba[self.pattern_of_child]

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Assign new children (e.g. another LA or round) to this fit's cohorts."""
        U, _, inverse = _patterns(X[self.needs])
        raw = _raw_assign(self.method, self.model, U)
        return pd.Series(self.relabel[raw][inverse], index=X.index, name="cohort")


def _raw_assign(method: str, model, U: np.ndarray) -> np.ndarray:
    """The model's own component number (0-based, unordered) for each pattern."""
    if method == "lca":
        return model.predict_proba(U).argmax(axis=1)
    return np.asarray(model.predict(U.astype(int)))


def _relabel(order: np.ndarray) -> np.ndarray:
    """Map from component number to cohort number, given components largest first."""
    relabel = np.empty(len(order), dtype=int)
    relabel[order] = np.arange(1, len(order) + 1)
    return relabel


def _patterns(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct need patterns, how many children have each, and each child's pattern."""
    M = as_matrix(X)
    if M.shape[1] > 62:
        raise ValueError("at most 62 needs are supported")
    keys = M @ np.left_shift(np.int64(1), np.arange(M.shape[1], dtype=np.int64))
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return M[first].astype(float), counts.astype(float), inverse.ravel()


def _size_order(sizes: np.ndarray) -> np.ndarray:
    """Cohort order largest first (ties by original index), so cohort 1 is always the biggest."""
    return np.lexsort((np.arange(len(sizes)), -np.asarray(sizes)))


def _relative_entropy(post: np.ndarray, w: np.ndarray) -> float:
    """How clearly children fall in one cohort: 1 = certain, 0 = no separation."""
    k = post.shape[1]
    if k < 2:
        return np.nan
    p = np.clip(post, 1e-300, 1.0)
    ent = -(w * (post * np.log(p)).sum(axis=1)).sum()
    return float(1.0 - ent / (w.sum() * np.log(k)))


def _fit_lca_patterns(
    U: np.ndarray, w: np.ndarray, k: int, seed: int, n_init: int
):
    """Fit stepmix's Bernoulli LCA on weighted patterns; returns the model and whether it converged."""
    from stepmix import StepMix  # imported here: stepmix is slow to import and only needed to fit

    model = StepMix(
        n_components=k,
        measurement="bernoulli",
        random_state=seed,
        n_init=n_init,
        abs_tol=ABS_TOL,
        max_iter=MAX_ITER,
        verbose=0,
        progress_bar=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(U, sample_weight=w)
    return model, bool(getattr(model, "converged_", True))


def fit_lca(
    X: pd.DataFrame, k: int, seed: int = 0, n_init: int = N_INIT
) -> CohortFit:
    """Latent class analysis with k cohorts: each cohort is a set of need probabilities."""
    U, w, inverse = _patterns(X)
    model, converged = _fit_lca_patterns(U, w, k, seed, n_init)
    post = model.predict_proba(U)
    # Order by the children each cohort is assigned (what people see), not expected size.
    order = _size_order(np.bincount(post.argmax(axis=1), weights=w, minlength=k))
    relabel = _relabel(order)
    post = post[:, order]
    n = w.sum()
    loglik = float(model.score(U, sample_weight=w) * n)
    n_params = (k - 1) + k * U.shape[1]
    pis = np.asarray(model.get_parameters()["measurement"]["pis"])[order]
    cohorts = np.arange(1, k + 1)
    labels = post.argmax(axis=1) + 1
    return CohortFit(
        method="lca",
        k=k,
        seed=seed,
        needs=list(X.columns),
        labels=pd.Series(labels[inverse], index=X.index, name="cohort"),
        item_probs=pd.DataFrame(pis, index=pd.Index(cohorts, name="cohort"), columns=list(X.columns)),
        sizes=np.bincount(labels[inverse], minlength=k + 1)[1:],
        loglik=loglik,
        n_params=n_params,
        bic=-2 * loglik + n_params * np.log(n),
        aic=-2 * loglik + 2 * n_params,
        entropy=_relative_entropy(post, w),
        converged=converged,
        model=model,
        relabel=relabel,
        pattern_proba=post,
        pattern_of_child=inverse,
    )


@dataclass
class LcaSearch:
    """All LCA fits over a range of k, the BIC table and the k BIC prefers."""

    table: pd.DataFrame
    k: int
    fits: dict[int, CohortFit]

    @property
    def best(self) -> CohortFit:
        """The fit at the BIC-chosen k."""
        return self.fits[self.k]


class TooFewPatterns(ValueError):
    """The round's children have too few different patterns of needs to form cohorts."""


def lca_search(
    X: pd.DataFrame,
    ks: Iterable[int] = range(2, 9),
    seed: int = 0,
    progress: Progress | None = None,
    n_init: int = N_INIT,
) -> LcaSearch:
    """Fit LCA for every k and keep all fits, so a user overriding k costs nothing.

    Only k up to the number of distinct need patterns is fitted: the model is fitted on the patterns,
    and more cohorts than patterns cannot be told apart (stepmix raised a ValueError, which reached
    the Cohorts page as a traceback on a round of two children).
    """
    n_patterns = len(_patterns(X)[1])
    ks = [k for k in ks if k <= n_patterns]
    if not ks:
        raise TooFewPatterns(f"{n_patterns} distinct pattern{'s' if n_patterns != 1 else ''} of needs among "
                             f"{len(X)} children: too few to group into cohorts")
    fits: dict[int, CohortFit] = {}
    # Larger k costs more, roughly in proportion to k, so progress is weighted that way.
    total = float(sum(ks))
    done = 0.0
    for k in ks:
        if progress:
            progress(done / total, f"Fitting {k} cohorts")
        fits[k] = fit_lca(X, k, seed=seed, n_init=n_init)
        done += k
    if progress:
        progress(1.0, "Done")
    table = pd.DataFrame(
        {
            "k": ks,
            "bic": [fits[k].bic for k in ks],
            "aic": [fits[k].aic for k in ks],
            "loglik": [fits[k].loglik for k in ks],
            "entropy": [fits[k].entropy for k in ks],
            "n_params": [fits[k].n_params for k in ks],
            "converged": [fits[k].converged for k in ks],
        }
    )
    best = int(table.loc[table["bic"].idxmin(), "k"])
    return LcaSearch(table=table, k=best, fits=fits)


def choose_k(
    X: pd.DataFrame,
    ks: Iterable[int] = range(2, 9),
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, int]:
    """BIC, AIC, log-likelihood and entropy for each k, and the k with the lowest BIC."""
    search = lca_search(X, ks, seed=seed, progress=progress)
    return search.table, search.k


def _fit_kmodes_patterns(U: np.ndarray, w: np.ndarray, k: int, seed: int, n_init: int):
    """Fit k-modes on weighted patterns (Huang initialisation, best of n_init starts)."""
    from kmodes.kmodes import KModes

    model = KModes(n_clusters=k, init="Huang", n_init=n_init, random_state=seed, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(U.astype(int), sample_weight=w)
    return model


def fit_kmodes(X: pd.DataFrame, k: int, seed: int = 0, n_init: int | None = None) -> CohortFit:
    """k-modes clustering: a simpler alternative to LCA that groups children by matching needs."""
    U, w, inverse = _patterns(X)
    model = _fit_kmodes_patterns(U, w, k, seed, n_init or KMODES_N_INIT)
    raw = _raw_assign("kmodes", model, U)
    relabel = _relabel(_size_order(np.bincount(raw, weights=w, minlength=k)))
    labels = relabel[raw]
    needs = list(X.columns)
    child_labels = pd.Series(labels[inverse], index=X.index, name="cohort")

    return CohortFit(
        method="kmodes",
        k=k,
        seed=seed,
        needs=needs,
        labels=child_labels,
        item_probs=profiles(X, child_labels).reindex(range(1, k + 1)),
        sizes=np.bincount(child_labels, minlength=k + 1)[1:],
        loglik=np.nan,
        n_params=k * len(needs),
        converged=True,
        model=model,
        relabel=relabel,
        pattern_of_child=inverse,
    )


def fit(X: pd.DataFrame, k: int, method: str = "lca", seed: int = 0) -> CohortFit:
    """Fit either method by name, so callers (CLI, pages, stability) need not branch."""
    if method == "lca":
        return fit_lca(X, k, seed=seed)
    if method == "kmodes":
        return fit_kmodes(X, k, seed=seed)
    raise ValueError(f"unknown method {method!r}: use 'lca' or 'kmodes'")


def profiles(X: pd.DataFrame, labels) -> pd.DataFrame:
    """Share of each cohort's children with each need (0-1), one row per cohort."""
    M = as_matrix(X).astype(float)
    lab = np.asarray(labels)
    cohorts = np.unique(lab)
    rows = [M[lab == c].mean(axis=0) for c in cohorts]
    return pd.DataFrame(rows, index=pd.Index(cohorts, name="cohort"), columns=list(X.columns))


def sizes(labels) -> pd.DataFrame:
    """Children per cohort and their share of all children."""
    counts = pd.Series(np.asarray(labels)).value_counts().sort_index()
    return pd.DataFrame(
        {"cohort": counts.index, "children": counts.to_numpy(),
         "pct": counts.to_numpy() / counts.sum() * 100}
    )


# Short lower-case wording for need codes, so cohort names stay readable.
SHORT_LABELS: dict[str, str] = {
    "rto_physical": "physical aggression",
    "rto_sexual": "sexually harmful behaviour",
    "rto_fire": "fire-setting",
    "rto_animals": "harm to animals",
    "rto_offending": "offending",
    "missing": "going missing",
    "self_harm": "self-harm",
    "suicidal": "suicidal ideation",
    "mh_diagnosed": "diagnosed mental health condition",
    "mh_emotional": "emotional dysregulation",
    "mh_trauma": "trauma symptoms",
    "mh_eating": "eating disorder",
    "nd_autism": "autism",
    "nd_adhd": "ADHD",
    "dis_learning": "learning disability",
    "dis_physical": "physical disability",
    "dis_communication": "communication needs",
    "cse": "sexual exploitation",
    "cce": "criminal exploitation",
    "substance": "substance misuse",
    "placement_breakdown": "placement breakdown",
    "out_of_education": "out of education",
}
# A need names a cohort only if at least this share of the cohort has it and it is
# this much more common than overall; otherwise names would cite rare needs.
NAME_MIN_PREVALENCE = 0.25
NAME_MIN_LIFT = 1.2
FEWER_NEEDS_NAME = "Fewer recorded needs"


def _short_label(need: str) -> str:
    """Lower-case wording of a code or category for use inside a name."""
    if need in SHORT_LABELS:
        return SHORT_LABELS[need]
    # Category labels are plain words ("Mental health"), safe to lower-case.
    return label_of(need).lower() if need in category_order() else str(need)


def _overall_series(overall, columns) -> pd.Series:
    """Accept overall prevalence as a Series (0-1) or as prevalence()'s table (pct)."""
    if isinstance(overall, pd.DataFrame):
        s = overall.set_index("need")["pct"].astype(float) / 100
    else:
        s = pd.Series(overall, dtype=float)
    return s.reindex(columns)


def _ranked_needs(row: pd.Series, overall: pd.Series) -> list[str]:
    """Needs that characterise a cohort, most characteristic first.

    Score p * ln(p / p_overall): the cohort's contribution to its divergence from
    the whole population, which favours needs that are both common in the
    cohort and much more common than overall.
    """
    p = row.astype(float)
    o = overall.astype(float).clip(lower=1e-6)
    lift = p / o
    ok = (p >= NAME_MIN_PREVALENCE) & (lift >= NAME_MIN_LIFT)
    score = (p * np.log(lift.where(lift > 0, 1.0)))[ok]
    # Stable sort so equal scores keep the column (taxonomy) order.
    return list(score.sort_values(ascending=False, kind="mergesort").index)


def _phrase(needs: list[str], n_terms: int) -> str:
    """Join the leading needs into a name, merging ones that share a last word.

    'sexual exploitation' and 'criminal exploitation' become 'exploitation', so a
    cohort reads 'Exploitation and going missing' rather than repeating the word.
    A merge partner is looked for among the top n_terms + 1 needs only.
    """
    terms: list[str] = []
    heads: dict[str, int] = {}
    for i, need in enumerate(needs):
        # Once the name is full, look one need further for a partner to merge, no more.
        if len(terms) == n_terms and i > n_terms:
            break
        words = _short_label(need).split()
        head = words[-1] if len(words) > 1 else None
        if head and head in heads:
            terms[heads[head]] = head
            continue
        if len(terms) == n_terms:
            continue
        if head:
            heads[head] = len(terms)
        terms.append(" ".join(words))
    if not terms:
        return ""
    text = terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]
    return text[0].upper() + text[1:]


def name_cohorts(
    profile: pd.DataFrame, overall, n_terms: int = 2
) -> dict:
    """Plain-English, unique name per cohort from its most over-represented needs."""
    over = _overall_series(overall, profile.columns)
    ranked = {c: _ranked_needs(profile.loc[c], over) for c in profile.index}
    terms = {c: n_terms for c in profile.index}
    names = {c: (_phrase(ranked[c], n_terms) or FEWER_NEEDS_NAME) for c in profile.index}
    # Lengthen clashing names with their next need until unique or out of needs.
    for _ in range(len(profile.columns)):
        clashes = pd.Series(names).duplicated(keep=False)
        if not clashes.any():
            break
        grew = False
        for c in clashes[clashes].index:
            longer = _phrase(ranked[c], terms[c] + 1)
            if longer and longer != names[c]:
                terms[c] += 1
                names[c] = longer
                grew = True
        if not grew:
            break
    seen: dict[str, int] = {}
    counts = pd.Series(names).value_counts()
    for c in profile.index:
        if counts[names[c]] > 1:
            seen[names[c]] = seen.get(names[c], 0) + 1
            names[c] = f"{names[c]} ({seen[names[c]]})"
    return names


def stability(
    X: pd.DataFrame,
    k: int,
    n_boot: int = 20,
    seed: int = 0,
    method: str = "lca",
    progress: Progress | None = None,
) -> dict:
    """How often children stay together when the data are resampled (bootstrap adjusted Rand index).

    Each bootstrap draws children with replacement, refits with the same k, and
    compares the new cohorts with the original ones on the children drawn.
    ARI near 1 means the split is reproducible; below about 0.65 it should not be
    over-read.
    """
    U, w, inverse = _patterns(X)
    n = len(X)
    base = fit(X, k, method=method, seed=seed)
    base_labels = base.labels.to_numpy()
    rng = np.random.default_rng(seed)
    aris = []
    for b in range(n_boot):
        if progress:
            progress(b / n_boot, f"Bootstrap {b + 1} of {n_boot}")
        draws = np.bincount(rng.integers(0, n, n), minlength=n)
        pattern_w = np.bincount(inverse, weights=draws, minlength=len(U))
        keep = pattern_w > 0
        boot = _fit_patterns(U[keep], pattern_w[keep], k, method, seed + b + 1)
        boot_labels = _raw_assign(method, boot, U)[inverse]
        drawn = draws > 0
        aris.append(adjusted_rand_score(base_labels[drawn], boot_labels[drawn]))
    if progress:
        progress(1.0, "Done")
    aris = np.asarray(aris)
    return {
        "mean_ari": float(aris.mean()) if len(aris) else np.nan,
        "sd_ari": float(aris.std(ddof=1)) if len(aris) > 1 else np.nan,
        "per_boot": aris.tolist(),
        "k": k,
        "method": method,
    }


def _fit_patterns(U: np.ndarray, w: np.ndarray, k: int, method: str, seed: int):
    """Fit a model of either method on weighted patterns (for bootstrap refits)."""
    if method == "lca":
        return _fit_lca_patterns(U, w, k, seed, N_INIT)[0]
    if method == "kmodes":
        return _fit_kmodes_patterns(U, w, k, seed, KMODES_N_INIT)
    raise ValueError(f"unknown method {method!r}: use 'lca' or 'kmodes'")


# Nuffield FJO (Roe & Ryan, 2023) described three broad groups of children
# without publishing their profiles, so the reference profiles are written from
# the study's own descriptions: each group is defined by the categories its
# description names, plus the needs that the literature routinely ties to it.
# - disability-led: "learning and physical disabilities needing support or
#   supervision" -> disability, neurodevelopmental;
# - trauma-led multiple needs: "multiple needs that are a response to complex
#   and ongoing trauma" -> mental health, self-harm, risk to others, placement
#   breakdown;
# - extra-familial exploitation: "at risk from extra-familial harm such as
#   sexual or criminal exploitation" -> sexual and criminal exploitation, going
#   missing and substance misuse (the usual companions of exploitation).
NUFFIELD_GROUPS: dict[str, dict] = {
    "disability": {
        "label": "Disability-led",
        "categories": ["disability", "neurodevelopmental"],
    },
    "trauma": {
        "label": "Trauma-led multiple needs",
        "categories": ["mental_health", "self_harm", "risk_to_others", "placement_breakdown"],
    },
    "exploitation": {
        "label": "Extra-familial exploitation",
        "categories": ["sexual_exploitation", "criminal_exploitation", "going_missing", "substance_misuse"],
    },
}
# Below this cosine similarity a cohort resembles none of the three groups well.
NUFFIELD_CLEAR_MATCH = 0.3


def _column_categories(columns) -> list[str]:
    """Category of each column, whether the columns are categories or need codes."""
    tax = load_taxonomy()
    code_cat = dict(zip(tax["code"], tax["category"]))
    return [code_cat.get(c, c) for c in columns]


def nuffield_reference(columns) -> pd.DataFrame:
    """Reference profile (1 = defining need, 0 = not) of each Nuffield group over these columns."""
    cats = _column_categories(columns)
    rows = {
        key: [1.0 if cat in spec["categories"] else 0.0 for cat in cats]
        for key, spec in NUFFIELD_GROUPS.items()
    }
    return pd.DataFrame(rows, index=list(columns)).T


def compare_to_nuffield(
    profile: pd.DataFrame, overall, names: Mapping | None = None
) -> pd.DataFrame:
    """Nearest of Nuffield's three groups for each cohort, by what makes the cohort distinctive.

    Each cohort is described by its log-lift over the overall prevalence (so the
    common needs every child has do not dominate) and compared with each group's
    reference profile, centred, by cosine similarity.
    """
    over = _overall_series(overall, profile.columns).to_numpy(dtype=float)
    eps = 0.01
    loglift = np.log((profile.to_numpy(dtype=float) + eps) / (over + eps))
    ref = nuffield_reference(profile.columns)
    refc = ref.to_numpy() - ref.to_numpy().mean(axis=1, keepdims=True)
    norms = np.linalg.norm(loglift, axis=1, keepdims=True) * np.linalg.norm(refc, axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(norms > 0, loglift @ refc.T / np.where(norms > 0, norms, 1), 0.0)
    keys = list(ref.index)
    best = sim.argmax(axis=1)
    out = pd.DataFrame(
        {
            "cohort": profile.index,
            "name": [(names or {}).get(c, "") for c in profile.index],
            "nuffield_group": [NUFFIELD_GROUPS[keys[i]]["label"] for i in best],
            "similarity": sim[np.arange(len(best)), best],
        }
    )
    out["clear_match"] = out["similarity"] >= NUFFIELD_CLEAR_MATCH
    for j, key in enumerate(keys):
        out[f"sim_{key}"] = sim[:, j]
    return out
