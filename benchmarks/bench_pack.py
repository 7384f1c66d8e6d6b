"""Time a full meeting pack (every default view, PowerPoint and PDF) and each view's slide, and print the figures.

The first pack in a process is the cold one a user gets from `audit pack`: it starts
vl-convert's JavaScript engine and fits the forecast. A second pack in the same
process shows what the app's button costs once those are warm.
Run: python benchmarks/bench_pack.py [--db FILE] [--scale regional|national] [--la LA]
(without --db, the sample of that scale is built once under benchmarks/results/db/).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit import pack  # noqa: E402
from audit.db import Database  # noqa: E402
from audit.pack import slides  # noqa: E402


def _database(args) -> Database:
    """The database to time: the one given, or the sample of the chosen scale (built once and kept)."""
    if args.db:
        return Database(args.db)
    path = ROOT / "benchmarks" / "results" / "db" / f"pack_{args.scale}.duckdb"
    db = Database(path)
    if not path.exists():
        from audit.sample.build import build_sample

        path.parent.mkdir(parents=True, exist_ok=True)
        build_sample(db, scale=args.scale)
    return db


def _timed_views(db: Database, la: str | None) -> dict[str, float]:
    """Seconds per view's slide, in the default order (first view pays the process's cold start)."""
    s = slides.scope(db, None, la)
    out = {}
    for name in slides.DEFAULT_VIEWS:
        t = time.perf_counter()
        try:
            slides.VIEWS[name][1](s)
        except slides.Unavailable:
            pass
        out[name] = time.perf_counter() - t
    return out


def _full(db: Database, la: str | None, folder: Path) -> dict[str, float]:
    """One full pack: build the slides once, then write both formats; seconds for each step."""
    t0 = time.perf_counter()
    built = slides.build(db, la=la)
    t1 = time.perf_counter()
    deck = pack.render(built, ".pptx")
    t2 = time.perf_counter()
    pdf = pack.render(built, ".pdf")
    t3 = time.perf_counter()
    (folder / pack.file_name(built, ".pptx")).write_bytes(deck)
    (folder / pack.file_name(built, ".pdf")).write_bytes(pdf)
    return {"slides": t1 - t0, "pptx": t2 - t1, "pdf": t3 - t2, "total": t3 - t0,
            "n_slides": len(built.slides) + 2, "pptx_MB": len(deck) / 1e6, "pdf_MB": len(pdf) / 1e6}


def main() -> None:
    """Cold full pack, warm full pack, then each view warm."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db")
    p.add_argument("--scale", choices=["regional", "national"], default="regional")
    p.add_argument("--la")
    args = p.parse_args()
    db = _database(args)
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    for label in ("cold", "warm"):
        r = _full(db, args.la, folder)
        print(f"{label} full pack ({args.scale}{', ' + args.la if args.la else ''}): {r['total']:.1f} s "
              f"(slides {r['slides']:.1f} s, PowerPoint {r['pptx']:.1f} s, PDF {r['pdf']:.1f} s); "
              f"{r['n_slides']} slides, {r['pptx_MB']:.1f} MB pptx, {r['pdf_MB']:.1f} MB pdf")
    for name, secs in _timed_views(db, args.la).items():
        print(f"  {name:<18} {secs:5.1f} s (warm)")


if __name__ == "__main__":
    main()
