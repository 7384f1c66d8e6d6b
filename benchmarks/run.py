"""The one benchmark command: build, pages, analyses and browser at regional and national scale, one table.

    python -m benchmarks.run            # full run (both scales; about 10 minutes on 2 cores)
    python -m benchmarks.run --quick    # regional only, fewer repeats (about 3 minutes)
    python -m benchmarks.run --only browser pages   # some parts (from earlier results: see each part's --help)

Each part runs in its own process, one after another (never in parallel, so they
do not slow each other down), and writes its rows to benchmarks/results/. This
command gathers them, prints the table and writes latest.csv, latest.json,
summary.md (the whole table) and readme.md (the short version) there
(git-ignored). --update-readme also puts the short version into the README's
Benchmarks section, between its bench markers. Speed is never asserted
in the tests: this table is where it is judged.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import (RESULTS, ROOT, Row, machine, machine_line, markdown_table, print_table, read_rows,
                               write_rows)

README = ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
GROUP_ORDER = ["first_run", "build", "page", "browser", "analysis", "load", "memory"]


def plan(quick: bool, scales: list[str]) -> list[tuple[str, list[str], str]]:
    """(label, module arguments, result file) for every part, in the order they run."""
    r = "3" if quick else "5"
    r_nat = "2"  # national runs take seconds each; two keep a full run near ten minutes
    steps = [("build", ["benchmarks.bench_build", "--scales", *scales, "--repeat", r,
                        "--national-repeat", "1"], "build.json")]
    for s in scales:
        steps.append((f"pages {s}", ["benchmarks.bench_pages", "--scale", s, "--repeat", r if s == "regional" else r_nat],
                      f"pages-{s}.json"))
    for s in scales:
        steps.append((f"analyses {s}", ["benchmarks.analyses", "--scale", s, "--repeat", r if s == "regional" else r_nat]
                      + (["--quick"] if quick else []), f"analyses-{s}.json"))
    for s in scales:
        extra = ["--first-run", "1" if quick else "2"] if s == "regional" else ["--no-references"]
        steps.append((f"browser {s}", ["benchmarks.bench_browser", "--scale", s,
                                       "--repeat", ("3" if quick else "8") if s == "regional" else "2", *extra],
                      f"browser-{s}.json"))
    if "national" in scales and not quick:  # 20 sessions on one server: memory and errors under load (#19)
        steps.append(("load national", ["benchmarks.bench_load", "--scale", "national", "--sessions", "20"],
                      "load-national.json"))
    return steps


def run_part(label: str, args: list[str], out: Path, log_dir: Path) -> list[Row]:
    """One part in its own process; its rows, or one row saying it failed and where its log is."""
    log = log_dir / (re.sub(r"\W+", "-", label) + ".log")
    t0 = time.perf_counter()
    print(f"-- {label} ...", flush=True)
    with open(log, "w") as fh:
        code = subprocess.run([sys.executable, "-m", *args, "--out", str(out)], cwd=ROOT, stdout=fh,
                              stderr=subprocess.STDOUT).returncode
    took = time.perf_counter() - t0
    print(f"   {label}: {took:.0f} s" + ("" if code == 0 else f", FAILED (exit {code}; see {log.relative_to(ROOT)})"),
          flush=True)
    if code != 0 or not out.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        return [Row(label.split()[0], f"{label} - FAILED", label.split()[-1], "ms", [], note=tail[0][:200])]
    return read_rows(out)


def ordered(rows: list[Row]) -> list[Row]:
    """Rows grouped as a reader meets them: first run, build, pages, browser, analyses, memory."""
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r.group, 99), 0 if r.scale == "regional" else 1))


def misses(rows: list[Row]) -> list[Row]:
    """Rows with a target whose median misses it."""
    return [r for r in rows if r.status == "MISS"]


def write_csv(rows: list[Row], path: Path) -> None:
    """The table as CSV, with every sample, for spreadsheets and later comparison."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "name", "scale", "unit", "n", "median", "q1", "q3", "min", "max", "target", "status",
                    "note", "samples"])
        for r in rows:
            w.writerow([r.group, r.name, r.scale, r.unit, r.n, _num(r.median), _num(r.q1), _num(r.q3), _num(r.min),
                        _num(r.max), "" if r.target is None else r.target, r.status, r.note,
                        " ".join(f"{s:.1f}" for s in r.samples)])


def _num(v: float) -> str:
    """A CSV number, blank when missing."""
    return "" if v != v else f"{v:.1f}"


def summary_markdown(rows: list[Row], m: dict, quick: bool, took_s: float) -> str:
    """The Markdown summary: machine, table and what misses its target."""
    pk = m["packages"]
    lines = [f"Measured {m['date']} ({'quick run' if quick else 'full run'}, {took_s / 60:.1f} min) on "
             f"{m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gb']:.0f} GB RAM; load average at start "
             f"{m['load_average'][0]:.2f}. Python {m['python']}, streamlit {pk['streamlit']}, pandas {pk['pandas']}, "
             f"duckdb {pk['duckdb']}, altair {pk['altair']}, folium {pk['folium']}, streamlit-folium "
             f"{pk['streamlit-folium']}, {m['chromium']}.",
             "",
             "Medians over repeated runs; spread is the IQR (4+ runs) or the range. Page times are AppTest runs of "
             "app.py and the page after the sidebar's filters change; browser times run from navigation to fully "
             "drawn in headless chromium; ratios are to a blank Streamlit page measured in the same run.",
             "", markdown_table(rows), ""]
    missed = misses(rows)
    lines.append("Targets missed: " + ("none." if not missed else ""))
    lines += [f"- {r.group}: {r.name} ({r.scale}): {_fmt(r)} against {_fmt(r, r.target)}" for r in missed]
    failed = [r for r in rows if r.name.endswith("FAILED")]
    lines += [f"- FAILED: {r.name} ({r.scale}): {r.note}" for r in failed]
    return "\n".join(lines) + "\n"


def _fmt(r: Row, value: float | None = None) -> str:
    """A row's median (or another value) in its unit."""
    from benchmarks.common import fmt

    return fmt(r.median if value is None else value, r.unit)


def _find(rows: list[Row], name: str, scale: str) -> Row | None:
    """The row with this name and scale, if it was measured."""
    return next((r for r in rows if r.name == name and r.scale == scale and r.n), None)


def _cell(r: Row | None, with_status: bool = True) -> str:
    """A median for the README's short tables, flagged when it misses its target."""
    if r is None:
        return "-"
    return _fmt(r) + (" (miss)" if with_status and r.status == "MISS" else "")


def readme_markdown(rows: list[Row], m: dict, quick: bool) -> str:
    """The README's short version: one line per page, the headline figures, what misses, and the machine."""
    from benchmarks.common import pages_from_app

    pk = m["packages"]
    lines = [f"Latest {'quick' if quick else 'full'} run, {m['date']}, on {m['cpus']} CPUs ({m['cpu_model']}), "
             f"{m['ram_gb']:.0f} GB RAM, load average {m['load_average'][0]:.1f} at start; Python {m['python']}, "
             f"streamlit {pk['streamlit']}, pandas {pk['pandas']}, duckdb {pk['duckdb']}, altair {pk['altair']}, "
             f"folium {pk['folium']}, {m['chromium']}. Medians; every figure with its spread is in "
             "`benchmarks/results/summary.md`.", "",
             "| Page | warm rerun, regional (< 300 ms) | warm rerun, national (< 1 s) | browser, fully drawn "
             "(regional) | ratio to blank page at the same kind of address (< 2x) | ratio to blank page at the root "
             "| sidebar click to drawn |",
             "|---|---|---|---|---|---|---|"]
    for pg in pages_from_app():
        t = pg.title
        # The default page is served at the root, so its one ratio is already to the root floor.
        root_ratio = _find(rows, f"{t} - ratio to blank at the root", "regional") or _find(rows, f"{t} - ratio to blank", "regional")
        lines.append(f"| {t} | {_cell(_find(rows, f'{t} - filter change, warm', 'regional'))} | "
                     f"{_cell(_find(rows, f'{t} - filter change, warm', 'national'))} | "
                     f"{_cell(_find(rows, f'{t} - fully drawn', 'regional'))} | "
                     f"{_cell(_find(rows, f'{t} - ratio to blank', 'regional'))} | "
                     f"{_cell(root_ratio, False)} | "
                     f"{_cell(_find(rows, f'{t} - sidebar click to drawn (same tab)', 'regional'))} |")
    floor = _find(rows, "blank Streamlit page (floor)", "regional")
    deep = _find(rows, "blank Streamlit page at a page address (floor for deep links)", "regional")
    refs = [r for r in rows if r.name.startswith("reference:") and r.scale == "regional"]
    lines += ["", f"Blank Streamlit page (the floor): {_cell(floor)} at the root, {_cell(deep)} at a page's address "
              "(/page: Streamlit first probes /page as a base path and retries after 100 ms; the default page is "
              "compared with the root, the others with /page); "
              + "; ".join(f"{r.name.removeprefix('reference: blank page + ')}: {_fmt(r)}" for r in refs) + ".", ""]
    headline = [
        ("First run, no database to overview drawn (< 30 s)", "no database to overview drawn (server start + build + draw)", "regional"),
        ("`audit sample`, regional", "audit sample (CLI, whole build)", "regional"),
        ("`audit sample --scale national`", "audit sample (CLI, whole build)", "national"),
        ("Co-occurrence matrix, national (< 1 s)", "co-occurrence: 22 x 22 lift matrix", "national"),
        ("LCA cohorts k = 2-8, national (< 60 s)", "LCA cohorts: k = 2-8 on 22 codes (BIC choice)", "national"),
        ("E2SFCA gaps, every town, national (< 5 s)", "E2SFCA gaps: residential, all towns (from the database)", "national"),
        ("Matching, national", "matching: whole round to homes (auto method)", "national"),
        ("Planner, national", "planner: 3 new homes of 4 places, all children", "national"),
        ("Forecast, 5 years, every LA and category, national",
         "forecast: 5 years, every LA and category (history + ETS fits)", "national"),
        ("Forecast backtest (12 months held out), national", "forecast: backtest, last 12 months held out", "national"),
        ("App server peak memory, national (< 2 GB)", "streamlit server peak RSS (VmHWM, browser run)", "national"),
    ]
    lines += ["| Also measured | median |", "|---|---|"]
    lines += [f"| {label} | {_cell(_find(rows, name, scale))} |" for label, name, scale in headline
              if _find(rows, name, scale)]
    missed = misses(rows)
    lines += ["", "Missed: " + ("none." if not missed else "; ".join(f"{r.name} ({r.scale})" for r in missed) + ".")]
    return "\n".join(lines) + "\n"


def update_readme(summary: str) -> bool:
    """Replace the figures between the README's bench markers (nothing else in the README is touched)."""
    text = README.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    README.write_text(head + README_START + "\n" + summary + README_END + tail)
    return True


def main(argv: list[str] | None = None) -> int:
    """Run every part, print the table, write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="regional only, fewer repeats")
    ap.add_argument("--scales", nargs="*", choices=["regional", "national"],
                    help="default: both (full run) or regional (--quick)")
    ap.add_argument("--only", nargs="*", help="only the parts whose label starts with one of these (build, pages, "
                                              "analyses, browser)")
    ap.add_argument("--update-readme", action="store_true", help="write the summary into README.md's bench block")
    args = ap.parse_args(argv)
    scales = args.scales or (["regional"] if args.quick else ["regional", "national"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS / "logs"
    log_dir.mkdir(exist_ok=True)
    m = machine()
    print("Benchmarks on " + machine_line(m), flush=True)
    t0 = time.perf_counter()
    rows: list[Row] = []
    for label, part_args, out in plan(args.quick, scales):
        if args.only and not any(label.startswith(o) for o in args.only):
            if (RESULTS / out).exists():  # a part not run this time keeps its last figures in the table
                rows += read_rows(RESULTS / out)
            continue
        rows += run_part(label, part_args, RESULTS / out, log_dir)
    took = time.perf_counter() - t0
    rows = ordered(rows)
    print()
    print_table(rows)
    missed = misses(rows)
    print("\nTargets missed: " + (", ".join(f"{r.name} ({r.scale})" for r in missed) if missed else "none"))
    write_rows(rows, RESULTS / "latest-rows.json")
    (RESULTS / "latest.json").write_text(json.dumps({"machine": m, "quick": args.quick, "seconds": round(took),
                                                      "rows": [asdict(r) for r in rows]}, indent=1))
    write_csv(rows, RESULTS / "latest.csv")
    summary = summary_markdown(rows, m, args.quick, took)
    (RESULTS / "summary.md").write_text(summary)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / "history").mkdir(exist_ok=True)
    (RESULTS / "history" / f"{stamp}.json").write_text((RESULTS / "latest.json").read_text())
    print(f"\nWrote {', '.join(str((RESULTS / f).relative_to(ROOT)) for f in ('latest.csv', 'latest.json', 'summary.md'))}"
          f" in {took / 60:.1f} min")
    (RESULTS / "readme.md").write_text(readme_markdown(rows, m, args.quick))
    if args.update_readme:
        updated = update_readme(readme_markdown(rows, m, args.quick))
        print("README updated" if updated else "README has no bench markers; not updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
