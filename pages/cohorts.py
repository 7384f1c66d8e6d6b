"""Cohorts: groups of children with similar co-occurring needs, that provision can be designed for."""

import streamlit as st

from audit import glossary
from audit.analysis import cohort_store
from audit.analysis import cohorts
from audit.analysis import needs_view
from audit.geography import region
from audit.charts import needs as fn
from audit.filters import quoted, url_int
from audit.suppress import LEGEND
from pages import ui

ctx = ui.context()
db = ui.database()
admin = ctx.account is not None and ctx.account.is_admin  # stored cohorts and their names are the region's
AUTO = 0  # the k picker's "lowest BIC" choice
PARAMS = {"method": "cohort_method", "k": "cohort_k", "level": "cohort_level"}
DEFAULTS = {"cohort_method": "lca", "cohort_k": AUTO, "cohort_level": "categories"}
LEVEL_LABELS = {"categories": "11 categories", "codes": "22 need codes"}


def _from_url() -> None:
    """First run on this page: ?method=kmodes&k=4&level=codes decide the view; unknown values are noted."""
    if "cohort_method" in st.session_state:
        return
    qp, notes = st.query_params, []
    method = qp.get("method")
    if method and method not in cohort_store.METHODS:
        notes.append(f"Method {quoted(method)} not recognised: showing latent class analysis.")
    st.session_state["cohort_method"] = method if method in cohort_store.METHODS else "lca"
    k = qp.get("k")
    ks = cohort_store.K_RANGE
    st.session_state["cohort_k"], note = (AUTO, None) if k == "auto" else url_int(
        k, AUTO, min(ks), max(ks), "Number of cohorts")
    if note:
        notes.append(f"{quoted(k)} cohorts is not a choice ({min(ks)} to {max(ks)}): showing the number BIC prefers.")
    level = qp.get("level")
    st.session_state["cohort_level"] = level if level in LEVEL_LABELS else "categories"
    st.session_state["cohort_notes"] = notes


def _to_url() -> None:
    """Mirror the choices in the URL beside the shared filters, leaving defaults out."""
    ui.url_params({param: None if (v := st.session_state.get(key)) is None or v == DEFAULTS[key] else str(v)
                   for param, key in PARAMS.items()})


def _with_progress(label: str, work) -> object:
    """Run a slow fit inside a status box with a progress bar, so nobody thinks the page has hung."""
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0)
        result = work(lambda f, t: bar.progress(min(max(float(f), 0.0), 1.0), text=t))
        status.update(label=label.replace("…", ": done"), state="complete", expanded=False)
    return result


_from_url()
round_id = ctx.filters.round_id
la_name = region.la_name(ctx.filters.la) if ctx.filters.la else None
st.title("Cohorts of children")
st.caption("Children grouped by the needs they share, so that provision can be designed for each group. Cohorts are "
           "fitted on every child in the region's audit round, so a cohort means the same in every LA; the tables "
           "on sizes, placements and cost follow the filters in the sidebar.")
for note in st.session_state.pop("cohort_notes", []):
    st.warning(note)
if round_id is None:
    st.info("No audit round is loaded yet. Load one on the Data page or with `audit import needs`.")
    st.stop()

stored = cohort_store.stored(db, round_id)
try:
    if stored is None:
        stored = _with_progress("Grouping this round's children into cohorts for the first time…",
                                lambda p: cohort_store.fit_and_store(db, round_id, progress=p))
except cohorts.TooFewPatterns as exc:
    # A tiny round (a test upload of two children) cannot be grouped: say so instead of a traceback.
    st.info(f"**No cohorts for this round:** {exc}. Cohorts need a round with children whose needs differ; "
            "load a fuller round on the Data page.", icon=":material/info:")
    st.stop()

c1, c2, c3 = ui.controls().columns([1.6, 1.4, 1.4])
method = c1.radio("Method", list(cohort_store.METHODS), format_func=cohort_store.METHODS.get, key="cohort_method",
                  horizontal=True, help="Latent class analysis models each cohort as a set of need probabilities and "
                  "lets BIC choose how many there are. k-modes groups children whose needs match most often.")
if not cohort_store.is_fitted(db, round_id, "lca"):
    _with_progress("Fitting latent class models with 2 to 8 cohorts…",
                   lambda p: cohort_store.search(db, round_id, progress=p))
best = cohort_store.chosen_k(db, round_id)
# Only the numbers of cohorts the round can support (no more than its distinct patterns of needs).
k_options = [k for k in cohort_store.K_RANGE if k in set(cohort_store.bic_table(db, round_id)["k"])]
if st.session_state.get("cohort_k") not in [AUTO] + k_options:
    st.session_state["cohort_k"] = AUTO
k_choice = c2.selectbox("Number of cohorts", [AUTO] + k_options, key="cohort_k",
                        format_func=lambda k: f"Lowest BIC ({best})" if k == AUTO else str(k))
k = best if k_choice == AUTO else int(k_choice)
level = c3.radio("Profile shows", list(LEVEL_LABELS), format_func=LEVEL_LABELS.get, key="cohort_level",
                 horizontal=True)
_to_url()
if method == "kmodes" and not cohort_store.is_fitted(db, round_id, "kmodes", k):
    _with_progress(f"Fitting k-modes with {k} cohorts…", lambda p: cohort_store.fit(db, round_id, "kmodes", k))

a = cohort_store.assignment(db, round_id, method, k)
large = ctx.meeting
if a.is_stored and ctx.meeting:  # a shared screen gives the first screen to the cohorts themselves
    st.caption(f"Stored cohorts for this round: {cohort_store.METHODS[method].lower()}, {k} cohorts.")
elif a.is_stored:
    st.success(f"These are the stored cohorts for this round ({cohort_store.METHODS[method].lower()}, {k} cohorts): "
               "the map, distances and matching use them.", icon=":material/check_circle:")
else:
    st.info(f"Preview: {cohort_store.METHODS[method].lower()} with {k} cohorts. The stored cohorts, which the other "
            f"pages use, are {cohort_store.METHODS[stored.method].lower()} with {stored.k}.", icon=":material/visibility:")
    if st.button(f"Store these {k} cohorts for the round", icon=":material/save:", disabled=ctx.meeting or not admin,
                 help=None if admin else "Storing the round's cohorts is for an administrator."):
        ctx.account.require_admin("Storing the round's cohorts")
        _with_progress("Storing cohorts…", lambda p: cohort_store.fit_and_store(db, round_id, method, k, progress=p))
        ui.access_store().log(ctx.account, "store_cohorts", view="cohorts", filters={"round": ctx.round_label},
                              detail=f"{method}, k={k}")
        st.rerun()

BREAKDOWNS = {"By LA": "la", "By age band": "age_band", "By sex": "sex"}
VIEWS = ["What each cohort needs", "Each cohort", "How many cohorts", "Compared with Nuffield"]


def profiles_view() -> None:
    """What each cohort's children need: the profile heatmap, and renaming the cohorts."""
    profile = ui.cached(cohort_store.profile_table, round_id, method, k, level)
    sizes = ui.cached(cohort_store.cohort_sizes, round_id, method, k)
    overall = ui.cached(needs_view.prevalence_table, needs_view.Selection(ctx.filters.with_(la=None, age_band=None)),
                        ctx.viewer, level)
    fig = fn.cohort_profile_heatmap(profile.display, names=a.names, overall=needs_view.for_figure(overall),
                                    sizes=sizes, large=large)
    ui.chart(fig, cohort_store.profile_csv(profile, a.names, sizes), f"cohort_profiles_{method}_{k}_{level}")
    st.caption("% of each cohort's children with each need, across the whole region; the last row is all children. "
               "Cohorts are named after the needs that are much more common in them than overall." +
               (" " + LEGEND if profile.any else ""))
    rename = ui.expander("Rename the cohorts", "cohort_rename_open")
    if rename is None:
        return
    with rename:
        if not a.is_stored:
            st.caption("Names are kept with the stored cohorts: store this preview first to name it.")
        else:
            with st.form("cohort_names"):
                edits = {c: st.text_input(f"Cohort {c}", value=a.names.get(c, ""), key=f"cohort_name_{c}",
                                          help="Leave blank to go back to the automatic name.")
                         for c in range(1, a.k + 1)}
                if st.form_submit_button("Save names", icon=":material/save:", disabled=ctx.meeting or not admin,
                                         help=None if admin else "Renaming the region's cohorts is for an administrator."):
                    ctx.account.require_admin("Renaming the cohorts")
                    cohort_store.rename(db, round_id, edits)
                    ui.access_store().log(ctx.account, "rename_cohorts", view="cohorts",
                                          filters={"round": ctx.round_label}, detail=str(edits))
                    st.rerun()
            st.caption("Edited names are kept when the cohorts are refitted with the same number of cohorts.")


def per_cohort_view() -> None:
    """Each cohort's size, placements and cost, and its split by LA, age band or sex."""
    sel = needs_view.Selection(ctx.filters)
    where = la_name or "the region"
    if ctx.filters.age_band:
        where += f", aged {ctx.filters.age_band}"
    st.markdown(f"**Each cohort in {where}**")
    summary = ui.cached(cohort_store.summary_table, sel, ctx.viewer, method, k)
    # On a shared screen the share and the Nuffield group (a view of its own) give way, so the rest fits.
    ui.table(summary, f"cohort_summary_{method}_{k}",
             hide=("% of children", "Nearest Nuffield FJO group") if ctx.meeting else ())
    st.caption("Placed outside own LA and more than 20 miles (32 km) from home are shares of the cohort's children with a "
               "known placement. Weekly cost is the mean of the weekly costs recorded.")

    split, box = ui.views(list(BREAKDOWNS), key="by")
    with box:
        by = BREAKDOWNS[split]
        ui.table(ui.cached(cohort_store.breakdown_table, sel, ctx.viewer, method, k, by, ctx.meeting or k > 3),
                 f"cohorts_by_{by}")


def choosing_view() -> None:
    """How many cohorts: the BIC curve, and how stable the chosen split is under resampling."""
    left, right = st.columns([1.3, 1], gap="large")
    with left:
        bic = ui.cached(cohort_store.bic_table, round_id)
        ui.chart(fn.bic_curve(bic, best, large=large, title="BIC (lower is better)"),
                 bic, "cohort_bic")
        st.caption(glossary.define("BIC") + " " + ("k-modes has no BIC of its own, so it uses the same number unless you "
                                                    "choose another." if method == "kmodes" else ""))
    with right:
        st.markdown("**How stable the cohorts are**")
        if not cohort_store.is_stability_known(db, round_id, method, k):
            _with_progress(f"Refitting on {cohort_store.N_BOOT} resampled audits…",
                           lambda p: cohort_store.stability(db, round_id, method, k, progress=p))
        stab = cohort_store.stability(db, round_id, method, k)
        verdict, words = cohort_store.stability_words(stab)
        st.metric("Stability (mean ARI)", f"{stab['mean_ari']:.2f}", verdict, delta_color="off", delta_arrow="off",
                  help=glossary.define("stability (ari)"))
        st.markdown(words)


def nuffield_view() -> None:
    """How each cohort compares with Nuffield FJO's three groups."""
    st.caption("Nuffield FJO described three broad groups of children: disability-led, trauma-led with multiple needs, "
               "and at risk of extra-familial exploitation. Similarity (from -1 to 1) compares what makes each cohort "
               f"distinctive with each group's defining needs; below {cohorts.NUFFIELD_CLEAR_MATCH} no group fits clearly.")
    ui.table(ui.cached(cohort_store.nuffield_table, round_id, method, k), f"cohorts_vs_nuffield_{method}_{k}",
             hide=tuple(f"Similarity to {g['label'].lower()}" for g in cohorts.NUFFIELD_GROUPS.values()))


view, box = ui.views(VIEWS)
with box:
    {"What each cohort needs": profiles_view, "Each cohort": per_cohort_view, "How many cohorts": choosing_view,
     "Compared with Nuffield": nuffield_view}[view]()
