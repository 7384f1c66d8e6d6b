"""Maps carry their own names: LA names and the largest-gap towns are drawn as text labels, homes are never clustered."""

from __future__ import annotations

import re

from audit.analysis import overview, provision
from audit.charts import maps, provision_map
from audit.filters import Filters
from audit.geography import region
from audit.suppress import Viewer

PUBLIC = Viewer(frozenset(), meeting_mode=False)


def labels(html: str, kind: str) -> set[str]:
    """The text of every label of this kind drawn on the map (as the GeoJSON that holds them carries it)."""
    return set(re.findall(r'"_label": "([^"]+)"', html)) if kind == "any" else \
        set(re.findall(rf'audit-label-{kind}[^>]*>([^<]+)<', html))


def test_provision_map_names_every_la_and_the_gap_towns(sample_db):
    rid = int(overview.rounds(sample_db)["round_id"].iat[0])
    sel = provision.selection("short-breaks", provision.ALL_NEEDS, Filters(round_id=rid))
    layers = provision.view(sample_db, sel, 15.0, "gaussian", None, PUBLIC).layers
    html = maps.html(provision_map.provision_map(layers.districts, layers.las, layers.towns, layers.homes,
                                                 layers.providers, "short-breaks"))
    named = labels(html, "any")
    assert set(region.REGION_LAS.values()) <= named
    # The towns with the largest gap scores, by the table the page ranks, are named on the map.
    ranked = provision.labelled(provision.view(sample_db, sel, 15.0, "gaussian", None, PUBLIC).gaps, "short-breaks")
    top = provision_map.top_gap_towns(layers.towns, provision_map.TOWN_LABELS)
    assert set(top["town"]) <= named and len(top) == provision_map.TOWN_LABELS
    assert {"Fakenham", "Thetford"} <= named
    assert set(ranked.display["Town"].head(3)) <= named
    # Labels let clicks through to the districts and towns beneath.
    assert "pointer-events:none" in html
    assert "markerClusterGroup" not in html and "marker-cluster" not in html


def test_overview_map_names_the_las_and_its_legends_fold_away(sample_db):
    rid = int(overview.rounds(sample_db)["round_id"].iat[0])
    shapes, homes = overview.map_layers(sample_db, Filters(round_id=rid), PUBLIC)
    html = maps.html(maps.region_overview_map(shapes, homes))
    assert set(region.REGION_LAS.values()) <= labels(html, "any")
    assert html.count("details open") >= 2  # each legend is a <details>: its title folds it away


def test_las_without_short_break_data_say_no_data_loaded_not_fewer_than_5(sample_db):
    rid = int(overview.rounds(sample_db)["round_id"].iat[0])
    covered = provision.covered_las(sample_db, "short-breaks", rid)
    loaded = set(sample_db.query("SELECT DISTINCT la_code FROM shortbreak_children")["la_code"])
    assert covered == loaded and 0 < len(covered) < 11  # the sample: Norfolk's short breaks only
    assert len(provision.covered_las(sample_db, "residential", rid)) == 11
    missing = frozenset(region.la_name(c) for c in region.REGION_LAS if c not in covered)
    sel = provision.selection("short-breaks", provision.ALL_NEEDS, Filters(round_id=rid))
    layers = provision.view(sample_db, sel, 15.0, "gaussian", None, PUBLIC).layers
    html = maps.html(provision_map.provision_map(layers.districts, layers.las, layers.towns, layers.homes,
                                                 layers.providers, "short-breaks", no_data_las=missing))
    districts = layers.districts
    n_missing = int(districts["la"].isin(missing).sum())
    assert html.count('"children": "no data loaded"') == n_missing > 0
    assert "no data loaded for this LA" in html
