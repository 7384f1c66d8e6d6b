"""Cohorts stored for a round: recovery of the sample's latent cohorts, names that survive, suppressed summaries, CLI."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from audit import cli, extracts
from audit.analysis import cohort_store
from audit.analysis import needs_view
from audit.geography import region
from audit.filters import Filters
from audit.paths import SAMPLE_DATA
from audit.suppress import Viewer

SMALL = dict(la="E06000032", age_band="16-17")  # Luton, 16-17


@pytest.fixture
def rid(sample_db):
    return int(sample_db.q("rounds")["round_id"].iat[0])


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    t = pd.read_csv(SAMPLE_DATA / "truth_cohorts.csv", dtype=str)
    t["la_code"] = t["la"].map(region.la_code)
    return t


def stored_labels(db, rid) -> pd.DataFrame:
    return db.query("SELECT la_code, child_id, cohort FROM child_cohorts WHERE round_id = $r", {"r": rid})


def ari_vs_truth(labels: pd.DataFrame, truth: pd.DataFrame) -> float:
    m = labels.merge(truth, on=["la_code", "child_id"], suffixes=("", "_true"))
    assert len(m) == len(truth)
    return adjusted_rand_score(m["cohort_true"], m["cohort"])


def test_build_stores_cohorts_that_recover_the_sample_truth(sample_db, rid, truth):
    st = cohort_store.stored(sample_db, rid)
    assert st is not None and st.method == "lca" and st.k == 3
    assert len(set(st.names.values())) == 3 and not any(st.edited.values())
    assert ari_vs_truth(stored_labels(sample_db, rid), truth) >= 0.8


def test_fit_and_store_chooses_three_by_bic_and_recovers_truth(sample_db, rid, truth):
    with sample_db.write() as con:  # start from a round with nothing stored
        for t in ("child_cohorts", "cohort_fits", "cohort_names"):
            con.execute(f"DELETE FROM {t}")
    assert cohort_store.stored(sample_db, rid) is None
    steps = []
    st = cohort_store.fit_and_store(sample_db, rid, progress=lambda f, t: steps.append(f))
    assert st.k == 3 and cohort_store.chosen_k(sample_db, rid) == 3
    assert steps[-1] == 1.0 and steps == sorted(steps)
    bic = cohort_store.bic_table(sample_db, rid)
    assert bic["k"].tolist() == list(range(2, 9))
    assert bic.loc[bic["chosen"], "k"].tolist() == [3] and bic.loc[bic["bic"].idxmin(), "k"] == 3
    assert ari_vs_truth(stored_labels(sample_db, rid), truth) >= 0.8
    # Every child has exactly one stored cohort, numbered 1..k largest first.
    lab = stored_labels(sample_db, rid)
    assert len(lab) == sample_db.scalar("SELECT count(*) FROM children") and lab["cohort"].between(1, 3).all()
    sizes = lab["cohort"].value_counts().sort_index()
    assert list(sizes) == sorted(sizes, reverse=True)


def test_names_describe_the_planted_cohorts_and_match_nuffield(sample_db, rid, truth):
    st = cohort_store.stored(sample_db, rid)
    lab = stored_labels(sample_db, rid).merge(truth, on=["la_code", "child_id"])
    tab = pd.crosstab(lab["cohort_x"], lab["cohort_y"])
    to_truth = tab.idxmax(axis=1).to_dict()
    expected_group = {"disability-led": "Disability-led", "trauma-led": "Trauma-led multiple needs",
                      "extra-familial exploitation": "Extra-familial exploitation"}
    nuff = cohort_store.nuffield_table(sample_db, rid, st.method, st.k)
    for c, true in to_truth.items():
        assert nuff["Nearest Nuffield FJO group"].iat[c - 1] == expected_group[true]
    by_truth = {to_truth[c]: name.lower() for c, name in st.names.items()}
    assert "exploitation" in by_truth["extra-familial exploitation"]
    assert "disab" in by_truth["disability-led"]
    assert "mental health" in by_truth["trauma-led"] or "self-harm" in by_truth["trauma-led"]


def test_edited_names_are_stored_and_survive_a_refit_with_the_same_k(sample_db, rid):
    before = cohort_store.stored(sample_db, rid)
    after = cohort_store.rename(sample_db, rid, {2: "  Children with disabilities  ", 3: before.names[3]})
    assert after.names[2] == "Children with disabilities" and after.edited[2]
    assert not after.edited[3] and after.names[1] == before.names[1]
    row = sample_db.query("SELECT name, edited FROM cohort_names WHERE round_id = $r AND cohort = 2", {"r": rid})
    assert row["name"].iat[0] == "Children with disabilities" and bool(row["edited"].iat[0])
    again = cohort_store.fit_and_store(sample_db, rid, k=3)
    assert again.names[2] == "Children with disabilities" and again.edited[2]
    assert cohort_store.children_csv(sample_db, rid).query("cohort == 2")["cohort_name"].eq(
        "Children with disabilities").all()
    # A blank name goes back to the automatic one.
    reset = cohort_store.rename(sample_db, rid, {2: ""})
    assert reset.names[2] == before.names[2] and not reset.edited[2]
    with pytest.raises(KeyError):
        cohort_store.rename(sample_db, rid, {7: "No such cohort"})


def test_edited_names_are_dropped_when_the_number_of_cohorts_changes(sample_db, rid):
    cohort_store.rename(sample_db, rid, {1: "Our name"})
    four = cohort_store.fit_and_store(sample_db, rid, k=4)
    assert four.k == 4 and len(four.names) == 4
    assert "Our name" not in four.names.values() and not any(four.edited.values())
    assert sample_db.scalar("SELECT max(cohort) FROM child_cohorts") == 4


def test_preview_of_another_method_leaves_the_stored_cohorts_alone(sample_db, rid):
    version = sample_db.version
    preview = cohort_store.assignment(sample_db, rid, "kmodes", 3)
    assert not preview.is_stored and preview.labels.between(1, 3).all() and len(preview.names) == 3
    assert sample_db.version == version  # nothing was written
    stored = cohort_store.assignment(sample_db, rid, "lca", 3)
    assert stored.is_stored
    # Storing (a new file version) does not refit: the fit is kept by data content.
    cohort_store.fit_and_store(sample_db, rid, "kmodes", 3)
    assert sample_db.version != version and cohort_store.is_fitted(sample_db, rid, "kmodes", 3)
    assert cohort_store.stored(sample_db, rid).method == "kmodes"
    assert cohort_store.assignment(sample_db, rid, "kmodes", 3).is_stored


def test_summary_matches_pandas(sample_db, rid):
    st = cohort_store.stored(sample_db, rid)
    sel = needs_view.Selection(Filters(round_id=rid))
    table = cohort_store.summary_table(sample_db, sel, method=st.method, k=st.k)
    kids = sample_db.query("SELECT la_code, child_id, placement_la_code, placement_lat, distance_km FROM children")
    lab = stored_labels(sample_db, rid).merge(kids, on=["la_code", "child_id"])
    costs = pd.read_csv(SAMPLE_DATA / "needs.csv", dtype={"child_id": str})[["child_id", "weekly_cost"]]
    lab = lab.merge(costs, on="child_id")
    for c, g in lab.groupby("cohort"):
        row = table.numeric.iloc[c - 1]
        assert row["Children"] == len(g)
        assert row["% of children"] == pytest.approx(len(g) / len(lab) * 100, abs=0.05)
        located = g[g["placement_lat"].notna()]
        outside = (located["placement_la_code"] != located["la_code"]).mean() * 100
        assert row["% outside own LA"] == pytest.approx(outside, abs=0.05)
        far = g[g["distance_km"].notna()]
        assert row["% over 20 miles"] == pytest.approx((far["distance_km"] > 32.187).mean() * 100, abs=0.05)
        assert row["Weekly cost (£)"] == pytest.approx(g["weekly_cost"].mean(), abs=0.5)
    assert table.display["Cohort"].iat[0].startswith("1. ")
    assert set(table.display["Nearest Nuffield FJO group"]) <= {
        "Disability-led", "Trauma-led multiple needs", "Extra-familial exploitation"} | {
        x for x in table.display["Nearest Nuffield FJO group"] if x.startswith("None clearly")}


def test_breakdowns_match_crosstabs_and_protect_small_counts(sample_db, rid):
    st = cohort_store.stored(sample_db, rid)
    sel = needs_view.Selection(Filters(round_id=rid))
    lab = stored_labels(sample_db, rid)
    by_la = cohort_store.breakdown_table(sample_db, sel, method=st.method, k=st.k, by="la")
    expected = pd.crosstab(lab["la_code"].map(region.la_name), lab["cohort"])
    cohort_cols = [c for c in by_la.display.columns if c[0].isdigit()]
    assert len(cohort_cols) == st.k and len(by_la.display) == 11
    for i, la in enumerate(by_la.display["LA"]):
        for j, col in enumerate(cohort_cols):
            n = expected.loc[la, j + 1]
            shown = by_la.display[col].iat[i]
            if 1 <= n < 5:
                assert shown == "<5"
            elif not by_la.mask[col].iat[i]:
                assert shown == n
        assert by_la.numeric["All cohorts"].iat[i] == expected.loc[la].sum()
    inner = by_la.mask[cohort_cols].to_numpy()
    # Secondary suppression: no row or column with exactly one hidden cell.
    assert not (inner.sum(axis=1) == 1).any() and not (inner.sum(axis=0) == 1).any()
    by_sex = cohort_store.breakdown_table(sample_db, sel, method=st.method, k=st.k, by="sex")
    assert by_sex.display["Sex"].tolist()[:2] == ["Female", "Male"]
    assert not by_sex.display[cohort_cols].astype(str).isin(["1", "2", "3", "4"]).any().any()


def test_small_view_hides_sizes_and_rates(sample_db, rid):
    st = cohort_store.stored(sample_db, rid)
    sel = needs_view.Selection(Filters(round_id=rid, **SMALL))
    table = cohort_store.summary_table(sample_db, sel, method=st.method, k=st.k)
    assert table.any
    assert not table.display["Children"].astype(str).isin(["1", "2", "3", "4"]).any()
    hidden = table.display["Children"].isin(["<5", "c"])
    for col in ("% outside own LA", "% over 20 miles", "Weekly cost (£)"):
        assert table.display.loc[hidden, col].isin(["<5", "c"]).all()
    own = Viewer(child_level_las=frozenset({SMALL["la"]}))
    open_table = cohort_store.summary_table(sample_db, sel, own, method=st.method, k=st.k)
    assert open_table.numeric["Children"].sum() == sample_db.scalar(
        "SELECT count(*) FROM children_enriched WHERE la_code = $la AND age_band = $b",
        {"la": SMALL["la"], "b": SMALL["age_band"]})


def test_profile_is_the_share_of_each_cohort_with_each_need(sample_db, rid):
    st = cohort_store.stored(sample_db, rid)
    prof = cohort_store.profile_table(sample_db, rid, st.method, st.k, "categories")
    X = needs_view.matrix(sample_db, needs_view.Selection(Filters(round_id=rid)), "categories")
    lab = stored_labels(sample_db, rid).set_index(["la_code", "child_id"])["cohort"].reindex(X.index)
    for c in range(1, st.k + 1):
        members = X[lab.to_numpy() == c]
        counts = members.sum()
        for need in X.columns:
            if 1 <= counts[need] < 5:
                assert prof.display.loc[c, need] == "<5"
            else:
                assert prof.numeric.loc[c, need] == pytest.approx(members[need].mean())
    csv = cohort_store.profile_csv(prof, st.names, cohort_store.cohort_sizes(sample_db, rid, st.method, st.k))
    assert csv["Cohort"].tolist() == [st.names[c] for c in range(1, st.k + 1)]
    assert "Risk to others" in csv.columns


def test_stability_is_high_on_the_sample_and_explained_in_words(sample_db, rid):
    st = cohort_store.stored(sample_db, rid)
    result = cohort_store.stability(sample_db, rid, st.method, st.k, n_boot=10)
    assert len(result["per_boot"]) == 10 and result["mean_ari"] >= 0.8
    verdict, words = cohort_store.stability_words(result)
    assert verdict == "Stable" and "10 resampled" in words and f"{result['mean_ari']:.2f}" in words
    assert cohort_store.stability_words({"mean_ari": 0.5, "per_boot": [0.5]})[0] == "Unstable"
    assert cohort_store.stability_words({"mean_ari": 0.7, "per_boot": [0.7]})[0] == "Fairly stable"


def test_cli_cohorts_writes_the_contract_csv_and_stores_them(sample_db, rid, tmp_path, capsys, truth):
    out = tmp_path / "cohorts.csv"
    sample_db.close()
    assert cli.main(["--db", str(sample_db.path), "cohorts", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "k=3" in printed and "chosen by BIC" in printed
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(df.columns) == ["child_id", "la", "cohort", "cohort_name"]
    assert len(df) == len(truth) and set(df["la"]) <= set(region.REGION_LAS.values())
    m = df.merge(truth[["child_id", "cohort"]], on="child_id", suffixes=("", "_true"))
    assert adjusted_rand_score(m["cohort_true"], m["cohort"]) >= 0.8
    assert cli.main(["--db", str(sample_db.path), "cohorts", "--k", "5", "--round", "2024 sample",
                     "--out", str(out)]) == 0
    assert "k=5 (as requested" in capsys.readouterr().out
    assert pd.read_csv(out, encoding="utf-8-sig")["cohort"].nunique() == 5
    assert cohort_store.stored(sample_db, rid).k == 5
    assert cli.main(["--db", str(sample_db.path), "cohorts", "--k", "12", "--out", str(out)]) == 2
    assert cli.main(["--db", str(sample_db.path), "cohorts", "--round", "1999", "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["cohort_summary", "cohort_profiles", "cohort_by_la", "cohort_nuffield"])
def test_cohort_extracts(sample_db, name):
    data = extracts.export(sample_db, name, viewer=Viewer())
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(df) >= 3
    counts = [c for c in df.columns if c == "Children" or c[0].isdigit() or c == "All cohorts"]
    assert not df[counts].isin(["1", "2", "3", "4"]).any().any()


def test_cohort_extracts_need_stored_cohorts(sample_db):
    with sample_db.write() as con:
        con.execute("DELETE FROM cohort_fits")
    with pytest.raises(KeyError, match="audit cohorts"):
        extracts.export(sample_db, "cohort_summary", viewer=Viewer())


# --- one fit per round, however many visitors ask at once -------------------------------------------
def test_visitors_asking_together_share_one_fit_and_see_its_progress():
    import threading
    import time

    calls, seen = [], {1: [], 2: []}
    started = threading.Event()

    def slow(progress):
        calls.append(1)
        started.set()
        for i in range(1, 6):
            progress(i / 5, f"step {i}")
            time.sleep(0.25)
        return "fit"

    key = ("test-single-flight", time.time())
    out = {}
    first = threading.Thread(target=lambda: out.setdefault(1, cohort_store._memo(key, slow, lambda f, t: seen[1].append(t))))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: out.setdefault(2, cohort_store._memo(key, slow, lambda f, t: seen[2].append(t))))
    second.start()
    first.join(10), second.join(10)
    assert out == {1: "fit", 2: "fit"} and len(calls) == 1
    assert seen[2] and all("another visitor" in t for t in seen[2])  # the waiter was shown the first fit's progress


def test_a_fit_that_stops_is_taken_over_by_the_next_visitor():
    import threading
    import time

    class Left(BaseException):
        """Streamlit stops a script run with an exception when its visitor leaves."""

    calls = []
    started = threading.Event()

    def stopped(progress):
        calls.append("stopped")
        started.set()
        time.sleep(0.3)
        raise Left()

    key = ("test-takeover", time.time())
    failed = []
    t = threading.Thread(target=lambda: failed.append(pytest.raises(Left, cohort_store._memo, key, stopped)))
    t.start()
    started.wait(5)
    assert cohort_store._memo(key, lambda p: calls.append("again") or "fit") == "fit"
    t.join(5)
    assert calls == ["stopped", "again"] and failed


def test_importing_a_round_fits_and_stores_its_cohorts(tmp_path, capsys, truth):
    from audit.db import Database

    db_path = tmp_path / "a.duckdb"
    for kind, files in (("homes", ["homes.csv"]), ("needs", ["needs.csv"])):
        extra = ["--round", "2025 Q1"] if kind == "needs" else []
        assert cli.main(["import", kind, *[str(SAMPLE_DATA / f) for f in files], *extra, "--db", str(db_path)]) == 0
    db = Database(db_path)
    rid = int(db.q("rounds")["round_id"].iat[0])
    st = cohort_store.stored(db, rid)
    assert st is not None and st.k == 3  # no visitor of the Cohorts page has to wait for a fit
    assert ari_vs_truth(stored_labels(db, rid), truth) >= 0.8
