"""AppTest: the matching and planning page runs on the sample, reads its inputs from the URL and writes them back."""

from audit import matching, planner
from tests.apptest_support import metrics, qp, run_page, table_with


def test_defaults_show_matching_and_a_plan_and_go_into_the_url(app, sample_db):
    at = run_page(app, "pages/planner.py")
    assert at.number_input(key="plan_homes").value == 3
    assert at.number_input(key="plan_places").value == 4
    assert at.slider(key="plan_miles").value == 20
    assert qp(at, "homes") == "3" and qp(at, "places") == "4" and qp(at, "miles") == "20"
    res = matching.matching(sample_db, 1)
    c = matching.counts(res.children)
    kp = metrics(at)
    assert kp["Children in the round"] == f"{c['children']:,}"
    assert kp["Within 20 miles"] == f"{c['reach_near']:,}"
    pairs = [(m.label, m.value) for m in at.metric]
    assert ("Placed within 20 miles", f"{c['placed_near']:,}") in pairs              # matching, places shared
    assert any(label == "Placed within 20 miles" and value.startswith(f"{c['placed_near']:,} → ")
               for label, value in pairs)                                            # planner: before → after
    by_la = table_with(at, "Could: within 20 mi")
    assert len(by_la) == 11
    assert not by_la.isin(["1", "2", "3", "4"]).any().any()
    homes = table_with(at, "Brought within reach")
    plan = planner.make_plan(sample_db, 1, 3, 4)
    assert homes["Town"].tolist() == plan.sites["town"].tolist()
    assert set(homes["Brought within reach"]) <= {"<5"}   # 4 places: never 5 or more
    assert f"{plan.candidates:,}" == kp["Children to bring closer"]


def test_deep_link_to_a_need_and_bigger_homes(app, sample_db):
    at = run_page(app, "pages/planner.py", homes="2", places="8", **{"for": "sexual_exploitation"}, miles="25")
    assert at.selectbox(key="plan_for").value == "category:sexual_exploitation"
    assert at.slider(key="plan_miles").value == 25
    assert qp(at, "for") == "category:sexual_exploitation"
    homes = table_with(at, "Brought within reach")
    plan = planner.make_plan(sample_db, 1, 2, 8, "category:sexual_exploitation", 25 * matching.MILE_KM)
    assert homes["Town"].tolist() == plan.sites["town"].tolist()
    assert homes["Brought within reach"].tolist() == [str(n) for n in plan.sites["children"]]
    assert "Within 25 miles" in metrics(at)
    before_after = table_with(at, "Within 25 mi, new homes")
    assert before_after["Children"].tolist() == ["Children with: Sexual exploitation", "All children"]


def test_unknown_target_is_reported_and_la_filter_sites_homes_in_that_la(app, sample_db):
    at = run_page(app, "pages/planner.py", la="Norfolk", **{"for": "nonsense"})
    assert any("nonsense" in w.value for w in at.warning)
    assert at.selectbox(key="plan_for").value == planner.ALL
    homes = table_with(at, "Brought within reach")
    assert set(homes["LA"]) == {"Norfolk"}
    n = sample_db.scalar("SELECT count(*) FROM children WHERE la_code = 'E10000020'")
    assert metrics(at)["Children in the round"] == f"{n:,}"


def test_meeting_mode_and_cohorts_table(app):
    at = run_page(app, "pages/planner.py", meeting="1")
    assert at.sidebar.toggle[0].value is True
    # The sample's cohorts are fitted on build, so the cohort table is there.
    cohorts = table_with(at, "Cohort")
    assert len(cohorts) >= 2
    assert not cohorts.isin(["1", "2", "3", "4"]).any().any()
