"""Vega-Lite (Altair) figures for placement distance and flows, readable by colour-blind viewers and on a shared screen."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from audit.charts.style import MISSING_MARK, font_size, style
from audit.charts.needs import SEQUENTIAL
from audit.geography.region import la_name

GREY, LIGHT_GREY = "#555555", "#BBBBBB"

USE_PARTS = [("used_by_own_la", "Own LA's children", "#117733"),
             ("used_by_other_eastern", "Other Eastern LAs", "#88CCEE"),
             ("used_by_outside_region", "LAs outside the region", "#CC6677"),
             ("used_by_unknown", "LA not recorded", LIGHT_GREY),
             ("vacant", "Vacant", "#EEEEEE")]
BAND_COLOURS = ["#117733", "#88CCEE", "#DDCC77", "#CC6677", "#882255"]


def _stacked_bars(long: pd.DataFrame, parts: list[str], colours: list[str], x_title: str, unit: str,
                  large: bool, title: str) -> alt.LayerChart:
    """Horizontal stacked bars per LA, parts in a fixed order and colour, with the legend above."""
    rank = {p: i for i, p in enumerate(parts)}
    long = long.assign(order=long["part"].map(rank))
    y = alt.Y("LA:N", sort=list(dict.fromkeys(long["LA"])), title=None)
    bars = alt.Chart(long).mark_bar(stroke=GREY, strokeWidth=0.5).encode(
        x=alt.X("value:Q", title=x_title, stack="zero"), y=y, order=alt.Order("order:Q"),
        color=alt.Color("part:N", title=None, sort=parts, scale=alt.Scale(domain=parts, range=colours),
                        legend=alt.Legend(orient="top", direction="horizontal", columns=3 if large else 5)),
        tooltip=[alt.Tooltip("LA:N"), alt.Tooltip("part:N", title=""), alt.Tooltip("value:Q", title=unit)])
    return style(bars, title=title, large=large, height=alt.Step(40 if large else 30))


def local_use_figure(use: pd.DataFrame, large: bool = False,
                     title: str = "Who uses each LA's children's home places") -> alt.Chart:
    """Stacked bars per LA from audit.analysis.flows.local_place_use, so local use of local places is visible.

    Hidden (suppressed) cells arrive as NaN and are left out of the bar.
    """
    present = [(c, label, colour) for c, label, colour in USE_PARTS if c in use]
    long = pd.DataFrame([{"LA": la_name(code), "part": label, "value": row[c]}
                         for code, (_, row) in zip(use["la_code"], use.iterrows()) for c, label, _ in present])
    long = long[pd.to_numeric(long["value"], errors="coerce").notna()]
    return _stacked_bars(long, [p[1] for p in present], [p[2] for p in present], "places", "places", large, title)


def distance_bands_figure(bands: pd.DataFrame, band_labels: list[str], large: bool = False,
                          title: str = "How far from home each LA's children are placed") -> alt.Chart:
    """Stacked bars of children per distance band for each LA, from suppressed counts (hidden cells are left out).

    bands: LA plus one column per band label, NaN where a count is hidden, so
    the chart never shows a number the tables hide.
    """
    long = bands.melt(id_vars="LA", value_vars=band_labels, var_name="part", value_name="value")
    long = long[pd.to_numeric(long["value"], errors="coerce").notna()]
    colours = [BAND_COLOURS[i % len(BAND_COLOURS)] for i in range(len(band_labels))]
    return _stacked_bars(long, list(band_labels), colours, "children (counts under 5 hidden)", "children", large, title)


def flow_matrix_chart(display: pd.DataFrame, numeric: pd.DataFrame, large: bool = False,
                      title: str = "Where each LA's children are placed") -> alt.LayerChart:
    """Home LA (rows) by placement LA (columns), shaded by children; hidden cells grey with their mark.

    display/numeric: the suppressed matrix from audit.analysis.distance.flow_matrix
    (LA codes as index and columns; numeric is NaN where a count is hidden).
    """
    rows = [la_name(r) for r in display.index]
    cols = [la_name(c) for c in display.columns]
    cells = []
    for i, r in enumerate(display.index):
        for j, c in enumerate(display.columns):
            v = numeric.iat[i, j]
            shown = display.iat[i, j]
            hidden = pd.isna(v) and isinstance(shown, str) and shown != ""
            cells.append({"home": rows[i], "placed": cols[j], "children": None if pd.isna(v) else float(v),
                          "text": str(shown) if hidden else ("" if pd.isna(v) or v == 0 else f"{v:,.0f}"),
                          "own": r == c, "hidden": hidden})
    df = pd.DataFrame(cells)
    top = float(np.nanmax(pd.to_numeric(df["children"], errors="coerce"))) if df["children"].notna().any() else 1.0
    df["dark"] = pd.to_numeric(df["children"], errors="coerce").fillna(0) > 0.55 * top
    size = font_size(large)
    cell = 52 if large else 40
    x = alt.X("placed:N", sort=cols, title="Where the child lives now", axis=alt.Axis(labelAngle=-40, orient="top"))
    y = alt.Y("home:N", sort=rows, title="LA responsible for the child")
    tooltip = [alt.Tooltip("home:N", title="Home LA"), alt.Tooltip("placed:N", title="Placed in"),
               alt.Tooltip("text:N", title="Children")]
    base = alt.Chart()
    layers = [
        # Empty cells stay white, so the flows that exist stand out.
        base.transform_filter("!datum.hidden && datum.children > 0").mark_rect(stroke="white", strokeWidth=1).encode(
            x=x, y=y, tooltip=tooltip,
            color=alt.Color("children:Q", title="children", scale=alt.Scale(scheme=SEQUENTIAL, domain=[0, top]))),
        base.transform_filter(alt.datum.hidden).mark_rect(stroke="white", strokeWidth=1, color=MISSING_MARK).encode(
            x=x, y=y, tooltip=tooltip),
        # The own-LA diagonal is outlined: children placed in their own LA.
        base.transform_filter(alt.datum.own).mark_rect(filled=False, stroke="black", strokeWidth=2).encode(x=x, y=y),
        base.mark_text(fontSize=size - 1).encode(
            x=x, y=y, text="text:N", tooltip=tooltip,
            color=alt.condition(alt.datum.dark, alt.value("white"), alt.value("black"))),
    ]
    return style(alt.layer(*layers, data=df), title=title, large=large, height=alt.Step(cell), width=alt.Step(cell))
