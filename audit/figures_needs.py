"""Plotly figures for the needs and cohorts pages: readable on a shared screen, colour-blind safe.

Every builder takes the tables from ``audit.cooccur`` and ``audit.cohorts``
after suppression: a count may be a string such as "<5" or "c", which is drawn
as missing (a grey stub or a blank cell) with the string as its label, never as
a number.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from audit.colours import NO_DATA, OKABE_ITO
from audit.cooccur import NUFFIELD_PREVALENCE, NUFFIELD_SOURCE, NUFFIELD_SUMMARY, label_of
from audit.figures import layout

BAR = OKABE_ITO[0]  # blue
COMPARE = OKABE_ITO[1]  # orange
REFERENCE = "#000000"
HIGHLIGHT = OKABE_ITO[5]  # vermillion
DOT_OFF = "#d9d9d9"
DOT_ON = "#222222"
SEQUENTIAL = "Viridis"
DIVERGING = "PuOr"  # purple-orange stays distinguishable with colour-vision deficiency

MEASURE_TITLES = {
    "count": "children with both needs",
    "row_pct": "% of children with the row need who also have the column need",
    "lift": "lift (how many times more often than if unrelated)",
    "phi": "phi correlation between the two needs",
}


def _numbers(values) -> tuple[pd.Series, pd.Series]:
    """Numbers to draw (NaN where suppressed) and the text to show (the suppression mark kept)."""
    s = pd.Series(values)
    num = pd.to_numeric(s, errors="coerce")
    hidden = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
    text = s.astype(str).where(hidden, "")
    return num, text


def _fmt_count(n: float) -> str:
    """Counts with thousands separators."""
    return f"{n:,.0f}"


def _size(large: bool) -> int:
    """Base font size, matching audit.figures.layout."""
    return 20 if large else 14


def _prevalence_text(pct: float, pct_mark: str, n: float, n_mark: str) -> str:
    """'57% (1,234)' normally; the suppression mark alone when the count is hidden."""
    if np.isnan(pct):
        return n_mark or pct_mark or ""
    count = n_mark or ("" if np.isnan(n) else _fmt_count(n))
    return f"{pct:.0f}%" + (f" ({count})" if count else "")


def prevalence_bar(
    prev: pd.DataFrame,
    reference: Mapping[str, float] | None = NUFFIELD_PREVALENCE,
    compare: pd.DataFrame | None = None,
    names: tuple[str, str] = ("Selected children", "Region"),
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "Share of children with each need",
) -> go.Figure:
    """Horizontal bars of % of children with each need, with Nuffield's figure marked where published."""
    pct, pct_text = _numbers(prev["pct"].to_numpy())
    n, n_text = _numbers(prev["n"].to_numpy())
    df = pd.DataFrame({
        "need": prev["need"].to_numpy(),
        "pct": pct.to_numpy(),
        "label": [label_of(x, labels) for x in prev["need"]],
        "text": [_prevalence_text(*v) for v in zip(pct, pct_text, n, n_text)],
    })
    # Largest at the top: plotly draws the first y category at the bottom.
    df = df.sort_values("pct", ascending=True, na_position="first", kind="mergesort")
    order = df["label"].tolist()
    # Hidden rows go last in the data (not on screen) so the legend swatch takes the bar colour.
    df = pd.concat([df[df["pct"].notna()], df[df["pct"].isna()]])
    hidden = df["pct"].isna()
    stub = max(float(df["pct"].max() if df["pct"].notna().any() else 1) * 0.015, 0.5)
    ref = {k: v for k, v in (reference or {}).items() if k in set(df["need"])}
    right = np.nanmax([df["pct"].max(), max(ref.values(), default=0), 1.0])
    # Labels sit inside the bar at its start, where a reference diamond (at a national
    # figure of 8% or more) does not fall; bars too short for their label keep it outside.
    wide = right * 0.16

    def positions(values) -> list[str]:
        return ["inside" if (not np.isnan(v) and v >= wide) else "outside" for v in values]

    fig = go.Figure()
    fig.add_bar(
        x=df["pct"].where(~hidden, stub), y=df["label"], orientation="h",
        marker_color=[NO_DATA if h else BAR for h in hidden], name=names[0],
        text=df["text"], textposition=positions(df["pct"]), insidetextanchor="start",
        insidetextfont=dict(color="white"), cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra>" + names[0] + "</extra>",
    )
    if compare is not None:
        cpct, ctext = _numbers(compare["pct"].to_numpy())
        cmp = pd.Series(cpct.to_numpy(), index=compare["need"].to_numpy()).reindex(df["need"])
        ctxt = pd.Series(ctext.to_numpy(), index=compare["need"].to_numpy()).reindex(df["need"])
        fig.add_bar(
            x=cmp.fillna(0).to_numpy(), y=df["label"], orientation="h", marker_color=COMPARE,
            name=names[1],
            text=[t if isinstance(t, str) and t else ("" if np.isnan(v) else f"{v:.0f}%") for v, t in zip(cmp, ctxt)],
            textposition=positions(cmp.to_numpy(dtype=float)), insidetextanchor="start",
            insidetextfont=dict(color="black"), cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + names[1] + "</extra>",
        )
        fig.update_layout(barmode="group")
    if ref:
        ref_df = df[df["need"].isin(ref)]
        fig.add_scatter(
            x=[ref[x] for x in ref_df["need"]], y=ref_df["label"], mode="markers",
            marker=dict(symbol="diamond", size=16 if large else 11, color=REFERENCE,
                        line=dict(color="white", width=1.5)),
            name="Nuffield FJO national figure",
            hovertemplate="%{y}: %{x:.1f}% nationally<extra>" + NUFFIELD_SOURCE + "</extra>",
        )
    fig.update_xaxes(title="% of children", range=[0, min(right * 1.2, 118)])
    fig.update_yaxes(title=None, categoryorder="array", categoryarray=order)
    n_rows = len(df) * (2 if compare is not None else 1)
    layout(fig, title=title, large=large, height=max(320, (38 if large else 26) * n_rows + 150))
    # Legend above the bars: below them it collides with the axis title.
    fig.update_layout(showlegend=bool(ref) or compare is not None,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
                      margin=dict(t=(110 if large else 85)))
    return fig


def needs_per_child_bar(
    dist: pd.DataFrame,
    stats: Mapping | None = None,
    reference: Mapping[str, float] | None = NUFFIELD_SUMMARY,
    large: bool = False,
    title: str = "How many need categories each child has",
) -> go.Figure:
    """Children by number of needs, with the mean and Nuffield's mean marked."""
    children, hidden_text = _numbers(dist["children"].to_numpy())
    hidden = children.isna() & (hidden_text != "")
    top = float(children.max()) if children.notna().any() else 1.0
    fig = go.Figure(go.Bar(
        x=dist["n_needs"], y=children.where(~hidden, top * 0.015), marker_color=[NO_DATA if h else BAR for h in hidden],
        text=[t if h else ("" if np.isnan(c) else _fmt_count(c)) for c, t, h in zip(children, hidden_text, hidden)],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{x} needs: %{text} children<extra></extra>", name="Children",
    ))
    if stats and stats.get("mean") is not None and not np.isnan(stats["mean"]):
        fig.add_vline(x=stats["mean"], line=dict(color=HIGHLIGHT, width=3),
                      annotation_text=f"Mean {stats['mean']:.1f}; {stats['pct_4plus']:.0f}% have 4 or more",
                      annotation_position="top right", annotation_font_color=HIGHLIGHT)
    if reference and "mean" in reference:
        fig.add_vline(x=reference["mean"], line=dict(color=REFERENCE, width=2, dash="dash"),
                      annotation_text=f"Nuffield FJO mean {reference['mean']:.1f}",
                      annotation_position="top left", annotation_yshift=-(28 if large else 20))
    fig.update_xaxes(title="Number of need categories", dtick=1)
    # Headroom so the mean labels clear the bar labels.
    fig.update_yaxes(title="Children", range=[0, top * 1.25])
    return layout(fig, title=title, large=large, height=520 if large else 400)


def _significant_pairs(tests: pd.DataFrame | None) -> tuple[set, dict]:
    """Significant (a, b) pairs in both orders, and q-values for hover text."""
    if tests is None or len(tests) == 0:
        return set(), {}
    sig = set()
    q = {}
    for a, b, s, qv in zip(tests["a"], tests["b"], tests["significant"], tests["q_value"]):
        q[(a, b)] = q[(b, a)] = qv
        if bool(s):
            sig.update({(a, b), (b, a)})
    return sig, q


def _cell_text(value: float, measure: str) -> str:
    """How a cell's number is written for each measure."""
    if np.isnan(value):
        return ""
    if measure == "count":
        return _fmt_count(value)
    if measure == "row_pct":
        return f"{value:.0f}%"
    return f"{value:.2f}"


def cooccurrence_heatmap(
    matrix: pd.DataFrame,
    measure: str = "count",
    tests: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    show_values: bool = True,
    title: str | None = None,
) -> go.Figure:
    """Needs x needs heatmap; '*' marks pairs significant after Benjamini-Hochberg correction."""
    needs = list(matrix.columns)
    raw = matrix.reindex(index=needs, columns=needs)
    num = raw.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    marks = raw.astype(object).to_numpy()
    sig, qvals = _significant_pairs(tests)
    text = np.empty(num.shape, dtype=object)
    hover = np.empty(num.shape, dtype=object)
    for i, a in enumerate(needs):
        for j, b in enumerate(needs):
            v = num[i, j]
            mark = marks[i, j]
            shown = (str(mark) if isinstance(mark, str) and np.isnan(v) else _cell_text(v, measure))
            star = "*" if (a, b) in sig else ""
            text[i, j] = shown + star
            q = qvals.get((a, b))
            hover[i, j] = (f"{label_of(a, labels)} with {label_of(b, labels)}: {shown or 'n/a'}"
                           + (f"<br>q = {q:.2g}{' (significant)' if star else ''}" if q is not None else ""))
    if measure == "lift":
        # Lift is a ratio: draw it on a log scale so 0.5 and 2 sit equally far from 1.
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log2(np.where(num > 0, num, np.nan))
        lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
        lim = max(lim, 0.5)
        ticks = [t for t in (-3, -2, -1, 0, 1, 2, 3) if abs(t) <= lim + 1e-9]
        colour = dict(colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim,
                      colorbar=dict(title="lift", tickvals=ticks, ticktext=[f"{2.0 ** t:g}" for t in ticks]))
    elif measure == "phi":
        z = num
        # Scale to the strongest off-diagonal pair; the diagonal is always 1.
        off = num.copy()
        np.fill_diagonal(off, np.nan)
        lim = float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else 1.0
        lim = max(min(lim, 1.0), 0.1)
        colour = dict(colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim, colorbar=dict(title="phi"))
    else:
        z = num
        # The diagonal (children with the need, or 100%) would swamp the pairs; scale to the pairs.
        off = num.copy()
        np.fill_diagonal(off, np.nan)
        top = float(np.nanmax(off)) if np.isfinite(off).any() else None
        colour = dict(colorscale=SEQUENTIAL, zmin=0, zmax=top or None,
                      colorbar=dict(title="children" if measure == "count" else "%"))
    names = [label_of(x, labels) for x in needs]
    small = len(needs) > 12
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, text=text if show_values else None,
        texttemplate="%{text}" if show_values else None,
        textfont=dict(size=(_size(large) - (6 if small else 2))),
        customdata=hover, hovertemplate="%{customdata}<extra></extra>", xgap=1, ygap=1, **colour,
    ))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(tickangle=-40, title=None, side="bottom")
    note = "* significant after Benjamini-Hochberg correction" if sig else ""
    title = title or "Which needs occur together: " + MEASURE_TITLES.get(measure, measure)
    cell = (44 if large else 30) if small else (70 if large else 52)
    # Slanted labels need room below the cells, in proportion to the longest label.
    bottom = int(max((len(n) for n in names), default=10) * _size(large) * 0.34) + 20
    layout(fig, title=title, large=large, height=cell * len(needs) + 200 + bottom)
    fig.update_layout(margin=dict(b=bottom))
    if note:
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                           showarrow=False, font=dict(size=_size(large) - 2))
        fig.update_layout(margin=dict(t=(110 if large else 80)))
    return fig


def upset_chart(
    combos: pd.DataFrame,
    needs: list[str] | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "Most common combinations of needs",
) -> go.Figure:
    """UpSet-style chart: children per exact combination above a dot matrix of its needs."""
    combos = combos.reset_index(drop=True)
    present = [tuple(c) for c in combos["combination"]]
    if needs is None:
        seen = {x for c in present for x in c}
        # Rows in the order needs are most often part of the shown combinations.
        freq = pd.Series({x: sum(x in c for c in present) for x in seen}, dtype=float)
        needs = list(freq.sort_values(ascending=False, kind="mergesort").index) if len(freq) else []
    children, hidden_text = _numbers(combos["children"].to_numpy())
    hidden = children.isna() & (hidden_text != "")
    top = float(children.max()) if children.notna().any() else 1.0
    x = list(range(len(combos)))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.5, 0.5])
    fig.add_bar(
        x=x, y=children.where(~hidden, top * 0.015), marker_color=[NO_DATA if h else BAR for h in hidden],
        text=[t if h else ("" if np.isnan(c) else _fmt_count(c)) for c, t, h in zip(children, hidden_text, hidden)],
        textposition="outside", cliponaxis=False, customdata=combos["label"],
        hovertemplate="%{customdata}: %{text} children<extra></extra>", row=1, col=1,
    )
    names = [label_of(n, labels) for n in needs]
    row_of = {n: i for i, n in enumerate(needs)}
    dot = 16 if large else 11
    # Light dots for every cell, so absent needs are visible as absent.
    fig.add_scatter(
        x=[xi for xi in x for _ in needs], y=[nm for _ in x for nm in names], mode="markers",
        marker=dict(size=dot, color=DOT_OFF), hoverinfo="skip", row=2, col=1,
    )
    for xi, combo in zip(x, present):
        rows = sorted(row_of[n] for n in combo if n in row_of)
        if not rows:
            continue
        fig.add_scatter(
            x=[xi] * len(rows), y=[names[r] for r in rows], mode="lines+markers",
            line=dict(color=DOT_ON, width=3 if large else 2), marker=dict(size=dot, color=DOT_ON),
            hovertext=combos.loc[xi, "label"], hoverinfo="text", row=2, col=1,
        )
    fig.update_yaxes(title="Children", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], title=None, row=2, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=2, col=1)
    height = (380 if large else 280) + (40 if large else 28) * max(len(needs), 1)
    return layout(fig, title=title, large=large, height=height)


def bic_curve(
    table: pd.DataFrame, chosen_k: int | None = None, large: bool = False,
    title: str = "Choosing the number of cohorts: BIC (lower is better)",
) -> go.Figure:
    """BIC against the number of cohorts, with the chosen k marked."""
    hover = [f"{k} cohorts<br>BIC {b:,.0f}<br>entropy {e:.2f}"
             for k, b, e in zip(table["k"], table["bic"], table.get("entropy", pd.Series(np.nan, index=table.index)))]
    fig = go.Figure(go.Scatter(
        x=table["k"], y=table["bic"], mode="lines+markers", line=dict(color=BAR, width=3),
        marker=dict(size=12 if large else 9), hovertext=hover, hoverinfo="text", name="BIC",
    ))
    if chosen_k is not None and chosen_k in set(table["k"]):
        b = float(table.loc[table["k"] == chosen_k, "bic"].iloc[0])
        # The label goes towards the middle of the curve, so it is never cut off at either end.
        side = "bottom right" if chosen_k <= float(np.median(table["k"])) else "bottom left"
        fig.add_scatter(x=[chosen_k], y=[b], mode="markers+text", text=[f"{chosen_k} cohorts (lowest BIC)"],
                        textposition=side, marker=dict(size=20 if large else 15, color=HIGHLIGHT, symbol="star"),
                        hoverinfo="skip", name="Chosen")
    fig.update_xaxes(title="Number of cohorts (k)", dtick=1)
    lo, hi = float(table["bic"].min()), float(table["bic"].max())
    pad = (hi - lo) * 0.15 or abs(hi) * 0.01 or 1.0
    fig.update_yaxes(title="BIC", range=[lo - pad * 2.2, hi + pad * 0.5])
    return layout(fig, title=title, large=large, height=480 if large else 360)


def cohort_profile_heatmap(
    profile: pd.DataFrame,
    names: Mapping | None = None,
    overall=None,
    sizes: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "What each cohort's children need (% with each need)",
) -> go.Figure:
    """Cohorts x needs heatmap of % with each need, with an 'All children' row to compare against."""
    prof = profile.copy()
    numeric = prof.apply(pd.to_numeric, errors="coerce")
    # Profiles come as shares (0-1) from audit.cohorts; show percentages.
    scale = 100.0 if numeric.max().max() <= 1.0 else 1.0
    rows = []
    for c in prof.index:
        name = (names or {}).get(c, f"Cohort {c}")
        size = (sizes or {}).get(c)
        rows.append(f"{c}. {name}" + (f" ({size} children)" if size is not None and not isinstance(size, str) else f" ({size})" if size else ""))
    z = numeric.to_numpy(dtype=float) * scale
    marks = prof.astype(object).to_numpy()
    if overall is not None:
        if isinstance(overall, pd.DataFrame):
            over = pd.to_numeric(overall.set_index("need")["pct"], errors="coerce").reindex(prof.columns) / 100
        else:
            over = pd.to_numeric(pd.Series(overall), errors="coerce").reindex(prof.columns)
            over = over / (100.0 if over.max() > 1.0 else 1.0)
        z = np.vstack([z, over.to_numpy(dtype=float) * 100])
        marks = np.vstack([marks, over.to_numpy(dtype=object)])
        rows.append("All children")
    text = [[(str(m) if np.isnan(v) and isinstance(m, str) else ("" if np.isnan(v) else f"{v:.0f}"))
             for v, m in zip(zr, mr)] for zr, mr in zip(z, marks)]
    cols = [label_of(x, labels) for x in prof.columns]
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, text=text, texttemplate="%{text}", zmin=0, zmax=100,
        colorscale=SEQUENTIAL, colorbar=dict(title="%"), xgap=1, ygap=1,
        hovertemplate="%{y}<br>%{x}: %{text}%<extra></extra>",
        textfont=dict(size=_size(large) - (4 if len(cols) > 12 else 0)),
    ))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(tickangle=-40, title=None)
    return layout(fig, title=title, large=large, height=(70 if large else 50) * len(rows) + 300)
