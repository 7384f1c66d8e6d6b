"""Extracts and the command line follow the on-screen suppression: no LA is unsuppressed without saying so."""

import io

import pandas as pd

from audit import extracts


def _csv(raw: bytes, skip: int = 0) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, skiprows=skip)


def test_la_filters_but_never_unsuppresses(sample_db):
    # Luton's needs per child were 1, 1, 2 children with 1-3 needs: `--la Luton` used to show them to anyone.
    filtered = _csv(extracts.export(sample_db, "needs_per_child", la="Luton"))
    assert not filtered["Children"].isin(["1", "2", "3", "4"]).any()
    assert "<5" in set(filtered["Children"])
    raw = extracts.export(sample_db, "needs_per_child", unsuppressed_for="Luton")
    assert raw[3:].decode("utf-8").startswith("UNSUPPRESSED FOR Luton:")
    own = _csv(raw, skip=1)
    assert own["Children"].isin(["1", "2"]).any() and len(own) == len(filtered)


def test_rounds_and_imports_hide_a_round_of_fewer_than_five_children(sample_db):
    with sample_db.write() as con:
        con.execute("UPDATE rounds SET n_rows = 2")
        con.execute("UPDATE imports SET n_rows = 3")
    rounds = _csv(extracts.export(sample_db, "rounds"))
    assert set(rounds["n_rows"]) == {"<5"}
    imports = _csv(extracts.export(sample_db, "imports"))
    children = imports["kind"].isin(["needs", "ssda903"])
    assert set(imports.loc[children, "n_rows"]) == {"<5"}
    # Ofsted and provision imports count homes, not children: shown as they are.
    assert set(imports.loc[~children, "n_rows"]) <= {"3"}


def test_every_stored_distance_is_a_whole_km(sample_db):
    cols = sample_db.query("SELECT table_name FROM information_schema.columns WHERE column_name = 'distance_km' "
                           "AND table_name IN (SELECT table_name FROM information_schema.tables "
                           "WHERE table_type = 'BASE TABLE')")["table_name"]
    assert len(cols)
    checked = 0
    for table in cols:
        d = sample_db.query(f"SELECT distance_km FROM {table} WHERE distance_km IS NOT NULL")["distance_km"]
        assert (d == d.round()).all(), table
        checked += len(d)
    assert checked > 0
