"""Data intake at national scale: an 85,000-child needs file and an SSDA903 extract for 85,000 children.

Each import is the command a user types (`audit import needs|903 ...`) run in a
fresh process against a fresh database, so its time includes Python start-up
and loading the ONS Postcode Directory, and its peak memory is the process's
own. Target (issue 3): under 20 s each on this 2-core machine. A second set of
rows times each stage of one in-process import (from the importer's own
progress messages), to show where the time goes.

The files are made once per run, untimed: the national sample's needs.csv (also
saved as XLSX), and two years of 903 returns generated from it by
audit.sample.ssda903 (every child in residential care, so 85,000 children).

Run: python -m benchmarks.bench_import [--repeat N] [--xlsx] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import RESULTS, ROOT, Row, peak_rss_mb, print_table, write_rows

TARGET_MS = 20_000.0


def make_files(work: Path, xlsx: bool) -> dict[str, Path]:
    """The national needs file (CSV, optionally XLSX) and 903 returns for its 85,000 children."""
    from audit.sample import generate as sample
    from audit.sample import ssda903 as sample_903

    files = sample.write_sample(work / "national", scale="national")
    needs = files["needs"]
    out = {"needs_csv": needs}
    frame = pd.read_csv(needs, dtype=str, keep_default_na=False)
    if xlsx:
        out["needs_xlsx"] = work / "needs.xlsx"
        with pd.ExcelWriter(out["needs_xlsx"], engine="openpyxl") as w:
            frame.to_excel(w, sheet_name="Children", index=False)
    # The import benchmark's fixed case: the 85,000 children only, two years (the forecast's five-year national
    # history is sample.write_903, timed in benchmarks/analyses.py).
    tables = sample_903.generate(frame.replace({"": None}), other_ratio=0.0, leavers=False, years=(2023, 2024))
    sample_903.write(work / "ssda903", tables, years=(2023, 2024))
    out["ssda903"] = work / "ssda903"
    return out


def measured(cmd: list[str], env: dict) -> tuple[float, float, int, str]:
    """Wall ms and the command's own peak RSS in MB, via /usr/bin/time (a child forked from this big process
    would otherwise report this process's memory as its own)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KB=%M"] + cmd, cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ms = (time.perf_counter() - t0) * 1000
    kb = [line for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB=")]
    return ms, (int(kb[-1].split("=")[1]) / 1024 if kb else float("nan")), proc.returncode, proc.stderr[-2000:]


def cli_import(kind: str, args: list[str], work: Path, repeat: int, label: str, note: str,
               cold_cache: bool = False) -> list[Row]:
    """`audit import KIND ...` in a fresh process on a fresh database, `repeat` times.

    With cold_cache, each run starts without the decoded postcode directory (as the first import on a new
    machine does); otherwise the cache made by earlier runs is used (as every later import is).
    """
    times, peaks = [], []
    db = work / "bench.duckdb"
    for i in range(repeat):
        env = dict(os.environ)
        if cold_cache:
            env["AUDIT_CACHE"] = str(work / f"cold-cache-{kind}-{i}")
        if db.exists():
            db.unlink()
        _, _, code, err = measured([sys.executable, "-m", "audit.cli", "--db", str(db), "init"], env)
        if code:
            raise RuntimeError(err)
        ms, peak, code, err = measured([sys.executable, "-m", "audit.cli", "--db", str(db), "import", kind] + args, env)
        if code:
            raise RuntimeError(f"audit import {kind} failed:\n{err}")
        times.append(ms)
        peaks.append(peak)
    how = " (cold postcode cache)" if cold_cache else ""
    return [Row("import", f"{label}{how} (CLI, fresh process)", "national", "ms", times, TARGET_MS, note),
            Row("memory", f"{label}{how} (CLI) peak RSS", "national", "MB", peaks)]


class Stages:
    """A progress sink that records how long each stage message lasted."""

    def __init__(self):
        self.t = time.perf_counter()
        self.current = "start"
        self.ms: dict[str, float] = {}

    def __call__(self, fraction: float, text: str) -> None:
        now = time.perf_counter()
        key = "reading files" if text.startswith("Reading ") else self.current
        self.ms[key] = self.ms.get(key, 0.0) + (now - self.t) * 1000
        self.t, self.current = now, ("reading files" if text.startswith("Reading ") else text)


def stage_rows(files: dict[str, Path], work: Path) -> list[Row]:
    """One in-process import of each kind, split into the importer's stages."""
    from audit.intake import ssda903 as import_903
    from audit.intake import needs as import_needs
    from audit.db import Database

    rows = []
    for label, run in (("needs", lambda db, s: import_needs.load(db, files["needs_csv"], "bench", progress=s)),
                       ("903", lambda db, s: import_903.load(db, [files["ssda903"]], progress=s))):
        path = work / f"stages-{label}.duckdb"
        if path.exists():
            path.unlink()
        db = Database(path)
        db.init()
        s = Stages()
        run(db, s)
        s("done", "done")
        for stage, ms in s.ms.items():
            if stage != "start":
                rows.append(Row("import stage", f"{label}: {stage}", "national", "ms", [ms]))
        db.close()
    return rows


def run(repeat: int, xlsx: bool) -> list[Row]:
    """Make the files, time the CLI imports and the stages."""
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        t0 = time.perf_counter()
        files = make_files(work, xlsx)
        made_ms = (time.perf_counter() - t0) * 1000
        size = lambda p: sum(f.stat().st_size for f in (p.rglob("*") if p.is_dir() else [p])) / 1e6  # noqa: E731
        rows = [Row("import", "make the national files (untimed setup)", "national", "ms", [made_ms])]
        rows += cli_import("needs", [str(files["needs_csv"]), "--round", "bench"], work, repeat,
                           "needs import, 85,000 children, CSV", f"{size(files['needs_csv']):.1f} MB")
        if xlsx:
            rows += cli_import("needs", [str(files["needs_xlsx"]), "--round", "bench"], work, repeat,
                               "needs import, 85,000 children, XLSX", f"{size(files['needs_xlsx']):.1f} MB")
        n_eps = sum(len(pd.read_csv(f, usecols=["CHILD"])) for f in files["ssda903"].rglob("episodes.csv"))
        note = f"{size(files['ssda903']):.1f} MB, {n_eps:,} episode rows"
        rows += cli_import("903", [str(files["ssda903"])], work, 1, "SSDA903 import, 85,000 children, 2 years", note,
                           cold_cache=True)
        rows += cli_import("903", [str(files["ssda903"])], work, repeat, "SSDA903 import, 85,000 children, 2 years", note)
        rows += stage_rows(files, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows.append(Row("memory", "bench_import process peak RSS (file generation + stages)", "national", "MB",
                    [peak_rss_mb()]))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--xlsx", action="store_true", help="also time the needs file as XLSX")
    ap.add_argument("--out", type=Path, default=RESULTS / "import.json")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", file=sys.stderr)
    rows = run(args.repeat, args.xlsx)
    write_rows(rows, args.out)
    print_table(rows)
    print(f"load average at end: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
