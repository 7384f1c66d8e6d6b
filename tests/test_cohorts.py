"""Cohorts: LCA recovers planted cohorts, names read right, bootstrap stability tells stable from noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from audit.analysis import cohorts as ch
from audit.analysis import cooccur as co

CATS = co.category_order()
# Three planted cohorts, each defined by the categories of one Nuffield group.
PLANTED = {
    0: ["disability", "neurodevelopmental"],
    1: ["mental_health", "self_harm", "risk_to_others", "placement_breakdown"],
    2: ["sexual_exploitation", "criminal_exploitation", "going_missing", "substance_misuse"],
}
PLANTED_GROUP = {0: "Disability-led", 1: "Trauma-led multiple needs", 2: "Extra-familial exploitation"}


def planted_data(n=900, seed=1, high=0.85, low=0.1):
    """n children in three equal-ish cohorts with distinct Bernoulli need profiles."""
    rng = np.random.default_rng(seed)
    P = np.full((3, len(CATS)), low)
    for c, needs in PLANTED.items():
        P[c, [CATS.index(x) for x in needs]] = high
    z = rng.integers(0, 3, n)
    X = pd.DataFrame(rng.random((n, len(CATS))) < P[z], columns=CATS)
    return X, z


@pytest.fixture(scope="module")
def planted():
    return planted_data()


@pytest.fixture(scope="module")
def search(planted):
    X, _ = planted
    return ch.lca_search(X, range(2, 9), seed=0)


def _majority(z, labels):
    """Fitted cohort -> the planted cohort most of its children come from."""
    tab = pd.crosstab(pd.Series(labels, name="fit"), pd.Series(z, name="true"))
    return tab.idxmax(axis=1).to_dict()


def test_choose_k_picks_three_and_recovers_planted_labels(planted, search):
    X, z = planted
    table, k = ch.choose_k(X, range(2, 9), seed=0)
    assert k == 3
    assert table["k"].tolist() == list(range(2, 9))
    assert table.loc[table["bic"].idxmin(), "k"] == 3
    assert set(table.columns) >= {"k", "bic", "aic", "loglik", "entropy"}
    assert search.k == 3
    fit = search.best
    assert adjusted_rand_score(z, fit.labels) >= 0.8
    # Log-likelihood never falls as cohorts are added (nested models, best of several starts).
    assert np.all(np.diff(table["loglik"]) > -1.0)


def test_fit_is_deterministic_and_ordered_by_size(planted, search):
    X, _ = planted
    again = ch.fit_lca(X, 3, seed=0)
    first = search.fits[3]
    assert (again.labels == first.labels).all()
    assert again.bic == pytest.approx(first.bic)
    assert list(first.sizes) == sorted(first.sizes, reverse=True)
    assert first.sizes.sum() == len(X)
    assert sorted(first.labels.unique()) == [1, 2, 3]
    assert first.labels.index.equals(X.index)


def test_fit_on_patterns_equals_stepmix_bic_on_all_children(planted):
    """Fitting on weighted distinct patterns must give stepmix's own BIC for all children."""
    from stepmix import StepMix

    X, _ = planted
    fit = ch.fit_lca(X, 3, seed=0)
    model = StepMix(n_components=3, measurement="bernoulli", random_state=0, n_init=3,
                    abs_tol=ch.ABS_TOL, verbose=0, progress_bar=0)
    model.fit(X.to_numpy(dtype=float))
    assert fit.bic == pytest.approx(model.bic(X.to_numpy(dtype=float)), rel=1e-4)


def test_item_probabilities_match_planted_profiles(planted, search):
    X, z = planted
    fit = search.best
    to_true = _majority(z, fit.labels)
    for cohort, true in to_true.items():
        high = fit.item_probs.loc[cohort, PLANTED[true]]
        others = fit.item_probs.loc[cohort].drop(PLANTED[true])
        assert (high > 0.7).all() and (others < 0.25).all()


def test_profiles_are_cohort_prevalences(planted, search):
    X, _ = planted
    labels = search.best.labels
    prof = ch.profiles(X, labels)
    assert list(prof.index) == [1, 2, 3]
    c = 2
    assert prof.loc[c, "disability"] == pytest.approx(X.loc[labels == c, "disability"].mean())
    sz = ch.sizes(labels)
    assert sz["children"].sum() == len(X) and sz["pct"].sum() == pytest.approx(100)


def test_names_are_unique_and_mention_planted_needs(planted, search):
    X, z = planted
    labels = search.best.labels
    prof = ch.profiles(X, labels)
    names = ch.name_cohorts(prof, co.prevalence(X))
    assert len(set(names.values())) == 3 and all(names.values())
    to_true = _majority(z, labels)
    for cohort, name in names.items():
        planted_words = [co.label_of(n).lower().split()[-1] for n in PLANTED[to_true[cohort]]]
        assert any(w in name.lower() for w in planted_words), (name, planted_words)
    disability_cohort = next(c for c, t in to_true.items() if t == 0)
    assert names[disability_cohort] == "Disability and neurodevelopmental"


def test_names_merge_exploitation_and_fall_back_for_few_needs():
    overall = pd.Series(0.3, index=CATS)
    prof = pd.DataFrame(0.3, index=[1, 2, 3], columns=CATS)
    prof.loc[1, ["sexual_exploitation", "criminal_exploitation", "going_missing"]] = [0.9, 0.85, 0.8]
    prof.loc[2] = 0.05  # fewer needs than average on everything
    prof.loc[3, ["disability", "neurodevelopmental"]] = [0.95, 0.6]
    names = ch.name_cohorts(prof, overall)
    assert names[1] == "Exploitation and going missing"
    assert names[2] == ch.FEWER_NEEDS_NAME
    assert names[3] == "Disability and neurodevelopmental"


def test_clashing_names_are_made_unique():
    overall = pd.Series(0.2, index=CATS)
    prof = pd.DataFrame(0.2, index=[1, 2], columns=CATS)
    prof.loc[[1, 2], ["self_harm", "mental_health"]] = 0.9
    prof.loc[1, "substance_misuse"] = 0.6
    prof.loc[2, "out_of_education"] = 0.6
    names = ch.name_cohorts(prof, overall)
    assert names[1] != names[2]
    assert "substance misuse" in names[1] and "out of education" in names[2]
    # identical profiles cannot be told apart by needs, but names still differ
    same = ch.name_cohorts(pd.concat([prof.loc[[1]], prof.loc[[1]]]).set_axis([1, 2]), overall)
    assert len(set(same.values())) == 2


def test_code_level_names_use_short_wording():
    codes = co.code_order()
    overall = pd.Series(0.1, index=codes)
    prof = pd.DataFrame(0.1, index=[1], columns=codes)
    prof.loc[1, ["nd_autism", "dis_learning"]] = [0.9, 0.8]
    assert ch.name_cohorts(prof, overall)[1] == "Autism and learning disability"


def test_planted_cohorts_match_their_nuffield_group(planted, search):
    X, z = planted
    labels = search.best.labels
    prof = ch.profiles(X, labels)
    cmp = ch.compare_to_nuffield(prof, co.prevalence(X)).set_index("cohort")
    for cohort, true in _majority(z, labels).items():
        assert cmp.loc[cohort, "nuffield_group"] == PLANTED_GROUP[true]
        assert cmp.loc[cohort, "clear_match"]


def test_nuffield_reference_works_on_codes():
    ref = ch.nuffield_reference(co.code_order())
    assert ref.loc["exploitation", ["cse", "cce", "missing", "substance"]].eq(1).all()
    assert ref.loc["disability", ["nd_autism", "dis_learning"]].eq(1).all()
    assert ref.loc["trauma", "dis_learning"] == 0


def test_stability_high_on_planted_low_on_noise(planted):
    X, _ = planted
    calls = []
    stable = ch.stability(X, 3, n_boot=4, seed=0, progress=lambda f, t: calls.append(f))
    assert stable["mean_ari"] >= 0.85 and len(stable["per_boot"]) == 4
    assert calls[0] == 0.0 and calls[-1] == 1.0
    rng = np.random.default_rng(5)
    noise = pd.DataFrame(rng.random((900, len(CATS))) < 0.3, columns=CATS)
    unstable = ch.stability(noise, 3, n_boot=4, seed=0)
    assert unstable["mean_ari"] < 0.5


def test_kmodes_gives_k_clusters_near_planted(planted):
    X, z = planted
    fit = ch.fit_kmodes(X, 3, seed=0)
    assert sorted(fit.labels.unique()) == [1, 2, 3]
    assert list(fit.sizes) == sorted(fit.sizes, reverse=True)
    assert adjusted_rand_score(z, fit.labels) >= 0.8
    assert (ch.fit_kmodes(X, 3, seed=0).labels == fit.labels).all()
    assert ch.fit_kmodes(X, 4, seed=0).labels.nunique() == 4


def test_predict_assigns_new_children_consistently(planted, search):
    X, _ = planted
    fit = search.best
    assert (fit.predict(X) == fit.labels).all()
    part = X.iloc[:50]
    assert (fit.predict(part) == fit.labels.iloc[:50]).all()


def test_progress_reports_rise_to_one(planted):
    X, _ = planted
    seen = []
    ch.lca_search(X.iloc[:300], range(2, 4), progress=lambda f, t: seen.append((f, t)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("3 cohorts" in t for _, t in seen)


def test_sample_data_recovers_its_own_cohorts():
    """The synthetic sample is drawn from three latent cohorts; LCA on its codes finds them."""
    from audit.sample import needs as sample_needs

    rng = np.random.default_rng(11)
    z = sample_needs.draw_cohorts(rng, 3000)
    X = sample_needs.draw_codes(rng, z)
    search = ch.lca_search(X, range(2, 6), seed=0)
    assert search.k == 3
    assert adjusted_rand_score(z, search.best.labels) >= 0.8


def test_cohort_figures(planted, search):
    from audit.charts import needs as fn

    X, _ = planted
    fig = fn.bic_curve(search.table, search.k)
    star = fig.layer[2].data
    assert list(star["k"]) == [3]
    assert star["bic"].iat[0] == pytest.approx(search.table["bic"].min())
    assert "3 cohorts (lowest BIC)" in fig.layer[3].data["label"].tolist()
    prof = ch.profiles(X, search.best.labels)
    names = ch.name_cohorts(prof, co.prevalence(X))
    heat = fn.cohort_profile_heatmap(prof, names, overall=co.prevalence(X))
    rows = list(dict.fromkeys(heat.data["row"]))
    assert rows[-1] == "All children"
    assert rows[0].startswith("1. " + names[1])
    z = heat.data.pivot(index="row", columns="col", values="z").reindex(index=rows,
                                                                     columns=list(dict.fromkeys(heat.data["col"])))
    assert z.iloc[0].to_numpy(dtype=float) == pytest.approx(prof.loc[1].to_numpy() * 100)
    assert z.iloc[-1].to_numpy(dtype=float) == pytest.approx(co.prevalence(X)["pct"].to_numpy())
    assert heat.to_dict()["layer"][0]["encoding"]["y"]["sort"] == rows


def test_fits_pickle_for_caching_and_posteriors_agree_with_labels(planted, search):
    import pickle

    X, _ = planted
    restored = pickle.loads(pickle.dumps(search))
    assert restored.k == search.k
    assert (restored.best.predict(X) == search.best.labels).all()
    proba = search.best.proba
    assert proba.shape == (len(X), 3)
    assert proba.sum(axis=1) == pytest.approx(np.ones(len(X)))
    assert ((proba.argmax(axis=1) + 1) == search.best.labels.to_numpy()).all()
    km = pickle.loads(pickle.dumps(ch.fit_kmodes(X, 3, seed=0)))
    assert (km.predict(X) == km.labels).all() and km.proba is None


def test_search_fits_no_more_cohorts_than_distinct_patterns():
    import numpy as np
    import pandas as pd

    from audit.analysis import cohorts as c

    X = pd.DataFrame(np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]]), columns=list("abcd"))
    s = c.lca_search(X, range(2, 9), n_init=2)
    assert list(s.table["k"]) == [2] and s.k == 2
    with pytest.raises(c.TooFewPatterns, match="1 distinct pattern of needs among 2 children"):
        c.lca_search(X.iloc[[0, 2]], range(2, 9), n_init=2)
