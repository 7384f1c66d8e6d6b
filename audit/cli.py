"""The `audit` command: everything the app does, scriptable (see data-contract.md section 4)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.db import Database
from audit.problems import ImportFailed


def _progress(fraction: float, text: str) -> None:
    """Progress lines on stderr so stdout stays clean for data."""
    print(f"[{fraction:4.0%}] {text}", file=sys.stderr)


def _fail(problems) -> int:
    """One line per problem on stderr, exit code 2 (the data contract's promise)."""
    for p in problems:
        print(str(p), file=sys.stderr)
    return 2


def cmd_init(db: Database, args) -> int:
    """Create an empty database with the schema and reference tables."""
    db.init()
    print(f"initialised {db.path}")
    return 0


def cmd_sample(db: Database, args) -> int:
    """Replace the database with the synthetic sample."""
    from audit.build import build_sample

    summary = build_sample(db, scale=args.scale, seed=args.seed, progress=_progress)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_import(db: Database, args) -> int:
    """Load one kind of input file (nothing changes if any file has an error)."""
    from audit import import_needs, import_provision

    if not db.exists():
        db.init()
    kind = args.kind
    if kind == "needs":
        if len(args.files) != 1:
            return _fail(["audit import needs takes exactly one FILE"])
        if not args.round:
            return _fail(["audit import needs needs --round LABEL"])
        r = import_needs.load(db, args.files[0], args.round, progress=_progress)
        for w in r.warnings:
            print(f"warning: {w}", file=sys.stderr)
        print(f"round '{r.round_label}': {r.rows} children loaded")
        print(r.by_la.to_string(index=False))
    elif kind == "homes":
        r = import_provision.load_homes(db, args.files[0], progress=_progress)
        print(f"{r['homes']} homes, {r['places']} places")
    elif kind == "occupancy":
        r = import_provision.load_occupancy(db, args.files[0], progress=_progress)
        print(f"{r['rows']} occupancy rows, {r['places_used']} places used")
    elif kind == "shortbreaks":
        if len(args.files) != 2:
            return _fail(["audit import shortbreaks takes PROVIDERS_FILE CHILDREN_FILE"])
        r = import_provision.load_shortbreaks(db, args.files[0], args.files[1], progress=_progress)
        print(f"{r['providers']} providers, {r['children']} children")
    else:
        return _fail([f"unknown import kind '{kind}'"])
    return 0


def cmd_build_geodata(db: Database, args) -> int:
    """Rebuild geodata/ from the ONS Postcode Directory package."""
    from audit.geobuild import build_geodata
    from audit.paths import GEODATA

    summary = build_geodata(Path(args.out) if args.out else GEODATA, progress=lambda t: print(t, file=sys.stderr))
    print(summary)
    return 0


def cmd_export(db: Database, args) -> int:
    """Write any extract the app offers, with the same suppression rules."""
    from audit import extracts

    try:
        data = extracts.export(db, args.view, la=args.la, round_label=args.round)
    except KeyError as exc:
        return _fail([str(exc.args[0])])
    Path(args.out).write_bytes(data)
    print(f"wrote {args.out}")
    return 0


def cmd_rounds(db: Database, args) -> int:
    """List audit rounds."""
    from audit.overview import rounds

    print(rounds(db).to_string(index=False))
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(prog="audit", description="Eastern Region Needs Audit")
    p.add_argument("--db", help="database file (default: $AUDIT_DB or data/audit.duckdb)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create an empty database").set_defaults(func=cmd_init)
    s = sub.add_parser("sample", help="load the synthetic sample")
    s.add_argument("--scale", choices=["regional", "national"], default="regional")
    s.add_argument("--seed", type=int, default=None)
    s.set_defaults(func=cmd_sample)
    i = sub.add_parser("import", help="import input files")
    i.add_argument("kind", choices=["needs", "homes", "occupancy", "shortbreaks", "ofsted", "903"])
    i.add_argument("files", nargs="+")
    i.add_argument("--round", help="audit round label (needs)")
    i.set_defaults(func=cmd_import)
    g = sub.add_parser("build-geodata", help="rebuild geodata/ from the ONS Postcode Directory")
    g.add_argument("--out", help="output folder (default: geodata/)")
    g.set_defaults(func=cmd_build_geodata)
    e = sub.add_parser("export", help="write an extract as CSV")
    e.add_argument("view")
    e.add_argument("--out", required=True)
    e.add_argument("--la")
    e.add_argument("--round")
    e.set_defaults(func=cmd_export)
    sub.add_parser("rounds", help="list audit rounds").set_defaults(func=cmd_rounds)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `audit` console script."""
    args = parser().parse_args(argv)
    db = Database(args.db)
    try:
        return args.func(db, args)
    except ImportFailed as exc:
        return _fail(exc.problems)
    except FileNotFoundError as exc:
        return _fail([f"{exc.filename}: file not found"])


if __name__ == "__main__":
    sys.exit(main())
