"""Co-occurring needs: how common each need is, how many each child has, which travel together."""

import streamlit as st

from audit import glossary
from audit.analysis import cooccur
from audit.charts import needs_page
from audit.analysis import needs_view
from audit.filters import hidden_note, quoted
from audit.geography import region
from audit.suppress import LEGEND
from pages import ui

ctx = ui.context()
ALL = ""
LEVEL_LABELS = {"categories": "11 categories", "codes": "22 need codes"}
MEASURE_LABELS = {"count": "Children", "row_pct": "% of row", "lift": "Lift", "phi": "Phi"}
MEASURE_HELP = {
    "count": "How many children have both needs. The diagonal is how many have the need at all.",
    "row_pct": "Of the children with the need on the left, the % who also have the need along the bottom.",
    "lift": glossary.define("lift"),
    "phi": glossary.define("phi"),
}
PARAMS = {"level": "needs_level", "measure": "needs_measure", "sex": "needs_sex", "placement": "needs_placement",
          "compare": "needs_compare"}
# Lift is the default: it says which needs go together more (above 1) or less (below 1) than chance, where counts
# mostly repeat how common each need is.
DEFAULTS = {"needs_level": "categories", "needs_measure": "lift", "needs_sex": ALL, "needs_placement": ALL,
            "needs_compare": True}


def _from_url(opts: dict) -> None:
    """First run on this page: the URL decides the view (?measure=lift&level=codes), unknown values noted."""
    if "needs_level" in st.session_state:
        return
    qp, notes = st.query_params, []
    allowed = {"needs_level": LEVEL_LABELS, "needs_measure": MEASURE_LABELS,
               "needs_sex": opts["sex"], "needs_placement": opts["placement"]}
    for param, key in PARAMS.items():
        value = qp.get(param)
        if key == "needs_compare":
            st.session_state[key] = value not in ("0", "false", "no")
        elif value and value in allowed[key]:
            st.session_state[key] = value
        else:
            if value:
                notes.append(f"{quoted(value)} is not a choice for {param}: showing the default.")
            st.session_state[key] = DEFAULTS[key]
    st.session_state["needs_notes"] = notes


def _to_url() -> None:
    """Mirror the page's choices in the URL beside the shared filters, leaving defaults out."""
    def text(value) -> str:
        return ("1" if value else "0") if isinstance(value, bool) else str(value)

    wanted = {}
    for param, key in PARAMS.items():
        value = st.session_state.get(key)
        shown = text(DEFAULTS[key] if value is None else value)
        wanted[param] = None if shown == text(DEFAULTS[key]) else shown
    ui.url_params(wanted)


opts = ui.cached(needs_view.options, ctx.filters.round_id)
_from_url(opts)
ui.header("Co-occurring needs", "How common each need is, how many needs each child has, and which needs travel together. "
          "Nuffield FJO's national figures (children subject to deprivation-of-liberty applications) are marked for "
          "comparison.", "needs_notes")
la_name = region.la_name(ctx.filters.la) if ctx.filters.la else None

c1, c2, c3, c4 = ui.controls().columns([1.1, 1.5, 1.3, 1.7])
sex = c1.selectbox("Sex", [ALL] + list(opts["sex"]), key="needs_sex",
                   format_func=lambda v: opts["sex"].get(v, "All") if v else "All")
placement = c2.selectbox("Placement type", [ALL] + list(opts["placement"]), key="needs_placement",
                         help="SSDA903 placement codes: " + glossary.placement_codes() + ".",
                         format_func=lambda v: opts["placement"].get(v, v) if v else "All placement types")
level = c3.radio("Needs shown as", list(LEVEL_LABELS), format_func=LEVEL_LABELS.get, key="needs_level",
                 horizontal=True)
compare_on = c4.toggle("Compare with the region", key="needs_compare", disabled=not la_name,
                       help="Show the LA chosen in the sidebar beside the whole region.")
compare = bool(la_name) and compare_on
if not la_name:
    c4.caption("Choose an LA in the sidebar to compare it with the whole region.")

sel = needs_view.Selection(ctx.filters, sex or None, placement or None)
large = ctx.meeting

# -- headline ------------------------------------------------------------------
tiles = ui.cached(needs_view.headline, sel, ctx.viewer)
if compare and ctx.meeting:
    # Three tiles on a shared screen: each holds the LA's figure with the region's beside it.
    region_tiles = ui.cached(needs_view.headline, sel.region(), ctx.viewer)
    ui.kpi_tiles({f"{label}: {la_name} (region)": f"{value} ({region_tiles.get(label, '–')})"
                  for label, value in tiles.items()})
elif compare:
    region_tiles = ui.cached(needs_view.headline, sel.region(), ctx.viewer)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**{la_name}**")
        ui.kpi_tiles(tiles, per_row=2)
    with right:
        st.markdown("**Whole region**")
        ui.kpi_tiles(region_tiles, per_row=2)
else:
    ui.kpi_tiles(tiles)
if ui.cached(needs_view.is_hidden, sel, ctx.viewer):
    st.info(hidden_note(ctx.filters, sel.sex, sel.placement), icon=":material/visibility_off:")
s = cooccur.NUFFIELD_SUMMARY
st.caption(f"Nuffield FJO nationally: mean {s['mean']:.1f} of 11 categories; {s['pct_more_than_one']:.0f}% with more "
           f"than one; {s['pct_4plus']:.0f}% with 4 or more ({cooccur.NUFFIELD_SOURCE}).")

VIEWS = ["How common", "Needs per child", "Which occur together", "Combinations"]
ui.keep("needs_measure")  # the measure keeps its value while another view is open
view, box = ui.views(VIEWS)


def prevalence_view() -> None:
    """How common each need is, beside the region when comparing, with Nuffield's figures marked."""
    prev = ui.cached(needs_view.prevalence_table, sel, ctx.viewer, level)
    fig = ui.cached(needs_page.prevalence, sel, ctx.viewer, level, compare, large)
    if compare:
        both = ui.cached(needs_view.compare_table, sel, ctx.viewer, level)
        ui.chart(fig, both.display.drop(columns="need"), f"prevalence_{level}_{la_name}_vs_region")
    else:
        ui.chart(fig, prev.display.drop(columns="need"), f"prevalence_{level}")
    if prev.any:
        st.caption(LEGEND)
    if level == "categories":
        if box := ui.expander("The need codes within each category", "needs_codes_open"):
            with box:
                codes = ui.cached(needs_view.prevalence_table, sel, ctx.viewer, "codes")
                ui.table(codes, "prevalence_codes", hide=("need",))
                st.caption("Choose \"22 need codes\" above to chart every code, and to see which codes occur together.")


def _per_child(selection, title_suffix: str = "") -> None:
    """The distribution chart with its mean marked, and its CSV."""
    dist = ui.cached(needs_view.needs_per_child_table, selection, ctx.viewer)
    fig = ui.cached(needs_page.needs_per_child, selection, ctx.viewer, large,
                    "How many need categories each child has" + title_suffix)
    ui.chart(fig, dist.display, "needs_per_child" + title_suffix.replace(" ", "_").replace(":", ""))


def per_child_view() -> None:
    """How many of the 11 categories each child has, for the LA and the region side by side when comparing."""
    st.caption("Number of the 11 need categories recorded for each child.")
    if compare:
        left, right = st.columns(2, gap="large")
        with left:
            _per_child(sel, f": {la_name}")
        with right:
            _per_child(sel.region(), ": whole region")
    else:
        _per_child(sel)


def _heatmap(selection, measure: str, title: str | None = None) -> None:
    """One co-occurrence heatmap with its pairs starred and its CSV."""
    matrix = ui.cached(needs_view.cooccurrence_table, selection, ctx.viewer, level, measure)
    fig = ui.cached(needs_page.cooccurrence, selection, ctx.viewer, level, measure, large, title)
    ui.chart(fig, needs_view.matrix_csv(matrix), f"cooccurrence_{level}_{measure}"
             + ("" if title is None else "_" + title.split(":")[0].replace(" ", "_")))


def together_view() -> None:
    """Which needs occur together: the heatmap in the chosen measure, and every pair with its test."""
    measure = st.segmented_control("Measure", list(MEASURE_LABELS), format_func=MEASURE_LABELS.get,
                                   key="needs_measure", selection_mode="single", required=True) or "lift"
    if compare and level == "categories":
        left, right = st.columns(2, gap="medium")
        with left:
            _heatmap(sel, measure, f"{la_name}: {MEASURE_LABELS[measure].lower()}")
        with right:
            _heatmap(sel.region(), measure, f"Whole region: {MEASURE_LABELS[measure].lower()}")
    elif compare:  # 22 x 22 matrices need the full width to stay readable: one above the other
        _heatmap(sel, measure, f"{la_name}: {MEASURE_LABELS[measure].lower()}")
        _heatmap(sel.region(), measure, f"Whole region: {MEASURE_LABELS[measure].lower()}")
    else:
        _heatmap(sel, measure)
    st.caption(MEASURE_HELP[measure] + " * marks pairs linked more (or less) often than chance would explain, "
               "after allowing for testing every pair (Fisher's exact test, Benjamini-Hochberg false discovery rate 5%). "
               "Cells resting on fewer than 5 children show \"<5\".")
    if box := ui.expander("Every pair of needs, with its test", "needs_pairs_open"):
        with box:
            ui.table(ui.cached(needs_view.pair_table, sel, ctx.viewer, level), f"pairs_{level}",
                     hide=("a", "b"))


def combinations_view() -> None:
    """The most common exact combinations of need categories (UpSet chart)."""
    st.caption("Each bar is the children who have exactly that combination of need categories and no other; "
               "the dots below show which needs make up the combination."
               + (" Combinations are of the 11 categories: exact combinations of 22 codes are nearly all unique."
                  if level == "codes" else ""))
    # Exact combinations of codes are almost never shared, so this chart always uses categories.
    combos = ui.cached(needs_view.combinations_table, sel, ctx.viewer, "categories")
    fig = ui.cached(needs_page.combinations, sel, ctx.viewer, large,
                    "Most common combinations of needs" + (f": {la_name}" if la_name else ""))
    if fig is not None:
        ui.chart(fig, combos.display.drop(columns="combination"), "combinations")
        hidden = int(combos.mask["Children"].sum())
        if hidden:
            st.caption(f"{hidden} more of the 20 most common combinations had fewer than 5 children each, so they are "
                       "left out of the chart; the CSV lists them as \"<5\".")
    else:
        st.info("Every combination in this view has fewer than 5 children, so none can be shown.")
        ui.download(combos.display.drop(columns="combination"), "combinations")


with box:
    {"How common": prevalence_view, "Needs per child": per_child_view,
     "Which occur together": together_view, "Combinations": combinations_view}[view]()
_to_url()
