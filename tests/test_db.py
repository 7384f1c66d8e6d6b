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


# -- paths, permissions, limits and leftovers ------------------------------------------------------------
import os
import resource
import subprocess
import sys
from pathlib import Path

from audit.db import WriteError

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, limit_fsize: int | None = None) -> subprocess.CompletedProcess:
    """The real `audit` command in a child process (optionally with a file-size limit)."""
    def pre():
        if limit_fsize:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))
    return subprocess.run([sys.executable, "-m", "audit.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=pre, timeout=300)


def _problem_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if not ln.startswith("[")]


def test_symlinked_database_is_updated_in_place_of_its_target(empty_db, tmp_path):
    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    link = link_dir / "audit.duckdb"
    link.symlink_to(empty_db.path)
    db = Database(link)
    with db.write() as con:
        con.execute("INSERT INTO meta VALUES ('via', 'link')")
    db.close()
    assert link.is_symlink() and link.resolve() == empty_db.path.resolve()
    assert sorted(p.name for p in link_dir.iterdir()) == ["audit.duckdb"]  # no new file beside the link
    assert Database(empty_db.path).meta("via") == "link"


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_database_or_folder_exits_2_in_one_line(empty_db, what):
    target = empty_db.path if what == "file" else empty_db.path.parent
    before = file_digest(empty_db.path)
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        r = _cli("--db", str(empty_db.path), "import", "homes", str(ROOT / "sample_data" / "homes.csv"))
    finally:
        target.chmod(mode)
    lines = _problem_lines(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and "read-only" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert file_digest(empty_db.path) == before


def test_file_size_limit_hit_mid_write_exits_2_and_changes_nothing(empty_db):
    before = file_digest(empty_db.path)
    # Room for the parse but not for the copy of the database the write makes.
    r = _cli("--db", str(empty_db.path), "import", "homes", str(ROOT / "sample_data" / "homes.csv"),
             limit_fsize=empty_db.path.stat().st_size // 2)
    lines = _problem_lines(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and "File too large" in lines[0], r.stderr
    assert file_digest(empty_db.path) == before
    assert not [p for p in empty_db.path.parent.iterdir() if p.name.endswith((".tmp", ".wal"))]


def test_impossible_audit_date_exits_2_in_one_line(empty_db):
    before = file_digest(empty_db.path)
    r = _cli("--db", str(empty_db.path), "import", "903", str(ROOT / "sample_data" / "ssda903"), "--audit-date", "2024-13-45")
    lines = _problem_lines(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and "2024-13-45" in lines[0], r.stderr
    assert file_digest(empty_db.path) == before


def _leftovers(folder: Path) -> dict[str, bool]:
    """Ours (killed writes' copies and a killed sample's staging folder) -> True; a person's look-alikes -> False."""
    (folder / "audit.duckdb.k3x9q_0a.tmp").write_bytes(b"x" * 1000)
    (folder / "audit.duckdb.k3x9q_0a.tmp.wal").write_bytes(b"w")
    (folder / "audit.duckdb.zz81mm4b.tmp").write_bytes(b"y")
    staging = folder / "audit.duckdb.sample-ab12cd34"
    (staging / "files").mkdir(parents=True)
    (staging / "staging.duckdb").write_bytes(b"s")
    (staging / "files" / "needs.csv").write_text("child_id\n")
    mine = folder / "audit.duckdb.sample-notes123"  # named like ours, but holds a file a person put there
    mine.mkdir()
    (mine / "my notes.txt").write_text("keep")
    for name in ("audit.duckdb.backup", "other.duckdb.k3x9q_0a.tmp", "audit.duckdb.old.tmp", "notes.tmp"):
        (folder / name).write_text("keep")
    return {"audit.duckdb.k3x9q_0a.tmp": True, "audit.duckdb.k3x9q_0a.tmp.wal": True, "audit.duckdb.zz81mm4b.tmp": True,
            "audit.duckdb.sample-ab12cd34": True, "audit.duckdb.sample-notes123": False, "audit.duckdb.backup": False,
            "other.duckdb.k3x9q_0a.tmp": False, "audit.duckdb.old.tmp": False, "notes.tmp": False}


@pytest.fixture
def audit_db(tmp_path) -> Database:
    """An initialised database under the usual file name (the leftovers below are named after it)."""
    db = Database(tmp_path / "audit.duckdb")
    db.init()
    return db


def test_leftovers_of_killed_writes_are_removed_at_the_next_open(audit_db):
    empty_db = audit_db
    folder = empty_db.path.parent
    expected = _leftovers(folder)
    before = file_digest(empty_db.path)
    db = Database(empty_db.path)  # the next start
    for name, ours in expected.items():
        assert (folder / name).exists() != ours, name
    assert file_digest(empty_db.path) == before and db.meta("sample") is None


def test_leftovers_are_kept_while_another_process_is_writing(audit_db):
    empty_db = audit_db
    folder = empty_db.path.parent
    expected = _leftovers(folder)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
        "time.sleep(60)"), str(empty_db.path) + ".lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        Database(empty_db.path)
        assert all((folder / name).exists() for name in expected)  # in use, as far as anyone can tell
    finally:
        holder.kill()
        holder.wait()
    Database(empty_db.path)
    assert not any((folder / name).exists() for name, ours in expected.items() if ours)


def test_writer_lock_is_reentrant_in_one_thread_and_exclusive_across_threads(empty_db):
    import threading

    order = []
    with empty_db.writer_lock():
        with empty_db.write() as con:  # the sample build writes while holding the lock itself
            con.execute("INSERT INTO meta VALUES ('inner', 'ok')")
        def other():
            with empty_db.writer_lock():
                order.append("other")

        t = threading.Thread(target=other)
        t.start()
        t.join(0.5)
        order.append("first")
    t.join(5)
    assert order == ["first", "other"]
    assert empty_db.meta("inner") == "ok"
