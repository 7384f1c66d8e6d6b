"""The `audit` command: everything the app does, scriptable (see data-contract.md section 4).

The CLI acts as the administrator of the machine it runs on: whoever can run it can read the database
file anyway. Its writes, user changes and exports are recorded in the audit log as cli:<user>@<host>.
"""

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


def _store(db: Database):
    """The access store beside this database (accounts, settings, audit log)."""
    from audit.access.store import AccessStore

    return AccessStore.beside(db.path)


def _log(db: Database, action: str, *, view: str | None = None, filters: dict | None = None,
         rows: int | None = None, detail: str | None = None) -> None:
    """Record what the CLI did in the audit log, as the machine's administrator."""
    from audit.access.store import cli_account

    _store(db).log(cli_account(), action, view=view, filters=filters, rows=rows, detail=detail)


def _csv_rows(data: bytes) -> int:
    """Rows of a CSV the CLI wrote (for the log)."""
    import io

    import pandas as pd

    return len(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)) if data.strip() else 0


def _write_out(db: Database, args, data: bytes, view: str, filters: dict | None = None) -> None:
    """Write an output file and log it as an export (who, which view, filters, rows)."""
    Path(args.out).write_bytes(data)
    _log(db, "export", view=view, filters=filters, rows=_csv_rows(data), detail=f"file {args.out}")


def cmd_init(db: Database, args) -> int:
    """Create an empty database with the schema and reference tables, readable by its owner only."""
    db.init()
    db.path.chmod(0o600)  # children's data: not readable by other accounts on the machine
    print(f"initialised {db.path} (permissions 0600)")
    return 0


def cmd_sample(db: Database, args) -> int:
    """Replace the database with the synthetic sample."""
    from audit.sample.build import build_sample

    summary = build_sample(db, scale=args.scale, seed=args.seed, progress=_progress)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_import(db: Database, args) -> int:
    """Load one kind of input file (nothing changes if any file has an error)."""
    from audit import rounds
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
        r = rounds.load_needs(db, args.files[0], args.round, audit_date=args.audit_date, progress=_progress,
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
            print(f"{w.severity}: {w}", file=sys.stderr)
        for f in r.files.itertuples():
            print(f"read {f.file}" + (f" (YEAR {f.label})" if f.label and f.label not in f.file else "")
                  + f": {f.table}, {f.rows:,} rows, year {f.read_as or 'none'} ({f.how})")
        print(f"round '{r.round_label}' (audit date {r.audit_date}): {r.children} children in residential care; "
              f"{r.episodes} episodes kept from years {', '.join(map(str, r.years))}")
        print(r.by_la.to_string(index=False))
    else:
        return _fail([f"unknown import kind '{kind}'"])
    _log(db, "import", view=kind, filters={"round": args.round, "la": args.la},
         detail=", ".join(str(f) for f in args.files))
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

    viewer = None
    if args.as_user:
        account = _store(db).account(args.as_user)
        if account is None:
            return _fail([f"--as {args.as_user}: no such account (see `audit users list`)"])
        viewer = account.viewer()
    try:
        data = extracts.export(db, args.view, la=args.la, round_label=args.round, viewer=viewer,
                               unsuppressed_for=args.unsuppressed_for)
    except (KeyError, PermissionError) as exc:
        return _fail([str(exc.args[0])])
    _write_out(db, args, data, args.view, {"la": args.la, "round": args.round, "as": args.as_user})
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
    _write_out(db, args, to_csv_bytes(cohort_store.children_csv(db, round_id)), "cohort_children",
               {"round": args.round, "k": args.k, "method": args.method})
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
    _write_out(db, args, to_csv_bytes(table), "gaps", {"service": args.service, "need": args.need, "la": args.la,
                                                        "round": args.round, "radius_km": args.radius_km})
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
    if args.homes is not None and args.places is not None and (
            not 1 <= args.homes <= planner.MAX_HOMES or not 1 <= args.places <= planner.MAX_PLACES):
        return _fail([f"--homes must be 1-{planner.MAX_HOMES} and --places 1-{planner.MAX_PLACES}"])
    if args.radius_km is not None and not args.radius_km > 0:
        return _fail([f"--radius-km must be a positive number of km, not {args.radius_km:g}"])
    try:
        round_id = extracts.round_id(db, args.round)
    except KeyError as exc:
        return _fail([str(exc.args[0])])
    if args.list:
        return _list_scenarios(db, round_id)
    if args.homes is None or args.places is None or args.out is None:
        return _fail(["give --homes, --places and --out (or --list)"])
    if args.min_children is not None and not 1 <= args.min_children <= args.places:
        return _fail([f"--min-children must be 1-{args.places} (the places in a home)"])
    if args.for_la and not la:
        return _fail(["--for-la needs --la"])
    if args.save is not None and not (args.save.strip() and len(args.save.strip()) <= 60):
        return _fail(["--save needs a name of 1-60 characters"])
    if args.cost_per_place is not None and not args.cost_per_place >= 0:
        return _fail([f"--cost-per-place must be a weekly cost in pounds, not {args.cost_per_place:g}"])
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
                             args.radius_km or planner.CATCHMENT_KM, la, for_la=args.for_la,
                             per_town=None if args.stack else 1, min_children=args.min_children or 1)
    table = planner.site_rows(plan, labels=False).display.drop(columns="la_code")
    _write_out(db, args, to_csv_bytes(table), "plan", {"homes": args.homes, "places": args.places, "la": args.la,
                                                        "cohort": args.cohort, "need": args.need, "round": args.round})
    print(planner.who_text(plan))
    print(planner.figure_rows(plan).display.to_string(index=False))
    print(planner.solver_text(plan))
    if plan.stopped_early:
        print(f"only {len(table)} of {args.homes} homes would bring enough more children within reach")
    from audit.analysis import costs, scenarios

    per_place = args.cost_per_place if args.cost_per_place is not None else costs.default_place_cost(db)
    cost = costs.plan_cost(plan, costs.child_costs(db, round_id), per_place)
    print(", ".join(f"{k}: {v}" for k, v in costs.plan_tiles(cost).items()))
    print(f"wrote {args.out}")
    if args.save is not None:
        print(f"saved as scenario '{scenarios.save(db, round_id, args.save, plan, cost)}'")
    return 0


def _list_scenarios(db: Database, round_id: int) -> int:
    """Print the round's saved scenarios, one line each (counts of 1-4 hidden)."""
    import json

    from audit.analysis import scenarios
    from audit.suppress import hidden_count

    rows = scenarios.saved(db, round_id)
    if rows.empty:
        print("no saved scenarios for this round (save one with audit plan ... --save NAME)")
        return 0
    for r in rows.itertuples(index=False):
        print(f"{r.name}: {len(json.loads(r.sites))} new homes; within reach "
              f"{hidden_count(r.near_before)} -> {hidden_count(r.near_after)}; saved {r.saved_at:%Y-%m-%d %H:%M}")
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
    costs, bad = _weekly_costs(args.weekly_cost, forecast.CATEGORY_ORDER)
    if bad:
        return _fail(bad)
    if not -100 <= args.entries_pct <= 500 or not 0 <= args.step_down_pct <= 100:
        return _fail(["--entries-pct must be -100 to 500 and --step-down-pct 0 to 100"])
    scenario = forecast.Scenario(args.entries_pct, args.step_down_pct)
    try:
        fc = forecast.forecast(db, args.years, la, scenario=scenario)
    except forecast.NoHistory as exc:
        return _fail([str(exc)])
    table = forecast.extract(fc)
    if la:
        table = table[table["la"] != forecast.TOTAL]
    _write_out(db, args, to_csv_bytes(table), "forecast", {"years": args.years, "la": args.la})
    bt = forecast.backtest_summary(forecast.backtest(db, la))
    # The summary printed is suppressed like the CSV: one LA's small categories would otherwise show 1-4.
    shown = forecast.published(fc).display
    total = shown[shown["la"] == (la or forecast.TOTAL)]
    last = total[total["year"] == total["year"].max()]
    methods = fc.table[fc.table["la"] == (la or forecast.TOTAL)].drop_duplicates("category").set_index("category")["method"]
    what = "baseline" if scenario.is_baseline else (f"scenario: entries {args.entries_pct:+g}%, "
                                                     f"step-downs +{args.step_down_pct:g}% a month")
    print(f"history to {fc.last_date}; {fc.level:.0%} intervals calibrated on backtest errors; {what}")
    fmt = lambda v: v if isinstance(v, str) else f"{v:,.0f}"
    for r in last.itertuples():
        print(f"  {r.category:<12} {fmt(r.observed):>7} now -> {fmt(r.demand):>7} ({fmt(r.lower)}-{fmt(r.upper)}) "
              f"by {r.year}  [{methods.get(r.category, '')}]")
    if not bt.empty:
        print("backtest (rolling origins, 1-12 months ahead; MAPE %, chosen out of sample):")
        print(bt.round({"mape": 1, **{c: 1 for c in forecast.CANDIDATES}, "covered": 2}).rename(
            columns={"mape": "chosen", "covered": "in_band"}).to_string(index=False))
        allrow = bt[bt["category"] == "all"].iloc[0]
        print(f"backtest: MAPE {allrow['mape']:.1f}% (naive {allrow['naive']:.1f}%) over {int(allrow['series'])} series, "
              f"{allrow['covered']:.0%} of months inside the interval")
    bands = forecast.published_age_bands(fc, la)
    if not bands.empty:
        print("by age band (stock-and-flow split of the forecast):")
        print(bands[bands["year"].isin([fc.last_date.isoformat(), last["year"].iat[0]])].to_string(index=False))
    if costs:
        c = forecast.weekly_costs(fc, costs, la)
        print("weekly cost of the forecast placements (£, at the weekly costs given):")
        for r in c[c["year"] == c["year"].max()].itertuples():
            print(f"  {r.category:<12} £{r.weekly_cost:,.0f} a week ({r.lower:,.0f}-{r.upper:,.0f}) by {r.year}")
    print(f"wrote {args.out}")
    return 0


def _weekly_costs(items: list[str], categories) -> tuple[dict[str, float], list[str]]:
    """--weekly-cost residential=5000 ... as {category: pounds}, or the problems with them."""
    costs, bad = {}, []
    for item in items:
        name, _, value = item.partition("=")
        try:
            pounds = float(value)
        except ValueError:
            pounds = -1.0
        if name.strip() not in categories or pounds < 0:
            bad.append(f"--weekly-cost {item!r}: write CATEGORY=POUNDS with a category of {', '.join(categories)}")
        else:
            costs[name.strip()] = pounds
    return costs, bad


def cmd_rounds(db: Database, args) -> int:
    """List audit rounds, or delete one (--delete LABEL --yes)."""
    from audit.analysis.overview import rounds

    if args.delete:
        from audit.intake import needs as import_needs

        if not args.yes:
            return _fail([f"deleting round '{args.delete}' cannot be undone: add --yes to confirm"])
        n = import_needs.delete_round(db, args.delete)
        _log(db, "delete", view="round", filters={"round": args.delete}, rows=n)
        print(f"deleted round '{args.delete}' ({n} children)")
        return 0
    print(rounds(db).to_string(index=False))
    return 0


def cmd_pack(db: Database, args) -> int:
    """Write the meeting pack (PowerPoint or PDF): the chosen views, always the public (suppressed) figures."""
    from audit import pack
    from audit.pack import slides

    if not db.exists():
        return _fail([f"{db.path}: no database; run `audit sample` or `audit import needs` first"])
    views = [v.strip() for v in args.views.split(",") if v.strip()] if args.views else None
    try:
        path, built = pack.make(db, args.out, round_label=args.round, la=args.la, views=views, progress=_progress)
    except (KeyError, ValueError) as exc:
        return _fail([str(exc.args[0])])
    for name, why in built.skipped.items():
        print(f"left out {name}: {why}", file=sys.stderr)
    print(f"{len(built.slides) + 2} slides ({', '.join(s.key for s in built.slides)}); wrote {path}")
    return 0


def cmd_users(db: Database, args) -> int:
    """Manage accounts: add, remove, list, set-role, set-password, open-access (logged as the CLI's administrator)."""
    import getpass as _getpass

    from audit.access.store import cli_account

    store, admin = _store(db), cli_account()

    def password() -> str | None:
        """A local password from stdin (--password-stdin) or a prompt; None for OIDC-only accounts."""
        if args.oidc_only:
            return None
        if args.password_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = _getpass.getpass(f"password for {args.email} (12+ characters): ")
        if _getpass.getpass("again: ") != first:
            raise ValueError("the two passwords differ")
        return first

    try:
        if args.action == "add":
            acct = store.add_user(args.email, args.role, args.la, password(), by=admin)
            print(f"added {acct.describe()}")
        elif args.action == "remove":
            store.remove_user(args.email, by=admin)
            print(f"removed {args.email}")
        elif args.action == "set-role":
            acct = store.set_role(args.email, args.role, args.la, by=admin)
            print(f"{acct.describe()}")
        elif args.action == "set-password":
            store.set_password(args.email, password(), by=admin)
            print(f"password set for {args.email}")
        elif args.action == "open-access":
            store.set_setting("open_access", args.email, by=admin)
            print(f"open access: {args.email}")
        else:
            users = store.users()
            print(users.to_string(index=False) if len(users) else "no accounts (a synthetic-only database runs open)")
    except (ValueError, KeyError) as exc:
        return _fail([str(exc.args[0])])
    return 0


def cmd_log(db: Database, args) -> int:
    """Print the audit log (newest first), or write it as CSV with --out."""
    from audit.export import to_csv_bytes

    log = _store(db).log_frame(args.limit)
    if args.out:
        data = to_csv_bytes(log)
        Path(args.out).write_bytes(data)
        _log(db, "export", view="audit_log", rows=len(log), detail=f"file {args.out}")
        print(f"wrote {args.out} ({len(log)} entries)")
    else:
        print(log.to_string(index=False) if len(log) else "the audit log is empty")
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
    p = argparse.ArgumentParser(
        prog="audit", description="Eastern Region Needs Audit. The CLI acts as the administrator of this machine "
        "(whoever can run it can read the database file): it may import, delete, manage users and export any "
        "LA's child-level data, and every such action is recorded in the audit log as cli:<user>@<host>.")
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
    e.add_argument("--la", help="only this LA's figures (still suppressed)")
    e.add_argument("--unsuppressed-for", metavar="LA",
                   help="show this LA's counts of 1-4 (you may see its child-level data); the file's first line says so")
    e.add_argument("--round")
    e.add_argument("--as", dest="as_user", metavar="EMAIL",
                   help="export exactly what this account would get in the app (its role and LAs)")
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
    pl.add_argument("--homes", type=int, help="number of new homes (1-20)")
    pl.add_argument("--places", type=int, help="places in each new home (1-12)")
    pl.add_argument("--min-children", type=int, help="the fewest children a home must bring within reach (default 1)")
    pl.add_argument("--stack", action="store_true", help="allow more than one new home in a town")
    pl.add_argument("--for-la", action="store_true", help="with --la: plan for that LA's children only")
    pl.add_argument("--cost-per-place", type=float, help="weekly cost of a place (default: the homes' median fee)")
    pl.add_argument("--save", metavar="NAME", help="keep the plan as a named scenario for the round")
    pl.add_argument("--list", action="store_true", help="list the round's saved scenarios and stop")
    pl.add_argument("--cohort", help="plan for a fitted cohort (number or name)")
    pl.add_argument("--need", help="plan for children with a need category (e.g. sexual_exploitation)")
    pl.add_argument("--radius-km", type=float, help="catchment (default 32.19 km = 20 miles)")
    pl.add_argument("--la", help="site the homes in this LA's towns")
    pl.add_argument("--round", help="audit round label (default: the newest)")
    pl.add_argument("--out")
    pl.set_defaults(func=cmd_plan)
    fc = command("forecast", help="forecast placement demand by year, LA and category (from SSDA903 history)")
    fc.add_argument("--years", type=int, required=True, help="years ahead, 1-10 (each to 31 March)")
    fc.add_argument("--la", help="only this LA")
    fc.add_argument("--out", required=True)
    fc.add_argument("--entries-pct", type=float, default=0.0,
                    help="scenario: children entering care each month up (+) or down (-) by this percentage")
    fc.add_argument("--step-down-pct", type=float, default=0.0,
                    help="scenario: this %% of children in residential care move to fostering each month, on top of today's")
    fc.add_argument("--weekly-cost", action="append", default=[], metavar="CATEGORY=POUNDS",
                    help="weekly cost of one placement in a category (e.g. residential=5000); repeat per category")
    fc.set_defaults(func=cmd_forecast)
    r = command("rounds", help="list audit rounds (or delete one)")
    r.add_argument("--delete", metavar="LABEL", help="delete this round and everything derived from it")
    r.add_argument("--yes", action="store_true", help="confirm --delete")
    r.set_defaults(func=cmd_rounds)
    pk = command("pack", help="write the meeting pack as slides (.pptx) or PDF (.pdf), suppressed for circulation")
    pk.add_argument("--out", required=True, help="pack.pptx or pack.pdf (a folder: the standard file name, .pptx)")
    pk.add_argument("--round", help="audit round label (default: the newest)")
    pk.add_argument("--la", help="one LA's pack (default: the whole region)")
    pk.add_argument("--views", help="comma-separated views, in order (default: overview,needs,cohorts,"
                    "gaps_short_breaks,gaps_residential,distance,scenarios,forecast)")
    pk.set_defaults(func=cmd_pack)
    t = command("template", help="write the needs-profile template")
    t.add_argument("--out", required=True, help="template.xlsx or template.csv")
    t.set_defaults(func=cmd_template)
    u = command("users", help="manage accounts and roles (add, remove, list, set-role, set-password, open-access)")
    u.add_argument("action", choices=["add", "remove", "list", "set-role", "set-password", "open-access"])
    u.add_argument("email", nargs="?", help="the account's email; for open-access: off, meeting or administrator")
    u.add_argument("--role", choices=["meeting", "la_manager", "data_officer", "administrator"])
    u.add_argument("--la", action="append", help="the account's LA (repeat, or comma-separate, for several)")
    u.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    u.add_argument("--oidc-only", action="store_true", help="no local password: signs in through the OIDC provider")
    u.set_defaults(func=cmd_users)
    lg = command("log", help="show the audit log (sign-ins, imports, deletions, role changes, downloads, exports)")
    lg.add_argument("--out", help="write it as CSV")
    lg.add_argument("--limit", type=int, help="only the newest N entries")
    lg.set_defaults(func=cmd_log)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `audit` console script."""
    p = parser()
    args = p.parse_args(argv)
    if args.command == "users" and args.action not in ("list",) and not args.email:
        p.error(f"audit users {args.action} needs an EMAIL (or for open-access: off, meeting or administrator)")
    if args.command == "users" and args.action in ("add", "set-role") and not args.role:
        p.error(f"audit users {args.action} needs --role")
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
