"""The `audit` command: everything the app does, scriptable (see data-contract.md section 4)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from audit.db import Database, WriteError
from audit.intake.problems import ImportFailed, one_line


def _progress(fraction: float, text: str) -> None:
    """Progress lines on stderr so stdout stays clean for data."""
    print(f"[{fraction:4.0%}] {text}", file=sys.stderr)


def _fail(problems) -> int:
    """One line per problem on stderr, exit code 2 (the data contract's promise)."""
    for p in problems:
        print(one_line(str(p)), file=sys.stderr)  # a file name with a line break stays on its own line
    return 2


def cmd_init(db: Database, args) -> int:
    """Create an empty database with the schema and reference tables."""
    db.init()
    print(f"initialised {db.path}")
    return 0


def cmd_sample(db: Database, args) -> int:
    """Replace the database with the synthetic sample."""
    from audit.sample.build import build_sample

    summary = build_sample(db, scale=args.scale, seed=args.seed, progress=_progress)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_import(db: Database, args) -> int:
    """Load one kind of input file (nothing changes if any file has an error)."""
    from audit.intake import needs as import_needs
    from audit.intake import provision as import_provision

    if args.audit_date:
        try:
            dt.date.fromisoformat(args.audit_date)
        except ValueError:
            return _fail([f"--audit-date must be a real date written YYYY-MM-DD (like 2025-03-31), not {args.audit_date!r}"])
    if not db.exists():
        db.init()
    kind = args.kind
    if kind == "needs":
        if len(args.files) != 1:
            return _fail(["audit import needs takes exactly one FILE"])
        if not args.round:
            return _fail(["audit import needs needs --round LABEL"])
        r = import_needs.load(db, args.files[0], args.round, audit_date=args.audit_date, progress=_progress,
                              keep_other_las=args.keep_other_las)
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
    elif kind == "ofsted":
        from audit.intake import ofsted as import_ofsted

        r = import_ofsted.load(db, args.files[0], mode=args.mode, progress=_progress)
        for w in r["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
        print(f"{r['homes']} children's homes, {r['places']} places (located by: {r['by_precision']})")
    elif kind == "903":
        from audit.intake import ssda903 as import_903

        r = import_903.load(db, args.files, la=args.la, audit_date=args.audit_date, round_label=args.round,
                            progress=_progress)
        for w in r.warnings:
            print(f"warning: {w}", file=sys.stderr)
        print(f"round '{r.round_label}' (audit date {r.audit_date}): {r.children} children in residential care; "
              f"{r.episodes} episodes kept from years {', '.join(map(str, r.years))}")
        print(r.by_la.to_string(index=False))
    else:
        return _fail([f"unknown import kind '{kind}'"])
    return 0


def cmd_build_geodata(db: Database, args) -> int:
    """Rebuild geodata/ from the ONS Postcode Directory package."""
    from audit.geography.build import build_geodata
    from audit.paths import GEODATA

    summary = build_geodata(Path(args.out) if args.out else GEODATA, progress=lambda t: print(t, file=sys.stderr))
    print(summary)
    return 0


def cmd_export(db: Database, args) -> int:
    """Write any extract the app offers, with the same suppression rules."""
    from audit import extracts

    try:
        data = extracts.export(db, args.view, la=args.la, round_label=args.round)
    except (KeyError, PermissionError) as exc:
        return _fail([str(exc.args[0])])
    Path(args.out).write_bytes(data)
    print(f"wrote {args.out}")
    return 0


def cmd_cohorts(db: Database, args) -> int:
    """Fit and store the round's cohorts; write each child's cohort as CSV and print the chosen k."""
    from audit import extracts
    from audit.analysis import cohort_store
    from audit.export import to_csv_bytes

    if not db.exists():
        return _fail([f"{db.path}: no database; run `audit sample` or `audit import needs` first"])
    try:
        round_id = extracts.round_id(db, args.round)
    except KeyError as exc:
        return _fail([str(exc.args[0])])
    if round_id is None:
        return _fail(["no audit round loaded; run `audit import needs FILE --round LABEL` first"])
    if args.k == "auto":
        k = None
    else:
        try:
            k = int(args.k)
        except ValueError:
            return _fail([f"--k must be a whole number from 2 to 8 or 'auto', not '{args.k}'"])
        if k not in cohort_store.K_RANGE:
            return _fail([f"--k must be from 2 to 8, not {k}"])
    fitted = cohort_store.fit_and_store(db, round_id, method=args.method, k=k, progress=_progress)
    Path(args.out).write_bytes(to_csv_bytes(cohort_store.children_csv(db, round_id)))
    how = "chosen by BIC over 2-8" if k is None else "as requested"
    print(f"k={fitted.k} ({how}; {cohort_store.METHODS[fitted.method]})")
    for c, name in fitted.names.items():
        print(f"  {c}. {name}")
    print(f"wrote {args.out}")
    return 0


def cmd_gaps(db: Database, args) -> int:
    """Rank every town by gap score for a service and need, and write the CSV (demand counts suppressed)."""
    from audit import extracts
    from audit.analysis import provision
    from audit.geography import region
    from audit.export import to_csv_bytes

    la = region.la_code(args.la) if args.la else None
    if args.la and la is None:
        return _fail([f"'{args.la}' is not one of the 11 Eastern LAs"])
    if args.radius_km is not None and not args.radius_km > 0:
        return _fail([f"--radius-km must be a positive number of km, not {args.radius_km:g}"])
    try:
        round_id = extracts.round_id(db, args.round)
        sel = provision.Selection(args.service, provision.need_value(db, args.service, args.need, round_id), round_id)
    except KeyError as exc:
        return _fail([str(exc.args[0])])
    table = provision.gaps_extract(db, sel, args.radius_km, args.decay, la)
    Path(args.out).write_bytes(to_csv_bytes(table))
    print(f"{len(table)} towns; wrote {args.out}")
    return 0


def cmd_plan(db: Database, args) -> int:
    """Choose towns for N new homes of P places and write one row per home; print what they would change."""
    from audit import extracts
    from audit.analysis import planner
    from audit.geography import region
    from audit.export import to_csv_bytes

    if not db.exists():
        return _fail([f"{db.path}: no database; run `audit sample` or `audit import needs` first"])
    la = region.la_code(args.la) if args.la else None
    if args.la and la is None:
        return _fail([f"'{args.la}' is not one of the 11 Eastern LAs"])
    if args.cohort and args.need:
        return _fail(["give --cohort or --need, not both"])
    if not 1 <= args.homes <= planner.MAX_HOMES or not 1 <= args.places <= planner.MAX_PLACES:
        return _fail([f"--homes must be 1-{planner.MAX_HOMES} and --places 1-{planner.MAX_PLACES}"])
    if args.radius_km is not None and not args.radius_km > 0:
        return _fail([f"--radius-km must be a positive number of km, not {args.radius_km:g}"])
    try:
        round_id = extracts.round_id(db, args.round)
    except KeyError as exc:
        return _fail([str(exc.args[0])])
    options = planner.target_options(db, round_id)
    target = planner.ALL
    if args.cohort:
        target = planner.resolve_target(args.cohort, {k: v for k, v in options.items() if k.startswith("cohort:")})
        if target is None:
            fitted = ", ".join(k.split(":")[1] + " " + v.split(": ", 1)[1] for k, v in options.items() if k.startswith("cohort:"))
            return _fail([f"cohort '{args.cohort}' not found for this round; fitted cohorts: {fitted or 'none (run audit cohorts)'}"])
    elif args.need:
        target = planner.resolve_target(args.need, {k: v for k, v in options.items() if k.startswith("category:")})
        if target is None:
            return _fail([f"need '{args.need}' is not a need category of the taxonomy"])
    plan = planner.make_plan(db, round_id, args.homes, args.places, target,
                             args.radius_km or planner.CATCHMENT_KM, la)
    table = planner.site_rows(plan, labels=False).display.drop(columns="la_code")
    Path(args.out).write_bytes(to_csv_bytes(table))
    print(planner.figure_rows(plan).display.to_string(index=False))
    if plan.stopped_early:
        print(f"only {len(table)} of {args.homes} homes would bring any more children within reach")
    print(f"wrote {args.out}")
    return 0


def cmd_forecast(db: Database, args) -> int:
    """Forecast placement demand by year, LA and category from the SSDA903 history; write the suppressed CSV."""
    from audit.analysis import forecast
    from audit.geography import region
    from audit.export import to_csv_bytes

    if not 1 <= args.years <= forecast.MAX_YEARS:
        return _fail([f"--years must be 1-{forecast.MAX_YEARS}, not {args.years}"])
    if not db.exists():
        return _fail([f"{db.path}: no database; run `audit sample` or `audit import 903 FOLDER` first"])
    la = region.la_code(args.la) if args.la else None
    if args.la and la is None:
        return _fail([f"'{args.la}' is not one of the 11 Eastern LAs"])
    try:
        fc = forecast.forecast(db, args.years, la)
    except forecast.NoHistory as exc:
        return _fail([str(exc)])
    table = forecast.extract(fc)
    if la:
        table = table[table["la"] != forecast.TOTAL]
    Path(args.out).write_bytes(to_csv_bytes(table))
    bt = forecast.backtest_summary(forecast.backtest(db, la))
    # The summary printed is suppressed like the CSV: one LA's small categories would otherwise show 1-4.
    shown = forecast.published(fc).display
    total = shown[shown["la"] == (la or forecast.TOTAL)]
    last = total[total["year"] == total["year"].max()]
    print(f"history to {fc.last_date}; {fc.level:.0%} intervals; damped-trend ETS per LA and category")
    fmt = lambda v: v if isinstance(v, str) else f"{v:,.0f}"
    for r in last.itertuples():
        print(f"  {r.category:<12} {fmt(r.observed):>7} now -> {fmt(r.demand):>7} ({fmt(r.lower)}-{fmt(r.upper)}) by {r.year}")
    if not bt.empty:
        allrow = bt[bt["category"] == "all"].iloc[0]
        print(f"backtest (last 12 months held out): MAPE {allrow['mape']:.1f}% over {int(allrow['series'])} series, "
              f"{allrow['covered']:.0%} of months inside the interval")
    print(f"wrote {args.out}")
    return 0


def cmd_rounds(db: Database, args) -> int:
    """List audit rounds, or delete one (--delete LABEL --yes)."""
    from audit.analysis.overview import rounds

    if args.delete:
        from audit.intake import needs as import_needs

        if not args.yes:
            return _fail([f"deleting round '{args.delete}' cannot be undone: add --yes to confirm"])
        n = import_needs.delete_round(db, args.delete)
        print(f"deleted round '{args.delete}' ({n} children)")
        return 0
    print(rounds(db).to_string(index=False))
    return 0


def cmd_template(db: Database, args) -> int:
    """Write the needs-profile template (XLSX or CSV, by the file's extension)."""
    from audit.intake import template

    out = Path(args.out)
    out.write_bytes(template.csv_bytes() if out.suffix.lower() == ".csv" else template.xlsx_bytes())
    print(f"wrote {out}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(prog="audit", description="Eastern Region Needs Audit")
    db_help = "database file (default: $AUDIT_DB or data/audit.duckdb); before or after the command"
    p.add_argument("--db", help=db_help)
    # Every subcommand takes --db too; SUPPRESS keeps a --db given before the command when none follows it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, **kw) -> argparse.ArgumentParser:
        """A subcommand that also takes --db after its name."""
        return sub.add_parser(name, parents=[common], **kw)

    command("init", help="create an empty database").set_defaults(func=cmd_init)
    s = command("sample", help="load the synthetic sample")
    s.add_argument("--scale", choices=["regional", "national"], default="regional")
    s.add_argument("--seed", type=int, default=None)
    s.set_defaults(func=cmd_sample)
    i = command("import", help="import input files")
    i.add_argument("kind", choices=["needs", "homes", "occupancy", "shortbreaks", "ofsted", "903"])
    i.add_argument("files", nargs="+")
    i.add_argument("--round", help="audit round label (needs; optional for 903, default 'SSDA903 <audit date>')")
    i.add_argument("--audit-date", help="the round's audit date, YYYY-MM-DD (903 default: 31 March of the latest year)")
    i.add_argument("--la", help="903 files without an LA column: the LA they belong to")
    i.add_argument("--keep-other-las", action="store_true",
                   help="needs: replace only the round's children of the LAs in the file")
    i.add_argument("--mode", choices=["replace", "update"], default="replace",
                   help="ofsted: replace the homes table, or update/add homes by URN")
    i.set_defaults(func=cmd_import)
    g = command("build-geodata", help="rebuild geodata/ from the ONS Postcode Directory")
    g.add_argument("--out", help="output folder (default: geodata/)")
    g.set_defaults(func=cmd_build_geodata)
    e = command("export", help="write an extract as CSV")
    e.add_argument("view")
    e.add_argument("--out", required=True)
    e.add_argument("--la")
    e.add_argument("--round")
    e.set_defaults(func=cmd_export)
    c = command("cohorts", help="fit, store and write each child's cohort")
    c.add_argument("--round", help="audit round label (default: the newest)")
    c.add_argument("--k", default="auto", help="number of cohorts, 2-8, or 'auto' (lowest BIC)")
    c.add_argument("--method", choices=["lca", "kmodes"], default="lca", help="latent class analysis (default) or k-modes")
    c.add_argument("--out", required=True)
    c.set_defaults(func=cmd_cohorts)
    gp = command("gaps", help="rank towns by gap in provision (E2SFCA) and write CSV")
    gp.add_argument("--service", choices=["residential", "short-breaks"], required=True)
    gp.add_argument("--need", help="need code or category (residential), SEN code (short breaks), or cohort:N")
    gp.add_argument("--radius-km", type=float, help="catchment (default 32 km residential, 15 km short breaks)")
    gp.add_argument("--decay", choices=["gaussian", "linear", "step"], default="gaussian")
    gp.add_argument("--la", help="only this LA's towns")
    gp.add_argument("--round", help="audit round label (default: the newest)")
    gp.add_argument("--out", required=True)
    gp.set_defaults(func=cmd_gaps)
    pl = command("plan", help="where to open N new homes of P places, and what they would change")
    pl.add_argument("--homes", type=int, required=True, help="number of new homes (1-20)")
    pl.add_argument("--places", type=int, required=True, help="places in each new home (1-12)")
    pl.add_argument("--cohort", help="plan for a fitted cohort (number or name)")
    pl.add_argument("--need", help="plan for children with a need category (e.g. sexual_exploitation)")
    pl.add_argument("--radius-km", type=float, help="catchment (default 32.19 km = 20 miles)")
    pl.add_argument("--la", help="site the homes in this LA's towns")
    pl.add_argument("--round", help="audit round label (default: the newest)")
    pl.add_argument("--out", required=True)
    pl.set_defaults(func=cmd_plan)
    fc = command("forecast", help="forecast placement demand by year, LA and category (from SSDA903 history)")
    fc.add_argument("--years", type=int, required=True, help="years ahead, 1-10 (each to 31 March)")
    fc.add_argument("--la", help="only this LA")
    fc.add_argument("--out", required=True)
    fc.set_defaults(func=cmd_forecast)
    r = command("rounds", help="list audit rounds (or delete one)")
    r.add_argument("--delete", metavar="LABEL", help="delete this round and everything derived from it")
    r.add_argument("--yes", action="store_true", help="confirm --delete")
    r.set_defaults(func=cmd_rounds)
    t = command("template", help="write the needs-profile template")
    t.add_argument("--out", required=True, help="template.xlsx or template.csv")
    t.set_defaults(func=cmd_template)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `audit` console script."""
    args = parser().parse_args(argv)
    db = Database(args.db)
    try:
        return args.func(db, args)
    except ImportFailed as exc:
        return _fail(exc.problems)
    except WriteError as exc:
        return _fail([str(exc)])
    except FileNotFoundError as exc:
        return _fail([f"{exc.filename}: file not found"])


if __name__ == "__main__":
    sys.exit(main())
