"""AppTest: the cohorts page shows the stored cohorts, previews another k or method from the URL, stores and renames."""

from __future__ import annotations

import streamlit as st

from audit.analysis import cohort_store
from tests.apptest_support import qp, table_with

NORFOLK = "E10000020"


def open_cohorts(make_app, state: dict | None = None, **query):
    """Open the cohorts page with those URL parameters (a deep link into a fresh session)."""
    # The app's Database is a process-wide cache_resource: drop the previous test's file.
    st.cache_resource.clear()
    at = make_app("pages/cohorts.py", state=state, **query).run()
    assert not at.exception, at.exception
    return at


def rid(db) -> int:
    return int(db.q("rounds")["round_id"].iat[0])


def test_stored_cohorts_are_shown_with_bic_stability_and_tables(make_app, sample_db):
    at = open_cohorts(make_app)
    stored = cohort_store.stored(sample_db, rid(sample_db))
    assert any("stored cohorts for this round" in s.value for s in at.success)
    assert at.selectbox(key="cohort_k").value == 0 and at.radio(key="cohort_method").value == "lca"
    # The first view is the profile heatmap alone: the other views are drawn only when opened.
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "All children" in charts[0].proto.spec
    assert not at.dataframe and not [m for m in at.metric if m.label.startswith("Stability")]

    choosing = open_cohorts(make_app, view="How many cohorts")
    assert len(choosing.get("vega_lite_chart")) == 1 and "BIC" in choosing.get("vega_lite_chart")[0].proto.spec
    stab = next(m for m in choosing.metric if m.label.startswith("Stability"))
    assert float(stab.value) >= 0.8
    assert any("adjusted Rand index" in m.value for m in choosing.markdown)

    each = open_cohorts(make_app, view="Each cohort")
    summary = table_with(each, "% outside own LA")
    assert summary["Cohort"].tolist() == [f"{c}. {stored.names[c]}" for c in range(1, stored.k + 1)]
    assert summary["Children"].astype(int).sum() == sample_db.scalar("SELECT count(*) FROM children")
    by_la = table_with(each, "LA")
    assert len(by_la) == 11
    by_sex = table_with(open_cohorts(make_app, view="Each cohort", by="By sex"), "Sex")
    assert len(by_sex) >= 2 and "LA" not in by_sex.columns  # the split the link asked for, not the LA one

    nuffield = table_with(open_cohorts(make_app, view="Compared with Nuffield"), "Nearest Nuffield FJO group")
    assert set(nuffield["Nearest Nuffield FJO group"]) == {
        "Disability-led", "Trauma-led multiple needs", "Extra-familial exploitation"}
    assert qp(at, "method") is None and qp(at, "k") is None and qp(at, "view") is None
    assert qp(nuffield_at := open_cohorts(make_app, view="Compared with Nuffield"), "view") == "Compared with Nuffield"
    assert not nuffield_at.get("vega_lite_chart")


def test_link_to_kmodes_with_four_previews_then_stores(make_app, sample_db):
    at = open_cohorts(make_app, method="kmodes", k="4", view="Each cohort")
    assert at.radio(key="cohort_method").value == "kmodes" and at.selectbox(key="cohort_k").value == 4
    assert any(i.value.startswith("Preview") for i in at.info)
    assert len(table_with(at, "% outside own LA")) == 4
    assert cohort_store.stored(sample_db, rid(sample_db)).k == 3  # a preview writes nothing
    assert qp(at, "method") == "kmodes" and qp(at, "k") == "4"
    # DuckDB hands a new connection the instance an open one already has, even after the file was
    # replaced, so the test lets go of its reader before the app writes.
    sample_db.close()
    store = next(b for b in at.button if b.label.startswith("Store these 4 cohorts"))
    store.click().run()
    assert not at.exception
    stored = cohort_store.stored(sample_db, rid(sample_db))
    assert (stored.method, stored.k) == ("kmodes", 4)
    assert sample_db.scalar("SELECT count(DISTINCT cohort) FROM child_cohorts") == 4


def test_renaming_a_cohort_is_saved(make_app, sample_db):
    at = open_cohorts(make_app, state={"cohort_rename_open": True})
    at.text_input(key="cohort_name_2").set_value("Children with disabilities")
    next(b for b in at.button if b.label == "Save names").click().run()
    assert not at.exception
    stored = cohort_store.stored(sample_db, rid(sample_db))
    assert stored.names[2] == "Children with disabilities" and stored.edited[2]
    assert "2. Children with disabilities" in table_with(open_cohorts(make_app, view="Each cohort"),
                                                         "% outside own LA")["Cohort"].tolist()


def test_la_filter_counts_that_las_children(make_app, sample_db):
    at = open_cohorts(make_app, la="Norfolk", level="codes", view="Each cohort")
    assert at.radio(key="cohort_level").value == "codes"
    summary = table_with(at, "% outside own LA")
    n = sample_db.query("SELECT cohort, count(*) AS n FROM child_cohorts WHERE la_code = $la GROUP BY 1 ORDER BY 1",
                        {"la": NORFOLK})
    shown = summary["Children"].tolist()
    for c, count in zip(n["cohort"], n["n"]):
        assert shown[c - 1] == ("<5" if count < 5 else str(count)) or shown[c - 1] == "c"
    assert table_with(at, "LA")["LA"].tolist() == ["Norfolk"]


def test_round_without_cohorts_is_fitted_on_first_visit(make_app, sample_db):
    with sample_db.write() as con:
        for t in ("child_cohorts", "cohort_fits", "cohort_names"):
            con.execute(f"DELETE FROM {t}")
    at = open_cohorts(make_app)
    assert any("stored cohorts for this round" in s.value for s in at.success)
    stored = cohort_store.stored(sample_db, rid(sample_db))
    assert stored is not None and stored.k == 3


def test_unknown_k_in_the_link_is_reported(make_app):
    at = open_cohorts(make_app, k="12", method="magic")
    notes = [w.value for w in at.warning]
    assert any("'12'" in n for n in notes) and any("magic" in n for n in notes)
    assert at.selectbox(key="cohort_k").value == 0 and at.radio(key="cohort_method").value == "lca"


def _shrink_round(db, keep: list[str]) -> None:
    """Leave only these children in the round, with no cohorts fitted (as a small test upload would)."""
    r = rid(db)
    ids = ", ".join(f"'{c}'" for c in keep)
    with db.write() as con:
        for table in ("child_needs", "child_cohorts", "children"):
            con.execute(f"DELETE FROM {table} WHERE round_id = ? AND child_id NOT IN ({ids})", [r])
        for table in ("child_cohorts", "cohort_fits", "cohort_names"):
            con.execute(f"DELETE FROM {table} WHERE round_id = ?", [r])


def test_a_round_of_two_children_gets_cohorts_or_a_message_not_a_traceback(make_app, sample_db):
    # Two children with different needs: two patterns, so at most two cohorts (stepmix raised a ValueError at k=3).
    children = sample_db.query("SELECT child_id, n_needs FROM children_enriched ORDER BY n_needs, child_id")
    _shrink_round(sample_db, [children["child_id"].iat[0], children["child_id"].iat[-1]])
    sample_db.close()
    at = open_cohorts(make_app)
    assert at.selectbox(key="cohort_k").options == ["Lowest BIC (2)", "2"]


def test_a_round_whose_children_share_one_pattern_says_there_are_no_cohorts(make_app, sample_db):
    one = sample_db.query("SELECT child_id FROM children ORDER BY child_id LIMIT 1")["child_id"].iat[0]
    _shrink_round(sample_db, [one])
    sample_db.close()
    at = open_cohorts(make_app)
    assert any("No cohorts for this round" in i.value and "1 distinct pattern" in i.value for i in at.info)
