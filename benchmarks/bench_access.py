"""What sign-in and the role check add to every rerun: pages.ui.signed_in() and the account's Viewer, timed.

Run from the repository root: python -m benchmarks.bench_access [--runs N]. It copies the regional
sample (built if absent) to a temporary folder, and times, per rerun:
  open demo   - no accounts, synthetic data: the open-access decision (settings, accounts, real-data flag)
  signed in   - a local account: its row read afresh from the access store (so a removal applies at once)
and, once, the uncached real-data query that the open demo's decision caches per data version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _times(fn, runs: int) -> list[float]:
    """Wall times of fn in milliseconds."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _report(label: str, ms: list[float]) -> None:
    """Median and 90th percentile."""
    q = statistics.quantiles(ms, n=10)
    print(f"{label:<34} median {statistics.median(ms):6.2f} ms   p90 {q[-1]:6.2f} ms   ({len(ms)} runs)")


def main() -> None:
    """Time the per-rerun access check on a copy of the regional sample."""
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=300)
    args = p.parse_args()
    import logging

    import streamlit as st

    # Bare mode warns on every session-state access ("missing ScriptRunContext"); printing that is not the check's cost.
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)

    from audit.access import gate
    from audit.access.store import AccessStore, cli_account
    from audit.db import Database
    from audit.sample.build import build_sample

    tmp = Path(tempfile.mkdtemp(prefix="bench-access-"))
    db_path = tmp / "audit.duckdb"
    cached = Path(os.environ.get("BENCH_SAMPLE_DB", "")) if os.environ.get("BENCH_SAMPLE_DB") else None
    if cached and cached.exists():
        shutil.copy2(cached, db_path)
    else:
        build_sample(Database(db_path))
    os.environ["AUDIT_DB"] = str(db_path)
    from pages import ui

    ui.signed_in()  # warm: caches the store object and the real-data flag
    _report("open demo: ui.signed_in()", _times(lambda: ui.signed_in().viewer(False), args.runs))
    _report("real-data query (once per version)", _times(lambda: gate.holds_real_data(Database(db_path)), 20))
    AccessStore.beside(db_path).add_user("bench@x.org", "la_manager", "Norfolk", None, by=cli_account())
    st.session_state[ui.ACCOUNT_KEY] = "bench@x.org"
    assert ui.signed_in().email == "bench@x.org"
    _report("signed in: ui.signed_in()", _times(lambda: ui.signed_in().viewer(False), args.runs))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
