"""The provision map: where children needing a service live, where the matching provision is, and the gap towns.

Layers: districts shaded by children or gap score, LA boundaries, towns
(coloured by gap score), children's homes (clustered, sized by places,
coloured by Ofsted grade) and short-break providers. Every feature that can be
clicked carries `kind` and `id` properties, so the page can show its details.
All counts come in already suppressed; hidden values are grey.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from audit.charts.colours import GAP, GRADE_COLOURS, NO_DATA, OKABE_ITO, SEQUENTIAL
from audit.charts.maps import (FEATURE_TOOLTIP, GeoJson, Legend, OfflineMap, TextTooltip, base_map, colour_for,
                               focus_bounds, geojson, homes_layer, la_labels, la_lines, layers_button, name_labels,
                               point_features, tip, with_bbox)

SHADES = {"children": "Children who need the service", "gap": "Gap score"}
PROVIDER_COLOUR = OKABE_ITO[3]   # reddish purple: apart from the Ofsted-grade colours of homes


def _breaks(values: pd.Series, n: int) -> list[float]:
    """Class breaks for positive values: rounded quantiles, de-duplicated, at least two edges."""
    v = pd.to_numeric(values, errors="coerce")
    v = v[v > 0].astype(float)
    if v.empty:
        return [0.0, 1.0]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)).round(0))
    return edges.tolist() if len(edges) > 1 else [float(v.min()), float(v.max()) + 1]


def shade_colours(values: pd.Series, shade: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Fill colour for each value and the legend rows: blues for children, orange-red for gaps, grey if hidden.

    A gap score of 0 is a real finding ("no gap") and gets the palest colour;
    zero children reads as "none", the same grey as hidden.
    """
    palette = SEQUENTIAL if shade == "children" else GAP[1:]
    edges = _breaks(values, len(palette))
    fills = []
    for v in pd.to_numeric(values, errors="coerce"):
        if pd.isna(v) or (v <= 0 and shade == "children"):
            fills.append(NO_DATA)
        elif v <= 0:
            fills.append(GAP[0])
        else:
            fills.append(colour_for(v, edges, palette))
    items = []
    if shade == "gap":
        items.append((GAP[0], "no gap"))
    for lo, hi in zip(edges[:-1], edges[1:]):
        items.append((colour_for((lo + hi) / 2 if hi > lo else lo, edges, palette), f"{lo:,.0f}–{hi:,.0f}"))
    items.append((NO_DATA, "no children, or fewer than 5"))
    return fills, items


NO_DATA_LOADED = "#ffffff"


def district_layer(m: folium.Map, districts: gpd.GeoDataFrame, shade: str, large: bool = False,
                   no_data_las: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Districts shaded by the chosen measure; the tooltip says the suppressed values as shown elsewhere.

    districts: geometry, district_code, district, la, children_value and
    gap_value (numeric, NaN if hidden) and the display strings children,
    gap_score, access_ratio.
    """
    fills, items = shade_colours(districts["children_value" if shade == "children" else "gap_value"], shade)
    # No children who need the service: nothing to score, which is not the same as "no gap".
    fills = [NO_DATA if c == 0 else f for f, c in zip(fills, districts["children_value"])]
    # An LA that sent no data for this service has no count at all: white, and said so, never "fewer than 5".
    missing = districts["la"].isin(no_data_las).to_numpy()
    fills = [NO_DATA_LOADED if gone else f for f, gone in zip(fills, missing)]
    children = districts["children"].astype(str).where(~missing, "no data loaded")
    if missing.any():
        items = items + [(NO_DATA_LOADED, "no data loaded for this LA")]
    props = pd.DataFrame({
        "kind": "district", "id": districts["district_code"].astype(str), "name": districts["district"].astype(str),
        "la": districts["la"].astype(str), "children": children,
        "gap": districts["gap_score"].astype(str), "access": districts["access_ratio"].astype(str),
        "_fill": fills,
    })
    gdf = gpd.GeoDataFrame(props, geometry=districts.geometry.to_numpy(), crs=districts.crs)
    GeoJson(
        geojson(gdf), name=f"Districts: {SHADES[shade].lower()}",
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444444", "weight": 1,
                                  "fillOpacity": 0.7},
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=TextTooltip(fields=["name", "la", "children", "gap", "access"],
                            aliases=["District", "LA", "Children", "Gap score", "Access per child"],
                            sticky=True, style=f"font-size:{16 if large else 13}px"),
    ).add_to(m)
    return items


def towns_layer(m: folium.Map, towns: pd.DataFrame, large: bool = False) -> None:
    """Towns with children who need the service, coloured by gap score and sized by it.

    towns: town_id, town, district, la, lat, lon, gap_value (numeric, NaN if
    hidden) and display strings demand, gap_score, access_ratio, nearest.
    """
    fills, _ = shade_colours(towns["gap_value"], "gap")
    gap = pd.to_numeric(towns["gap_value"], errors="coerce").fillna(0).to_numpy(float)
    radius = 3.5 + 1.6 * np.sqrt(np.clip(gap, 0, None))
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(t.lon), 5), round(float(t.lat), 5)]},
         "properties": {"kind": "town", "id": str(t.town_id), "name": str(t.town), "district": str(t.district),
                        "la": str(t.la), "children": str(t.demand), "gap": str(t.gap_score),
                        "access": str(t.access_ratio), "nearest": str(t.nearest),
                        "_fill": fill, "_r": round(float(r), 1)}}
        for t, fill, r in zip(towns.itertuples(index=False), fills, radius)
    ]
    GeoJson(
        with_bbox({"type": "FeatureCollection", "features": features}, towns["lon"], towns["lat"]),
        name="Towns (gap score)",
        marker=folium.CircleMarker(radius=4, weight=1, color="#222222", fill=True, fill_opacity=0.95),
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "radius": f["properties"]["_r"]},
        # "nearest" is a home's or provider's name from a file: TextTooltip shows it as text.
        tooltip=TextTooltip(fields=["name", "district", "children", "gap", "access", "nearest"],
                            aliases=["Town", "District", "Children", "Gap score", "Access per child",
                                     "Nearest matching provision"],
                            style=f"font-size:{16 if large else 13}px"),
    ).add_to(m)


def providers_layer(m: folium.Map, providers: pd.DataFrame, name: str, show: bool = True,
                    large: bool = False) -> folium.FeatureGroup:
    """Short-break providers as purple diamonds sized by weekly capacity, a shape apart from the round homes."""
    group = folium.FeatureGroup(name=name, show=show)
    located = providers.dropna(subset=["lat", "lon"])
    tips, sides = [], []
    for p in located.itertuples(index=False):
        ages = "any age" if pd.isna(p.min_age) and pd.isna(p.max_age) else \
            f"ages {'' if pd.isna(p.min_age) else int(p.min_age)}–{'' if pd.isna(p.max_age) else int(p.max_age)}"
        tips.append(tip(p.name, f"{p.type or 'short break'} · {int(p.capacity)} children a week · {ages}",
                        small=f"Needs supported: {p.needs_supported or 'not stated'}", px=15 if large else 12))
        sides.append(int(round(8 + 1.6 * float(np.sqrt(max(p.capacity, 0))))))

    def diamond(feature):
        """A DivIcon is plain Leaflet, so no marker plugin has to be fetched from a CDN."""
        side = feature["properties"]["_s"]
        return {"html": (f'<div class="audit-provider" style="width:{side}px;height:{side}px;'
                         f'background:{PROVIDER_COLOUR};border:1.5px solid #222;transform:rotate(45deg);opacity:.92"></div>'),
                "iconSize": [side, side], "iconAnchor": [side // 2, side // 2]}

    if tips:
        GeoJson(point_features(located["lat"], located["lon"], tips, _s=sides), control=False,
                       marker=folium.Marker(icon=folium.DivIcon()), style_function=diamond,
                       on_each_feature=FEATURE_TOOLTIP).add_to(group)
    group.add_to(m)
    return group


def provision_map(districts: gpd.GeoDataFrame, las: gpd.GeoDataFrame, towns: pd.DataFrame, homes: pd.DataFrame,
                  providers: pd.DataFrame, service: str, shade: str = "gap", focus: str | None = None,
                  large: bool = False, no_data_las: frozenset[str] = frozenset()) -> OfflineMap:
    """The whole provision map, fitted to the chosen LA (or the region), with a legend for every layer.

    The chosen service's matching provision is shown; the other service's
    provision is a layer the user can switch on.
    """
    m = base_map(focus_bounds(las, focus), large)
    # Marker clustering needs a maximum zoom, which a map without tiles does not otherwise have; quarter
    # zoom steps let the fitted LA fill the frame instead of jumping to the next whole zoom level.
    m.options.update(max_zoom=18, min_zoom=6, zoom_snap=0.25, zoom_delta=0.5)
    items = district_layer(m, districts, shade, large, no_data_las)
    la_lines(m, las)
    font = 16 if large else 13
    # Homes are circles sized by places, never clustered: numbered cluster bubbles read as counts of children.
    homes_layer(m, homes, name="Children's homes" + (" (matching)" if service == "residential" else ""),
                cluster=False, large=large).show = service == "residential"
    providers_layer(m, providers, "Short-break providers" + (" (matching)" if service == "short-breaks" else ""),
                    show=service == "short-breaks", large=large)
    towns_layer(m, towns, large)
    la_labels(m, las, large)
    top = top_gap_towns(towns, TOWN_LABELS)
    name_labels(m, top["lat"] + LABEL_LIFT, top["lon"], top["town"], "Names of the towns with the largest gaps", large,
                kind="town")
    Legend(SHADES[shade], items, font).add_to(m)
    markers = [(c, f"Home: {g} (size = places)") for g, c in GRADE_COLOURS.items()] if service == "residential" else []
    markers += [(PROVIDER_COLOUR, "Short-break provider")] if service == "short-breaks" else []
    markers += [(GAP[-1], f"Town (size = gap score; largest {TOWN_LABELS} named)")]
    Legend("Markers", markers, font, position="bottomleft").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    layers_button(m, large)
    return m


TOWN_LABELS = 8       # the towns a room should find without hovering
LABEL_LIFT = 0.045    # degrees north: a town's name sits just above its circle rather than on it


def top_gap_towns(towns: pd.DataFrame, n: int) -> pd.DataFrame:
    """The n towns with the largest (shown) gap scores; hidden scores are never ranked."""
    gap = pd.to_numeric(towns["gap_value"], errors="coerce")
    return towns.assign(_gap=gap)[gap > 0].nlargest(n, "_gap")
