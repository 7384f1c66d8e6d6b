"""Imports while readers read: readers never hit a lock error and never see a half-written round."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd

from audit.intake import needs as import_needs
from audit.db import Database
from audit.paths import SAMPLE_DATA

NEEDS = SAMPLE_DATA / "needs.csv"
# One query, one snapshot: every round's recorded size against what is actually there.
CONSISTENCY = """
SELECT r.label, r.n_rows,
       (SELECT count(*) FROM children c WHERE c.round_id = r.round_id) AS children,
       (SELECT count(*) FROM child_needs n WHERE n.round_id = r.round_id) AS needs
FROM rounds r
"""


def consistent(df: pd.DataFrame) -> bool:
    return bool(((df["n_rows"] == df["children"]) & (df["needs"] == 22 * df["children"])).all())


def test_threads_reading_during_imports_see_whole_rounds_only(sample_db, tmp_path):
    sizes = [50, 400, 120, 650]
    files = []
    df = pd.read_csv(NEEDS, dtype=str, keep_default_na=False)
    for n in sizes:
        p = tmp_path / f"needs_{n}.csv"
        df.head(n).to_csv(p, index=False)
        files.append(p)
    reader = Database(sample_db.path)  # the app's long-lived object
    errors, seen, stop = [], set(), threading.Event()

    def read():
        while not stop.is_set():
            try:
                snap = reader.query(CONSISTENCY)
                if not consistent(snap):
                    errors.append(f"partial state: {snap.to_dict('records')}")
                seen.update(zip(snap["label"], snap["n_rows"]))
            except Exception as exc:  # any lock or I/O error is a failure
                errors.append(repr(exc))

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    writer = Database(sample_db.path)
    try:
        for p in files:
            import_needs.load(writer, p, "busy round")
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    busy = {n for label, n in seen if label == "busy round"}
    assert busy <= set(sizes) and len(busy) >= 2  # readers saw several versions, each complete
    assert reader.scalar("SELECT n_rows FROM rounds WHERE label = 'busy round'") == sizes[-1]
    reader.close()


def test_another_process_reading_during_imports(sample_db, tmp_path):
    script = textwrap.dedent(f"""
        import time
        from audit.db import Database
        db = Database({str(sample_db.path)!r})
        q = {CONSISTENCY!r}
        errors = bad = reads = 0
        labels = set()
        end = time.time() + 60
        while time.time() < end:
            try:
                df = db.query(q)
                reads += 1
                labels.update(df['label'])
                ok = ((df['n_rows'] == df['children']) & (df['needs'] == 22 * df['children'])).all()
                bad += 0 if ok else 1
                if 'done' in labels:
                    break
            except Exception as exc:
                errors += 1
                print('ERR', repr(exc), flush=True)
        print('reads', reads, 'errors', errors, 'bad', bad, 'labels', sorted(labels), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        writer = Database(sample_db.path)
        for label in ("p1", "p2", "p1", "done"):
            import_needs.load(writer, NEEDS, label)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    last = out.strip().splitlines()[-1]
    assert "errors 0 bad 0" in last, out + err
    assert "'done'" in last and "'p1'" in last
    assert int(last.split()[1]) > 10  # it really was reading throughout


def test_failed_import_during_reads_is_invisible(sample_db, tmp_path):
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(NEEDS, dtype=str, keep_default_na=False)
    df.loc[300, "age"] = "99"
    df.to_csv(bad, index=False)
    reader = Database(sample_db.path)
    version = reader.version
    before = reader.query(CONSISTENCY)
    try:
        import_needs.load(Database(sample_db.path), bad, "2024 sample")
    except Exception:
        pass
    assert reader.version == version  # the file was never replaced
    pd.testing.assert_frame_equal(before, reader.query(CONSISTENCY))


def test_sample_and_import_together_keep_both(tmp_path):
    """`audit sample` holds the writer lock for its whole build: an import started meanwhile waits, then applies on top.

    Before, the import copied the old file while the sample was building and replaced the sample
    with that copy when it finished: the sample's round was lost.
    """
    db_path = tmp_path / "audit.duckdb"
    Database(db_path).init()
    homes = pd.read_csv(SAMPLE_DATA / "homes.csv", dtype=str, keep_default_na=False).head(29)
    homes_file = tmp_path / "homes29.csv"
    homes.to_csv(homes_file, index=False)
    cli = [sys.executable, "-m", "audit.cli", "--db", str(db_path)]
    sample = subprocess.Popen(cli + ["sample"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not list(tmp_path.glob("audit.duckdb.sample-*")) and time.time() < deadline and sample.poll() is None:
            time.sleep(0.05)
        assert list(tmp_path.glob("audit.duckdb.sample-*")), "the sample build never started staging"
        imp = subprocess.run(cli + ["import", "homes", str(homes_file)], capture_output=True, text=True, timeout=600)
        out, err = sample.communicate(timeout=600)
    finally:
        if sample.poll() is None:
            sample.kill()
    assert sample.returncode == 0, err
    assert imp.returncode == 0, imp.stderr
    db = Database(db_path)
    assert db.scalar("SELECT count(*) FROM rounds WHERE label = '2024 sample'") == 1  # the sample is not lost
    assert db.scalar("SELECT count(*) FROM homes") == 29  # and the import, which came second, applied on top
    assert not list(tmp_path.glob("audit.duckdb.sample-*")) and not list(tmp_path.glob("*.tmp"))
