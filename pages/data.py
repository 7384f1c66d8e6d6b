"""Data: get the template, load audit rounds, homes, Ofsted, short breaks and SSDA903 files, and take every extract."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from audit import extracts
from audit import rounds as needs_rounds
from audit.access.roles import DATA_OFFICER, ROLE_LABELS, Refused
from audit.intake import ssda903 as import_903
from audit.intake import needs as import_needs
from audit.intake import ofsted as import_ofsted
from audit.intake import provision as import_provision
from audit.geography import region
from audit.intake import template
from audit.export import to_csv_bytes
from audit.filters import md_text
from audit.db import WriteError
from audit.intake.problems import ImportFailed, Problem, problems_frame
from audit.suppress import LEGEND, hidden_count, suppress
from pages import ui

ctx = ui.context()
db = ui.database()
account = ctx.account
LA_FROM_FILE = "The files have an LA column"
WRITERS = "a data officer (for their own LA) or an administrator"

st.title("Data")
st.caption("Collect the needs audit with the template, load it and the provision data safely, and take CSV extracts. "
           "A file with any error loads nothing; the database only changes when a whole import succeeds.")


@st.cache_data(show_spinner=False)
def _template_xlsx() -> bytes:
    """The template workbook (built once per server)."""
    return template.xlsx_bytes()


@contextmanager
def _saved(uploads):
    """Uploaded files written to a private temporary folder under their own names."""
    with tempfile.TemporaryDirectory(prefix="audit-upload-") as tmp:
        paths = []
        for i, up in enumerate(uploads):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            path = folder / Path(up.name).name
            path.write_bytes(up.getvalue())
            paths.append(path)
        yield paths


def _may(what: str, las=None) -> bool:
    """Whether the signed-in account may make this change; if not, say who may (nothing is drawn to press)."""
    if account is not None and account.may_write(las):
        return True
    who = "an administrator" if las is None else WRITERS
    st.info(f"{what} is for {who}. You are signed in as {account.describe() if account else 'nobody'}.",
            icon=":material/lock:")
    return False


def _officer_may(las: set[str]) -> bool:
    """Whether the account may write these LAs; a refusal is shown and logged."""
    try:
        account.require_write("This file", frozenset(las))
    except Refused as exc:
        ui.access_store().log(account, "import_refused", detail=str(exc))
        st.error(str(exc), icon=":material/block:")
        return False
    return True


def _run(key: str, label: str, func, kind: str = ""):
    """Run an import with a progress bar; keep its result or its problems for the report below; log what loaded."""
    bar = st.progress(0.0, text=f"{label}…")
    def progress(fraction: float, text: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=text)
    try:
        result = func(progress)
    except ImportFailed as exc:
        st.session_state[key] = {"ok": False, "problems": exc.problems}
        bar.empty()
        return
    except WriteError as exc:  # read-only, full disk, file-size limit: the database is unchanged, say why
        st.session_state[key] = {"ok": False, "problems": [Problem(str(db.path), None, None, None, str(exc))]}
        bar.empty()
        return
    st.session_state[key] = {"ok": True, "result": result}
    ui.access_store().log(account, "import", view=kind, filters={"round": getattr(result, "round_label", None)},
                          rows=getattr(result, "rows", None) or getattr(result, "children", None),
                          detail=label)
    bar.empty()
    st.rerun()  # the rounds list, the sidebar and the extracts above and below now describe the new data


def _report(key: str, name: str) -> dict | None:
    """Show the validation report of a failed import (with its CSV), or return the successful result."""
    state = st.session_state.get(key)
    if not state:
        return None
    if state["ok"]:
        return state["result"]
    problems = state["problems"]
    errors = [p for p in problems if p.severity == "error"]
    st.error(f"**Nothing was loaded.** {len(errors):,} problem(s) must be fixed first"
             + (f" (and {len(problems) - len(errors):,} warning(s))" if len(problems) > len(errors) else "")
             + ". Each line names the file, row, column and value.", icon=":material/block:")
    report = problems_frame(problems)
    st.dataframe(ui.arrow_safe(report), hide_index=True, width="stretch", key=f"report_{key}",
                 column_config={"message": st.column_config.TextColumn("what is wrong", width="large"),
                                "value": st.column_config.TextColumn(width="small"),
                                "row": st.column_config.NumberColumn(width="small", format="%d")})
    ui.download(report, f"validation_report_{name}", "Download the validation report (CSV)", key=f"dl_report_{key}")
    return None


def _warnings(warnings: list[Problem], key: str) -> None:
    """Warnings of a successful import, collapsed."""
    if not warnings:
        return
    with st.expander(f"{len(warnings):,} warning(s): loaded anyway", expanded=False):
        df = problems_frame(warnings)
        st.dataframe(ui.arrow_safe(df), hide_index=True, width="stretch")
        ui.download(df, f"import_warnings_{key}", "Download the warnings (CSV)", key=f"dl_warn_{key}")


def _loaded(key: str, name: str, message, warnings_key: str) -> None:
    """A provision import's outcome: its problems, or what was loaded (message(result)) and its warnings."""
    r = _report(key, name)
    if r is not None:
        st.success(message(r), icon=":material/check_circle:")
        _warnings(r["warnings"], warnings_key)


def _by_la(df: pd.DataFrame, count: str = "children") -> None:
    """Children per LA, with the same small-number suppression as every other table."""
    shown = suppress(df.rename(columns={"la": "LA", count: "Children"}), ["Children"], la_col="la_code",
                     col_totals=True, viewer=ctx.viewer)
    st.dataframe(ui.arrow_safe(shown.display.drop(columns="la_code")), hide_index=True, width="stretch")
    if shown.any:
        st.caption(LEGEND)


def template_view() -> None:
    """The needs-profile template to collect the audit with."""
    st.markdown("One row per child in residential care on the audit date; the 22 needs as Y/N; dropdowns on every coded "
                "column; the needs taxonomy with plain-English definitions on its own sheet; an example row.")
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button("Template (XLSX)", _template_xlsx(), file_name="needs_audit_template.xlsx", key="dl_template_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/table:")
    c2.download_button("Template (CSV)", template.csv_bytes(), file_name="needs_audit_template.csv", mime="text/csv",
                       key="dl_template_csv", icon=":material/description:")
    with st.expander("Columns that follow the Placements Data Standard v2"):
        st.dataframe(template.mapping(), hide_index=True, width="stretch")


def round_view() -> None:
    """Load one audit round from the template, with a validation report when anything is wrong."""
    if not (account.is_admin or account.role == DATA_OFFICER):
        _may("Loading an audit round", frozenset({"?"}))
        return
    officer = not account.is_admin
    if officer:  # a data officer's file replaces only their LA's children, never the rest of the round
        st.session_state["needs_keep"] = True
    rounds = db.q("rounds") if db.exists() else pd.DataFrame(columns=["label"])
    with st.form("needs_form", clear_on_submit=False):
        up = st.file_uploader("Filled-in template (CSV or XLSX)", type=["csv", "xlsx"], key="needs_file")
        a, b = st.columns(2)
        label = a.text_input("Audit round label", placeholder="e.g. 2025 Q1", key="needs_round")
        when = b.date_input("Audit date (optional)", value=None, key="needs_date", format="YYYY-MM-DD")
        keep = st.checkbox("Keep the children of other LAs already in this round (replace only the LAs in this file)",
                           key="needs_keep", disabled=officer,
                           help="Always on for a data officer: a file may hold only their own LA's children." if officer else None)
        go = st.form_submit_button("Check and load", type="primary", icon=":material/upload:")
    if go:
        if up is None:
            st.session_state["res_needs"] = {"ok": False, "problems": [Problem("(no file)", None, None, None, "choose a file to upload")]}
        else:
            if label.strip() in set(rounds["label"]):
                st.info(f"Round '{md_text(label.strip())}' already exists: it will be replaced"
                        + (" for the LAs in this file." if keep else "."))
            with _saved([up]) as paths:
                if officer and not _officer_may(_needs_las(paths[0], up.name)):
                    return
                _run("res_needs", "Checking the file", lambda p: needs_rounds.load_needs(
                    db, paths[0], label, audit_date=when.isoformat() if when else None, progress=p,
                    source_name=up.name, keep_other_las=keep or officer), kind="needs")
    res = _report("res_needs", "needs")
    if res is not None:
        # The uploader may see the count of the file they just sent; the rounds list stays suppressed for everyone.
        st.success(f"Loaded **{res.rows:,} children** into round "
                   f"**{md_text(res.round_label)}**." + (f" Kept the children already loaded for: "
                                               f"{', '.join(region.la_name(c) for c in res.kept_las)}." if res.kept_las else ""),
                   icon=":material/check_circle:")
        left, right = st.columns(2)
        with left:
            st.markdown("**Children loaded per LA**")
            _by_la(res.by_la)
        with right:
            st.markdown("**Blank cells per column** (needs: not recorded, counted as not present)")
            blanks = res.blanks[res.blanks > 0].rename("blank cells").rename_axis("column").reset_index()
            if blanks.empty:
                st.caption("No blank cells.")
            else:
                st.dataframe(blanks, hide_index=True, width="stretch")
        _warnings(res.warnings, "needs")


def _needs_las(path: Path, name: str) -> set[str]:
    """The LAs whose children a needs file holds (a file that fails its checks loads nothing anyway)."""
    try:
        df, _ = import_needs.parse(path, name)
    except ImportFailed:
        return set()
    return set(df["la"].dropna())


def _903_las(paths: list[Path], la: str | None) -> set[str]:
    """The LAs whose children a set of SSDA903 files holds."""
    files, _ = import_903.read_files(paths, la)
    return set().union(*(set(f.df["la_code"].dropna()) for f in files)) if files else set()


def rounds_view() -> None:
    """The rounds loaded, with checksums, and deleting one."""
    rounds = db.q("rounds_detail") if db.exists() else pd.DataFrame()
    if st.session_state.get("deleted"):  # said even when the last round went
        st.success(st.session_state.pop("deleted"), icon=":material/delete:")
    if rounds.empty:
        st.info("No audit round is loaded yet.")
    else:
        shown = pd.DataFrame({
            "Round": rounds["label"], "Source": rounds["source_kind"].map({"needs": "needs template", "ssda903": "SSDA903"}),
            "Audit date": rounds["audit_date"], "Source file(s)": rounds["source_file"],
            "Children": [hidden_count(n, False) for n in rounds["n_rows"]],
            "Checksum (SHA-256)": rounds["checksum"].fillna("").str[:16] + "…",
            "Imported": rounds["imported_at"], "Synthetic": rounds["is_sample"].map({True: "yes", False: ""}),
        })
        st.dataframe(ui.arrow_safe(shown), hide_index=True, width="stretch", key="rounds_table")
        deletable = [l for l in rounds["label"] if account.may_write(frozenset(db.q("round_las", label=l)["la_code"]))]
        if not deletable:
            _may("Deleting a round", frozenset({"?"}) if account.role == DATA_OFFICER else None)
            return
        with st.expander("Delete a round", icon=":material/delete:"):
            target = st.selectbox("Round to delete", deletable, key="del_round",
                                  help=None if account.is_admin else "Only rounds that hold your LA's children alone.")
            typed = st.text_input("Type the round label to confirm", key="del_confirm",
                                  help="Deleting removes the round's children, needs and cohorts. It cannot be undone.")
            if st.button("Delete this round", type="primary", disabled=typed.strip() != target, key="del_go"):
                account.require_write(f"Deleting round '{target}'", frozenset(db.q("round_las", label=target)["la_code"]))
                n = import_needs.delete_round(db, target)
                ui.access_store().log(account, "delete", view="round", filters={"round": target}, rows=n)
                st.session_state["deleted"] = f"Deleted round '{md_text(target)}' ({hidden_count(n, False) if n < 5 else f'{n:,}'} children)."
                st.session_state.pop("del_confirm", None)
                st.rerun()


def homes_tab() -> None:
    """Load the children's homes file (replaces the homes table)."""
    if not _may("Replacing the region's homes"):
        return
    st.caption("One row per home: urn, places, postcode or lat+lon, and optionally name, provider, sector, la, "
               "ofsted_grade, needs_met (need codes or categories, ';'-separated), weekly_fee. Replaces the homes table.")
    with st.form("homes_form"):
        f_h = st.file_uploader("Homes file (CSV or XLSX)", type=["csv", "xlsx"], key="homes_file")
        if st.form_submit_button("Check and load homes", icon=":material/upload:") and f_h is not None:
            with _saved([f_h]) as paths:
                _run("res_homes", "Checking homes", lambda p: import_provision.load_homes(db, paths[0], progress=p,
                                                                                         source_name=f_h.name),
                     kind="homes")
    _loaded("res_homes", "homes", lambda r: f"Loaded {r['homes']:,} homes with {r['places']:,} places.", "homes")


def ofsted_tab() -> None:
    """Load Ofsted's providers list, replacing the homes or updating them by URN."""
    if not _may("Loading the Ofsted list into the region's homes"):
        return
    st.caption("Ofsted's providers list in any release's column names (e.g. 'Max Users' or 'Number of registered places'). "
               "Children's homes in the Eastern region are kept; closed registrations and other provider types are left out.")
    with st.form("ofsted_form"):
        f_o = st.file_uploader("Ofsted providers list (CSV or XLSX)", type=["csv", "xlsx"], key="ofsted_file")
        mode = st.radio("How to load", ["replace", "update"], horizontal=True, key="ofsted_mode",
                        format_func={"replace": "Replace the homes table",
                                     "update": "Update homes by URN (keep locations and needs met from the homes file)"}.get)
        if st.form_submit_button("Check and load the Ofsted list", icon=":material/upload:") and f_o is not None:
            with _saved([f_o]) as paths:
                _run("res_ofsted", "Reading the Ofsted list", lambda p: import_ofsted.load(
                    db, paths[0], mode=mode, source_name=f_o.name, progress=p), kind="ofsted")
    _loaded("res_ofsted", "ofsted", lambda r: f"Loaded {r['homes']:,} children's homes with {r['places']:,} places.",
            "ofsted")
    with st.expander("How Ofsted registration categories map onto the needs taxonomy"):
        st.markdown("Ofsted's categories say which children a home may accept, not what it specialises in, so the "
                    "mapping is narrow. Sexually harmful behaviour, fire-setting, harm to animals, offending, sexual and "
                    "criminal exploitation, placement breakdown and being out of education have no Ofsted category: homes "
                    "loaded from the list are never counted as meeting them. Ofsted withholds children's home addresses, "
                    "so a home without a postcode is placed at the centre of its LA.")
        st.dataframe(import_ofsted.mapping_table(), hide_index=True, width="stretch")


def shortbreaks_tab() -> None:
    """Load short-break providers and children together."""
    if not _may("Replacing the short-break tables"):
        return
    st.caption("Providers (provider_id, capacity, postcode or lat+lon, ...) and children (child_id, la, age, ...). "
               "Both files are checked together and replace the short-break tables.")
    with st.form("sb_form"):
        f_p = st.file_uploader("Short-break providers (CSV or XLSX)", type=["csv", "xlsx"], key="sb_prov")
        f_c = st.file_uploader("Short-break children (CSV or XLSX)", type=["csv", "xlsx"], key="sb_kids")
        if st.form_submit_button("Check and load short breaks", icon=":material/upload:") and f_p and f_c:
            with _saved([f_p, f_c]) as paths:
                _run("res_sb", "Checking short breaks", lambda p: import_provision.load_shortbreaks(
                    db, paths[0], paths[1], progress=p, source_names=(f_p.name, f_c.name)), kind="shortbreaks")
    _loaded("res_sb", "shortbreaks", lambda r: f"Loaded {r['providers']:,} providers and {r['children']:,} children.",
            "sb")


def ssda903_tab() -> None:
    """Load SSDA903 returns: a round of the children in residential care, and the history."""
    if not (account.is_admin or account.role == DATA_OFFICER):
        _may("Loading SSDA903 returns", frozenset({"?"}))
        return
    st.caption("Header, episodes, missing, OC2, UASC and DoLo CSVs, one year or several, with dates as DD/MM/YYYY or "
               "YYYY-MM-DD. Children in residential care (K1, K2, R1, S1, P3) on the audit date become a round; the "
               "episode history is kept (postcodes reduced to sectors) for forecasting.")
    with st.form("f903_form"):
        f_9 = st.file_uploader("SSDA903 files", type=["csv", "xlsx"], accept_multiple_files=True, key="f903_files")
        a, b, c = st.columns(3)
        la_pick = a.selectbox("LA of the files", [LA_FROM_FILE] + sorted(region.REGION_LAS.values()), key="f903_la")
        when_9 = b.date_input("Audit date (default: 31 March of the latest year)", value=None, key="f903_date",
                              format="YYYY-MM-DD")
        label_9 = c.text_input("Round label (optional)", placeholder="SSDA903 <audit date>", key="f903_round")
        if st.form_submit_button("Check and load the 903 returns", icon=":material/upload:") and f_9:
            with _saved(f_9) as paths:
                names = {p: u.name for p, u in zip(paths, f_9)}
                picked = None if la_pick == LA_FROM_FILE else la_pick
                if not account.is_admin and not _officer_may(_903_las(paths, picked)):
                    return
                _run("res_903", "Reading the SSDA903 files", lambda p: import_903.load(
                    db, paths, la=None if la_pick == LA_FROM_FILE else la_pick,
                    audit_date=when_9, round_label=label_9 or None, labels=names, progress=p), kind="ssda903")
    r = _report("res_903", "ssda903")
    if r is not None:
        st.success(f"Round **{md_text(r.round_label)}** (audit date {r.audit_date:%d %B %Y}): "
                   f"{r.children:,} children in residential care; {r.episodes:,} episodes kept "
                   f"(years {', '.join(map(str, r.years)) or 'unknown'}).", icon=":material/check_circle:")
        left, right = st.columns(2)
        with left:
            st.markdown("**Files read**")
            st.dataframe(ui.arrow_safe(r.files), hide_index=True, width="stretch")
            st.markdown("**Children in residential care per LA**")
            _by_la(r.by_la)
        with right:
            st.markdown("**Postcodes** (full postcodes are used for distance, then reduced to sectors)")
            st.dataframe(r.postcode_report, hide_index=True, width="stretch")
        _warnings(r.warnings, "903")


PROVISION_TABS = {"homes": homes_tab, "ofsted": ofsted_tab, "shortbreaks": shortbreaks_tab, "903": ssda903_tab}


def provision_view() -> None:
    """Children's homes, the Ofsted list, short breaks and SSDA903 returns, and the import log."""
    TABS = {"homes": "Children's homes", "ofsted": "Ofsted providers list", "shortbreaks": "Short breaks",
            "903": "SSDA903 returns"}
    # The open tab survives an import's rerun and is in the URL (?tab=903), so a link can open it.
    # The link's tab is preset once; a default that followed ?tab= would make a new widget (and lose the
    # open tab) each time the parameter changed.
    if "data_tab" not in st.session_state and st.query_params.get("tab") in TABS:
        st.session_state["data_tab"] = TABS[st.query_params["tab"]]
    tabs = st.tabs(list(TABS.values()), key="data_tab", on_change="rerun")
    open_tab = next((k for k, v in TABS.items() if v == st.session_state.get("data_tab")), None)
    if open_tab:
        ui.url_params({"tab": None if open_tab == "homes" else open_tab})

    for (name, _), tab in zip(TABS.items(), tabs):
        if tab.open:  # only the open tab is drawn
            with tab:
                PROVISION_TABS[name]()

    if box := ui.expander("Import log: every file loaded, with checksums", "data_log_open"):
        with box:
            log = db.q("imports") if db.exists() else pd.DataFrame()
            st.dataframe(ui.arrow_safe(log), hide_index=True, width="stretch")


def extracts_view() -> None:
    """Every extract the app offers, as CSV."""
    st.caption("Every table the app offers. UTF-8 with BOM (opens cleanly in Excel), ISO dates, cells that could run as "
               "formulas neutralised, and the same small-number suppression as the screen. They follow the sidebar's "
               "round, LA and age band.")
    child_level = getattr(extracts, "CHILD_LEVEL", {"children", "episodes"})
    own_la = ctx.filters.la is not None and ctx.viewer.may_see(ctx.filters.la)


    def _extract_bytes(name: str):
        """A deferred download: the extract is computed (through the scope check) and logged when pressed."""
        filters, viewer, round_label, who, store = ctx.filters, ctx.viewer, ctx.round_label, account, ui.access_store()

        def make() -> bytes:
            table = extracts.extract(db, name, filters, viewer)
            store.log(who, "download", view=name, rows=len(table),
                      filters={"round": round_label, "la": filters.la, "age": filters.age_band,
                               "meeting": viewer.meeting_mode or None})
            return to_csv_bytes(table)
        return make


    for name, (title, _fn) in extracts.EXTRACTS.items():
        left, right = st.columns([3, 1])
        la_arg = f" --la \"{region.la_name(ctx.filters.la)}\"" if name in child_level and ctx.filters.la else ""
        left.markdown(f"**{title}**  \n`audit export {name}{la_arg}`")
        if name in child_level and not own_la:
            right.caption("Child-level: only for your own LA (your account's role and LAs decide). Choose it in the "
                          "sidebar; never in meeting mode.")
            continue
        right.download_button("Download CSV", _extract_bytes(name), file_name=f"{name}.csv", mime="text/csv",
                              key=f"dl_extract_{name}", icon=":material/download:")


# -- Meeting pack (issue 16) ------------------------------------------------------

def pack_view() -> None:
    """The meeting pack for the sidebar's round and LA: slides or PDF, built with progress, then downloaded."""
    from audit import pack
    from audit.pack import slides

    st.caption("The views a network meeting looks at, one to a slide: title, a one-sentence takeaway from the figures, "
               "the chart or map, its key table and the source. Always the public view (counts of 1-4 shown as "
               "\"<5\"), whoever makes it, so it can be circulated. Follows the sidebar's round and LA.")
    rounds = db.q("rounds") if db.exists() else pd.DataFrame(columns=["round_id", "label"])
    labels = dict(zip(rounds["round_id"], rounds["label"]))
    if ctx.filters.round_id not in labels:
        st.info("No audit round is loaded yet.")
        return
    chosen = st.multiselect("Views", list(slides.VIEWS), default=list(slides.DEFAULT_VIEWS), key="pack_views",
                            format_func=lambda v: slides.VIEWS[v][0])
    kind = st.radio("Format", [".pptx", ".pdf"], horizontal=True, key="pack_format",
                    format_func={".pptx": "PowerPoint (.pptx)", ".pdf": "PDF"}.get)
    la = region.la_name(ctx.filters.la) if ctx.filters.la else None
    if st.button("Make the meeting pack", type="primary", icon=":material/slideshow:", key="pack_go",
                 disabled=not chosen):
        with st.status("Making the meeting pack…", expanded=True) as status:
            bar = st.progress(0.0)
            built = slides.build(db, labels[ctx.filters.round_id], la, chosen,
                                 lambda f, t: bar.progress(min(max(float(f), 0.0), 1.0), text=t))
            bar.progress(0.95, text=f"Writing the {'PowerPoint' if kind == '.pptx' else 'PDF'}…")
            st.session_state["pack_file"] = (pack.file_name(built, kind), pack.render(built, kind),
                                             len(built.slides) + 2, dict(built.skipped))
            status.update(label="Meeting pack ready", state="complete", expanded=False)
        if account is not None:
            ui.access_store().log(account, "export", view="meeting_pack", filters={"round": labels[ctx.filters.round_id],
                                  "la": la, "views": ",".join(chosen)}, rows=len(built.slides))
    if made := st.session_state.get("pack_file"):
        name, data, n, skipped = made
        st.download_button(f"Download {name} ({n} slides)", data, file_name=name, key="pack_download",
                           icon=":material/download:",
                           mime="application/pdf" if name.endswith(".pdf") else
                           "application/vnd.openxmlformats-officedocument.presentationml.presentation")
        for view_name, why in skipped.items():
            st.caption(f"Left out: {slides.VIEWS[view_name][0]} ({why}).")


def log_view() -> None:
    """Administrators: the accounts and the audit log (sign-ins, imports, deletions, role changes, downloads)."""
    store = ui.access_store()
    users = store.users()
    st.markdown(f"**Accounts** ({len(users)}). Manage them on the server with `audit users add|remove|set-role`. "
                f"Open access for visitors who do not sign in: **{store.setting('open_access', 'not set')}** "
                "(`audit users open-access off|meeting|administrator`).")
    users["role"] = users["role"].map(ROLE_LABELS)
    users["las"] = users["las"].map(lambda v: ", ".join(region.la_name(c) for c in v.split(",") if c))
    st.dataframe(users, hide_index=True, width="stretch", key="users_table")
    log = store.log_frame(5000)
    st.markdown(f"**Audit log**, newest first (the latest {len(log):,} entries; `audit log --out FILE` writes all).")
    st.dataframe(log, hide_index=True, width="stretch", key="audit_log_table")
    ui.download(log, "audit_log", "Download the audit log (CSV)")


VIEWS = {"Template": template_view, "Load a round": round_view, "Rounds loaded": rounds_view,
         "Provision and SSDA903": provision_view, "Extracts (CSV)": extracts_view}
VIEWS["Meeting pack"] = pack_view
if account is not None and account.is_admin:
    VIEWS["Audit log"] = log_view
# A link to a provision tab (?tab=903) opens the view that holds it; preset once, for the same reason as data_tab.
if "view" not in st.session_state and "view" not in st.query_params and st.query_params.get("tab"):
    st.session_state["view"] = "Provision and SSDA903"
view, box = ui.views(list(VIEWS), key="view")
with box:
    VIEWS[view]()
