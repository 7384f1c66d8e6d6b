"""AppTest: the provision map page runs on the sample, reads its pickers from the URL and writes them back."""

import pandas as pd

from tests.apptest_support import markdown_tables, metrics, plant_exploitation_cohort, qp, run_page

NORFOLK = "E10000020"
STRATEGY_GAP_TOWNS = {"Fakenham", "Swaffham", "East Dereham", "Downham Market", "Thetford"}
RANKED = "Towns ranked by gap"
METHOD_OPEN = {"map_method_open": True}


def gap_table(at):
    # Meeting mode draws the key columns only (no District) as a plain table.
    return next(d.value for d in [*at.dataframe, *at.table] if "Gap score" in d.value.columns and "Town" in d.value.columns)


def side_panel(at):
    """The static 'Largest gaps in view' table beside the map (towns as its index)."""
    assert any(m.value == "#### Largest gaps in view" for m in at.markdown)
    return markdown_tables(at)[0].set_index("Town")


def test_deep_link_to_norfolk_short_breaks_semh(app, sample_db):
    at = run_page(app, "pages/map.py", state=METHOD_OPEN, la="Norfolk", service="short-breaks", need="SEMH",
                  view=RANKED)
    assert at.radio(key="map_service").value == "short-breaks"
    assert at.selectbox(key="map_need").value == "sen:SEMH"
    assert at.slider(key="map_km").value == 15
    n = sample_db.scalar("SELECT count(*) FROM shortbreak_children WHERE la_code = $la AND primary_need = 'SEMH'",
                         {"la": NORFOLK})
    assert metrics(at)["Children who need it"] == f"{n:,}"
    table = gap_table(at)
    assert set(table["LA"]) == {"Norfolk"}
    assert len(STRATEGY_GAP_TOWNS & set(table["Town"].head(10))) >= 3
    assert not table["Children"].isin(["1", "2", "3", "4"]).any()
    assert any("two-step floating catchment" in m.value for m in at.markdown)
    assert qp(at, "need") == "sen:SEMH" and qp(at, "la") == "Norfolk" and qp(at, "view") == RANKED


def test_defaults_are_residential_20_miles_and_go_into_the_url(app, sample_db):
    at = run_page(app, "pages/map.py")
    assert at.radio(key="map_service").value == "residential"
    assert at.slider(key="map_km").value == 32
    assert qp(at, "service") == "residential" and qp(at, "km") == "32" and qp(at, "decay") == "gaussian"
    assert metrics(at)["Matching homes"] == f"{sample_db.scalar('SELECT count(*) FROM homes'):,}"
    assert "Over 20 miles from home" in metrics(at)


def test_switching_service_resets_need_and_catchment(app):
    at = run_page(app, "pages/map.py", need="cse", km="40")
    assert at.selectbox(key="map_need").value == "code:cse" and at.slider(key="map_km").value == 40
    at.radio(key="map_service").set_value("short-breaks").run()
    assert not at.exception
    assert at.selectbox(key="map_need").value == ""
    assert at.slider(key="map_km").value == 15
    assert qp(at, "service") == "short-breaks" and qp(at, "km") == "15"


def test_catchment_and_decay_from_the_link_change_the_method_note(app):
    at = run_page(app, "pages/map.py", state=METHOD_OPEN, service="short-breaks", km="20", decay="step")
    assert at.slider(key="map_km").value == 20 and at.selectbox(key="map_decay").value == "step"
    assert any("20 km (12 miles)" in m.value and "counts the same anywhere" in m.value for m in at.markdown)
    # The decay is chosen beside the method note; a new choice changes the analysis and the link.
    at.selectbox(key="map_decay").set_value("linear").run()
    assert not at.exception and qp(at, "decay") == "linear"
    assert not any("counts the same anywhere" in m.value for m in at.markdown)
    # Closed, the note and its picker are not drawn, and the choice is kept.
    at = run_page(app, "pages/map.py", decay="linear")
    assert not [s for s in at.selectbox if s.key == "map_decay"] and qp(at, "decay") == "linear"


def test_unknown_need_is_reported_not_fatal(app):
    at = run_page(app, "pages/map.py", need="unicorns")
    assert any("unicorns" in w.value for w in at.warning)
    assert at.selectbox(key="map_need").value == ""


def test_cohort_from_the_link_when_cohorts_exist(app, sample_db):
    rid = int(sample_db.q("rounds")["round_id"].iat[0])
    plant_exploitation_cohort(sample_db, rid)
    # DuckDB shares one instance per path within a process: close ours so the app opens the new file.
    sample_db.close()
    at = run_page(app, "pages/map.py", need="cohort:1")
    assert at.selectbox(key="map_need").value == "cohort:1"
    n = sample_db.scalar("SELECT count(*) FROM child_cohorts WHERE cohort = 1")
    assert metrics(at)["Children who need it"] == f"{n:,}"


def test_meeting_mode_and_age_band(app, sample_db):
    n = sample_db.scalar("SELECT count(*) FROM children WHERE age BETWEEN 13 AND 15")
    for view in ("Map", RANKED):  # each view draws its own table of towns: both suppress small numbers
        at = run_page(app, "pages/map.py", meeting="1", age="13-15", view=view)
        assert metrics(at)["Children who need it"] == f"{n:,}"
        shown = side_panel(at) if view == "Map" else gap_table(at)
        assert len(shown) and not shown["Children"].isin(["1", "2", "3", "4"]).any()


def test_default_view_is_the_map_and_a_link_opens_the_ranked_towns(app):
    at = run_page(app, "pages/map.py")
    assert [t.label for t in at.tabs] == ["Map", RANKED]
    assert at.session_state["view"] == "Map" and qp(at, "view") is None   # the first view keeps the URL clean
    panel = side_panel(at)
    assert not [d for d in at.dataframe if "Gap score" in d.value.columns]  # the ranked table is not drawn
    # The method is behind a closed expander: its text is not drawn until it is opened.
    assert not any("two-step floating catchment" in m.value for m in at.markdown)

    ranked = run_page(app, "pages/map.py", view=RANKED)
    assert ranked.session_state["view"] == RANKED
    table = gap_table(ranked)
    assert not markdown_tables(ranked) and not any(m.value == "#### Largest gaps in view" for m in ranked.markdown)
    # Same data, two views: the panel beside the map lists the top of the ranked table.
    top = table.head(len(panel))
    assert panel.index.tolist() == top["Town"].tolist()
    assert panel["Gap score"].tolist() == top["Gap score"].astype(str).tolist()
    assert metrics(ranked) == metrics(at)   # the tiles above the views do not depend on the view


def test_ranked_view_lists_only_the_towns_with_a_gap_under_their_count(app):
    at = run_page(app, "pages/map.py", view=RANKED)
    count = int(metrics(at)["Towns with a gap"].replace(",", ""))
    assert any(m.value == f"**Towns with a gap: {count}**" for m in at.markdown)
    table = gap_table(at)
    scores = pd.to_numeric(table["Gap score"], errors="coerce")
    assert len(table) <= count and (scores.dropna() >= 1).all()
    every = run_page(app, "pages/map.py", view=RANKED, state={"map_all_towns": True})
    assert len(gap_table(every)) > len(table)  # towns with children but no gap are there on request
