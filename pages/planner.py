"""Matching and planning: which children's needs the region's homes can meet near home, and where new homes would help most."""

import streamlit as st

from audit.analysis import costs
from audit.analysis import matching
from audit.analysis import planner
from audit.analysis import scenarios
from audit.geography import region
from audit.charts import planner_map
from audit.filters import quoted, url_int
from audit.suppress import hidden_count
from pages import ui
from pages.map_component import folium_map

ctx = ui.context()
PARAMS = {"homes": "plan_homes", "places": "plan_places", "for": "plan_for", "miles": "plan_miles",
          "vacant": "plan_vacant", "free": "plan_free", "stack": "plan_stack", "min": "plan_min", "own": "plan_own"}
DEFAULTS = {"plan_homes": 3, "plan_places": 4, "plan_for": planner.ALL, "plan_miles": 20, "plan_vacant": False,
            "plan_free": False, "plan_stack": False, "plan_min": 1, "plan_own": False}
MILES = (5, 60)


def _from_url(options: dict[str, str]) -> None:
    """First run on this page: the URL decides the inputs, so a shared link reproduces the plan."""
    if "plan_homes" in st.session_state:
        return
    qp, notes = st.query_params, []
    for param, key, lo, hi, what in (("homes", "plan_homes", 1, planner.MAX_HOMES, "New homes"),
                                     ("places", "plan_places", 1, planner.MAX_PLACES, "Places in each"),
                                     ("miles", "plan_miles", *MILES, "Distance (miles)"),
                                     ("min", "plan_min", 1, planner.MAX_PLACES, "Children each home must bring")):
        st.session_state[key], note = url_int(qp.get(param), DEFAULTS[key], lo, hi, what)
        notes += [note] * bool(note)
    st.session_state["plan_vacant"] = qp.get("vacant") in ("1", "true", "yes")
    st.session_state["plan_free"] = qp.get("free") in ("1", "true", "yes")
    st.session_state["plan_stack"] = qp.get("stack") in ("1", "true", "yes")
    st.session_state["plan_own"] = qp.get("own") in ("1", "true", "yes")
    target = planner.resolve_target(qp.get("for"), options)
    if target is None:
        notes.append(f"{quoted(qp.get('for'))} is not a cohort or need category of this round: planning for all children.")
    st.session_state["plan_notes"] = notes
    st.session_state["plan_for"] = target or planner.ALL


def _to_url() -> None:
    """Mirror the inputs in the URL next to the shared filters (defaults too, so a link is explicit)."""
    values = {param: st.session_state.get(key, DEFAULTS[key]) for param, key in PARAMS.items()}
    ui.url_params({param: ("1" if v else None) if isinstance(v, bool) else str(v) for param, v in values.items()})


options = ui.cached(planner.target_options, ctx.filters.round_id)
_from_url(options)
ui.keep("plan_homes", "plan_places", "plan_for", "plan_stack", "plan_min", "plan_own")  # the plan's inputs live in one view; keep them in the others
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
free = c2.toggle("Scenario: if every place were free", key="plan_free",
                 help="Off (the default): start from today's placements; children settled within reach in a home "
                      "that meets their needs stay. On: re-place every child from scratch, settled or not.")
mode = "free" if free else "today"
radius_km = miles * matching.MILE_KM

result = ui.cached(matching.matching, ctx.filters.round_id, radius_km, vacant, "auto", mode)
# A shared screen shows the headline columns only, in large type; the full table is one click away.
BRIEF = ("Could: only further", "Could: nowhere", "Placed: further", "Placed: no place left", "Stays beyond reach",
         "Stays, needs not met", "Settled, moved") if ctx.meeting else ()
VIEWS = ["Matching", "Needs in the way", "By cohort", "Planning new homes", "Costs", "Scenarios"]


def matching_view() -> None:
    """Whether each child's needs can be met near home, alone and with places shared out, by LA."""
    tiles = list(matching.tiles(result, ctx.viewer, ctx.filters.la, ctx.filters.age_band).items())
    st.caption(f"**Each child alone:** is there a home that meets all their needs and has a place: within {miles} miles, "
               "only further away, or none?")
    ui.kpi_tiles(dict(tiles[:4]), per_row=4)
    if ctx.meeting:  # a shared screen shows the LA table on its first screen; the rest follows it
        _by_la()
    places = int(result.homes["available"].sum())
    start = (f"**From today's placements:** children settled within {miles} miles in a home that meets their needs "
             "stay; the others are to bring closer." if mode == "today" else
             "**Scenario, if every place were free:** every child placed again from scratch, settled or not.")
    st.caption(f"{start} The region's {len(result.homes):,} homes have {places:,} places this round's "
               "children could use; where would each child go? "
               + ("(Best possible sharing-out.)" if result.method == "optimal" else
                  "(Greedy sharing-out: too many children for the exact method.)"))
    ui.kpi_tiles(dict(tiles[4:]), per_row=3)
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
        st.caption(f"*% beyond, matched*: of the children whose distance today is known, those beyond {miles} miles "
                   "today and still beyond after matching; settled children stay, so it is never above today's."
                   if mode == "today" else
                   "Scenario, if every place were free: settled children can be placed further away to bring others "
                   "closer, so a cohort's share beyond reach can rise above today's.")
        ui.table(cohorts, "matching_by_cohort",
                 hide=("la_code", *BRIEF) + ((f"Could: within {miles} mi",) if ctx.meeting else ()))


def _plan_map(plan_args: tuple, viewer, large: bool):
    """The plan's map (folium_map prepares it once per plan and view)."""
    plan = ui.cached(planner.make_plan, *plan_args)
    return planner_map.plan_map(plan, viewer, focus=plan_args[5], large=large)


def planning_view() -> None:
    """Where N new homes of P places would bring most children within reach, on a map and in tables."""
    # On a shared screen the plan's inputs go behind one button, so the map is on the first screen.
    box = ui.controls("Change the plan")
    p1, p2, p3 = box.columns([1, 1, 2])
    homes = p1.number_input("New homes", 1, planner.MAX_HOMES, key="plan_homes")
    places = p2.number_input("Places in each", 1, planner.MAX_PLACES, key="plan_places")
    target = p3.selectbox("Planned for", list(options), format_func=options.get, key="plan_for")
    q1, q2, q3 = box.columns([1, 1, 2])
    if st.session_state.get("plan_min", 1) > places:
        st.session_state["plan_min"] = int(places)
    least = q1.number_input("At least this many children a home", 1, int(places), key="plan_min",
                            help="A home is opened only where it would bring at least this many children within reach.")
    stack = q2.toggle("More than one home a town", key="plan_stack",
                      help="Off: at most one new home in any town, so the plan spreads across towns.")
    own = False
    if ctx.filters.la:
        own = q3.toggle(f"For {region.la_name(ctx.filters.la)}'s children only",
                        key="plan_own", help="Off: the homes go in the chosen LA's towns but take children from the "
                                             "whole region. On: only the LA's own children, and the figures are its own.")
    plan_args = (ctx.filters.round_id, int(homes), int(places), target, radius_km, ctx.filters.la, vacant, "auto", mode,
                 own, None if stack else 1, int(least))
    plan = ui.cached(planner.make_plan, *plan_args)
    st.markdown(planner.who_text(plan))
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
                                                                      "Access after", "Why here") if ctx.meeting else ()))
    st.markdown("#### Before and after")
    ui.table(planner.figure_rows(plan, ctx.viewer), "plan_before_after",
             hide=("Number", f"Within {miles} mi, today") if ctx.meeting else ())
    st.caption("After: matching run again with the new homes, for all children, so places can shift between groups.")
    st.caption(planner.solver_text(plan))
    plan_cost_view(plan)
    if box := ui.expander("How the towns are chosen", "plan_method_open"):
        with box:
            st.markdown(planner.method_text(plan))


def plan_cost_view(plan) -> None:
    """The plan's running cost against the placements it replaces, with children brought closer and miles saved."""
    st.markdown("#### What it would cost")
    default = ui.cached(costs.default_place_cost)
    if "plan_cost" not in st.session_state:
        st.session_state["plan_cost"] = int(round(default)) if default == default else 5000
    per_place = st.number_input("Weekly cost of a place in a new home (£)", 0, 50_000, step=100, key="plan_cost",
                                help=f"Default: the median weekly fee of the region's homes (£{default:,.0f}).")
    pc = costs.plan_cost(plan, ui.cached(costs.child_costs, ctx.filters.round_id), float(per_place))
    ui.kpi_tiles(costs.plan_tiles(pc, ctx.viewer.may_see(plan.la) if plan.for_la else False), per_row=5)
    st.caption(costs.plan_cost_text(pc))
    save_box(plan, pc)


def save_box(plan, pc) -> None:
    """Keep this plan as a named scenario of the round, to compare on the Scenarios view."""
    if ctx.filters.round_id is None:
        return
    s1, s2 = st.columns([3, 1])
    name = s1.text_input("Save this plan as", key="scenario_name", max_chars=scenarios.NAME_MAX,
                         placeholder="e.g. Three homes, one a town")
    if s2.button("Save scenario", key="scenario_save", disabled=not (name or "").strip()):
        kept = scenarios.save(ui.database(), ctx.filters.round_id, name, plan, pc)
        st.success(f"Saved '{kept}'. Compare it with others on the Scenarios view.")


def costs_view() -> None:
    """What today's placements cost, by cohort, LA, placement type and distance from home."""
    c = ui.cached(costs.child_costs, ctx.filters.round_id)
    if ctx.filters.la:
        c = c[c["la_code"] == ctx.filters.la]
    see = ctx.viewer.may_see(ctx.filters.la)
    t = costs.totals(c)
    small = not see and 1 <= t["children"] < 5
    ui.kpi_tiles({"Children": hidden_count(t["children"], see),
                  "Weekly cost": "<5" if small else f"£{t['weekly']:,.0f}",
                  "Annual cost": "<5" if small else f"£{t['annual']:,.0f}"}, per_row=3)
    st.caption(costs.fill_text(c) + " " + costs.HIDDEN_REASON)
    by = st.radio("By", list(costs.BY), format_func=costs.BY.get, horizontal=True, key="cost_by")
    ui.table(costs.breakdown_rows(c, by, ctx.viewer), f"costs_by_{by}")


def _scenarios_map(round_id, names: tuple, radius_km: float, large: bool):
    """The compared scenarios' new homes on one map (folium_map prepares it once per choice)."""
    points = scenarios.site_points(ui.database(), round_id, list(names))
    return planner_map.scenarios_map(points, radius_km, large)


def scenarios_view() -> None:
    """Two to four saved scenarios side by side: children within reach, cost, saving and sites on one map."""
    saved = ui.cached(scenarios.saved, ctx.filters.round_id)
    if saved.empty:
        st.info("No saved scenarios for this audit round yet: make a plan in *Planning new homes* and save it.")
        return
    names = list(saved["name"])
    if "scenario_pick" not in st.session_state:
        st.session_state["scenario_pick"] = names[:2]
    st.session_state["scenario_pick"] = [n for n in st.session_state["scenario_pick"] if n in names]
    picked = st.multiselect("Scenarios to compare (two to four)", names, key="scenario_pick",
                            max_selections=scenarios.MAX_COMPARE)
    if not picked:
        return
    table = scenarios.compare(ui.database(), ctx.filters.round_id, picked, ctx.viewer)
    ui.table(table, "plan_scenarios")
    st.caption("Each column is a saved plan. Money is a year (52 weeks); costs resting on fewer than 5 children are "
               "hidden (<5).")
    folium_map(_scenarios_map, ctx.filters.round_id, tuple(picked), radius_km, ctx.meeting, key="scenario_map",
               height=600)


view, box = ui.views(VIEWS)
with box:
    {VIEWS[0]: matching_view, VIEWS[1]: obstacles_view, VIEWS[2]: cohort_view, VIEWS[3]: planning_view,
     VIEWS[4]: costs_view, VIEWS[5]: scenarios_view}[view]()
_to_url()
