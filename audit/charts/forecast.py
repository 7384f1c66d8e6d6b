"""Vega-Lite (Altair) charts of the placement-demand forecast: history solid, forecast dashed, interval as a band."""

from __future__ import annotations

import altair as alt
import pandas as pd

from audit.charts import style as chart_style
from audit.charts.colours import OKABE_ITO
from audit.analysis.forecast import CATEGORY_LABELS, CATEGORY_ORDER

CATEGORY_COLOURS = dict(zip(CATEGORY_ORDER, OKABE_ITO))


def forecast_chart(history: pd.DataFrame, future: pd.DataFrame, title: str, large: bool = False,
                   level: float = 0.8) -> alt.TopLevelMixin:
    """Month-end children (solid) then yearly forecasts (dashed) with their interval, one colour per category.

    history: month_end, category, children; future: date, category, demand, lower, upper (the first row per
    category is the last observed month, so the dashed line starts where the solid one ends). Hidden (NaN)
    values are gaps, never zeros.
    """
    cats = [c for c in CATEGORY_ORDER if c in set(history["category"]) | set(future["category"])]
    scale = alt.Scale(domain=cats, range=[CATEGORY_COLOURS[c] for c in cats])
    # One colour encoding for every layer: a layer with legend=None would drop the shared legend.
    colour = alt.Color("category:N", title=None, scale=scale, sort=cats,
                       legend=alt.Legend(orient="top", direction="horizontal", labelExpr=" : ".join(
                           [f"datum.label === '{c}' ? '{CATEGORY_LABELS.get(c, c)}'" for c in cats] + ["datum.label"])))
    x_title = "31 March of each year (history: month ends)"
    hist = alt.Chart(history).mark_line(strokeWidth=3 if large else 2).encode(
        x=alt.X("month_end:T", title=x_title, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("children:Q", title="Children"),
        color=colour,
        tooltip=[alt.Tooltip("month_end:T", title="Month end", format="%b %Y"), alt.Tooltip("category:N", title="Category"),
                 alt.Tooltip("children:Q", title="Children looked after", format=",.0f")])
    band = alt.Chart(future).mark_area(opacity=0.18).encode(
        x="date:T", y="lower:Q", y2="upper:Q", color=colour)
    line = alt.Chart(future).mark_line(strokeDash=[6, 4], strokeWidth=3 if large else 2, point=True).encode(
        x="date:T", y="demand:Q", color=colour,
        tooltip=[alt.Tooltip("date:T", title="31 March", format="%Y"), alt.Tooltip("category:N", title="Category"),
                 alt.Tooltip("demand:Q", title="Forecast", format=",.0f"),
                 alt.Tooltip("lower:Q", title=f"Lower ({level:.0%})", format=",.0f"),
                 alt.Tooltip("upper:Q", title=f"Upper ({level:.0%})", format=",.0f")])
    return chart_style.style(alt.layer(band, hist, line), title, large, height=460 if large else 380)


def page_chart(db, years: int, la: str | None, category: str | None, title: str, large: bool = False,
               viewer=None) -> tuple[alt.LayerChart, pd.DataFrame]:
    """The forecast page's chart and its CSV, built from the database in one call so the page can cache both."""
    from audit.analysis import forecast

    fc = forecast.forecast(db, years)
    history, future = forecast.chart_data(fc, la, viewer)
    if category:
        history, future = history[history["category"] == category], future[future["category"] == category]
    return (forecast_chart(history, future, title, large=large, level=fc.level),
            future.assign(date=future["date"].dt.date))
