"""What every page shares: the database, the shared filters, caching, and download-beside-everything.

Pages call these so that no page repeats another's glue code.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import sys
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from audit.sample import build
from audit import glossary
from audit.analysis import overview
from audit.charts import style as chart_style
from audit.geography import region
from audit.db import Database, default_path
from audit.export import to_csv_bytes
from audit.filters import AGE_BANDS, Filters, from_query, md_text
from audit.access import gate
from audit.access.roles import ROLE_LABELS, Account
from audit.access.store import AccessStore
from audit.suppress import LEGEND, Suppressed, Viewer

ALL_LAS = "Whole region"
ALL_AGES = "All ages"


# (script, title, url path); the first is the default page, served at the root URL.
# No page icons: Streamlit makes a page's icon the tab's favicon, and for a :material/...: icon it
# points that at fonts.gstatic.com, which an offline deployment must never ask (an emoji would stay
# local, but shows as an empty box where no emoji font is installed). tests/test_browser_offline.py.
PAGES = [
    ("pages/overview.py", "Regional overview", "overview"),
    ("pages/needs.py", "Co-occurring needs", "needs"),
    ("pages/cohorts.py", "Cohorts", "cohorts"),
    ("pages/map.py", "Provision map and gaps", "map"),
    ("pages/distance.py", "Distance and flows", "distance"),
    ("pages/planner.py", "Matching and planning", "planner"),
    ("pages/forecast.py", "Forecast", "forecast"),
    ("pages/data.py", "Data", "data"),
]


def navigation(position: str = "sidebar"):
    """Register the app's pages (app.py calls this on every run; hidden until the visitor has signed in)."""
    return st.navigation([
        st.Page(script, title=title, url_path=url, default=(i == 0))
        for i, (script, title, url) in enumerate(PAGES)
    ], position=position)


def _release_database(db: Database) -> None:
    """Close a dropped Database's connection once its queries finish (off the server's event loop).

    While any connection to a file is open, DuckDB hands every new connection to that path the same
    cached instance, so a Database dropped by clear_cache but still connected would make its
    replacement read the old, replaced file until the server restarted.
    """
    import threading

    threading.Thread(target=db.close, name="release-database", daemon=True).start()


@st.cache_resource(on_release=_release_database)
def _database(path: str) -> Database:
    """One Database object per file per server process (it owns the read connection)."""
    return Database(path)


def database() -> Database:
    """The database this server reads ($AUDIT_DB, else data/audit.duckdb)."""
    return _database(str(default_path()))


@dataclass(frozen=True)
class Context:
    """What a page needs to know about the current view."""

    filters: Filters
    viewer: Viewer
    meeting: bool
    round_label: str | None
    account: Account | None = None


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(_func, key: str, version: str, args: tuple):
    """Memoise an audit function per data version, so reruns after a widget change are instant."""
    return _func(database(), *args)


def qualified_name(func) -> str:
    """A function's importable name: the part of a cache key that says which function made the value."""
    return f"{func.__module__}.{func.__qualname__}"


def cached(func, *args):
    """Call func(db, *args) through the cache; the key includes the database file's version."""
    db = database()
    return _cached(func, qualified_name(func), db.version, args)


_modules_frozen = 0


def freeze_long_lived() -> None:
    """Take what the app has loaded out of the garbage collector's way, each time new modules have been imported.

    Streamlit runs a full collection after every script run (runner.postScriptGC). With pandas,
    geopandas, DuckDB, Altair's Vega-Lite schema and statsmodels loaded that walks about 245,000
    objects (140 ms here) while holding the GIL, so the browser waits that long for every run to
    finish. Frozen objects are skipped by collections; garbage without reference cycles is still
    freed at once by reference counting, and the collection before freezing keeps garbage out.
    """
    global _modules_frozen
    if len(sys.modules) != _modules_frozen:
        if not _modules_frozen:
            atexit.register(gc.unfreeze)  # let interpreter shutdown collect them as usual
        gc.collect()
        gc.freeze()
        _modules_frozen = len(sys.modules)


def first_run() -> None:
    """Build the sample database the first time the app starts, with visible progress."""
    db = database()
    if db.exists():
        return
    with st.status("First run: building the database from the synthetic sample…", expanded=True) as status:
        bar = st.progress(0.0)
        build.ensure_database(db, progress=lambda f, t: bar.progress(min(max(f, 0.0), 1.0), text=t))
        status.update(label="Database ready", state="complete", expanded=False)


def sidebar(account: Account) -> Context:
    """Shared filters in the sidebar, read from and written back to the URL so a link reproduces a view."""
    rounds = cached(overview.rounds)  # every rerun needs the list; read it once per data version
    labels = dict(zip(rounds["label"], rounds["round_id"].astype(int)))
    qp = {k: st.query_params.get(k) for k in ("round", "la", "age", "meeting")}
    if "f_notes" not in st.session_state:  # first run of this session: the URL decides the view
        initial, notes = from_query({k: v for k, v in qp.items() if v}, labels)
        st.session_state.setdefault("f_round", next((l for l, i in labels.items() if i == initial.round_id), None))
        st.session_state.setdefault("f_la", region.la_name(initial.la) if initial.la else ALL_LAS)
        st.session_state.setdefault("f_age", initial.age_band or ALL_AGES)
        st.session_state.setdefault("f_meeting", qp.get("meeting") in ("1", "true", "yes"))
        st.session_state["f_notes"] = notes
    sb = st.sidebar
    sb.markdown("### View")
    round_label = sb.selectbox("Audit round", list(labels), key="f_round") if labels else None
    la_name = sb.selectbox("Local authority", [ALL_LAS] + sorted(region.REGION_LAS.values()), key="f_la")
    age = sb.selectbox("Age band", [ALL_AGES] + AGE_BANDS, key="f_age")
    meeting = sb.toggle("Meeting mode (large type, aggregates only)", key="f_meeting")
    for note in st.session_state.get("f_notes", []):
        sb.warning(note)
    f = Filters(round_id=labels.get(round_label) if round_label else None,
                la=None if la_name == ALL_LAS else region.la_code(la_name),
                age_band=None if age == ALL_AGES else age)
    query = f.to_query(round_label)
    if meeting:
        query["meeting"] = "1"
    _shared_params(query)
    viewer = account.viewer(meeting)  # the signed-in role decides what is protected (audit.access.roles)
    if viewer.child_level_las and not meeting:
        sb.caption("Child-level access: " + ", ".join(region.la_name(c) for c in sorted(viewer.child_level_las)))
    else:
        sb.caption("Small numbers are suppressed in every table, chart, map and download.")
    return Context(f, viewer, meeting, round_label, account)


# -- Sign-in (audit.access decides; these functions only bind it to Streamlit) ----------------------

ACCOUNT_KEY = "_access_email"   # set only by the sign-in form: no widget has this key, so no browser can set it
OIDC_SEEN_KEY = "_access_oidc_logged"


@st.cache_resource
def _access_store(path: str) -> AccessStore:
    """The access store beside the database (accounts, settings, audit log)."""
    return AccessStore.beside(path)


def access_store() -> AccessStore:
    """The access store of the database this server reads."""
    return _access_store(str(default_path()))


def oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml configures an OpenID Connect provider ([auth]) for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _holds_real_data(db: Database) -> bool:
    """gate.holds_real_data, read once per data version."""
    return gate.holds_real_data(db)


def signed_in() -> Account | None:
    """Who this session acts as: the signed-in account, else the open account, else None (sign-in needed).

    The account is read from the access store on every run, so removing a user or changing a role
    applies at their next click.
    """
    store = access_store()
    if oidc_configured() and st.user.is_logged_in:
        email = str(st.user.get("email") or "")
        account = store.account(email, how="oidc") if email else None
        if account is not None and st.session_state.get(OIDC_SEEN_KEY) != email:
            store.log(account, "sign_in", detail="oidc")
            st.session_state[OIDC_SEEN_KEY] = email
        if account is not None:
            return account
    elif st.session_state.get(ACCOUNT_KEY):
        account = store.account(st.session_state[ACCOUNT_KEY])
        if account is not None:
            return account
        st.session_state.pop(ACCOUNT_KEY, None)  # removed since signing in
    return gate.open_account(store, cached(_holds_real_data))


def account_box(account: Account) -> None:
    """Who is signed in, with a sign-out button, at the top of the sidebar; open sessions say so."""
    sb = st.sidebar
    note = gate.open_note(account)
    if note:
        sb.info(note, icon=":material/lock_open:")
        return
    sb.caption(f"Signed in as **{account.email}**: {ROLE_LABELS.get(account.role, account.role)}"
               + (f" ({', '.join(region.la_name(c) for c in sorted(account.las))})" if account.las else ""))
    if sb.button("Sign out", key="sign_out", icon=":material/logout:"):
        access_store().log(account, "sign_out", detail=account.how)
        st.session_state.pop(ACCOUNT_KEY, None)
        st.session_state.pop(OIDC_SEEN_KEY, None)
        if account.how == "oidc":
            st.logout()
        st.rerun()


def log_download(name: str, rows: int, view: str | None = None) -> None:
    """Record a download in the audit log: who, which view and filters, how many rows."""
    ctx = st.session_state.get("ctx")
    if ctx is None or ctx.account is None:
        return
    round_, la, age = (ctx.round_label, ctx.filters.la, ctx.filters.age_band)
    access_store().log(ctx.account, "download", view=view or name, rows=rows,
                       filters={"round": round_, "la": la, "age": age, "meeting": ctx.meeting or None,
                                "page": st.query_params.get("view")})


def guard_clear_cache() -> None:
    """Let only administrators clear the server's caches from the browser (Streamlit lets any session do it).

    Streamlit has no setting for this: its session handles a client's clear_cache message by emptying
    every cache for everyone. A burst of them slowed every session about 8x, so the handler is wrapped
    once per process to act only for a session whose signed-in account is an administrator.
    """
    from streamlit.runtime import app_session

    cls = app_session.AppSession
    original = getattr(cls, "_handle_clear_cache_request", None)
    if original is None or getattr(original, "_audit_guarded", False):
        return

    def guarded(self) -> None:
        ctx = None
        try:
            ctx = self._session_state["ctx"]
        except Exception:
            pass
        account = getattr(ctx, "account", None)
        if account is not None and account.is_admin:
            access_store().log(account, "clear_cache")
            return original(self)
        with contextlib.suppress(Exception):
            access_store().log(account or "unknown session", "clear_cache_refused")

    guarded._audit_guarded = True
    cls._handle_clear_cache_request = guarded


SHARED = ("round", "la", "age", "meeting")


def _shared_params(query: dict[str, str]) -> None:
    """Write the shared filters to the URL, touching no other parameter.

    Rewriting the whole URL (from_dict) also rewrote ?view=, which a page's tabs are bound to: when a
    deleted round changed the filters, Streamlit refused ("StreamlitAPIException ... 'view'") and the
    page became a traceback. A page's own parameters stay as the page set them.
    """
    for gone in [k for k in SHARED if k in st.query_params and k not in query]:
        del st.query_params[gone]
    changed = {k: v for k, v in query.items() if st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)


def context() -> Context:
    """The current view for a page, as app.py set it for this run."""
    if "ctx" not in st.session_state:
        # A fresh server opened at a deep link runs the page as a legacy pages/ script,
        # before app.py has ever run: register the pages and rerun through app.py.
        navigation()
        st.rerun()
    return st.session_state["ctx"]


def url_params(wanted: dict[str, str | None]) -> None:
    """Put a page's own choices in the URL beside the shared filters, in one update (None or "" removes one).

    Each single assignment to st.query_params is a message the browser acts on; the map page
    setting its four pickers one by one on its first run cost four.
    """
    for gone in [k for k, v in wanted.items() if not v and k in st.query_params]:
        del st.query_params[gone]
    changed = {k: v for k, v in wanted.items() if v and st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)  # only this page's keys: a tab bound to ?view= must not be rewritten


def header(title: str, caption: str, notes: str | None = None) -> str:
    """The page's title (naming the LA chosen in the sidebar), caption and notes on its link; returns where it is about."""
    la = context().filters.la
    where = "the region" if la is None else region.la_name(la)
    st.title(title if la is None else f"{title}: {where}")
    st.caption(caption)
    for note in st.session_state.pop(notes, []) if notes else []:
        st.warning(note)
    return where


def meeting_requested() -> bool:
    """Whether this run is in meeting mode, known before the sidebar is drawn (app.py needs it for the page config)."""
    if "f_meeting" in st.session_state:
        return bool(st.session_state["f_meeting"])
    return st.query_params.get("meeting") in ("1", "true", "yes")


def style(meeting: bool) -> None:
    """Larger type for a shared screen, with the first screen given to the page's key visual; calm spacing otherwise."""
    base = chart_style.font_size(meeting)  # tile labels and table text as large as the charts' text, and no larger
    css = f"""
        html, body, [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{ font-size: {base}px; }}
        [data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{ font-size: {base * 2.1}px !important; font-weight: 600; color: #0B5394; }}
        [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{ font-size: {base}px !important; }}
        [data-testid="stMetric"] {{ background: #F1F4F8; border-radius: 8px; padding: 10px 14px; }}
        h1 {{ font-size: {base * 2.1}px !important; }}
        h3 {{ font-size: {base * 1.35}px !important; }}"""
    if meeting:
        # 1366x768 at 3 m: Streamlit's 6rem of top padding and 46 px titles pushed every map and chart below the
        # fold. Tight top, a one-line title, compact tiles, and table text as large as the rest.
        css += f"""
        [data-testid="stMainBlockContainer"] {{ padding-top: 2.75rem; padding-bottom: 2rem;
                                                padding-left: 2rem; padding-right: 2rem; max-width: 100%; }}
        h1 {{ font-size: {round(base * 1.5)}px !important; padding: 0 !important; }}
        [data-testid="stHeading"] h1 {{ line-height: 1.2; }}
        [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {{ font-size: {base - 4}px; }}
        [data-testid="stMetric"] {{ padding: 4px 14px; }}
        [data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{ font-size: {round(base * 1.8)}px !important; }}
        [data-testid="stTable"] td, [data-testid="stTable"] th,
        [data-testid="stMarkdownContainer"] td, [data-testid="stMarkdownContainer"] th {{ font-size: {base}px !important; }}
        [data-testid="stTab"] p {{ font-size: {base}px; }}"""
    st.markdown(f"<style>{css}</style>", unsafe_allow_html=True)


def banner(meeting: bool = False, round_label: str | None = None) -> None:
    """Say plainly which figures are the synthetic sample (a small badge on a shared screen).

    Once a real round is loaded the sample's homes, SSDA903 history and short breaks are still synthetic:
    the banner then says that, and no longer that the figures "describe no real children".
    """
    if cached(Database.meta, "sample") != "yes":  # read once per data version, not every rerun
        return
    rounds = cached(overview.rounds)
    viewed = rounds[rounds["label"] == round_label]
    if len(viewed) and not bool(viewed["is_sample"].iat[0]):
        text = (f"**Round '{round_label}' is your own data;** the children's homes, SSDA903 history and short breaks "
                "shown with it are still the synthetic sample until you load your own on the Data page.")
        if meeting:
            st.badge("Homes and history: synthetic sample", icon=":material/warning:", color="orange", help=text)
        else:
            st.info(text, icon=":material/info:")
        return
    if meeting:
        st.badge("Synthetic sample data", icon=":material/warning:", color="orange",
                 help="These figures are generated for demonstration and describe no real children.")
    else:
        st.warning("**Synthetic sample data.** These figures are generated for demonstration and describe no real children. "
                   "Load your own audit on the Data page.", icon="⚠️")


def controls(label: str = "Change what is shown"):
    """Where a page puts its pickers: in line normally; behind one button on a shared screen, so the visual comes first."""
    if context().meeting:
        return st.popover(label, icon=":material/tune:")
    return st.container()


def views(names: list[str], key: str = "view", default: str | None = None) -> tuple[str, object]:
    """Tabs bound to the URL (?view=...) of which only the open one is drawn, so a page loads one view, not all.

    Returns the open tab's name and its container.
    """
    tabs = st.tabs(names, key=key, on_change="rerun", bind="query-params", default=default)
    return next(((n, t) for n, t in zip(names, tabs) if t.open), (names[0], tabs[0]))


def expander(label: str, key: str):
    """An expander whose content is drawn only once it is opened (None while closed), so its tables do not load with the page."""
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def keep(*keys: str) -> None:
    """Keep these widgets' values while their widgets are in a view that is not drawn (Streamlit drops them otherwise)."""
    for k in keys:
        if k in st.session_state:
            st.session_state[k] = st.session_state[k]


# On a shared screen a page shows at most three large tiles, in one row; the rest follow the key visual.
MEETING_TILES = 3


def begin_page() -> None:
    """Start a run's tile budget (app.py calls this before the page runs)."""
    st.session_state["_tiles_left"] = MEETING_TILES
    st.session_state["_more_tiles"] = {}


def kpi_tiles(tiles: dict[str, str], per_row: int = 4, lead: tuple[str, ...] = ()) -> None:
    """Headline figures as metric tiles; in meeting mode only the first three of the page, the rest listed after its visual.

    lead names the tiles that answer the page's question, to be the large ones on a shared screen.
    """
    items = list(tiles.items())
    if context().meeting:
        items = [i for i in items if i[0] in lead] + [i for i in items if i[0] not in lead]
        left = st.session_state.get("_tiles_left", MEETING_TILES)
        st.session_state["_more_tiles"] = {**st.session_state.get("_more_tiles", {}), **dict(items[left:])}
        items = items[:left]
        st.session_state["_tiles_left"] = left - len(items)
        per_row = MEETING_TILES
    for start in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, (label, value) in zip(cols, items[start:start + per_row]):
            col.metric(label, value, help=glossary.TERMS.get(label.lower()))  # a tile's term, in plain words


def more_tiles() -> None:
    """The figures that did not get a large tile on a shared screen, as one short list after the page's visual."""
    rest = st.session_state.pop("_more_tiles", None)
    if rest and context().meeting:
        st.markdown("**Also:** " + " · ".join(f"{label} **{value}**" for label, value in rest.items()))


def download(df: pd.DataFrame, name: str, label: str = "Download CSV", key: str | None = None) -> None:
    """A CSV download button (UTF-8 BOM, formula-safe) for exactly what is shown; each download is logged."""
    st.download_button(label, to_csv_bytes(df), file_name=f"{name}.csv", mime="text/csv",
                       key=key or f"dl_{name}", icon=":material/download:",
                       on_click=log_download, args=(name, len(df)))


def arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing numbers and '<5' become text, so the grid shows them as they are."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else
                                (f"{v:,.1f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)))
    return out


def markdown_table(df: pd.DataFrame, numeric: tuple[str, ...] = ()) -> None:
    """A short table as Markdown: beside the map it draws about 50 ms sooner than st.table (benchmarked)."""
    # Cells are names from data files: md_text keeps a '![x](http://...)' in a home's name as text.
    head = "| " + " | ".join(md_text(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---:" if c in numeric else "---" for c in df.columns) + "|"
    rows = ["| " + " | ".join(md_text(v) for v in r) + " |" for r in arrow_safe(df.astype(object)).itertuples(index=False, name=None)]
    st.markdown("\n".join([head, rule, *rows]))


# A shared screen cannot scroll inside a grid or sideways: a few key columns, the first rows, in large type.
MEETING_ROWS = 12
MEETING_COLUMNS = 5


def table(result: Suppressed | pd.DataFrame, name: str, hide: tuple[str, ...] = (),
          key: tuple[str, ...] | None = None) -> None:
    """A table with its CSV download beside it, and the suppression legend when anything is hidden.

    key names the columns that matter on a shared screen (default: the first five shown); the download
    always holds every column and row.
    """
    df = result.display if isinstance(result, Suppressed) else result
    shown = arrow_safe(df.drop(columns=[c for c in hide if c in df.columns]))
    if context().meeting:
        _meeting_table(shown, key)
    else:
        # Show every row of short tables: a grid that scrolls inside itself hides its last rows.
        height = 40 + 35 * len(shown) if len(shown) <= 25 else "auto"
        st.dataframe(shown, hide_index=True, width="stretch", height=height, row_height=35,
                     column_config={c: st.column_config.Column(help=glossary.TERMS[c.lower()])
                                    for c in shown.columns if c.lower() in glossary.TERMS})
    cols = st.columns([1, 3])
    with cols[0]:
        download(shown, name)
    if isinstance(result, Suppressed) and result.any:
        cols[1].caption(LEGEND)


def _meeting_table(shown: pd.DataFrame, key: tuple[str, ...] | None) -> None:
    """The key columns and first rows as a plain HTML table: large text, no scrolling, nothing cut on the right."""
    columns = [c for c in key if c in shown.columns] if key else list(shown.columns[:MEETING_COLUMNS])
    brief = shown[columns].head(MEETING_ROWS)
    st.table(brief, hide_index=True)
    dropped = len(shown.columns) - len(columns)
    if len(shown) > MEETING_ROWS or dropped:
        more = [f"the first {MEETING_ROWS} of {len(shown):,} rows" if len(shown) > MEETING_ROWS else "",
                f"{dropped} more column{'s' if dropped != 1 else ''} in the CSV and outside meeting mode" if dropped else ""]
        st.caption("Showing " + "; ".join(m for m in more if m) + ".")


def chart(fig, data: pd.DataFrame, name: str) -> None:
    """A chart with the CSV of its (suppressed) data beside it."""
    # theme=None: the house style (audit.charts.style) sets fonts for meeting mode itself. A concatenated
    # chart (the UpSet chart) sizes its parts by their steps; stretching it would blow up a short one.
    concat = isinstance(fig, (alt.VConcatChart, alt.HConcatChart))
    st.altair_chart(fig, width="content" if concat else "stretch", theme=None)
    download(data, name, "Download chart data (CSV)", key=f"dl_chart_{name}")
