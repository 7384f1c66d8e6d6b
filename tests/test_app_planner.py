"""AppTest: the matching and planning page runs on the sample, reads its inputs from the URL and writes them back."""

from audit.analysis import matching
from audit.analysis import planner
from tests.apptest_support import metrics, qp, run_page, table_with

PAGE = "pages/planner.py"
VIEWS = ["Matching", "Needs in the way", "By cohort", "Planning new homes", "Costs", "Scenarios"]
PLAN = "Planning new homes"


def test_defaults_show_matching_and_a_plan_and_go_into_the_url(app, sample_db):
    res = matching.matching(sample_db, 1)
    c = matching.counts(res.children)
    plan = planner.make_plan(sample_db, 1, 3, 4)

    at = run_page(app, PAGE)   # the first view: matching
    assert at.slider(key="plan_miles").value == 20
    # The plan's inputs are drawn in another view, yet their values are in the URL from this one.
    assert qp(at, "homes") == "3" and qp(at, "places") == "4" and qp(at, "miles") == "20"
    kp = metrics(at)
    assert kp["Children in the round"] == f"{c['children']:,}"
    assert kp["Within 20 miles"] == f"{c['reach_near']:,}"
    assert kp["Placed within 20 miles"] == f"{c['placed_near']:,}"                  # matching, places shared
    by_la = table_with(at, "Could: within 20 mi")
    assert len(by_la) == 11
    assert not by_la.isin(["1", "2", "3", "4"]).any().any()

    at = run_page(app, PAGE, view=PLAN)
    assert at.number_input(key="plan_homes").value == 3
    assert at.number_input(key="plan_places").value == 4
    assert qp(at, "homes") == "3" and qp(at, "places") == "4" and qp(at, "miles") == "20"
    kp = metrics(at)
    assert kp["Placed within 20 miles"].startswith(f"{c['placed_near']:,} → ")      # planner: before → after
    homes = table_with(at, "Brought within reach")
    assert homes["Town"].tolist() == plan.sites["town"].tolist()
    assert set(homes["Brought within reach"]) <= {"<5"}   # 4 places: never 5 or more
    assert f"{plan.candidates:,}" == kp["Children to bring closer"]


def test_deep_link_to_a_need_and_bigger_homes(app, sample_db):
    link = dict(homes="2", places="8", miles="25", **{"for": "sexual_exploitation"})
    at = run_page(app, PAGE, view=PLAN, **link)
    assert at.selectbox(key="plan_for").value == "category:sexual_exploitation"
    assert at.slider(key="plan_miles").value == 25
    assert qp(at, "for") == "category:sexual_exploitation"
    homes = table_with(at, "Brought within reach")
    plan = planner.make_plan(sample_db, 1, 2, 8, "category:sexual_exploitation", 25 * matching.MILE_KM)
    assert homes["Town"].tolist() == plan.sites["town"].tolist()
    assert homes["Brought within reach"].tolist() == [str(n) for n in plan.sites["children"]]
    before_after = table_with(at, "Within 25 mi, new homes")
    assert before_after["Children"].tolist() == ["Children with: Sexual exploitation", "All children"]

    # The same link opened at the matching view: its figures use the link's distance, and the plan's
    # inputs (not drawn here) stay in the URL as the link gave them.
    at = run_page(app, PAGE, **link)
    assert "Within 25 miles" in metrics(at)
    assert (qp(at, "homes"), qp(at, "places"), qp(at, "for")) == ("2", "8", "category:sexual_exploitation")


def test_unknown_target_is_reported_and_la_filter_sites_homes_in_that_la(app, sample_db):
    at = run_page(app, PAGE, view=PLAN, la="Norfolk", **{"for": "nonsense"})
    assert any("nonsense" in w.value for w in at.warning)
    assert at.selectbox(key="plan_for").value == planner.ALL
    homes = table_with(at, "Brought within reach")
    assert set(homes["LA"]) == {"Norfolk"}
    assert any("Norfolk chosen" in c.value and "whole region" in c.value for c in at.caption)

    at = run_page(app, PAGE, la="Norfolk", **{"for": "nonsense"})
    assert any("nonsense" in w.value for w in at.warning)   # reported whichever view the link opens
    n = sample_db.scalar("SELECT count(*) FROM children WHERE la_code = 'E10000020'")
    assert metrics(at)["Children in the round"] == f"{n:,}"


def test_meeting_mode_and_cohorts_table(app):
    at = run_page(app, PAGE, meeting="1", view="By cohort")
    assert at.sidebar.toggle[0].value is True
    # The sample's cohorts are fitted on build, so the cohort table is there.
    cohorts = table_with(at, "Cohort")
    assert len(cohorts) >= 2
    assert not cohorts.isin(["1", "2", "3", "4"]).any().any()


def test_default_view_is_matching_and_a_link_opens_another_view(app):
    at = run_page(app, PAGE)
    assert [t.label for t in at.tabs] == VIEWS
    assert at.session_state["view"] == "Matching" and qp(at, "view") is None
    assert [d.value.columns[0] for d in at.dataframe] == ["LA"]          # the by-LA table only
    assert not at.number_input and "plan_for" not in [s.key for s in at.selectbox]  # the plan's inputs are not drawn
    assert not any("A home matches a child" in m.value for m in at.markdown)  # the method: closed
    opened = run_page(app, PAGE, state={"plan_matching_method_open": True})
    assert any(m.value.startswith("Matching starts from today's placements") and "within 20 miles" in m.value
               for m in opened.markdown)

    needs = run_page(app, PAGE, view="Needs in the way")
    assert needs.session_state["view"] == "Needs in the way"
    assert not [d for d in needs.dataframe if "Could: within 20 mi" in d.value.columns]
    assert not [m for m in needs.metric if m.label == "Children in the round"]   # matching's tiles are not drawn
    assert any("kept from one by a single need" in c.value for c in needs.caption)
    assert len(needs.dataframe) == 1


def test_plan_inputs_are_kept_while_another_view_is_open(app):
    at = run_page(app, PAGE, view=PLAN, homes="2")
    at.number_input(key="plan_homes").set_value(5)
    at.number_input(key="plan_places").set_value(6)
    at.selectbox(key="plan_for").set_value("category:sexual_exploitation")
    at.run()
    assert not at.exception
    del at.query_params["view"]
    at.session_state["view"] = "Matching"    # as a click on the first tab does
    at.run()
    assert not at.exception and at.session_state["view"] == "Matching" and not at.number_input
    assert (qp(at, "homes"), qp(at, "places"), qp(at, "for")) == ("5", "6", "category:sexual_exploitation")
    at.query_params["view"] = PLAN           # and back to the plan
    at.run()
    assert not at.exception
    assert at.number_input(key="plan_homes").value == 5 and at.number_input(key="plan_places").value == 6
    assert at.selectbox(key="plan_for").value == "category:sexual_exploitation"


def test_matching_starts_from_today_and_the_free_scenario_is_labelled(app, sample_db):
    res = matching.matching(sample_db, 1)
    c = matching.counts(res.children)
    at = run_page(app, PAGE)
    kp = metrics(at)
    assert kp["Settled today"] == f"{c['settled']:,}" and kp["To bring closer"] == f"{c['to_move']:,}"
    assert kp["Placed within 20 miles"] == f"{c['placed_near']:,}"
    assert any("From today's placements" in x.value for x in at.caption)
    free = run_page(app, PAGE, free="1")
    assert free.toggle(key="plan_free").value is True and qp(free, "free") == "1"
    f = matching.counts(matching.matching(sample_db, 1, mode="free").children)
    assert metrics(free)["Placed within 20 miles"] == f"{f['placed_near']:,}"
    assert any("if every place were free" in x.value for x in free.caption)


def test_norfolk_plan_for_norfolks_children_shows_norfolks_figures_and_says_who(app, sample_db):
    at = run_page(app, PAGE, view=PLAN, la="Norfolk", own="1")
    assert at.toggle(key="plan_own").value is True and qp(at, "own") == "1"
    plan = planner.make_plan(sample_db, 1, 3, 4, la="E10000020", for_la=True)
    kp = metrics(at)
    assert kp["Children to bring closer"] == f"{plan.candidates:,}"
    f = planner.figures(plan).iloc[0]
    assert kp["Placed within 20 miles"] == f"{f['near_before']:,} → {f['near_after']:,}"
    homes = table_with(at, "Why here")
    assert set(homes["LA"]) == {"Norfolk"} and homes["Town"].nunique() == len(homes)
    assert any(m.value.startswith("Planned for: All children in Norfolk") for m in at.markdown)
    assert any("Exact plan (HiGHS MILP" in c.value for c in at.caption)
    assert table_with(at, "Within 20 mi, new homes")["Children"].tolist() == ["All children in Norfolk"]


def test_costs_view_adds_up_and_the_plan_shows_its_cost(app, sample_db):
    from audit.analysis import costs

    at = run_page(app, PAGE, view="Costs")
    total = sample_db.scalar("SELECT sum(weekly_cost) FROM children WHERE round_id = 1")
    assert metrics(at)["Weekly cost"] == f"£{total:,.0f}"
    by = table_with(at, "Weekly cost (£)")
    assert "Cohort" in by.columns
    assert any("Every child's weekly cost is recorded" in c.value for c in at.caption)

    at = run_page(app, PAGE, view=PLAN)
    fee = costs.default_place_cost(sample_db)
    assert at.number_input(key="plan_cost").value == round(fee)
    kp = metrics(at)
    assert kp["Running cost a year"] == f"£{12 * round(fee) * 52:,.0f}"
    assert {"Saving a year", "Children brought closer", "Miles saved (moved in)"} <= set(kp)


def test_two_saved_scenarios_compare_side_by_side(app, sample_db):
    from audit.analysis import costs, scenarios

    at = run_page(app, PAGE, view="Scenarios")
    assert any("No saved scenarios" in i.value for i in at.info)
    for name, homes, places in (("Three small", 3, 4), ("Five big", 5, 8)):
        plan = planner.make_plan(sample_db, 1, homes, places)
        scenarios.save(sample_db, 1, name, plan, costs.plan_cost(plan, costs.child_costs(sample_db, 1), 5000.0))
    at = run_page(app, PAGE, view="Scenarios")
    assert at.multiselect(key="scenario_pick").value == ["Five big", "Three small"]
    t = table_with(at, "Figure")
    assert list(t.columns) == ["Figure", "Five big", "Three small"]
    assert "Saving a year" in t["Figure"].tolist()


def test_saving_a_plan_from_the_page(app, sample_db):
    from audit.analysis import scenarios

    at = run_page(app, PAGE, view=PLAN, state={"scenario_name": "From the page"})
    at.button(key="scenario_save").click().run()
    assert not at.exception
    assert any("Saved 'From the page'" in s.value for s in at.success)
    assert scenarios.saved(sample_db, 1)["name"].tolist() == ["From the page"]
