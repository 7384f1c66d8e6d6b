"""House style for Vega-Lite (Altair) charts: readable on a projector, colour-blind safe.

Charts are Vega-Lite rather than plotly because the browser draws a page with a
Vega-Lite chart in about half the time (plotly.js is several megabytes to parse
on every page load; see benchmarks/bench_browser.py).
"""

from __future__ import annotations

import altair as alt

FONT = "Arial, sans-serif"
MISSING_MARK = "#bdbdbd"


# The page's tile labels and table text use the same size (pages/ui.py), so a chart is never the hardest thing to read.
MEETING_FONT = 22


def font_size(large: bool) -> int:
    """Base font size: 22 px for a shared screen in meeting mode (readable at 3 m on 1366x768), 14 px otherwise."""
    return MEETING_FONT if large else 14


def style(chart: alt.TopLevelMixin, title: str | None = None, large: bool = False,
          height: "int | alt.Step | None" = None, width: "str | int | alt.Step" = "container",
          subtitle: str | None = None) -> alt.TopLevelMixin:
    """Apply the house style to a finished chart (titles, fonts, no border, stretch to the column)."""
    size = font_size(large)
    # A concatenated chart has no width of its own: its parts set theirs.
    concat = isinstance(chart, (alt.VConcatChart, alt.HConcatChart))
    props: dict = {} if concat else {"width": width}
    if title or subtitle:
        props["title"] = alt.TitleParams(title or "", subtitle=subtitle or alt.Undefined, anchor="start",
                                         fontSize=size + 2, fontWeight="bold", subtitleFontSize=size,
                                         subtitleColor="#333333")
    if height is not None and not concat:
        props["height"] = height
    return (chart.properties(**props)
            .configure(font=FONT)
            .configure_axis(labelFontSize=size, titleFontSize=size, labelLimit=420, titleFontWeight="normal")
            .configure_legend(labelFontSize=size, titleFontSize=size, orient="bottom", labelLimit=420,
                              gradientLength=260)
            .configure_header(labelFontSize=size, titleFontSize=size)
            .configure_text(fontSize=size)
            .configure_view(stroke=None))
