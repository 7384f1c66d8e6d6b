"""Plotly figures for placement distance and flows, readable by colour-blind viewers and on a shared screen."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from audit.flows import OUTSIDE_REGION, TWENTY_MILES_KM, UNKNOWN
from audit.region import REGION_LAS, la_name

# Paul Tol's "muted" scheme plus two Okabe-Ito colours: 11 hues distinguishable with colour-vision deficiency.
PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77",
           "#CC6677", "#882255", "#AA4499", "#E69F00", "#0072B2"]
GREY, LIGHT_GREY = "#555555", "#BBBBBB"
LA_COLOURS = dict(zip(REGION_LAS, PALETTE))
FIXED_COLOURS = {OUTSIDE_REGION: GREY, UNKNOWN: LIGHT_GREY}


def _font_size(large: bool) -> int:
    """Base font size: meeting mode has to be legible from the back of a room."""
    return 22 if large else 14


def _layout(fig: go.Figure, title: str, large: bool, height: int | None = None) -> go.Figure:
    """Shared look: white background, one font size, room for labels."""
    fig.update_layout(title=title, template="plotly_white", font=dict(size=_font_size(large)),
                      margin=dict(l=20, r=20, t=60 if not large else 80, b=20), height=height)
    return fig


def colour_of(key: str, i: int = 0) -> str:
    """Stable colour for an LA (or other category) so the same LA looks the same in every chart."""
    return FIXED_COLOURS.get(key) or LA_COLOURS.get(key) or PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    """Translucent version of a colour for Sankey links, so overlapping flows stay readable."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def sankey_figure(flows: pd.DataFrame, large: bool = False, title: str = "Where each LA's children are placed") -> go.Figure:
    """Sankey from home LA (left) to placement LA (right), built from audit.flows.flow_matrix."""
    origins, dests = list(flows.index), list(flows.columns)
    labels = [la_name(o) for o in origins] + [la_name(d) for d in dests]
    node_colours = [colour_of(o, i) for i, o in enumerate(origins)] + [colour_of(d, i) for i, d in enumerate(dests)]
    src, tgt, val, link_colours = [], [], [], []
    for i, o in enumerate(origins):
        for j, d in enumerate(dests):
            v = int(flows.iat[i, j])
            if v > 0:
                src.append(i)
                tgt.append(len(origins) + j)
                val.append(v)
                link_colours.append(_rgba(node_colours[i], 0.45))
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=labels, color=node_colours, pad=12, thickness=18, line=dict(color="white", width=0.5)),
        link=dict(source=src, target=tgt, value=val, color=link_colours,
                  hovertemplate="%{source.label} → %{target.label}: %{value} children<extra></extra>"),
    ))
    return _layout(fig, title, large, height=max(420, 34 * max(len(origins), len(dests))) + (120 if large else 0))


def distance_histogram(children: pd.DataFrame, color: str | None = None, bin_km: float = 5.0,
                       max_km: float = 150.0, large: bool = False,
                       title: str = "Distance from home to placement") -> go.Figure:
    """Histogram of home-to-placement km with the 20-mile line; distances past max_km pile into the last bar.

    children: distance_km and, if `color` is given, that column (e.g. la_code or
    cohort) to stack bars by.
    """
    km = pd.to_numeric(children["distance_km"], errors="coerce")
    keep = km.notna()
    # Clip the long tail into one last bar so a few far placements do not squash the chart.
    shown = km[keep].clip(upper=max_km + bin_km / 2)
    groups = children.loc[keep, color].astype(str) if color else pd.Series("All", index=shown.index)
    fig = go.Figure()
    for i, (key, vals) in enumerate(shown.groupby(groups, sort=True)):
        fig.add_trace(go.Histogram(
            x=vals, name=la_name(key) if color == "la_code" else str(key),
            xbins=dict(start=0, end=max_km + bin_km, size=bin_km),
            marker=dict(color=colour_of(key, i), line=dict(color="white", width=0.5)),
            hovertemplate="%{x} km: %{y} children<extra></extra>",
        ))
    fig.add_vline(x=TWENTY_MILES_KM, line=dict(color="black", dash="dash", width=2),
                  annotation_text="20 miles", annotation_position="top right")
    beyond = int((km[keep] > max_km).sum())
    fig.update_layout(barmode="stack", showlegend=bool(color), bargap=0.05)
    fig.update_xaxes(title=f"km from home (last bar: {beyond} over {max_km:g} km)", range=[0, max_km + bin_km])
    fig.update_yaxes(title="children")
    return _layout(fig, title, large)


USE_PARTS = [("used_by_own_la", "Own LA's children", "#117733"),
             ("used_by_other_eastern", "Other Eastern LAs", "#88CCEE"),
             ("used_by_outside_region", "LAs outside the region", "#CC6677"),
             ("used_by_unknown", "LA not recorded", LIGHT_GREY),
             ("vacant", "Vacant", "#EEEEEE")]


def local_use_figure(use: pd.DataFrame, large: bool = False,
                     title: str = "Who uses each LA's children's home places") -> go.Figure:
    """Stacked bars per LA from audit.flows.local_place_use, so local use of local places is visible."""
    names = [la_name(c) for c in use["la_code"]]
    fig = go.Figure()
    for col, label, colour in USE_PARTS:
        if col in use:
            fig.add_trace(go.Bar(y=names, x=use[col], name=label, orientation="h",
                                 marker=dict(color=colour, line=dict(color=GREY, width=0.5)),
                                 hovertemplate="%{y}: %{x} places<extra>" + label + "</extra>"))
    fig.update_layout(barmode="stack", legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="places")
    return _layout(fig, title, large, height=max(380, 40 * len(names)) + (120 if large else 0))



def distance_bands_figure(bands: pd.DataFrame, band_labels: list[str], large: bool = False,
                          title: str = "How far from home each LA's children are placed") -> go.Figure:
    """Stacked bars of children per distance band for each LA, from suppressed counts (hidden cells are left out).

    bands: LA plus one column per band label, NaN where a count is hidden, so
    the chart never shows a number the tables hide.
    """
    colours = ["#117733", "#88CCEE", "#DDCC77", "#CC6677", "#882255"]
    fig = go.Figure()
    for i, label in enumerate(band_labels):
        fig.add_trace(go.Bar(y=bands["LA"], x=bands[label], name=label, orientation="h",
                             marker=dict(color=colours[i % len(colours)], line=dict(color=GREY, width=0.5)),
                             hovertemplate="%{y}: %{x} children<extra>" + label + "</extra>"))
    fig.update_layout(barmode="stack", legend=dict(orientation="h", y=-0.15, traceorder="normal"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="children (counts under 5 hidden)")
    return _layout(fig, title, large, height=max(380, 40 * len(bands)) + (120 if large else 0))
