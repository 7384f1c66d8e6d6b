"""AppTest: the co-occurring needs page reads its view from the URL, writes it back and shows every chart with its CSV."""

from __future__ import annotations

import streamlit as st

from tests.apptest_support import qp


NORFOLK = "E10000020"


def open_needs(make_app, state: dict | None = None, **query):
    """Open the needs page with those URL parameters (a deep link into a fresh session)."""
    # The app's Database is a process-wide cache_resource: drop the previous test's file.
    st.cache_resource.clear()
    at = make_app("pages/needs.py", state=state, **query).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> list[tuple[str, str]]:
    from tests.apptest_support import also_figures

    return [(m.label, m.value) for m in at.metric] + list(also_figures(at).items())


def charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def downloads(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_default_view_shows_headline_charts_and_downloads(make_app, sample_db):
    at = open_needs(make_app)
    assert at.title[0].value == "Co-occurring needs"
    n = sample_db.scalar("SELECT count(*) FROM children")
    mean = sample_db.scalar("SELECT avg(n_needs) FROM children_enriched")
    four = sample_db.scalar("SELECT avg(CASE WHEN n_needs >= 4 THEN 100.0 ELSE 0 END) FROM children_enriched")
    assert metrics(at) == [("Children", f"{n:,}"), ("Mean needs", f"{mean:.1f} of 11"),
                           ("With more than one", metrics(at)[2][1]), ("With 4 or more", f"{four:.0f}%")]
    # The first view is prevalence alone; the other views are drawn only when opened.
    assert charts(at) == 1 and "Nuffield FJO national figure" in at.get("vega_lite_chart")[0].proto.spec
    assert downloads(at).count("Download chart data (CSV)") == 1
    assert not at.get("button_group")  # the measure belongs to the co-occurrence view
    assert at.radio(key="needs_level").value == "categories"
    # Defaults stay out of the URL; the shared round is there.
    assert qp(at, "measure") is None and qp(at, "level") is None and qp(at, "view") is None
    assert qp(at, "round") == "2024 sample"
    for view, spec_text in (("Needs per child", "Number of need categories"), ("Which occur together", "Benjamini-Hochberg"),
                            ("Combinations", "Most common combinations")):
        other = open_needs(make_app, view=view)
        assert charts(other) == 1 and spec_text in other.get("vega_lite_chart")[0].proto.spec, view
        assert downloads(other).count("Download chart data (CSV)") == 1
        assert qp(other, "view") == view
    assert open_needs(make_app, view="Which occur together").get("button_group")[0].value == "lift"  # lift is the default measure


def test_deep_link_to_norfolk_lift_and_codes_compares_with_the_region(make_app, sample_db):
    at = open_needs(make_app, la="Norfolk", measure="lift", level="codes", view="Which occur together")
    assert at.title[0].value == "Co-occurring needs: Norfolk"
    assert at.get("button_group")[0].value == "lift"
    assert at.radio(key="needs_level").value == "codes"
    assert at.toggle(key="needs_compare").value is True
    n = sample_db.scalar("SELECT count(*) FROM children WHERE la_code = $la", {"la": NORFOLK})
    tiles = metrics(at)
    assert tiles[0] == ("Children", f"{n:,}") and tiles[4] == ("Children", f"{sample_db.scalar('SELECT count(*) FROM children'):,}")
    # Two 22 x 22 heatmaps, Norfolk's and the region's; two per-child charts in their own view.
    assert charts(at) == 2 and all("lift" in c.proto.spec for c in at.get("vega_lite_chart"))
    assert qp(at, "measure") is None and qp(at, "level") == "codes" and qp(at, "la") == "Norfolk"  # lift: the default
    assert charts(open_needs(make_app, la="Norfolk", view="Needs per child")) == 2


def test_sex_and_placement_from_the_link_filter_the_children(make_app, sample_db):
    at = open_needs(make_app, sex="F", placement="K2", compare="0")
    assert at.selectbox(key="needs_sex").value == "F"
    assert at.selectbox(key="needs_placement").value == "K2"
    # Both together would let the rest of the region give a small group away: the room sees "–" and why.
    assert metrics(at)[0] == ("Children", "–")
    assert any("with each other" in i.value for i in at.info)
    assert qp(at, "sex") == "F" and qp(at, "placement") == "K2"
    at = open_needs(make_app, sex="F", compare="0")
    n = sample_db.scalar("SELECT count(*) FROM children WHERE sex = 'F'")
    assert metrics(at)[0] == ("Children", f"{n:,}")


def test_unknown_choice_in_the_link_is_reported_not_fatal(make_app):
    at = open_needs(make_app, measure="magic", sex="Q", view="Which occur together")
    notes = [w.value for w in at.warning]
    assert any("magic" in n for n in notes) and any("'Q'" in n for n in notes)
    assert at.get("button_group")[0].value == "lift"  # lift is the default measure
    assert at.selectbox(key="needs_sex").value == ""


def test_changing_the_measure_rewrites_the_url(make_app):
    at = open_needs(make_app, view="Which occur together")
    at.get("button_group")[0].set_value("phi").run()
    assert not at.exception
    assert qp(at, "measure") == "phi"
    assert any("phi" in (getattr(c.proto, "spec", "") or "") for c in at.get("vega_lite_chart"))


def test_small_view_in_meeting_mode_shows_no_small_counts(make_app, sample_db):
    at = open_needs(make_app, la="Luton", age="16-17", meeting="1", level="codes")
    assert at.session_state["ctx"].meeting
    n, four = sample_db.query(
        "SELECT count(*), count(*) FILTER (WHERE n_needs >= 4) FROM children_enriched "
        "WHERE la_code = 'E06000032' AND age_band = '16-17'").iloc[0]
    assert 5 <= n < 10
    # On a shared screen each tile holds the LA's figure with the region's in brackets.
    tiles = {label.split(":")[0]: value.split(" (")[0] for label, value in metrics(at)}
    from audit.filters import hidden_views

    rid = int(sample_db.q("rounds")["round_id"].iat[0])
    if ("E06000032", "16-17") in hidden_views(sample_db, rid):
        # With Luton's other age bands shown this view would give back a small band: it shows no figure.
        assert tiles["Children"] == "–"
    else:
        assert tiles["Children"] == str(n)
        assert tiles["With 4 or more"] == ("c" if (1 <= four < 5 or 1 <= n - four < 5) else f"{four / n * 100:.0f}%")
    for frame in [*at.dataframe, *at.table]:
        values = frame.value.astype(str).to_numpy().ravel()
        assert not any(v in ("1", "2", "3", "4") for v in values)
    legend = [c.value for c in at.caption if "between 1 and 4 children" in c.value]
    assert legend, "the suppression legend explains the hidden counts"
