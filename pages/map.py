"""Provision map and gaps: where children who need a service live, where matching provision is, which towns go without."""

import numpy as np
import streamlit as st

from audit import glossary
from audit.analysis import gaps
from audit.charts import provision_map
from audit.analysis import provision
from audit.filters import md_text, quoted, url_int
from audit.geography import region
from audit.suppress import LEGEND, Suppressed
from pages import ui
from pages.map_component import folium_map

ctx = ui.context()
DECAY_LABELS = {"gaussian": "Gradual (Gaussian)", "linear": "Linear", "step": "None inside the catchment"}
SHADE_LABELS = {"gap": "Gap score", "children": "Children who need the service"}
KM = (2, 80)  # the catchment slider's range
PARAMS = {"service": "map_service", "need": "map_need", "km": "map_km", "decay": "map_decay", "shade": "map_shade"}


def _from_url() -> None:
    """First run on this page: the URL decides the pickers, so a shared link reproduces the view."""
    if "map_service" in st.session_state:
        return
    qp = st.query_params
    service = qp.get("service") if qp.get("service") in provision.SERVICES else "residential"
    st.session_state["map_service"] = service
    options = ui.cached(provision.need_options, service, ctx.filters.round_id)
    need = provision.resolve_need(qp.get("need"), options)
    notes = []
    if need is None:
        notes.append(f"Need {quoted(qp.get('need'))} not recognised for {provision.SERVICES[service].lower()}: showing all needs.")
    st.session_state["map_need"] = need or provision.ALL_NEEDS
    km, note = url_int(qp.get("km"), int(provision.DEFAULT_RADIUS_KM[service]), *KM, "Catchment (km)")
    st.session_state["map_km"] = km
    st.session_state["map_notes"] = notes + [note] * bool(note)
    st.session_state["map_decay"] = qp.get("decay") if qp.get("decay") in gaps.DECAYS else "gaussian"
    st.session_state["map_shade"] = qp.get("shade") if qp.get("shade") in SHADE_LABELS else "gap"


def _service_changed() -> None:
    """A new service has its own needs and its own default catchment."""
    st.session_state["map_need"] = provision.ALL_NEEDS
    st.session_state["map_km"] = int(provision.DEFAULT_RADIUS_KM[st.session_state["map_service"]])


def _to_url() -> None:
    """Mirror the pickers in the URL next to the shared filters."""
    ui.url_params({param: str(st.session_state[key]) for param, key in PARAMS.items()})


def _details(props: dict, view: provision.View, service: str) -> None:
    """What is known about the clicked district or town (suppressed, as everywhere).

    Every value is shown through md_text: names come from data files, and the properties come back
    from the browser, so neither may be read as Markdown.
    """
    kind = props.get("kind")
    text = {k: md_text(v) for k, v in props.items() if v is not None}
    table = provision.labelled(view.gaps, service).display
    unit = "Places within reach" if service == "residential" else "Capacity within reach (children a week)"
    if kind == "district":
        st.markdown(f"#### {text.get('name')}")
        st.caption(f"District in {text.get('la')}")
        st.markdown(f"**Children who need the service:** {text.get('children')}  \n"
                    f"**Gap score:** {text.get('gap') or '0'}  \n**Access per child:** {text.get('access') or '–'}")
        towns = table[table["district_code"] == props.get("id")]
        if len(towns):
            st.markdown("**Its towns with the largest gaps**")
            # Markdown, not a grid or st.table: beside the map it must draw quickly.
            ui.markdown_table(towns[["Town", "Children", "Gap score", "Nearest matching provision",
                                     "Distance to it (km)"]].head(8), numeric=("Children", "Gap score", "Distance to it (km)"))
    elif kind == "town":
        st.markdown(f"#### {text.get('name')}")
        st.caption(f"{text.get('district')}, {text.get('la')}")
        row = table[table["town_id"].astype(str) == str(props.get("id"))]
        if len(row):
            r = {k: md_text(v) for k, v in row.iloc[0].items()}
            st.markdown(f"**Children nearest this town:** {r['Children']}  \n**Gap score:** {r['Gap score']}  \n"
                        f"**Access per child:** {r['Access per child']}  \n**{unit}:** {r[unit]}  \n"
                        f"**Nearest matching provision:** {r['Nearest matching provision']} "
                        f"({r['Distance to it (km)']} km)")
    else:
        st.markdown("#### Largest gaps in view")
        st.caption("Click a district or town on the map for its details.")
        ui.markdown_table(table[["Town", "LA", "Children", "Gap score"]].head(10), numeric=("Children", "Gap score"))
    if view.gaps.any:
        st.caption(LEGEND)


def _provision_map(sel: provision.Selection, km: float, decay: str, la: str | None, viewer, service: str, shade: str,
                   large: bool):
    """The map for one view of the page (folium_map prepares it once per view)."""
    layers = ui.cached(provision.view, sel, km, decay, la, viewer).layers
    return provision_map.provision_map(layers.districts, layers.las, layers.towns, layers.homes, layers.providers,
                                       service, shade, focus=la, large=large, no_data_las=_not_loaded(sel))


def _not_loaded(sel: provision.Selection) -> frozenset[str]:
    """The names of the LAs that loaded no data for the chosen service."""
    covered = ui.cached(provision.covered_las, sel.service, sel.round_id)
    return frozenset(region.la_name(c) for c in region.REGION_LAS if c not in covered)


@st.fragment
def map_panel(view: provision.View, map_args: tuple, service: str) -> None:
    """The map and the details of what was clicked; clicks rerun only this fragment, not the whole page."""
    # On a shared screen the map gets the full width and the details go underneath.
    left, right = (st.container(), st.container()) if ctx.meeting else st.columns([3, 1.3], gap="medium")
    with left:
        out = folium_map(_provision_map, *map_args, key="provision_map", height=720 if ctx.meeting else 560,
                         returned_objects=("last_active_drawing",))
    with right:
        feature = (out or {}).get("last_active_drawing") or {}
        _details(feature.get("properties") or {}, view, service)


def gap_only(gaps: Suppressed) -> Suppressed:
    """The towns with a gap (a gap score of 1 or more), as the tile counts them: the ranked list down to its last
    shown gap, so a town whose score is hidden keeps its place in the ranking (as beside the map)."""
    shown_gap = np.flatnonzero(gaps.numeric["gap_score"].fillna(0).to_numpy() >= 1)
    n = int(shown_gap[-1]) + 1 if len(shown_gap) else 0
    return Suppressed(gaps.display.iloc[:n], gaps.numeric.iloc[:n], gaps.mask.iloc[:n])


def ranked_view(view: provision.View, service: str) -> None:
    """The towns with a gap, ranked, under the tile's count; every town with children on request."""
    every = st.toggle("Every town with children, not only those with a gap", key="map_all_towns")
    shown = view.gaps if every else gap_only(view.gaps)
    count = view.tiles.get("Towns with a gap", "–")
    st.markdown(f"**Towns with a gap: {count}**" + ("" if not every else f" · every town with children: {len(shown.display):,}"))
    if not every and count.replace(",", "").isdigit() and int(count.replace(",", "")) > len(shown.display):
        st.caption(f"{int(count.replace(',', '')) - len(shown.display)} more towns with a gap have so few children who "
                   "need the service that their scores are hidden; they are in the CSV of every town.")
    st.caption("Ranked by gap score. Each child counts in their nearest town. " + glossary.define("gap score"))
    # Named for what it holds (this view's need, catchment and towns), apart from the Data page's gaps_* extracts.
    ui.table(provision.labelled(shown, service),
             ("towns_by_gap_" if every else "towns_with_a_gap_") + service.replace("-", "_"),
             hide=("la_code", "district_code", "town_id"), key=("Town", "LA", "Children", "Gap score", "Access per child"))


_from_url()
where = ui.header("Provision map and gaps", "Where the children who need a service live, where the matching provision "
                  "is, and which towns are left without it within a reasonable distance.", "map_notes")

c1, c2, c3, c5 = ui.controls().columns([1.2, 2, 1.5, 1.3])
service = c1.radio("Service", list(provision.SERVICES), format_func=provision.SERVICES.get, key="map_service",
                   on_change=_service_changed)
options = ui.cached(provision.need_options, service, ctx.filters.round_id)
if st.session_state.get("map_need") not in options:
    st.session_state["map_need"] = provision.ALL_NEEDS
need = c2.selectbox("Need or cohort" if service == "residential" else "SEN primary need", list(options),
                    format_func=options.get, key="map_need")
if service == "residential" and not any(k.startswith("cohort:") for k in options):
    c2.caption("Cohorts appear here once they have been fitted for this round.")
km = c3.slider("Catchment (km)", *KM, key="map_km", help="Straight-line distance a child could be expected to travel.")
c3.caption(f"{km} km ≈ {km / 1.609344:.0f} miles")
# How access falls with distance is a choice of method: it sits with the method note (kept while that is closed).
ui.keep("map_decay")
decay = st.session_state["map_decay"]
shade = c5.radio("Shade districts by", list(SHADE_LABELS), format_func=SHADE_LABELS.get, key="map_shade",
                 help=glossary.help("Gap score"))
_to_url()

sel = provision.selection(service, need, ctx.filters)
view = ui.cached(provision.view, sel, float(km), decay, ctx.filters.la, ctx.viewer)
ui.kpi_tiles(view.tiles, lead=("Children who need it", "Towns with a gap", "Short of a fair share"))

view_name, box = ui.views(["Map", "Towns ranked by gap"])
with box:
    if view_name == "Map":
        map_panel(view, (sel, float(km), decay, ctx.filters.la, ctx.viewer, service, shade, ctx.meeting), service)
    else:
        ranked_view(view, service)

if method := ui.expander("How the gap score is worked out, and how access falls with distance", "map_method_open"):
    with method:
        st.selectbox("Distance decay", list(DECAY_LABELS), format_func=DECAY_LABELS.get, key="map_decay",
                     help="How much less a place counts the further it is from the child, inside the catchment.")
        st.markdown(gaps.method_text(float(km), decay))
        st.markdown(provision.matching_text(sel))
        st.markdown("**Words used**\n" + glossary.note("gap score", "access per child", "fair share", "catchment"))
