"""Plotly figures for the overview; readable on a projector, colour-blind safe, suppression-aware."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from audit.colours import OKABE_ITO, NO_DATA
from audit.suppress import Suppressed


def layout(fig: go.Figure, title: str | None = None, large: bool = False, height: int | None = None) -> go.Figure:
    """House style: white background, big type in meeting mode, no clutter."""
    size = 20 if large else 14
    fig.update_layout(
        title=title, template="plotly_white", font=dict(size=size, family="Arial, sans-serif"),
        margin=dict(l=10, r=10, t=50 if title else 10, b=10), height=height,
        hoverlabel=dict(font_size=size), showlegend=False,
    )
    return fig


def la_children_bar(table: Suppressed, highlight: str | None = None, large: bool = False) -> go.Figure:
    """Children in the audit per LA; hidden counts drawn as a grey stub labelled '<5'."""
    df = pd.DataFrame({
        "la_code": table.display["la_code"], "LA": table.display["LA"],
        "value": table.numeric["Children"].where(~table.mask["Children"]),
        "label": table.display["Children"].astype(str),
    }).sort_values("value", na_position="first")
    shown = df["value"].fillna(0)
    hidden = df["value"].isna() & (df["label"] != "0")
    colours = [NO_DATA if h else (OKABE_ITO[1] if c == highlight else OKABE_ITO[0]) for h, c in zip(hidden, df["la_code"])]
    fig = go.Figure(go.Bar(
        x=shown.where(~hidden, shown.max() * 0.015 if shown.max() else 1), y=df["LA"], orientation="h",
        marker_color=colours, text=df["label"], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{text} children<extra></extra>",
    ))
    fig.update_xaxes(title="Children in the audit", rangemode="tozero")
    fig.update_yaxes(title=None)
    return layout(fig, large=large, height=520 if large else 420)
