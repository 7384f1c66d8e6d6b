"""Matching and planning: which children's needs the region's homes can meet near home, and where new homes would help most."""

import streamlit as st

from audit.analysis import matching
from audit.analysis import planner
from audit.charts import planner_map
from audit.suppress import hidden_count
from pages import ui
from pages.map_component import folium_map

ctx = ui.context()
PARAMS = {"homes": "plan_homes", "places": "plan_places", "for": "plan_for", "miles": "plan_miles",
          "vacant": "plan_vacant"}
DEFAULTS = {"plan_homes": 3, "plan_places": 4, "plan_for": planner.ALL, "plan_miles": 20, "plan_vacant": False}
MILES = (5, 60)


def _int(value, default: int, lo: int, hi: int) -> int:
    """A whole number from the URL, kept in range; the default when it is not a number."""
    try:
        return min(max(int(float(value)), lo), hi)
    except (TypeError, ValueError):
        return default


def _from_url(options: dict[str, str]) -> None:
    """First run on this page: the URL decides the inputs, so a shared link reproduces the plan."""
    if "plan_homes" in st.session_state:
        return
    qp = st.query_params
    st.session_state["plan_homes"] = _int(qp.get("homes"), DEFAULTS["plan_homes"], 1, planner.MAX_HOMES)
    st.session_state["plan_places"] = _int(qp.get("places"), DEFAULTS["plan_places"], 1, planner.MAX_PLACES)
    st.session_state["plan_miles"] = _int(qp.get("miles"), DEFAULTS["plan_miles"], *MILES)
    st.session_state["plan_vacant"] = qp.get("vacant") in ("1", "true", "yes")
    target = planner.resolve_target(qp.get("for"), options)
    if target is None:
        st.session_state["plan_notes"] = [f"'{qp.get('for')}' is not a cohort or need category of this round: "
                                          "planning for all children."]
    st.session_state["plan_for"] = target or planner.ALL


def _to_url() -> None:
    """Mirror the inputs in the URL next to the shared filters (defaults too, so a link is explicit)."""
    values = {param: st.session_state.get(key, DEFAULTS[key]) for param, key in PARAMS.items()}
    ui.url_params({param: ("1" if v else None) if isinstance(v, bool) else str(v) for param, v in values.items()})


options = ui.cached(planner.target_options, ctx.filters.round_id)
_from_url(options)
ui.keep("plan_homes", "plan_places", "plan_for")  # the plan's inputs live in one view; keep them in the others
if st.session_state.get("plan_for") not in options:
    st.session_state["plan_for"] = planner.ALL
where = ui.header("Matching and planning", "Which children's needs the region's homes could meet close to home, what "
                  "stands in the way, and where new homes would bring most children within reach.", "plan_notes")

c1, c2 = ui.controls().columns([2, 3])
miles = c1.slider("Within reach (miles from home)", *MILES, key="plan_miles",
                  help="Straight-line distance; 20 miles is the DfE's measure of a distant placement.")
c1.caption(f"{miles} miles ≈ {miles * matching.MILE_KM:.1f} km")
vacant = c2.toggle("Count only empty places", key="plan_vacant",
                   help="Off: the places this round's own children hold count as available, since they are the "
                        "children being matched. On: only places nobody occupies today.")
radius_km = miles * matching.MILE_KM

result = ui.cached(matching.matching, ctx.filters.round_id, radius_km, vacant)
# A shared screen shows the headline columns only, in large type; the full table is one click away.
BRIEF = ("Could: only further", "Could: nowhere", "Placed: further", "Placed: no place left") if ctx.meeting else ()
VIEWS = ["Matching", "Needs in the way", "By cohort", "Planning new homes"]


def matching_view() -> None:
    """Whether each child's needs can be met near home, alone and with places shared out, by LA."""
    tiles = list(matching.tiles(result, ctx.viewer, ctx.filters.la, ctx.filters.age_band).items())
    st.caption(f"**Each child alone:** is there a home that meets all their needs and has a place: within {miles} miles, "
               "only further away, or none?")
    ui.kpi_tiles(dict(tiles[:4]), per_row=4)
    if ctx.meeting:  # a shared screen shows the LA table on its first screen; the rest follows it
        _by_la()
    free = int(result.homes["available"].sum())
    st.caption(f"**Places shared out:** the region's {len(result.homes):,} homes have {free:,} places this round's "
               "children could use; where would each child go? "
               + ("(Best possible sharing-out.)" if result.method == "optimal" else
                  "(Greedy sharing-out: too many children for the exact method.)"))
    ui.kpi_tiles(dict(tiles[4:]), per_row=4)
    if box := ui.expander("How matching works", "plan_matching_method_open"):
        with box:
            st.markdown(matching.method_text(result))
    if not ctx.meeting:
        _by_la()


def _by_la() -> None:
    """The matching table by LA."""
    st.markdown("#### By LA")
    st.caption("*Could*: each child alone. *Placed*: with places shared out. *% beyond*: children not placed within "
               f"{miles} miles after matching, and today.")
    ui.table(matching.la_rows(result, ctx.viewer, ctx.filters.age_band), "matching_by_la", hide=("la_code", *BRIEF))


def obstacles_view() -> None:
    """Which single needs keep children from a home near theirs."""
    o = matching.obstacles(result, ctx.filters.la, ctx.filters.age_band)
    see = ctx.viewer.may_see(ctx.filters.la)
    count = lambda n: hidden_count(n, see)
    st.caption(f"Of {count(o['without_near'])} children without a matching home within {miles} miles, "
               f"{count(o['one_need'])} are kept from one by a single need, {count(o['several_needs'])} by two or more "
               f"needs together, and {count(o['no_home_near'])} have no home with a place within reach at all. "
               "A need is in the way when a home with a place meets all the child's other needs.")
    ui.table(matching.binding_rows(result, ctx.viewer, ctx.filters.la, ctx.filters.age_band), "matching_binding_needs",
             hide=("Only this need in the way: region",) if ctx.meeting else ())


def cohort_view() -> None:
    """Matching for each cohort of children."""
    cohorts = matching.cohort_rows(result, ctx.viewer, ctx.filters.la, ctx.filters.age_band)
    if cohorts is None:
        st.caption("Cohorts appear here once they have been fitted for this audit round (Cohorts page).")
    else:
        ui.table(cohorts, "matching_by_cohort",
                 hide=("la_code", *BRIEF) + ((f"Could: within {miles} mi",) if ctx.meeting else ()))


def _plan_map(plan_args: tuple, viewer, large: bool):
    """The plan's map (folium_map prepares it once per plan and view)."""
    plan = ui.cached(planner.make_plan, *plan_args)
    return planner_map.plan_map(plan, viewer, focus=plan_args[5], large=large)


def planning_view() -> None:
    """Where N new homes of P places would bring most children within reach, on a map and in tables."""
    p1, p2, p3 = st.columns([1, 1, 2])
    homes = p1.number_input("New homes", 1, planner.MAX_HOMES, key="plan_homes")
    places = p2.number_input("Places in each", 1, planner.MAX_PLACES, key="plan_places")
    target = p3.selectbox("Planned for", list(options), format_func=options.get, key="plan_for")
    plan_args = (ctx.filters.round_id, int(homes), int(places), target, radius_km, ctx.filters.la, vacant)
    plan = ui.cached(planner.make_plan, *plan_args)
    ui.kpi_tiles(planner.tiles(plan, ctx.viewer), per_row=4)
    if plan.stopped_early:
        st.info(f"Only {len(plan.sites)} of {homes} new homes would bring any more of these children within {miles} miles.")
    elif plan.sites.empty:
        st.info("No town would bring any of these children within reach.")
    st.caption(" ".join(filter(None, ["Arrows go from matching with today's homes to matching with the new homes added.",
                                      planner.scope_text(plan)])))
    sites = planner.site_rows(plan, ctx.viewer)
    folium_map(_plan_map, plan_args, ctx.viewer, ctx.meeting, key="plan_map", height=680 if ctx.meeting else 600)
    st.caption("Numbered markers are the proposed homes, with their catchment dashed; white circles are homes with "
               "places free; districts are shaded by the children to bring closer who live there.")
    ui.download(planner.district_rows(plan, ctx.viewer).display.drop(columns=["la_code"]), "plan_districts",
                "Download map data (CSV)", key="dl_plan_districts")
    st.markdown("#### Where to open the new homes")
    st.caption("*Children in reach*: children without a place within reach who live within "
               f"{miles} miles of the town when it was chosen. *Access*: places per child nearby (the provision map's "
               "measure), before and after.")
    ui.table(sites, "plan_new_homes", hide=("la_code", "lat", "lon") + (("District", "Places", "Km saved", "Access before",
                                                                      "Access after") if ctx.meeting else ()))
    st.markdown("#### Before and after")
    ui.table(planner.figure_rows(plan, ctx.viewer), "plan_before_after",
             hide=("Number", f"Within {miles} mi, today") if ctx.meeting else ())
    st.caption("After: matching run again with the new homes, for all children, so places can shift between groups.")
    if box := ui.expander("How the towns are chosen", "plan_method_open"):
        with box:
            st.markdown(planner.method_text(plan))


view, box = ui.views(VIEWS)
with box:
    {VIEWS[0]: matching_view, VIEWS[1]: obstacles_view, VIEWS[2]: cohort_view, VIEWS[3]: planning_view}[view]()
_to_url()
