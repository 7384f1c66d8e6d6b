"""Co-occurrence statistics checked against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from audit.analysis import cooccur as co

# Ten children, three needs, chosen so every 2x2 table is easy to count by hand:
#   children 1-4 have A and B; 5 has A only; 6 has A and C; 7 has B and C;
#   8 has C only; 9 and 10 have nothing.
A = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
B = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
C = [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]


@pytest.fixture
def small():
    return pd.DataFrame({"A": A, "B": B, "C": C}).astype(bool)


def test_counts_by_hand(small):
    m = co.cooccurrence(small, "count")
    expected = [[6, 4, 1], [4, 5, 1], [1, 1, 3]]
    assert m.to_numpy().tolist() == expected
    assert list(m.index) == ["A", "B", "C"] and list(m.columns) == ["A", "B", "C"]


def test_row_percentages_by_hand(small):
    m = co.cooccurrence(small, "row_pct")
    # 4 of the 6 children with A also have B; 4 of the 5 with B also have A.
    assert m.loc["A", "B"] == pytest.approx(400 / 6)
    assert m.loc["B", "A"] == pytest.approx(80.0)
    assert m.loc["C", "A"] == pytest.approx(100 / 3)
    assert m.loc["A", "A"] == pytest.approx(100.0)


def test_lift_by_hand(small):
    m = co.cooccurrence(small, "lift")
    # observed 4 / expected (6 * 5 / 10 = 3)
    assert m.loc["A", "B"] == pytest.approx(4 / 3)
    # observed 1 / expected (6 * 3 / 10 = 1.8)
    assert m.loc["A", "C"] == pytest.approx(1 / 1.8)
    assert m.loc["B", "A"] == pytest.approx(m.loc["A", "B"])
    assert np.isnan(m.loc["A", "A"])


def test_phi_by_hand(small):
    m = co.cooccurrence(small, "phi")
    # A,B table: n11=4 n10=2 n01=1 n00=3 -> (12 - 2) / sqrt(6*4*5*5)
    assert m.loc["A", "B"] == pytest.approx(10 / np.sqrt(600))
    # A,C table: n11=1 n10=5 n01=2 n00=2 -> (2 - 10) / sqrt(6*4*3*7)
    assert m.loc["A", "C"] == pytest.approx(-8 / np.sqrt(504))
    assert m.loc["C", "C"] == 1.0


def test_pair_table_and_fisher_by_hand(small):
    pt = co.pair_tests(small).set_index(["a", "b"])
    ab = pt.loc[("A", "B")]
    assert (ab.n11, ab.n10, ab.n01, ab.n00) == (4, 2, 1, 3)
    # Hypergeometric over 10 children, 6 with A, 5 with B: P(x) = C(6,x)C(4,5-x)/252,
    # i.e. 6, 60, 120, 60, 6 for x = 1..5. Tables as or less likely than x=4:
    # (6 + 60 + 60 + 6) / 252 = 11/21.
    assert ab.p_value == pytest.approx(11 / 21)
    assert ab.odds_ratio == pytest.approx(6.0)  # 4*3 / (2*1)
    assert ab.lift == pytest.approx(4 / 3)
    bc = pt.loc[("B", "C")]
    assert (bc.n11, bc.n10, bc.n01, bc.n00) == (1, 4, 2, 3)
    assert bc.p_value == pytest.approx(fisher_exact([[1, 4], [2, 3]]).pvalue)
    assert len(pt) == 3
    assert not pt["significant"].any()  # ten children cannot show anything


def test_bh_correction_on_known_p_values():
    # m=3: p*m/rank = 0.003, 0.06, 0.041; step-up takes the running minimum from the top.
    assert co.bh_adjust([0.001, 0.04, 0.041]) == pytest.approx([0.003, 0.041, 0.041])
    # order of input does not matter; q follows its p
    q = co.bh_adjust([0.01, 0.04, 0.03, 0.005])
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
    q = co.bh_adjust([0.2, np.nan, 0.01])
    assert q[0] == pytest.approx(0.2) and np.isnan(q[1]) and q[2] == pytest.approx(0.02)


def test_strong_association_is_significant_after_correction():
    rng = np.random.default_rng(3)
    n = 2000
    a = rng.random(n) < 0.4
    X = pd.DataFrame({
        "a": a,
        "b": np.where(a, rng.random(n) < 0.8, rng.random(n) < 0.1),  # tied to a
        "c": rng.random(n) < 0.3,  # independent of both
        "d": rng.random(n) < 0.5,
    })
    pt = co.pair_tests(X).set_index(["a", "b"])
    assert pt.loc[("a", "b"), "significant"]
    assert pt.loc[("a", "b"), "q_value"] < 1e-50
    assert not pt.loc[("c", "d"), "significant"]


def test_needs_per_child_and_summary_by_hand(small):
    dist = co.needs_per_child(small)
    assert dist["n_needs"].tolist() == [0, 1, 2, 3]
    assert dist["children"].tolist() == [2, 2, 6, 0]
    s = co.summary(small)
    assert s["mean"] == pytest.approx(1.4)
    assert s["pct_more_than_one"] == pytest.approx(60.0)
    assert s["pct_4plus"] == 0.0
    assert s["n"] == 10


def test_prevalence_by_hand(small):
    prev = co.prevalence(small)
    assert prev["need"].tolist() == ["A", "B", "C"]
    assert prev["n"].tolist() == [6, 5, 3]
    assert prev["pct"].tolist() == pytest.approx([60.0, 50.0, 30.0])


def test_combinations_by_hand(small):
    combos = co.combinations(small, top=None)
    assert combos["combination"].tolist() == [("A", "B"), (), ("A",), ("C",), ("A", "C"), ("B", "C")]
    assert combos["children"].tolist() == [4, 2, 1, 1, 1, 1]
    assert combos["label"].iloc[1] == "No recorded needs"
    assert combos["children"].sum() == 10
    top2 = co.combinations(small, top=2, include_empty=False)
    assert top2["combination"].tolist() == [("A", "B"), ("A",)]


def test_combination_labels_use_taxonomy_wording():
    cats = co.category_order()
    X = pd.DataFrame(False, index=range(3), columns=cats)
    X.loc[:, ["disability", "neurodevelopmental"]] = True
    combos = co.combinations(X)
    assert combos["label"].iloc[0] == "Neurodevelopmental + Disability"


def test_taxonomy_is_packaged_and_categories_collapse_codes():
    tax = co.load_taxonomy()
    assert len(tax) == 22 and tax["category"].nunique() == 11
    assert co.code_order()[0] == "rto_physical"
    codes = pd.DataFrame(False, index=range(3), columns=co.code_order())
    codes.loc[0, "cse"] = True
    codes.loc[1, ["rto_fire", "rto_sexual", "dis_learning"]] = True
    cats = co.categories_from_codes(codes, tax)
    assert list(cats.columns) == co.category_order()
    assert cats.loc[0].sum() == 1 and cats.loc[0, "sexual_exploitation"]
    assert cats.loc[1, ["risk_to_others", "disability"]].all() and cats.loc[1].sum() == 2
    assert cats.loc[2].sum() == 0


def test_blank_is_not_present():
    X = pd.DataFrame({"a": [True, None, False], "b": [1.0, np.nan, 1.0]})
    assert co.prevalence(X)["n"].tolist() == [1, 2]


def test_unknown_measure_rejected(small):
    with pytest.raises(ValueError):
        co.cooccurrence(small, "jaccard")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=2, max_size=40))
def test_matrix_agrees_with_brute_force(rows):
    X = pd.DataFrame(rows, columns=list("wxyz"))
    counts = co.cooccurrence(X, "count").to_numpy()
    phi = co.cooccurrence(X, "phi").to_numpy()
    M = X.to_numpy()
    for i in range(4):
        for j in range(4):
            assert counts[i, j] == sum(r[i] and r[j] for r in rows)
            if i != j and 0 < M[:, i].sum() < len(rows) and 0 < M[:, j].sum() < len(rows):
                assert phi[i, j] == pytest.approx(np.corrcoef(M[:, i], M[:, j])[0, 1])


# --- figures: suppressed counts stay labels, significance marks land on the right cells ---

from audit.charts import needs as fn  # noqa: E402


def _layer(chart, mark: str):
    """The first layer of a chart drawn with this mark (charts are Altair layers)."""
    return next(l for l in chart.layer if (l.mark if isinstance(l.mark, str) else l.mark.type) == mark)


def test_prevalence_bar_draws_suppressed_counts_as_labels_and_marks_nuffield():
    prev = pd.DataFrame({
        "need": ["risk_to_others", "disability", "out_of_education"],
        "n": [40, "<5", 12],
        "pct": [80.0, np.nan, 24.0],
    })
    fig = fn.prevalence_bar(prev)
    bars = fig.data.set_index("label")
    assert bars.at["Disability", "text"] == "<5"
    assert bars.at["Disability", "length"] < 5 and np.isnan(bars.at["Disability", "pct"])  # a stub, not a number
    assert bars.at["Disability", "colour"] == fn.HIDDEN
    assert (bars.at["Risk to others", "length"], bars.at["Risk to others", "text"]) == (80.0, "80% (40)")
    ref = _layer(fig, "point").data
    assert dict(zip(ref["label"], ref["pct"])) == {"Risk to others": 69.2, "Disability": 33.7}  # no published figure for out of education
    # largest share drawn at the top, the hidden one at the bottom
    spec = fig.to_dict()  # valid Vega-Lite, and the hidden share is not in what the browser receives
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["Risk to others", "Out of education", "Disability"]
    rows = next(iter(spec["datasets"].values()))
    assert [r["pct"] for r in rows if r["label"] == "Disability"] == [None]


def test_prevalence_bar_compares_with_the_region_side_by_side():
    prev = pd.DataFrame({"need": ["risk_to_others", "self_harm"], "n": [40, 10], "pct": [80.0, 20.0]})
    region = pd.DataFrame({"need": ["risk_to_others", "self_harm"], "n": [400, "<5"], "pct": [50.0, np.nan]})
    fig = fn.prevalence_bar(prev, compare=region, names=("Norfolk", "Whole region"))
    d = fig.data.set_index(["series", "label"])
    assert d.at[("Whole region", "Risk to others"), "text"] == "50%"
    assert d.at[("Whole region", "Self-harm"), "text"] == "<5"
    assert fig.to_dict()["layer"][0]["encoding"]["yOffset"]["field"] == "series"


def test_heatmap_stars_significant_pairs_and_keeps_suppression_marks(small):
    X = pd.concat([small] * 20, ignore_index=True)  # 200 children: A and B now clearly associated
    tests = co.pair_tests(X)
    assert tests.set_index(["a", "b"]).loc[("A", "B"), "significant"]
    m = co.cooccurrence(X, "count").astype(object)
    m.loc["A", "C"] = "<5"
    fig = fn.cooccurrence_heatmap(m, "count", tests)
    cells = fig.data.set_index(["a", "b"])
    assert cells.at[("A", "B"), "text"] == "80*" and cells.at[("B", "A"), "text"] == "80*"
    assert cells.at[("A", "C"), "text"].startswith("<5")
    assert cells.at[("A", "C"), "z"] is None or np.isnan(cells.at[("A", "C"), "z"])
    sig = set(map(tuple, tests.loc[tests["significant"], ["a", "b"]].to_numpy()))
    starred = {k for k, t in cells["text"].items() if str(t).endswith("*")}
    assert starred == sig | {(b, a) for a, b in sig}
    assert "Benjamini-Hochberg" in fig.to_dict()["title"]["subtitle"]


def test_lift_heatmap_is_on_log_scale(small):
    fig = fn.cooccurrence_heatmap(co.cooccurrence(small, "lift"), "lift")
    cells = fig.data.set_index(["a", "b"])
    assert cells.at[("A", "B"), "z"] == pytest.approx(np.log2(4 / 3))
    scale = fig.to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domainMid"] == 0 and scale["domain"][0] == -scale["domain"][1]


def test_upset_dots_match_combinations(small):
    combos = co.combinations(small, top=None).astype(object)
    combos.loc[combos["children"] == 1, "children"] = "<5"
    fig = fn.upset_chart(combos)
    bars = fig.vconcat[0].data
    assert list(bars["text"][:2]) == ["4", "2"] and list(bars["text"][2:]) == ["<5"] * 4
    dots = fig.vconcat[1].layer[0].data
    drawn = sorted(tuple(sorted(g.loc[g["on"], "need"])) for _, g in dots.groupby("i") if g["on"].any())
    expected = sorted(tuple(sorted(co.label_of(n) for n in c)) for c in combos["combination"] if c)
    assert drawn == expected
    first = set(dots.loc[dots["on"] & (dots["i"] == 0), "need"])
    assert first == {co.label_of(n) for n in combos["combination"].iloc[0]}  # under the first bar
    links = fig.vconcat[1].layer[1].data
    assert set(links["i"]) == {i for i, c in enumerate(combos["combination"]) if c}
    fig.to_dict()
