"""Vega-Lite (Altair) figures for the overview; readable on a projector, colour-blind safe, suppression-aware."""

from __future__ import annotations

import altair as alt
import pandas as pd

from audit.charts.style import MISSING_MARK, font_size, style
from audit.charts.colours import OKABE_ITO
from audit.suppress import Suppressed

SELECTED, OTHERS, HIDDEN = "Selected LA", "Other LAs", "Fewer than 5 (hidden)"


def stub_length(values: pd.Series, share: float = 0.015) -> float:
    """Length of the grey stub that stands in for a hidden count: visible, but never a plausible number."""
    top = pd.to_numeric(values, errors="coerce").max()
    return float(top) * share if pd.notna(top) and top > 0 else 1.0


def la_children_bar(table: Suppressed, highlight: str | None = None, large: bool = False) -> alt.LayerChart:
    """Children in the audit per LA; hidden counts drawn as a grey stub labelled '<5'."""
    value = table.numeric["Children"].where(~table.mask["Children"])
    label = table.display["Children"].astype(str)
    hidden = value.isna() & (label != "0")
    df = pd.DataFrame({
        "la_code": table.display["la_code"].to_numpy(), "LA": table.display["LA"].to_numpy(),
        "value": value.to_numpy(), "label": label.to_numpy(),
        "group": [HIDDEN if h else (SELECTED if c == highlight else OTHERS)
                  for h, c in zip(hidden, table.display["la_code"])],
    })
    df["length"] = df["value"].where(~hidden.to_numpy(), stub_length(df["value"])).fillna(0)
    order = df.sort_values("value", ascending=False, na_position="last", kind="mergesort")["LA"].tolist()
    y = alt.Y("LA:N", sort=order, title=None)
    colour = alt.Color("group:N", legend=None,
                       scale=alt.Scale(domain=[OTHERS, SELECTED, HIDDEN], range=[OKABE_ITO[0], OKABE_ITO[1], MISSING_MARK]))
    tooltip = [alt.Tooltip("LA:N"), alt.Tooltip("label:N", title="Children")]
    bars = alt.Chart().mark_bar().encode(x=alt.X("length:Q", title="Children in the audit", axis=alt.Axis(tickCount=4)),
                                         y=y, color=colour,
                                         tooltip=tooltip)
    text = alt.Chart().mark_text(align="left", dx=5, fontSize=font_size(large)).encode(
        x="length:Q", y=y, text="label:N", tooltip=tooltip)
    return style(alt.layer(bars, text, data=df), large=large, height=alt.Step(40 if large else 30))
