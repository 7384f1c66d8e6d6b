"""Database build: `audit sample` end to end, sample generation, and each stage of the build (each importer), per scale.

The `audit sample` runs are the command a user types, in a fresh process, so
their times include Python start-up and their peak memory is the process's own.
The stage rows run build.load_files on the same files into a fresh database and
time each of its stages (schema, each importer, cohort fitting), which shows where
a build's time goes. The last `audit sample` run of each scale is
kept as the database the other parts of the suite read.

Run: python -m benchmarks.bench_build [--scales regional national] [--repeat N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (DB_DIR, RESULTS, ROOT, TARGETS, Row, Stopwatch, arg_scales, db_path, peak_rss_mb,
                               print_table, run_child, write_rows)


def cli_build(scale: str, repeat: int) -> list[Row]:
    """`audit sample --scale S` in a fresh process: wall time and peak memory; leaves the database in place."""
    path = db_path(scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    times, peaks = [], []
    for _ in range(repeat):
        if path.exists():
            path.unlink()
        ms, peak, code, err = run_child([sys.executable, "-m", "audit.cli", "--db", str(path), "sample",
                                         "--scale", scale], env=dict(os.environ))
        if code != 0:
            raise RuntimeError(f"audit sample --scale {scale} failed:\n{err}")
        times.append(ms)
        peaks.append(peak)
    size_mb = path.stat().st_size / 1024 / 1024
    what = "from the committed sample_data/ files" if scale == "regional" else "generated, then imported"
    return [Row("build", "audit sample (CLI, whole build)", scale, "ms", times, note=f"{what}; file {size_mb:,.0f} MB"),
            Row("memory", "audit sample (CLI) peak RSS", scale, "MB", peaks, TARGETS.get(("memory", scale)))]


def generate(scale: str, folder: Path) -> list[Row]:
    """Write the scale's sample files once (the national sample is generated; the regional one is committed)."""
    from audit.sample import generate as sample

    with Stopwatch() as sw:
        sample.write_sample(folder, scale=scale)
    return [Row("build", "generate sample files", scale, "ms", [sw.ms])]


class StageClock:
    """A progress sink that timestamps build.load_files' own stage messages (not the importers' inner ones).

    Timing the stages through load_files itself keeps this benchmark in step with
    whatever the build does (a new stage appears here under its own progress text).
    """

    def __init__(self):
        self.marks: list[tuple[float, str]] = []

    def __call__(self, fraction: float, text: str) -> None:
        if sys._getframe(1).f_code.co_name == "load_files":
            self.marks.append((time.perf_counter(), text))

    def stages(self, end: float) -> dict[str, float]:
        """Milliseconds from each stage message to the next (the last runs to `end`)."""
        out = {}
        for (t0, text), (t1, _) in zip(self.marks, self.marks[1:] + [(end, "")]):
            out[text] = out.get(text, 0.0) + (t1 - t0) * 1000
        return out


def importers(scale: str, folder: Path, repeat: int, work: Path) -> list[Row]:
    """build.load_files on a fresh database, stage by stage: schema, each importer, cohort fitting, ..."""
    from audit.sample import build
    from audit.db import Database

    samples: dict[str, list[float]] = {}
    totals = []
    for i in range(repeat):
        db = Database(work / f"importers-{scale}-{i}.duckdb")
        clock = StageClock()
        t0 = time.perf_counter()
        build.load_files(db, folder, build.SAMPLE_ROUND, True, progress=clock)
        t1 = time.perf_counter()
        totals.append((t1 - t0) * 1000)
        for text, ms in clock.stages(t1).items():
            if text.strip().lower() != "ready":
                samples.setdefault(text, []).append(ms)
        db.close()
        db.path.unlink()
    rows = [Row("build", f"stage: {text}", scale, "ms", s) for text, s in samples.items()]
    rows.append(Row("build", "load_files (all stages, in process)", scale, "ms", totals,
                    note="each import copies the file and swaps it in atomically"))
    return rows


def run(scales: list[str], repeat: int, national_repeat: int) -> list[Row]:
    """Every build measurement for the chosen scales."""
    from audit.paths import SAMPLE_DATA

    rows: list[Row] = []
    DB_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-build-", dir=DB_DIR))
    try:
        for scale in scales:
            n = repeat if scale == "regional" else national_repeat
            # Python's start-up makes the CLI figure steady after a few runs; the stage rows carry the detail.
            rows += cli_build(scale, min(n, 3))
            if scale == "regional":
                folder = SAMPLE_DATA
            else:
                folder = work / f"files-{scale}"
                rows += generate(scale, folder)
            rows += importers(scale, folder, n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows.append(Row("memory", "bench_build process peak RSS", "+".join(scales), "MB", [peak_rss_mb()]))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", nargs="*", choices=["regional", "national"])
    ap.add_argument("--repeat", type=int, default=5, help="repeats at regional scale")
    ap.add_argument("--national-repeat", type=int, default=1, help="repeats at national scale (about a minute each)")
    ap.add_argument("--out", type=Path, default=RESULTS / "build.json")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    rows = run(arg_scales(args.scales), args.repeat, args.national_repeat)
    write_rows(rows, args.out)
    print_table(rows)


if __name__ == "__main__":
    main()
