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


HIDDEN_PART = "Hidden (\"<5\" or \"c\")"


def _stacked_bars(long: pd.DataFrame, parts: list[str], colours: list[str], x_title: str, unit: str,
                  large: bool, title: str) -> alt.LayerChart:
    """Horizontal stacked bars per LA, parts in a fixed order and colour, with the legend above.

    Rows with a `mark` ("<5" or "c") are hidden counts: a grey stub in their place in the bar, labelled with
    the mark, so the bar never reads as if those children were not there.
    """
    rank = {p: i for i, p in enumerate(parts)}
    la_order = list(long["LA"])
    long = long.assign(order=long["part"].map(rank))
    if "mark" not in long:
        long = long.assign(mark=None)
    hidden = long["mark"].notna()
    stub = _stub(long.loc[~hidden, ["LA", "value"]])
    long = long.assign(colour=long["part"].where(~hidden, HIDDEN_PART),
                       value=long["value"].where(~hidden, stub),
                       shown=long["value"].map(lambda v: f"{v:,.0f}").where(~hidden, long["mark"]))
    long = long.sort_values(["LA", "order"], kind="stable")
    long["start"] = long.groupby("LA")["value"].cumsum() - long["value"]
    domain = [*parts, *([HIDDEN_PART] if hidden.any() else [])]
    y = alt.Y("LA:N", sort=list(dict.fromkeys(la_order)), title=None)
    tooltip = [alt.Tooltip("LA:N"), alt.Tooltip("part:N", title=""), alt.Tooltip("shown:N", title=unit)]
    x = alt.X("value:Q", title=x_title, stack="zero")
    base = alt.Chart(long)
    bars = base.mark_bar(stroke=GREY, strokeWidth=0.5).encode(
        x=x, y=y, order=alt.Order("order:Q"),
        color=alt.Color("colour:N", title=None, sort=domain,
                        scale=alt.Scale(domain=domain, range=[*colours, MISSING_MARK][:len(domain)]),
                        legend=alt.Legend(orient="top", direction="horizontal", columns=3 if large else 5)),
        tooltip=tooltip)
    if not hidden.any():
        return style(bars, title=title, large=large, height=alt.Step(40 if large else 30))
    labels = base.transform_filter("datum.mark != null").mark_text(
        align="left", dx=3, fontSize=font_size(large) - 2, color="black").encode(
        x="start:Q", y=y, text="mark:N",
        tooltip=tooltip)
    return style(alt.layer(bars, labels), title=title, large=large, height=alt.Step(40 if large else 30))


def _stub(shown: pd.DataFrame) -> float:
    """Width of a hidden segment: visible, small, and the same for every hidden cell so it implies no number."""
    top = pd.to_numeric(shown.groupby("LA")["value"].sum(), errors="coerce").max() if len(shown) else np.nan
    return float(top) * 0.03 if pd.notna(top) and top > 0 else 1.0


def _long(table: pd.DataFrame, parts: list[tuple[str, str]], marks: pd.DataFrame | None) -> pd.DataFrame:
    """One row per LA and part; hidden counts keep their row with the mark that hides them."""
    rows = []
    for i in range(len(table)):
        for col, label in parts:
            v = pd.to_numeric(pd.Series([table[col].iat[i]]), errors="coerce").iat[0]
            mark = marks[col].iat[i] if marks is not None and col in marks else None
            mark = mark if isinstance(mark, str) and mark in ("<5", "c") else None
            if (pd.notna(v) and v != 0) or mark:
                rows.append({"LA": table["LA"].iat[i], "part": label, "value": v, "mark": mark})
    return pd.DataFrame(rows, columns=["LA", "part", "value", "mark"])


def local_use_figure(use: pd.DataFrame, large: bool = False,
                     title: str = "Who uses each LA's children's home places",
                     marks: pd.DataFrame | None = None) -> alt.Chart:
    """Stacked bars per LA from audit.analysis.flows.local_place_use, so local use of local places is visible.

    Hidden (suppressed) cells arrive as NaN, with their mark in `marks` (the displayed table), and are drawn grey.
    """
    present = [(c, label, colour) for c, label, colour in USE_PARTS if c in use]
    table = use.assign(LA=[la_name(c) for c in use["la_code"]])
    long = _long(table, [(c, label) for c, label, _ in present], marks)
    return _stacked_bars(long, [p[1] for p in present], [p[2] for p in present], "places", "places", large, title)


def distance_bands_figure(bands: pd.DataFrame, band_labels: list[str], large: bool = False,
                          title: str = "How far from home each LA's children are placed",
                          marks: pd.DataFrame | None = None) -> alt.Chart:
    """Stacked bars of children per distance band for each LA, from suppressed counts.

    bands: LA plus one column per band label, NaN where a count is hidden, so the chart never
    shows a number the tables hide; marks (the displayed table) draws each hidden count as a grey,
    labelled stub in its band's place.
    """
    long = _long(bands, [(b, b) for b in band_labels], marks)
    colours = [BAND_COLOURS[i % len(BAND_COLOURS)] for i in range(len(band_labels))]
    return _stacked_bars(long, list(band_labels), colours, "children (grey: hidden counts)", "children", large, title)


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
