"""Folium maps that work without internet: Leaflet is inlined from PyPI packages, never a CDN.

Every tooltip is text, never HTML: names come from files anyone can send (a home called
`<img src=x onerror=...>` must not run in every visitor's browser), and the map's frame is
same-origin with the app (Streamlit gives every component's iframe allow-scripts and
allow-same-origin, and streamlit-folium has no way to change that). So tooltips are built in the
browser with textContent (TextTooltip, FEATURE_TOOLTIP), and anything that is HTML is escaped.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from html import escape
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template as FoliumTemplate
from jinja2 import Template

from audit.charts.colours import SEQUENTIAL, GRADE_COLOURS, NO_DATA

REGION_CENTRE = (52.25, 0.55)


@lru_cache(maxsize=None)
def _data_url(package: str, filename: str, mime: str) -> str:
    """A file from an xstatic package as a data: URL, so the browser fetches nothing from outside."""
    import importlib

    base = Path(importlib.import_module(f"xstatic.pkg.{package}").BASE_DIR)
    return f"data:{mime};base64," + base64.b64encode((base / filename).read_bytes()).decode("ascii")


class OfflineMap(folium.Map):
    """A folium Map whose only assets are Leaflet's own JS and CSS, inlined."""

    default_js = [("leaflet", _data_url("leaflet", "leaflet.js", "text/javascript"))]
    default_css = [("leaflet_css", _data_url("leaflet", "leaflet.css", "text/css"))]


class OfflineMarkerCluster(folium.plugins.MarkerCluster):
    """Marker clustering with the plugin's assets inlined from xstatic-leaflet-markercluster."""

    default_js = [("markerclusterjs", _data_url("leaflet_markercluster", "leaflet.markercluster.js", "text/javascript"))]
    default_css = [
        ("markerclustercss", _data_url("leaflet_markercluster", "MarkerCluster.css", "text/css")),
        ("markerclusterdefaultcss", _data_url("leaflet_markercluster", "MarkerCluster.Default.css", "text/css")),
    ]


class Legend(MacroElement):
    """A legend drawn as a Leaflet control (plain JS, so it renders inside streamlit-folium too)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'audit-legend');
                div.style.cssText = 'background:#fff;padding:6px 10px;border-radius:6px;font:{{ this.font_px }}px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);color:#222';
                div.innerHTML = {{ this.html|tojson }};
                // Clicking the title folds the legend away, so it does not hide the coast or a tooltip.
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, title: str, items: list[tuple[str, str]], font_px: int = 13, position: str = "bottomright"):
        super().__init__()
        self.position = position
        self._name = "Legend"
        self.font_px = font_px
        rows = "".join(
            f'<div style="white-space:nowrap"><span style="display:inline-block;width:14px;height:14px;background:{escape(c)};border:1px solid #555;margin-right:6px;vertical-align:-2px"></span>{escape(label)}</div>'
            for c, label in items
        )
        self.html = (f'<details open><summary style="cursor:pointer;font-weight:bold" '
                     f'title="Click to fold the legend away">{escape(title)}</summary>{rows}</details>')


def base_map(bounds: list[list[float]] | None = None, large: bool = False) -> OfflineMap:
    """An empty map of the region; base tiles only when AUDIT_TILES names a reachable tile server."""
    tiles = os.environ.get("AUDIT_TILES", "").strip()
    m = OfflineMap(location=REGION_CENTRE, zoom_start=8, tiles=None, control_scale=True, prefer_canvas=False)
    if tiles:
        url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png" if tiles.lower() == "osm" else tiles
        folium.TileLayer(url, attr="© OpenStreetMap contributors", name="Base map").add_to(m)
    if bounds:
        m.fit_bounds(bounds)
    return m


def _bins(values: pd.Series, n: int = 5) -> list[float]:
    """Class breaks for a choropleth: quantiles of the non-missing values, de-duplicated."""
    v = values.dropna().astype(float)
    if v.empty:
        return [0.0, 1.0]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)).round(0))
    return edges.tolist() if len(edges) > 1 else [float(v.min()), float(v.max()) + 1]


def colour_for(value: float, edges: list[float], palette: list[str] = SEQUENTIAL) -> str:
    """The palette colour of a value's class (grey for hidden or missing values)."""
    if value is None or pd.isna(value):
        return NO_DATA
    idx = int(np.searchsorted(edges[1:-1], value, side="right"))
    return palette[min(idx, len(palette) - 1) * (len(palette) - 1) // max(len(edges) - 2, 1)]


def geojson(shapes: gpd.GeoDataFrame, digits: int = 4) -> dict:
    """Shapes as GeoJSON for the browser, coordinates to `digits` decimals (4 is about 11 m): less to send and parse.

    Rounded in one vectorised pass and converted without a JSON round trip (this runs on every
    map shown); the collection's bbox saves folium walking every coordinate for the map's bounds.
    """
    rounded = shapely.transform(shapes.geometry.to_numpy(), lambda xy: np.round(xy, digits))
    fc = shapes.set_geometry(gpd.GeoSeries(rounded, index=shapes.index, crs=shapes.crs)).to_geo_dict()
    if len(shapes):
        fc["bbox"] = [float(v) for v in shapes.total_bounds]
    return fc


def with_bbox(fc: dict, lons, lats) -> dict:
    """A point collection with its GeoJSON bbox [west, south, east, north] (see GeoJson)."""
    lons, lats = np.asarray(lons, float), np.asarray(lats, float)
    if len(lons):
        fc["bbox"] = [float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())]
    return fc


class GeoJson(folium.GeoJson):
    """folium's GeoJson layer, taking its bounds from the collection's bbox when it has one.

    streamlit-folium asks every layer for its bounds each time a map is shown, and folium
    finds them by walking every coordinate in Python: about 50 ms for the provision map.
    """

    def _get_self_bounds(self):
        """[[south, west], [north, east]] from the bbox, else folium's own walk."""
        bbox = self.data.get("bbox") if isinstance(self.data, dict) else None
        if bbox and len(bbox) == 4:
            return [[bbox[1], bbox[0]], [bbox[3], bbox[2]]]
        return super()._get_self_bounds()


def choropleth(m: folium.Map, shapes: gpd.GeoDataFrame, value_col: str, label_col: str, display_col: str,
               title: str, name: str, large: bool = False, key: str = "la_code") -> list[float]:
    """Shade areas by a (suppressed) value; hidden values are grey and say '<5' in the tooltip."""
    edges = _bins(shapes[value_col])
    shapes = shapes.copy()
    shapes["_fill"] = [colour_for(v, edges) for v in shapes[value_col]]
    shapes["_shown"] = shapes[display_col].astype(str)
    gj = geojson(shapes[[key, label_col, "_shown", "_fill", "geometry"]])
    GeoJson(
        gj,
        name=name,
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#333333", "weight": 1.2, "fillOpacity": 0.75},
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=TextTooltip(fields=[label_col, "_shown"], aliases=["", title + ":"], sticky=True,
                            style=f"font-size:{16 if large else 13}px"),
    ).add_to(m)
    items = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        items.append((colour_for((lo + hi) / 2 if hi > lo else lo, edges), f"{lo:,.0f}–{hi:,.0f}"))
    items.append((NO_DATA, "fewer than 5 or none"))
    Legend(title, items, 16 if large else 13).add_to(m)
    return edges


class TextTooltip(folium.GeoJsonTooltip):
    """folium's GeoJsonTooltip (a table of a feature's fields) with every value set as text, never as HTML.

    folium's own joins the values into an HTML string, so a name from a file runs as markup.
    """

    _template = FoliumTemplate("""
    {% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.bindTooltip(function (layer) {
        var fields = {{ this.fields | tojson }}, aliases = {{ this.aliases | tojson }};
        var div = L.DomUtil.create('div'), table = L.DomUtil.create('table', '', div);
        fields.forEach(function (field, i) {
            var row = L.DomUtil.create('tr', '', table), value = layer.feature.properties[field];
            L.DomUtil.create('th', '', row).textContent = aliases[i];
            L.DomUtil.create('td', '', row).textContent = value === null || value === undefined ? '' : String(value);
        });
        return div;
    }, {{ this.tooltip_options | tojavascript }});
    {% endmacro %}
    """)


# One tooltip per marker, bound in the browser: unlike a layer-wide GeoJsonTooltip it still
# works when marker clustering lifts the markers out of their GeoJSON layer. Its lines are text
# (see tip()); only the tag of each line, one of three, is chosen by the data.
FEATURE_TOOLTIP = folium.utilities.JsCode("""function (feature, layer) {
    var tip = feature.properties.tip;
    if (!tip) { return; }
    var div = document.createElement('div');
    div.style.fontSize = (Number(tip.px) || 13) + 'px';
    tip.lines.forEach(function (line, i) {
        if (i) { div.appendChild(document.createElement('br')); }
        var el = document.createElement(line[0] === 'b' || line[0] === 'small' ? line[0] : 'span');
        el.textContent = String(line[1]);
        div.appendChild(el);
    });
    layer.bindTooltip(div);
}""")


def tip(title, *lines, small: str | None = None, px: int = 13) -> dict:
    """A marker's tooltip as data: a bold title, plain lines and an optional small last line, all shown as text."""
    out = [["b", str(title)]] + [["", str(line)] for line in lines]
    return {"px": px, "lines": out + ([["small", str(small)]] if small is not None else [])}


def point_features(lats, lons, tips, **props) -> dict:
    """Points as one GeoJSON collection with a tooltip each (made by tip()).

    One GeoJSON layer renders far faster than a folium marker per point: folium
    compiles a Jinja template per element on every rerun (benchmarks/bench_pages).
    """
    extra = {k: list(v) for k, v in props.items()}
    # A short id per feature: without one folium keys its per-feature style switch on the first unique
    # property, the tooltip's HTML, and writes every tooltip into the page a second time.
    return with_bbox({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
         "properties": {"tip": tip, **{k: v[i] for k, v in extra.items()}}}
        for i, (lat, lon, tip) in enumerate(zip(lats, lons, tips))
    ]}, lons, lats)


def focus_bounds(las: gpd.GeoDataFrame, focus: str | None) -> list[list[float]]:
    """[[south, west], [north, east]] of the chosen LA, or of the region when none (or an unknown one) is chosen."""
    shown = las[las["la_code"] == focus] if focus is not None and (las["la_code"] == focus).any() else las
    minx, miny, maxx, maxy = shown.total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def la_lines(m: folium.Map, las: gpd.GeoDataFrame, weight: float = 2.6, opacity: float = 0.9) -> None:
    """LA boundaries as lines that let clicks through to the areas beneath."""
    GeoJson(
        geojson(las[["la_code", "la_name", "geometry"]]), name="LA boundaries", interactive=False,
        style_function=lambda f: {"fill": False, "color": "#111111", "weight": weight, "opacity": opacity},
    ).add_to(m)


LABEL_STYLE = ("white-space:nowrap;pointer-events:none;color:#111;text-align:center;transform:translate(-50%,-50%);"
               "text-shadow:-2px -2px 0 #fff,2px -2px 0 #fff,-2px 2px 0 #fff,2px 2px 0 #fff,0 0 4px #fff")


def name_labels(m: folium.Map, lats, lons, names, name: str, large: bool = False, kind: str = "la",
                show: bool = True) -> folium.FeatureGroup:
    """Names drawn on the map as text (a DivIcon each, plain Leaflet), so a room can read which LA and town is which
    without hovering and without base tiles. Labels let clicks through to what lies beneath."""
    size = (20 if large else 14) if kind == "la" else (17 if large else 12)
    weight = 700 if kind == "la" else 600
    style = LABEL_STYLE + f";font:{weight} {size}px/1.1 Arial,sans-serif" + (";font-style:italic" if kind == "town" else "")
    group = folium.FeatureGroup(name=name, show=show)
    texts = [str(n) for n in names]
    if texts:
        GeoJson(point_features(lats, lons, texts, _label=[escape(t) for t in texts]), control=False, interactive=False,
                marker=folium.Marker(icon=folium.DivIcon()),
                style_function=lambda f, style=style: {
                    "html": f'<div class="audit-label audit-label-{kind}" style="{style}">{f["properties"]["_label"]}</div>',
                    "iconSize": [0, 0], "iconAnchor": [0, 0]}).add_to(group)
    group.add_to(m)
    return group


def la_labels(m: folium.Map, las: gpd.GeoDataFrame, large: bool = False) -> folium.FeatureGroup:
    """Each LA's name at a point inside it."""
    # A point inside each shape (not the centroid, which can fall in the sea for a coastal LA); planar is fine here.
    pts = shapely.point_on_surface(las.geometry.to_numpy())
    return name_labels(m, shapely.get_y(pts), shapely.get_x(pts), las["la_name"], "LA names", large, "la")


def places_text(n) -> str:
    """'1 place' or '4 places': tooltips are read aloud on a shared screen, so the grammar shows."""
    n = int(n)
    return f"{n:,} place" if n == 1 else f"{n:,} places"


def homes_layer(m: folium.Map, homes: pd.DataFrame, name: str = "Children's homes", cluster: bool = False,
                large: bool = False) -> folium.FeatureGroup:
    """Homes as circle markers sized by places and coloured by Ofsted grade.

    The homes are one GeoJSON layer, not a folium marker each: folium compiles a
    Jinja template per element on every render, which made a 230-home map cost
    ~4x as much to render on each rerun (benchmarks/bench_pages).
    """
    group = folium.FeatureGroup(name=name)
    target = OfflineMarkerCluster(name=name).add_to(group) if cluster else group
    size = 15 if large else 12
    features = []
    for h in homes.itertuples(index=False):
        grade = h.ofsted_grade or "Not yet inspected"
        text = tip(h.name, h.provider, f"{places_text(h.places)} · {grade}",
                   small=f"Needs met: {h.needs_met or 'not stated'}", px=size)
        features.append({"type": "Feature", "id": len(features),  # short style keys (see point_features)
                         "geometry": {"type": "Point", "coordinates": [float(h.lon), float(h.lat)]},
                         "properties": {"kind": "home", "tip": text,
                                        "_fill": GRADE_COLOURS.get(grade, NO_DATA),
                                        "_r": round(3 + 2.2 * float(np.sqrt(max(h.places, 0))), 2)}})
    if features:
        GeoJson(
            with_bbox({"type": "FeatureCollection", "features": features}, homes["lon"], homes["lat"]), name=name,
            control=False,
            marker=folium.CircleMarker(radius=4, color="#222222", weight=1, fill=True, fill_opacity=0.85),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "radius": f["properties"]["_r"],
                                      "color": "#222222", "weight": 1, "fillOpacity": 0.85},
            on_each_feature=FEATURE_TOOLTIP,
        ).add_to(target)
    group.add_to(m)
    return group


def region_overview_map(las: gpd.GeoDataFrame, homes: pd.DataFrame, focus: str | None = None,
                        large: bool = False) -> OfflineMap:
    """LA boundaries shaded by children in the audit, with homes sized by places; fits the chosen LA."""
    m = base_map(focus_bounds(las, focus), large)
    choropleth(m, las, "children_value", "la_name", "children_display", "Children in the audit",
               "Children in the audit by LA", large)
    la_labels(m, las, large)
    if not homes.empty:
        homes_layer(m, homes, large=large)
        grade_legend(m, large)
    folium.LayerControl(collapsed=True).add_to(m)
    layers_button(m, large)
    return m


def layers_button(m: folium.Map, large: bool = False) -> None:
    """Leaflet's layers icon is an image the inlined CSS cannot reach, so the collapsed control says "Layers" instead."""
    font = 16 if large else 13
    m.get_root().header.add_child(folium.Element(
        "<style>.leaflet-control-layers-toggle{background-image:none!important;width:auto!important;"
        f"padding:0 10px;font:600 {font}px/36px sans-serif;color:#222}}"
        ".leaflet-control-layers-toggle::after{content:'Layers'}</style>"))


def grade_legend(m: folium.Map, large: bool = False) -> None:
    """What the home markers' colours mean."""
    Legend("Homes (size = places)", [(c, g) for g, c in GRADE_COLOURS.items()], 16 if large else 13,
           position="bottomleft").add_to(m)


def html(m: folium.Map) -> str:
    """The map as one self-contained HTML page (what a browser would load)."""
    return m.get_root().render()
