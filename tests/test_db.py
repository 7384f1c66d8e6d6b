"""The Database object: atomic writes, schema versioning, readers during writes."""

import duckdb
import pytest

from audit.db import SCHEMA_VERSION, Database
from tests.conftest import file_digest


def test_init_creates_schema_and_reference(empty_db):
    assert empty_db.scalar("SELECT max(version) FROM schema_version") == SCHEMA_VERSION
    assert empty_db.scalar("SELECT count(*) FROM las") == 11
    assert empty_db.scalar("SELECT count(*) FROM districts") == 45
    assert empty_db.scalar("SELECT count(*) FROM need_codes") == 22
    assert empty_db.scalar("SELECT count(DISTINCT category) FROM need_codes") == 11


def test_failed_write_leaves_file_byte_identical(empty_db):
    before = file_digest(empty_db.path)
    with pytest.raises(RuntimeError):
        with empty_db.write() as con:
            con.execute("DELETE FROM las")
            raise RuntimeError("boom")
    assert file_digest(empty_db.path) == before
    assert empty_db.scalar("SELECT count(*) FROM las") == 11
    leftovers = [p.name for p in empty_db.path.parent.iterdir() if p.suffix in (".tmp", ".wal")]
    assert leftovers == []


def test_reader_sees_new_data_after_replacement(empty_db):
    assert empty_db.scalar("SELECT count(*) FROM meta") == 0
    v1 = empty_db.version
    with empty_db.write() as con:
        con.execute("INSERT INTO meta VALUES ('k', 'v')")
    assert empty_db.version != v1
    assert empty_db.scalar("SELECT value FROM meta WHERE key = 'k'") == "v"


def test_reader_in_another_connection_is_not_blocked_by_a_writer(empty_db):
    other = duckdb.connect(str(empty_db.path), read_only=True)
    try:
        with empty_db.write() as con:
            con.execute("INSERT INTO meta VALUES ('during', 'write')")
            # The live file is untouched while the write is in progress.
            assert other.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    finally:
        other.close()
    assert empty_db.meta("during") == "write"


def test_newer_schema_is_refused(tmp_path):
    db = Database(tmp_path / "x.duckdb")
    db.init()
    with db.write() as con:
        con.execute("INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(RuntimeError, match="newer version"):
        db.init()
