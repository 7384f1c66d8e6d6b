"""Filter values protected against each other: region against its LAs, an LA against its age bands."""

import numpy as np
import pytest

from audit import disclosure as D
from audit import filters
from audit.analysis import distance, needs_view, overview
from audit.filters import Filters, hidden_views
from audit.suppress import PUBLIC

CENTRAL_BEDS = "E06000056"


@pytest.fixture(scope="module")
def db(sample_db_path):
    from audit.db import Database

    d = Database(sample_db_path)
    yield d
    d.close()


@pytest.fixture(scope="module")
def rid(db):
    return int(db.q("rounds")["round_id"].iat[0])


def _la_band(db, rid):
    t = db.q("children_by_la_band", round_id=rid).pivot_table(index="la_code", columns="age_band", values="n",
                                                               aggfunc="sum", fill_value=0)
    return t.reindex(columns=[b for b in filters.AGE_BANDS if b in t.columns])


def _published_views(db, rid, hidden) -> D.Published:
    """Children in every view the app can show (LA x band, LA all ages, region by band, region), as shown."""
    t = _la_band(db, rid)
    pub = D.Published(t.size)
    grid = np.arange(t.size).reshape(t.shape)

    def shown(n, key):
        if key in hidden and n > 0:
            return "<5" if n < 5 else "c"
        return "<5" if 1 <= n < 5 else n

    for i, la in enumerate(t.index):
        for j, band in enumerate(t.columns):
            pub.count((la, band), [grid[i, j]], shown(int(t.iat[i, j]), (la, band)))
        pub.count((la, None), grid[i], shown(int(t.iloc[i].sum()), (la, None)))
    for j, band in enumerate(t.columns):
        pub.count((None, band), grid[:, j], shown(int(t.iloc[:, j].sum()), (None, band)))
    pub.count((None, None), grid.ravel(), int(t.to_numpy().sum()))
    return pub


def test_before_bands_gave_back_central_bedfordshire_0_to_9(db, rid):
    t = _la_band(db, rid)
    assert t.loc[CENTRAL_BEDS].tolist()[:4] == [1, 7, 14, 14]
    rep = _published_views(db, rid, hidden=frozenset()).audit()
    narrow = D.narrowed(rep)
    assert (CENTRAL_BEDS, "0-9") in set(narrow["key"])
    row = rep[rep["key"] == (CENTRAL_BEDS, "0-9")].iloc[0]
    assert row["low"] == row["high"] == 1


def test_now_no_view_narrows_another_region_la_or_band(db, rid):
    hidden = hidden_views(db, rid)
    assert (CENTRAL_BEDS, "0-9") in hidden and sum(1 for la, band in hidden if la == CENTRAL_BEDS) >= 2
    rep = _published_views(db, rid, hidden).audit()
    assert (rep["label"] == "<5").sum() > 0 and D.narrowed(rep).empty


def test_every_page_hides_a_hidden_view(db, rid):
    band = next(b for la, b in hidden_views(db, rid) if la == CENTRAL_BEDS and b != "0-9")
    f = Filters(round_id=rid, la=CENTRAL_BEDS, age_band=band)
    assert overview.kpis(db, f)["Children in the audit"] == "–"
    sel = needs_view.Selection(f)
    assert needs_view.headline(db, sel)["Children"] == "–"
    prev = needs_view.prevalence_table(db, sel).display
    assert not prev["Children"].isin(list(range(1, 1000))).any()
    region_band = Filters(round_id=rid, age_band=band)
    la = overview.la_table(db, region_band).display.set_index("la_code")
    assert la.loc[CENTRAL_BEDS, "Children"] in ("c", "<5")
    by = distance.by_la(db, region_band).display.set_index("la_code")
    assert by.loc[CENTRAL_BEDS, "Children"] in ("c", "<5")


def test_headline_tiles_show_a_dash_and_say_why():
    from audit.suppress import headline_tiles

    tiles, note = headline_tiles({"Children": "<5", "Only further away": "c", "Places": "120"})
    assert tiles == {"Children": "–", "Only further away": "–", "Places": "120"}
    assert "Children: hidden, fewer than 5 children." in note and "Only further away: hidden" in note
    assert headline_tiles({"Places": "120"}) == ({"Places": "120"}, None)


def test_overview_page_of_a_hidden_view_shows_dashes_and_the_note(app, sample_db):
    from tests.apptest_support import metrics, run_page

    band = next(b for la, b in hidden_views(sample_db, int(sample_db.q("rounds")["round_id"].iat[0]))
                if la == CENTRAL_BEDS and b != "0-9")
    at = run_page(app, "pages/overview.py", la="Central Bedfordshire", age=band)
    shown = metrics(at)
    assert shown["Children in the audit"] == "–" and not any(v in ("<5", "c") for v in shown.values())
    assert any("would reveal" in c.value for c in at.caption)


# --- sex and placement type (needs page) against LA and age band -------------------------------------------
def _cube(db, rid):
    """The round's children as an LA x band x sex x placement array, with each axis's values."""
    c = db.q("children_by_slice", round_id=rid)
    axes = [sorted(c["la_code"].unique()), [b for b in filters.AGE_BANDS if b in set(c["age_band"])],
            sorted(c["sex"].unique()), sorted(c["placement"].unique())]
    cube = np.zeros([len(a) for a in axes], int)
    for la, band, sex, pl, n in c.itertuples(index=False):
        cube[axes[0].index(la), axes[1].index(band), axes[2].index(sex), axes[3].index(pl)] += n
    return cube, axes


def _every_view_as_shown(db, rid, viewer) -> tuple[D.Published, int]:
    """Children in every view a reader can pick (LA, band, sex, placement; None = all), as the app shows them."""
    cube, axes = _cube(db, rid)
    pub = D.Published(cube.size)
    grid = np.arange(cube.size).reshape(cube.shape)
    hidden_shown = 0
    for view in np.ndindex(*[len(a) + 1 for a in axes]):
        v = [None if i == 0 else axes[a][i - 1] for a, i in enumerate(view)]
        if "" in v[2:]:  # unrecorded sex or placement type cannot be picked
            continue
        sel = tuple(slice(None) if i == 0 else i - 1 for i in view)
        n = int(cube[sel].sum())
        la, band, sex, pl = v
        seen = la is not None and viewer.may_see(la)
        if sum(x is not None for x in (band, sex, pl)) > 1 and not seen:
            assert filters.view_hidden(db, Filters(rid, la, band), viewer, sex, pl)
            continue  # shown as "–" throughout: it publishes nothing, not even "<5"
        if filters.view_hidden(db, Filters(rid, la, band), viewer, sex, pl) and not seen:
            shown = ("<5" if n < 5 else "c") if n else 0
            hidden_shown += n > 0
        else:
            shown = "<5" if 1 <= n < 5 and not seen else n
        pub.count(tuple(v), np.ravel(grid[sel]), shown)
    return pub, hidden_shown


@pytest.mark.parametrize("who", ["public", "luton_manager"])
def test_no_view_by_sex_or_placement_type_gives_back_a_count_of_1_to_4(db, rid, who):
    from audit.suppress import Viewer

    viewer = PUBLIC if who == "public" else Viewer(frozenset({"E06000032"}))
    pub, hidden = _every_view_as_shown(db, rid, viewer)
    rep = pub.audit()
    primaries = rep[rep["label"] == "<5"]
    assert len(primaries) > 20 and hidden > len(primaries)  # there was something to protect, and it is hidden
    assert D.narrowed(rep).empty, D.narrowed(rep).head(10).to_string()


def test_without_the_protection_girls_from_all_children_gave_counts_back(db, rid):
    cube, axes = _cube(db, rid)
    pub = D.Published(cube.size)
    grid = np.arange(cube.size).reshape(cube.shape)
    for i, la in enumerate(axes[0]):  # each LA: all children and each sex, "<5" only where 1-4
        pub.count((la, None), np.ravel(grid[i]), int(cube[i].sum()))
        for k, sex in enumerate(axes[2]):
            n = int(cube[i, :, k].sum())
            pub.count((la, sex), np.ravel(grid[i, :, k]), "<5" if 1 <= n < 5 else n)
    assert len(D.narrowed(pub.audit())) >= 3  # a lone "<5" sex in an LA is its total minus the others


def test_sex_with_an_age_band_is_hidden_unless_the_viewer_may_see_the_la(db, rid):
    from audit.suppress import Viewer

    f = Filters(rid, "E06000032", "13-15")
    assert filters.view_hidden(db, f, PUBLIC, "F", None)
    assert not filters.view_hidden(db, f, Viewer(frozenset({"E06000032"})), "F", None)
    assert filters.hidden_note(f, "F") == filters.COMBINED_VIEW_NOTE
    sel = needs_view.Selection(f, "F", None)
    assert needs_view.headline(db, sel, PUBLIC)["Children"] == "–"
