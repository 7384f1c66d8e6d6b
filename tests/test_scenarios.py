"""Scenarios: named plans kept per audit round, compared side by side, and `audit plan --save/--list`."""

import json

import pandas as pd

from audit import cli
from audit.analysis import costs, planner, scenarios
from audit.charts import maps, planner_map
from audit.db import SCHEMA_VERSION


def _save(db, name, homes, places, **kw):
    plan = planner.make_plan(db, 1, homes, places, **kw)
    pc = costs.plan_cost(plan, costs.child_costs(db, 1), 5000.0)
    scenarios.save(db, 1, name, plan, pc)
    return plan, pc


def test_saved_scenarios_keep_the_plan_and_compare_side_by_side(sample_db):
    assert scenarios.saved(sample_db, 1).empty
    a, pa = _save(sample_db, "Three small", 3, 4)
    b, pb = _save(sample_db, "Five big", 5, 8)
    rows = scenarios.saved(sample_db, 1).set_index("name")
    assert set(rows.index) == {"Three small", "Five big"}
    assert sample_db.scalar("SELECT max(version) FROM schema_version") == SCHEMA_VERSION
    fa = planner.figures(a).iloc[0]
    assert rows.loc["Three small", "near_after"] == fa["near_after"] and rows.loc["Three small", "to_bring_closer"] == a.candidates
    assert json.loads(rows.loc["Five big", "settings"])["places"] == 8
    assert [s["town"] for s in json.loads(rows.loc["Three small", "sites"])] == a.sites["town"].tolist()
    t = scenarios.compare(sample_db, 1, ["Three small", "Five big"]).set_index("Figure")
    assert list(t.columns) == ["Three small", "Five big"]
    assert t.loc["Within reach, after", "Five big"] == f"{planner.figures(b).iloc[0]['near_after']:,}"
    assert t.loc["Running cost a year", "Three small"] == f"£{12 * 5000 * 52:,.0f}"
    assert t.loc["Saving a year", "Five big"] == f"£{pb.saving_weekly * 52:,.0f}"
    assert t.loc["Towns", "Three small"].count("(") == 3
    # Saving under the same name replaces; other rounds see nothing.
    _save(sample_db, "Three small", 2, 4)
    assert len(scenarios.saved(sample_db, 1)) == 2
    assert json.loads(scenarios.saved(sample_db, 1).set_index("name").loc["Three small", "settings"])["homes"] == 2
    assert scenarios.saved(sample_db, 99).empty
    pts = scenarios.site_points(sample_db, 1, ["Three small", "Five big"])
    html = maps.html(planner_map.scenarios_map(pts, planner.CATCHMENT_KM))
    assert "Five big" in html and "unpkg.com" not in html


def test_small_figures_are_hidden_in_the_comparison(sample_db):
    _save(sample_db, "One home", 1, 3)
    t = scenarios.compare(sample_db, 1, ["One home"]).set_index("Figure")["One home"]
    assert t["Brought within reach"] == "<5"
    assert t["Placements replaced, a year"] == "<5" and t["Saving a year"] == "<5" and t["Miles saved"] == "<5"


def test_cli_plan_save_and_list(sample_db, tmp_path, capsys):
    out = tmp_path / "plan.csv"
    args = ["--db", str(sample_db.path), "plan", "--homes", "2", "--places", "6", "--out", str(out)]
    assert cli.main(args + ["--save", "Two homes"]) == 0
    assert "saved as scenario 'Two homes'" in capsys.readouterr().out
    assert cli.main(["--db", str(sample_db.path), "plan", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "Two homes: 2 new homes" in listed
    assert cli.main(args + ["--save", "  "]) == 2
    assert cli.main(["--db", str(sample_db.path), "plan", "--homes", "2", "--places", "6", "--min-children", "7",
                     "--out", str(tmp_path / "y.csv")]) == 2
    assert "--min-children" in capsys.readouterr().err
    assert len(scenarios.saved(sample_db, 1)) == 1
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert df["town"].nunique() == 2
