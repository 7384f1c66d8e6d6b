"""Pictures for the pack: the app's own Vega-Lite charts rendered offline, and static maps of the app's map layers.

Charts go through vl-convert (Vega-Lite to PNG in-process, no browser). Maps are
drawn with geopandas and matplotlib from the same suppressed layers, class breaks
and colours as the app's Leaflet maps: a Chromium screenshot of the Leaflet map
would take a browser start and a page load per map (seconds each, a browser CI
must install), and gives a raster at screen resolution; matplotlib draws each map
in well under a second at print resolution. Home markers get a shape per Ofsted
grade as well as a colour, so the map still reads when printed in greyscale.
"""

from __future__ import annotations

import copy
import io
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.charts.colours import GAP, GRADE_COLOURS, NO_DATA, OKABE_ITO

CHART_WIDTH = 900   # px, the chart's own width before the 2x scale: type stays readable on a slide
MAP_DPI = 200
# One shape per grade: colour alone does not survive a greyscale printer.
GRADE_MARKERS = {"Outstanding": "o", "Good": "s", "Requires improvement": "^", "Inadequate": "D",
                 "Not yet inspected": "v"}
PROVIDER_COLOUR = OKABE_ITO[3]


@dataclass(frozen=True)
class Picture:
    """A PNG with the words that stand in for it (alt text) and its size in pixels."""

    png: bytes
    alt: str

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels, read from the PNG header."""
        return struct.unpack(">II", self.png[16:24])


def _fixed_width(spec: dict, width: int) -> dict:
    """The app's charts stretch to their column ("container"); offline there is no column, so give them a width."""
    spec = copy.deepcopy(spec)

    def walk(node):
        if isinstance(node, dict):
            if node.get("width") == "container":
                node["width"] = width
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return spec


def chart_png(chart, alt: str, width: int = CHART_WIDTH, scale: float = 2.0) -> Picture:
    """A Vega-Lite (Altair) chart as a PNG, rendered from its spec exactly as the browser would draw it."""
    import vl_convert as vlc

    spec = _fixed_width(chart.to_dict(), width)
    return Picture(vlc.vegalite_to_png(spec, scale=scale), alt)


def _figure(bounds, width_in: float = 5.0):
    """A matplotlib figure sized to the area shown, without axes (a map needs none)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minx, miny, maxx, maxy = bounds
    # Degrees of longitude are shorter than degrees of latitude at 52°N: correct the aspect.
    aspect = 1 / np.cos(np.radians((miny + maxy) / 2))
    ratio = (maxy - miny) * aspect / max(maxx - minx, 1e-9)
    fig, ax = plt.subplots(figsize=(width_in, min(max(width_in * ratio, 3.0), 5.5)))
    ax.set_aspect(aspect)
    ax.set_axis_off()
    pad_x, pad_y = (maxx - minx) * 0.07, (maxy - miny) * 0.07
    ax.set_xlim(minx - pad_x, maxx + pad_x)
    ax.set_ylim(miny - pad_y, maxy + pad_y)
    return fig, ax


def _png(fig) -> bytes:
    """The figure as PNG bytes, then closed (matplotlib keeps every open figure otherwise)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def _bounds(las, focus: str | None) -> tuple[float, float, float, float]:
    """The chosen LA's extent, or the region's (the same rule as the app's maps.focus_bounds)."""
    from audit.charts.maps import focus_bounds

    (s, w), (n, e) = focus_bounds(las, focus)
    return w, s, e, n


def _la_labels(ax, las, focus: str | None, size: float = 8) -> None:
    """LA names at a point inside each LA, in dark text on a white halo so they read on any shade."""
    import matplotlib.patheffects as pe

    for _, row in las.iterrows():
        if focus is not None and row["la_code"] != focus:
            continue
        p = row.geometry.representative_point()
        ax.annotate(row["la_name"], (p.x, p.y), ha="center", va="center", fontsize=size, color="#111111",
                    path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def _hatch_hidden(ax, shapes, fills: list[str]) -> None:
    """Hatch the grey areas (hidden or none) so they stay apart from the palest shade when printed in greyscale."""
    hidden = shapes[[f == NO_DATA for f in fills]]
    if len(hidden):
        hidden.plot(ax=ax, facecolor="none", edgecolor="#666666", hatch="////", linewidth=0)


HIDDEN_PATCH = {"facecolor": NO_DATA, "hatch": "////", "edgecolor": "#666666"}


def _homes(ax, homes: pd.DataFrame) -> list:
    """Homes sized by places, coloured and shaped by Ofsted grade; returns legend handles."""
    from matplotlib.lines import Line2D

    handles = []
    grades = homes["ofsted_grade"].fillna("Not yet inspected")
    for grade, colour in GRADE_COLOURS.items():
        h = homes[grades == grade]
        if len(h):
            ax.scatter(h["lon"], h["lat"], s=6 + 5 * np.sqrt(h["places"].clip(lower=0)), c=colour,
                       marker=GRADE_MARKERS[grade], edgecolors="#222222", linewidths=0.5, zorder=4)
        handles.append(Line2D([], [], marker=GRADE_MARKERS[grade], linestyle="", markerfacecolor=colour,
                              markeredgecolor="#222222", markersize=6, label=f"Home: {grade.lower()}"))
    return handles


def _legend(ax, handles: list, title: str) -> None:
    """One legend beside the map, so it never covers an LA; its title wraps to the legend's width."""
    ax.legend(handles=handles, title=title, loc="center left", bbox_to_anchor=(1.0, 0.5), ncol=1, fontsize=7.5,
              title_fontsize=8, frameon=False, alignment="left")


def overview_map(shapes, homes: pd.DataFrame, focus: str | None, alt: str) -> Picture:
    """The overview's map: LAs shaded by children in the audit (the app's breaks), homes on top, names on."""
    from matplotlib.patches import Patch

    from audit.charts.maps import _bins, colour_for

    edges = _bins(shapes["children_value"])
    fills = [colour_for(v, edges) for v in shapes["children_value"]]
    fig, ax = _figure(_bounds(shapes, focus))
    shapes.plot(ax=ax, color=fills, edgecolor="#333333", linewidth=0.8)
    _hatch_hidden(ax, shapes, fills)
    handles = [Patch(facecolor=colour_for((lo + hi) / 2 if hi > lo else lo, edges), edgecolor="#333333",
                     label=f"{lo:,.0f}–{hi:,.0f} children") for lo, hi in zip(edges[:-1], edges[1:])]
    handles.append(Patch(**HIDDEN_PATCH, label="fewer than 5 or none"))
    if focus is not None:
        homes = homes[homes["la_code"] == focus]
    handles += _homes(ax, homes)
    _la_labels(ax, shapes, focus)
    _legend(ax, handles, "Children in the audit\n(homes sized by places)")
    return Picture(_png(fig), alt)


def gap_map(layers, service: str, focus: str | None, alt: str) -> Picture:
    """The provision map for a service: districts shaded by gap score, gap towns, and the matching provision."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from audit.charts.provision_map import shade_colours

    d = layers.districts
    fills, items = shade_colours(d["gap_value"], "gap")
    # As in the app: a district with no children who need the service has nothing to score.
    fills = [NO_DATA if c == 0 else f for f, c in zip(fills, d["children_value"])]
    fig, ax = _figure(_bounds(layers.las, focus))
    d.plot(ax=ax, color=fills, edgecolor="#777777", linewidth=0.3)
    _hatch_hidden(ax, d, fills)
    layers.las.boundary.plot(ax=ax, color="#222222", linewidth=1.1)
    handles = [Patch(**HIDDEN_PATCH, label=t) if c == NO_DATA else
               Patch(facecolor=c, edgecolor="#777777", label=f"gap {t}" if t[0].isdigit() else t) for c, t in items]
    towns = layers.towns.dropna(subset=["lat", "lon"])
    gaps = pd.to_numeric(towns["gap_value"], errors="coerce")
    big = towns[gaps >= 1]
    if len(big):
        tf, _ = shade_colours(big["gap_value"], "gap")
        ax.scatter(big["lon"], big["lat"], s=8 + 10 * np.sqrt(pd.to_numeric(big["gap_value"])), c=tf,
                   edgecolors="#111111", linewidths=0.6, zorder=5)
        handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=GAP[2], markeredgecolor="#111111",
                              label="Town with a gap (size = gap)"))
    if service == "residential":
        handles += _homes(ax, layers.homes.dropna(subset=["lat", "lon"]))
    else:
        p = layers.providers.dropna(subset=["lat", "lon"])
        ax.scatter(p["lon"], p["lat"], s=10 + 3 * np.sqrt(p["capacity"].clip(lower=0)), c=PROVIDER_COLOUR,
                   marker="D", edgecolors="#222222", linewidths=0.5, zorder=4)
        handles.append(Line2D([], [], marker="D", linestyle="", markerfacecolor=PROVIDER_COLOUR,
                              markeredgecolor="#222222", label="Short-break provider"))
    _la_labels(ax, layers.las, focus)
    _legend(ax, handles, "Districts by gap score\n(short of a fair share)")
    return Picture(_png(fig), alt)


