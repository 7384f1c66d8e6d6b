"""AppTest: the overview page runs on the sample, honours query parameters and meeting mode."""

import pytest

from tests.apptest_support import metrics, qp, tile_rows


@pytest.fixture
def app(make_app):
    return make_app()


def test_overview_shows_kpis_table_and_banner(app, make_app, sample_db):
    at = app.run()
    assert not at.exception
    kp = metrics(at)
    n = sample_db.scalar("SELECT count(*) FROM children")
    assert kp["Children in the audit"] == f"{n:,}"
    assert kp["Homes in region"] == f"{sample_db.scalar('SELECT count(*) FROM homes'):,}"
    assert any("Synthetic sample data" in w.value for w in at.warning)
    # The map is the first view; the chart is the other, and its LA table waits behind an expander.
    assert not at.dataframe and not at.get("vega_lite_chart") and qp(at, "view") is None
    assert any("Ofsted grade" in c.value for c in at.caption)
    by_la = make_app(view="Children by LA").run()
    assert len(by_la.get("vega_lite_chart")) == 1 and not by_la.dataframe
    at = make_app(view="Children by LA", state={"overview_table_open": True}).run()
    table = at.dataframe[0].value
    assert len(table) == 11 and "Children" in table.columns
    assert at.query_params.get("round") == ["2024 sample"] or at.query_params.get("round") == "2024 sample"


def test_deep_link_to_an_la_filters_everything(app, sample_db):
    app.query_params["la"] = "Norfolk"
    at = app.run()
    assert not at.exception
    assert at.sidebar.selectbox[1].value == "Norfolk"
    n = sample_db.scalar("SELECT count(*) FROM children WHERE la_code = 'E10000020'")
    assert metrics(at)["Children in the audit"] == f"{n:,}"
    assert "Homes in LA" in metrics(at)


def test_unknown_la_in_link_is_reported_not_fatal(app):
    app.query_params["la"] = "Atlantis"
    at = app.run()
    assert not at.exception
    assert any("Atlantis" in w.value for w in at.sidebar.warning)


def test_meeting_mode_from_link(app):
    app.query_params["meeting"] = "1"
    at = app.run()
    assert not at.exception
    assert at.sidebar.toggle[0].value is True


def test_meeting_mode_shows_three_large_tiles_and_lists_the_rest(make_app):
    # A shared screen gives its first screen to the map: three large tiles, the other figures after the visual.
    normal = make_app().run()
    meeting = make_app(meeting="1").run()
    assert not normal.exception and not meeting.exception
    assert tile_rows(normal) == [4, 4]
    assert tile_rows(meeting) == [3]
    also = next(m.value for m in meeting.markdown if m.value.startswith("**Also:**"))
    shown = metrics(normal)
    for label, value in list(shown.items())[3:]:
        assert f"{label} **{value}**" in also


def test_age_band_filter_changes_counts(make_app, sample_db):
    at = make_app(state={"f_age": "16-17"}).run()
    assert at.query_params["age"] in ("16-17", ["16-17"])
    assert not at.exception
    n = sample_db.scalar("SELECT count(*) FROM children WHERE age BETWEEN 16 AND 17")
    assert metrics(at)["Children in the audit"] == f"{n:,}"


def test_banner_stops_saying_no_real_children_once_a_real_round_is_viewed(make_app, sample_db):
    from audit.intake import needs as import_needs
    from audit.paths import SAMPLE_DATA

    import_needs.load(sample_db, SAMPLE_DATA / "needs.csv", "2025 Q1")  # loaded as an LA's own round
    sample_db.close()
    # A database holding a real round asks for sign-in (issue 18): an administrator views both rounds.
    from tests.apptest_support import add_accounts, signed_in_as

    admin = signed_in_as(add_accounts(sample_db)["administrator"])
    sample = make_app(round="2024 sample", state=admin).run()
    assert any("describe no real children" in w.value for w in sample.warning)
    real = make_app(round="2025 Q1", state=admin).run()
    assert not real.exception
    assert not any("describe no real children" in w.value for w in real.warning)
    assert any("'2025 Q1' is your own data" in i.value and "synthetic sample" in i.value for i in real.info)
