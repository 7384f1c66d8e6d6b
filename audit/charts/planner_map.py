"""The planner's map: proposed homes, numbered with their catchment, over where the children to bring closer live."""

from __future__ import annotations

from html import escape

import folium
import numpy as np
import pandas as pd

from audit.analysis import planner
from audit.charts import maps
from audit.charts.colours import OKABE_ITO
from audit.geography import geo
from audit.suppress import PUBLIC, Viewer


def plan_map(plan: planner.Plan, viewer: Viewer = PUBLIC, focus: str | None = None, large: bool = False):
    """Proposed homes (numbered, with their catchment) over the districts where the children to bring closer live."""
    shapes = geo.districts()
    d = planner.district_rows(plan, viewer)
    value = d.numeric["children"].where(d.numeric["children"] > 0)
    shapes = shapes.merge(pd.DataFrame({"district_code": d.display["district_code"], "value": value.to_numpy(),
                                        "shown": d.display["children"].astype(str)}), on="district_code", how="left")
    las = geo.las()
    m = maps.base_map(maps.focus_bounds(las, focus), large)
    # Quarter zoom steps let the region fill a wide map instead of snapping to a whole level that leaves it small.
    m.options.update(zoom_snap=0.25, zoom_delta=0.5)
    maps.choropleth(m, shapes, "value", "district_name", "shown", "Children to bring closer",
                    "Children to bring closer, by home district", large, key="district_code")
    maps.la_lines(m, las, weight=2.4, opacity=1.0)
    font = 16 if large else 12
    existing = folium.FeatureGroup(name="Homes with places matching can use")
    free = plan.before.homes[plan.before.homes["available"] > 0]
    if len(free):
        tips = [maps.tip(h.name, f"{int(h.available)} of {int(h.places)} places free for the round's children", px=font)
                for h in free.itertuples(index=False)]
        radii = (2.5 + 1.5 * np.sqrt(free["available"].to_numpy(float))).round(2)
        maps.GeoJson(maps.point_features(free["lat"], free["lon"], tips, _r=radii), control=False,
                       marker=folium.CircleMarker(radius=3, color="#222222", weight=1.2, fill=True,
                                                  fill_color="#ffffff", fill_opacity=0.95),
                       style_function=lambda f: {"radius": f["properties"]["_r"]},
                       on_each_feature=maps.FEATURE_TOOLTIP).add_to(existing)
    existing.add_to(m)
    new = folium.FeatureGroup(name="Proposed new homes")
    rows = planner.site_rows(plan, viewer, labels=False).display
    colour = OKABE_ITO[5]
    side = 34 if large else 26
    # Homes planned in the same town share one marker that lists their numbers.
    for _, r in rows.groupby(["lat", "lon"], sort=False):
        first = r.iloc[0]
        label = ", ".join(str(n) for n in r["rank"])
        folium.Circle((first["lat"], first["lon"]), radius=plan.radius_km * 1000, color=colour, weight=2.5,
                      dash_array="8 6", fill=False, interactive=False).add_to(new)
        # folium.Tooltip is HTML: every value in it is escaped (town names come from the gazetteer, but still).
        tip = "<br>".join(f"<b>New home {escape(str(x['rank']))}: {escape(str(x['town']))}</b> "
                          f"({escape(str(x['district']))}, {escape(str(x['la']))}) · {maps.places_text(x['places'])} · "
                          f"brings within reach: {escape(str(x['children']))}" for _, x in r.iterrows())
        width = side + int(side * 0.45) * max(len(label) - 1, 0)
        icon = folium.DivIcon(html=(f'<div style="width:{width}px;height:{side}px;border-radius:{side // 2}px;'
                                    f'background:{colour};color:#fff;border:2px solid #222;font:700 '
                                    f'{int(side * 0.55)}px/{side - 4}px sans-serif;text-align:center;'
                                    f'white-space:nowrap">{label}</div>'),
                              icon_size=(width, side), icon_anchor=(width // 2, side // 2))
        folium.Marker((first["lat"], first["lon"]), icon=icon,
                      tooltip=folium.Tooltip(tip, style=f"font-size:{font}px")).add_to(new)
    new.add_to(m)
    maps.la_labels(m, las, large)
    # The proposed towns by name, just below their numbered markers, so a room can read where they are.
    towns = rows.drop_duplicates(["lat", "lon"])
    maps.name_labels(m, towns["lat"] - 0.05, towns["lon"], towns["town"], "Names of the proposed towns", large,
                     kind="town")
    maps.Legend("Markers", [(colour, f"Proposed home, numbered (dashed: {planner.miles_label(plan.radius_km)})"),
                            ("#ffffff", "Home with places free")], 16 if large else 13,
                position="topright").add_to(m)
    return m


def scenarios_map(points: pd.DataFrame, radius_km: float, large: bool = False):
    """The new homes of two to four saved scenarios on one map: one colour per scenario, numbered as in each plan."""
    las = geo.las()
    m = maps.base_map(maps.focus_bounds(las, None), large)
    m.options.update(zoom_snap=0.25, zoom_delta=0.5)
    maps.la_lines(m, las, weight=2.0, opacity=0.8)
    font = 16 if large else 12
    side = 30 if large else 24
    names = list(dict.fromkeys(points["scenario"]))
    colours = {n: OKABE_ITO[(i + 5) % len(OKABE_ITO)] for i, n in enumerate(names)}
    # Scenarios that share a town would hide each other's markers: nudge each scenario a little.
    shift = {n: (i - (len(names) - 1) / 2) * 0.012 for i, n in enumerate(names)}
    for name in names:
        group = folium.FeatureGroup(name=str(name))
        for p in points[points["scenario"] == name].itertuples(index=False):
            at = (float(p.lat), float(p.lon) + shift[name])
            folium.Circle((float(p.lat), float(p.lon)), radius=radius_km * 1000, color=colours[name], weight=1.5,
                          dash_array="6 6", fill=False, interactive=False).add_to(group)
            icon = folium.DivIcon(html=(f'<div style="width:{side}px;height:{side}px;border-radius:{side // 2}px;'
                                        f'background:{colours[name]};color:#fff;border:2px solid #222;font:700 '
                                        f'{int(side * 0.55)}px/{side - 4}px sans-serif;text-align:center">{int(p.rank)}</div>'),
                                  icon_size=(side, side), icon_anchor=(side // 2, side // 2))
            tip = f"<b>{escape(str(name))}</b>: new home {int(p.rank)}, {escape(str(p.town))} ({escape(str(p.la))})"
            folium.Marker(at, icon=icon, tooltip=folium.Tooltip(tip, style=f"font-size:{font}px")).add_to(group)
        group.add_to(m)
    maps.Legend("Scenarios", [(colours[n], str(n)) for n in names], 16 if large else 13, position="topright").add_to(m)
    return m
