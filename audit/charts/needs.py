"""Vega-Lite (Altair) figures for the needs and cohorts pages: readable on a shared screen, colour-blind safe.

Every builder takes the tables from ``audit.analysis.cooccur`` and ``audit.analysis.cohorts``
after suppression: a count may be a string such as "<5" or "c", which is drawn
as missing (a grey stub or a blank cell) with the string as its label, never as
a number.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import altair as alt

from audit.charts.style import MISSING_MARK, font_size, style
from audit.charts.colours import OKABE_ITO
from audit.analysis.cooccur import NUFFIELD_PREVALENCE, NUFFIELD_SOURCE, NUFFIELD_SUMMARY, label_of
from audit.charts.overview import HIDDEN, stub_length

BAR = OKABE_ITO[0]  # blue
COMPARE = OKABE_ITO[1]  # orange
REFERENCE = "#000000"
HIGHLIGHT = OKABE_ITO[5]  # vermillion
DOT_OFF = "#d9d9d9"
DOT_ON = "#222222"
SEQUENTIAL = "blues"  # light = few, dark = many, as on the maps
DIVERGING = "purpleorange"  # purple-orange stays distinguishable with colour-vision deficiency
NUFFIELD_MARK = "Nuffield FJO national figure"

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


def _prevalence_text(pct: float, pct_mark: str, n: float, n_mark: str) -> str:
    """'57% (1,234)' normally; the suppression mark alone when the count is hidden."""
    if np.isnan(pct):
        return n_mark or pct_mark or ""
    count = n_mark or ("" if np.isnan(n) else _fmt_count(n))
    return f"{pct:.0f}%" + (f" ({count})" if count else "")


def _bar_labels(y: alt.Y, large: bool, wide: float, offset: alt.YOffset | None = None) -> list[alt.Chart]:
    """Bar labels: inside the bar's start (white) where the bar is long enough, else just past its end."""
    size = font_size(large)
    extra = {"yOffset": offset} if offset is not None else {}
    # Each row's "ink" is the text colour that reads on its bar (white on blue, black on orange).
    inside = alt.Chart().transform_filter(alt.datum.length >= wide).mark_text(
        align="left", dx=6, fontSize=size, fontWeight="bold").encode(
        x=alt.datum(0), y=y, text="text:N", color=alt.Color("ink:N", scale=None), **extra)
    outside = alt.Chart().transform_filter(alt.datum.length < wide).mark_text(
        align="left", dx=5, color="black", fontSize=size).encode(x="length:Q", y=y, text="text:N", **extra)
    return [inside, outside]


def prevalence_bar(
    prev: pd.DataFrame,
    reference: Mapping[str, float] | None = NUFFIELD_PREVALENCE,
    compare: pd.DataFrame | None = None,
    names: tuple[str, str] = ("Selected children", "Region"),
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "Share of children with each need",
) -> alt.LayerChart:
    """Horizontal bars of % of children with each need, with Nuffield's figure marked where published."""
    pct, pct_text = _numbers(prev["pct"].to_numpy())
    n, n_text = _numbers(prev["n"].to_numpy())
    df = pd.DataFrame({
        "need": prev["need"].to_numpy(),
        "label": [label_of(x, labels) for x in prev["need"]],
        "series": names[0],
        "pct": pct.to_numpy(),
        "text": [_prevalence_text(*v) for v in zip(pct, pct_text, n, n_text)],
    })
    # Largest at the top; hidden rows at the bottom.
    order = df.sort_values("pct", ascending=False, na_position="last", kind="mergesort")["label"].tolist()
    series = [names[0]]
    if compare is not None:
        cpct, ctext = _numbers(compare["pct"].to_numpy())
        _, cn_text = _numbers(compare["n"].to_numpy()) if "n" in compare else (None, ctext)
        # The comparison bar is labelled with its share only; a hidden share shows its count's mark.
        cmark = [p or n for p, n in zip(ctext, cn_text)]
        cmp = pd.DataFrame({"need": compare["need"].to_numpy(), "pct": cpct.to_numpy(), "mark": cmark})
        cmp = df[["need", "label"]].merge(cmp, on="need", how="left")
        cmp["series"] = names[1]
        cmp["text"] = [m if isinstance(m, str) and m else ("" if np.isnan(v) else f"{v:.0f}%")
                       for v, m in zip(cmp["pct"], cmp["mark"])]
        df = pd.concat([df, cmp.drop(columns="mark")], ignore_index=True)
        series.append(names[1])
    hidden = df["pct"].isna() & (df["text"] != "")
    df["length"] = df["pct"].where(~hidden, max(stub_length(df["pct"]), 0.5)).fillna(0)
    df["colour"] = df["series"].where(~hidden, HIDDEN)
    df["ink"] = np.where(df["series"] == names[0], "white", "black")
    ref = {k: v for k, v in (reference or {}).items() if k in set(df["need"])}
    right = float(np.nanmax([df["pct"].max(), max(ref.values(), default=0), 1.0]))
    # A label sits inside its bar where a reference diamond (at 8% or more) does not fall on it.
    wide = right * 0.16

    domain = series + ([HIDDEN] if hidden.any() else []) + ([NUFFIELD_MARK] if ref else [])
    colours = {names[0]: BAR, names[1]: COMPARE, HIDDEN: MISSING_MARK, NUFFIELD_MARK: REFERENCE}
    colour = alt.Color("colour:N", title=None, scale=alt.Scale(domain=domain, range=[colours[d] for d in domain]),
                       legend=alt.Legend(orient="top", direction="horizontal") if (ref or compare is not None) else None)
    y = alt.Y("label:N", sort=order, title=None)
    offset = alt.YOffset("series:N", sort=series) if compare is not None else None
    tooltip = [alt.Tooltip("label:N", title="Need"), alt.Tooltip("series:N", title="Children"),
               alt.Tooltip("text:N", title="Share (number)")]
    bars = alt.Chart().mark_bar().encode(
        x=alt.X("length:Q", title="% of children", scale=alt.Scale(domain=[0, min(right * 1.2, 118)])),
        y=y, color=colour, tooltip=tooltip, **({"yOffset": offset} if offset is not None else {}))
    layers = [bars, *_bar_labels(y, large, wide, offset)]
    if ref:
        ref_df = df.loc[df["series"] == names[0], ["need", "label"]]
        ref_df = ref_df[ref_df["need"].isin(ref)].assign(
            pct=lambda d: [ref[x] for x in d["need"]], colour=NUFFIELD_MARK, source=NUFFIELD_SOURCE)
        layers.append(alt.Chart(ref_df).mark_point(shape="diamond", filled=True, size=260 if large else 140,
                                                   stroke="white", strokeWidth=1.5, opacity=1).encode(
            x="pct:Q", y=y, color=colour,
            tooltip=[alt.Tooltip("label:N", title="Need"), alt.Tooltip("pct:Q", title="% nationally", format=".1f"),
                     alt.Tooltip("source:N", title="Source")]))
    # With a comparison the step is each of the two bars in a need's band.
    step = (40 if large else 28) if compare is None else (30 if large else 21)
    return style(alt.layer(*layers, data=df), title=title, large=large, height=alt.Step(step))


def needs_per_child_bar(
    dist: pd.DataFrame,
    stats: Mapping | None = None,
    reference: Mapping[str, float] | None = NUFFIELD_SUMMARY,
    large: bool = False,
    title: str = "How many need categories each child has",
) -> alt.LayerChart:
    """Children by number of needs, with the mean and Nuffield's mean marked."""
    children, hidden_text = _numbers(dist["children"].to_numpy())
    hidden = children.isna() & (hidden_text != "")
    df = pd.DataFrame({
        "n_needs": pd.to_numeric(dist["n_needs"]).to_numpy(), "children": children.to_numpy(),
        "text": [t if h else ("" if np.isnan(c) else _fmt_count(c)) for c, t, h in zip(children, hidden_text, hidden)],
        "colour": np.where(hidden, HIDDEN, "Children"),
    })
    df["length"] = df["children"].where(~hidden.to_numpy(), stub_length(df["children"])).fillna(0)
    df["left"], df["right"] = df["n_needs"] - 0.4, df["n_needs"] + 0.4
    top = float(df["length"].max()) if len(df) and df["length"].max() > 0 else 1.0
    last = int(df["n_needs"].max()) if len(df) else 11
    size = font_size(large)
    # A quantitative x axis (not one slot per count) so a mean of 4.2 can be drawn where it falls.
    x = alt.X("left:Q", title="Number of need categories", scale=alt.Scale(domain=[-0.6, last + 0.6], nice=False),
              axis=alt.Axis(values=list(range(0, last + 1)), format="d", grid=False))
    colour = alt.Color("colour:N", legend=None, scale=alt.Scale(domain=["Children", HIDDEN], range=[BAR, MISSING_MARK]))
    tooltip = [alt.Tooltip("n_needs:Q", title="Need categories"), alt.Tooltip("text:N", title="Children")]
    y = alt.Y("length:Q", title="Children", scale=alt.Scale(domain=[0, top * 1.3]))
    layers = [
        alt.Chart().mark_bar().encode(x=x, x2="right:Q", y=y, y2=alt.datum(0), color=colour, tooltip=tooltip),
        alt.Chart().mark_text(baseline="bottom", dy=-4, fontSize=size).encode(
            x=alt.X("n_needs:Q"), y="length:Q", text="text:N", tooltip=tooltip),
    ]
    marks = []
    if stats and stats.get("mean") is not None and not np.isnan(stats["mean"]):
        marks.append({"x": float(stats["mean"]), "what": f"Mean {stats['mean']:.1f}; "
                      f"{stats['pct_4plus']:.0f}% have 4 or more", "colour": HIGHLIGHT, "dash": 0, "row": 1.27})
    if reference and "mean" in reference:
        marks.append({"x": float(reference["mean"]), "what": f"Nuffield FJO mean {reference['mean']:.1f}",
                      "colour": REFERENCE, "dash": 6, "row": 1.17})
    for m in marks:
        rule = alt.Chart(pd.DataFrame([m])).mark_rule(color=m["colour"], strokeWidth=3 if not m["dash"] else 2,
                                                      strokeDash=[m["dash"], m["dash"]] if m["dash"] else [1, 0])
        layers.append(rule.encode(x="x:Q", tooltip=[alt.Tooltip("what:N", title="")]))
        layers.append(alt.Chart(pd.DataFrame([{**m, "y": top * m["row"]}])).mark_text(
            align="left", dx=6, fontSize=size, color=m["colour"], fontWeight="bold").encode(
            x="x:Q", y="y:Q", text="what:N"))
    return style(alt.layer(*layers, data=df), title=title, large=large, height=460 if large else 340)


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


def _heat_layers(df: pd.DataFrame, x: alt.X, y: alt.Y, colour: alt.Color, large: bool, small: bool,
                 tooltip: list, show_values: bool = True) -> list[alt.Chart]:
    """Rectangles coloured by value, with each cell's text in a colour that stays readable on it."""
    layers = [alt.Chart().mark_rect(stroke="white", strokeWidth=1).encode(x=x, y=y, color=colour, tooltip=tooltip),
              # Hidden cells ("<5", "c") are grey, as hidden counts are in every chart.
              alt.Chart().transform_filter("datum.z === null && datum.text !== ''").mark_rect(
                  stroke="white", strokeWidth=1, color=MISSING_MARK).encode(x=x, y=y, tooltip=tooltip)]
    if show_values:
        layers.append(alt.Chart().mark_text(fontSize=font_size(large) - (5 if small else 1)).encode(
            x=x, y=y, text="text:N", tooltip=tooltip,
            color=alt.condition(alt.datum.dark, alt.value("white"), alt.value("black"))))
    return layers


def cooccurrence_heatmap(
    matrix: pd.DataFrame,
    measure: str = "count",
    tests: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    show_values: bool = True,
    title: str | None = None,
) -> alt.LayerChart:
    """Needs x needs heatmap; '*' marks pairs significant after Benjamini-Hochberg correction."""
    needs = list(matrix.columns)
    raw = matrix.reindex(index=needs, columns=needs)
    num = raw.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    marks = raw.astype(object).to_numpy()
    sig, qvals = _significant_pairs(tests)
    names = [label_of(x, labels) for x in needs]
    off = num.copy()
    np.fill_diagonal(off, np.nan)
    if measure == "lift":
        # Lift is a ratio: colour it on a log scale so 0.5 and 2 sit equally far from 1.
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log2(np.where(num > 0, num, np.nan))
        lim = max(float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0, 0.5)
        scale = alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0, clamp=True)
        legend = alt.Legend(title="lift", labelExpr="format(pow(2, datum.value), '.2~g')")
        strength = np.abs(z) / lim
    elif measure == "phi":
        z = num
        # Scale to the strongest off-diagonal pair; the diagonal is always 1.
        lim = max(min(float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else 1.0, 1.0), 0.1)
        scale = alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0, clamp=True)
        legend = alt.Legend(title="phi")
        strength = np.abs(z) / lim
    else:
        z = num
        # The diagonal (children with the need, or 100%) would swamp the pairs; scale to the pairs.
        top = float(np.nanmax(off)) if np.isfinite(off).any() and np.nanmax(off) > 0 else 1.0
        scale = alt.Scale(scheme=SEQUENTIAL, domain=[0, top], clamp=True)
        legend = alt.Legend(title="children" if measure == "count" else "%")
        strength = z / top
    rows = []
    for i, a in enumerate(needs):
        for j, b in enumerate(needs):
            v, mark = num[i, j], marks[i, j]
            shown = str(mark) if isinstance(mark, str) and np.isnan(v) else _cell_text(v, measure)
            star = "*" if (a, b) in sig else ""
            q = qvals.get((a, b))
            rows.append({"row": names[i], "col": names[j], "a": a, "b": b,
                         "z": None if not np.isfinite(z[i, j]) else float(z[i, j]),
                         "text": shown + star, "value": shown or "n/a",
                         "q": "" if q is None else f"{q:.2g}" + (" (significant)" if star else ""),
                         "dark": bool(np.isfinite(strength[i, j]) and strength[i, j] > 0.55)})
    df = pd.DataFrame(rows)
    small = len(needs) > 12
    cell = (44 if large else 30) if small else (64 if large else 48)
    x = alt.X("col:N", sort=names, title=None, axis=alt.Axis(labelAngle=-40, orient="bottom"))
    y = alt.Y("row:N", sort=names, title=None)
    colour = alt.Color("z:Q", scale=scale, legend=legend)
    tooltip = [alt.Tooltip("row:N", title="Need"), alt.Tooltip("col:N", title="with"),
               alt.Tooltip("value:N", title=MEASURE_TITLES.get(measure, measure)), alt.Tooltip("q:N", title="q-value")]
    note = "* significant after Benjamini-Hochberg correction" if sig else None
    title = title or "Which needs occur together: " + MEASURE_TITLES.get(measure, measure)
    return style(alt.layer(*_heat_layers(df, x, y, colour, large, small, tooltip, show_values), data=df),
                 title=title, subtitle=note, large=large, height=alt.Step(cell), width=alt.Step(cell))


def upset_chart(
    combos: pd.DataFrame,
    needs: list[str] | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "Most common combinations of needs",
) -> alt.VConcatChart:
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
    bars = pd.DataFrame({
        "i": range(len(combos)), "children": children.to_numpy(), "combination": combos["label"].to_numpy(),
        "text": [t if h else ("" if np.isnan(c) else _fmt_count(c)) for c, t, h in zip(children, hidden_text, hidden)],
        "colour": np.where(hidden, HIDDEN, "Children"),
    })
    bars["length"] = bars["children"].where(~hidden.to_numpy(), stub_length(bars["children"])).fillna(0)
    names = [label_of(n, labels) for n in needs]
    row_of = {n: k for k, n in enumerate(needs)}
    dots = pd.DataFrame([{"i": i, "need": names[k], "on": n in combo, "combination": combos.at[i, "label"]}
                         for i, combo in enumerate(present) for k, n in enumerate(needs)],
                        columns=["i", "need", "on", "combination"])
    links = []
    for i, combo in enumerate(present):
        rows = sorted(row_of[n] for n in combo if n in row_of)
        if rows:
            links.append({"i": i, "need": names[rows[0]], "last": names[rows[-1]]})
    # The line's first end is called "need" like the dots' rows, so both layers share one sorted axis.
    links = pd.DataFrame(links, columns=["i", "need", "last"])
    size = font_size(large)
    step = 44 if large else 32
    x = alt.X("i:O", axis=None, scale=alt.Scale(domain=list(range(len(combos)))))
    tooltip = [alt.Tooltip("combination:N", title="Needs"), alt.Tooltip("text:N", title="Children")]
    top = alt.layer(
        alt.Chart().mark_bar().encode(
            x=x, y=alt.Y("length:Q", title="Children"), tooltip=tooltip,
            color=alt.Color("colour:N", legend=None, scale=alt.Scale(domain=["Children", HIDDEN], range=[BAR, MISSING_MARK]))),
        alt.Chart().mark_text(baseline="bottom", dy=-4, fontSize=size - 2).encode(x=x, y="length:Q", text="text:N"),
        data=bars,
    ).properties(width=alt.Step(step), height=240 if large else 180)
    y = alt.Y("need:N", sort=names, title=None)
    dot = 300 if large else 150
    matrix = alt.layer(
        alt.Chart(dots).mark_circle(size=dot, opacity=1).encode(
            x=x, y=y, color=alt.condition(alt.datum.on, alt.value(DOT_ON), alt.value(DOT_OFF)),
            tooltip=[alt.Tooltip("combination:N", title="Needs")]),
        alt.Chart(links).mark_rule(color=DOT_ON, strokeWidth=3 if large else 2).encode(
            x=x, y=y, y2="last:N"),
    ).properties(width=alt.Step(step), height=alt.Step(step * 0.8))
    return style(alt.vconcat(top, matrix, spacing=4), title=title, large=large)


def bic_curve(
    table: pd.DataFrame, chosen_k: int | None = None, large: bool = False,
    title: str = "Choosing the number of cohorts: BIC (lower is better)",
) -> alt.LayerChart:
    """BIC against the number of cohorts, with the chosen k marked."""
    df = table.assign(entropy=table.get("entropy", pd.Series(np.nan, index=table.index)))[["k", "bic", "entropy"]]
    lo, hi = float(df["bic"].min()), float(df["bic"].max())
    pad = (hi - lo) * 0.15 or abs(hi) * 0.01 or 1.0
    x = alt.X("k:Q", title="Number of cohorts (k)", axis=alt.Axis(values=[int(k) for k in df["k"]], format="d"),
              scale=alt.Scale(domain=[float(df["k"].min()) - 0.3, float(df["k"].max()) + 0.3], nice=False))
    y = alt.Y("bic:Q", title="BIC", scale=alt.Scale(domain=[lo - pad * 2.2, hi + pad * 0.5], nice=False, zero=False))
    tooltip = [alt.Tooltip("k:Q", title="Cohorts"), alt.Tooltip("bic:Q", title="BIC", format=",.0f"),
               alt.Tooltip("entropy:Q", title="Entropy", format=".2f")]
    layers = [alt.Chart().mark_line(color=BAR, strokeWidth=3).encode(x=x, y=y),
              alt.Chart().mark_point(color=BAR, filled=True, size=200 if large else 110, opacity=1).encode(
                  x=x, y=y, tooltip=tooltip)]
    if chosen_k is not None and chosen_k in set(df["k"]):
        chosen = df[df["k"] == chosen_k].assign(label=f"{chosen_k} cohorts (lowest BIC)")
        # The label goes towards the middle of the curve, so it is never cut off at either end.
        left = chosen_k <= float(np.median(df["k"]))
        layers.append(alt.Chart(chosen).mark_point(shape="M0,-1L0.29,-0.4L0.95,-0.31L0.48,0.15L0.59,0.81L0,0.5"
                                                         "L-0.59,0.81L-0.48,0.15L-0.95,-0.31L-0.29,-0.4Z",
                                                   filled=True, color=HIGHLIGHT, size=700 if large else 420,
                                                   opacity=1).encode(x=x, y=y))
        layers.append(alt.Chart(chosen).mark_text(align="left" if left else "right", dx=14 if left else -14, dy=22,
                                                  fontSize=font_size(large), color=HIGHLIGHT, fontWeight="bold").encode(
            x=x, y=y, text="label:N"))
    return style(alt.layer(*layers, data=df), title=title, large=large, height=400 if large else 300)


def cohort_profile_heatmap(
    profile: pd.DataFrame,
    names: Mapping | None = None,
    overall=None,
    sizes: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    large: bool = False,
    title: str = "What each cohort's children need (% with each need)",
) -> alt.LayerChart:
    """Cohorts x needs heatmap of % with each need, with an 'All children' row to compare against."""
    prof = profile.copy()
    numeric = prof.apply(pd.to_numeric, errors="coerce")
    # Profiles come as shares (0-1) from audit.analysis.cohorts; show percentages.
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
    cols = [label_of(x, labels) for x in prof.columns]
    df = pd.DataFrame([{
        "row": rows[i], "col": cols[j], "z": None if np.isnan(v) else float(v),
        "text": str(m) if np.isnan(v) and isinstance(m, str) else ("" if np.isnan(v) else f"{v:.0f}"),
        "dark": bool(not np.isnan(v) and v > 55),
    } for i in range(len(rows)) for j, (v, m) in enumerate(zip(z[i], marks[i]))])
    small = len(cols) > 12
    x = alt.X("col:N", sort=cols, title=None, axis=alt.Axis(labelAngle=-40))
    y = alt.Y("row:N", sort=rows, title=None)
    colour = alt.Color("z:Q", title="%", scale=alt.Scale(scheme=SEQUENTIAL, domain=[0, 100]))
    tooltip = [alt.Tooltip("row:N", title="Cohort"), alt.Tooltip("col:N", title="Need"),
               alt.Tooltip("text:N", title="% with the need")]
    return style(alt.layer(*_heat_layers(df, x, y, colour, large, small, tooltip), data=df), title=title,
                 large=large, height=alt.Step(64 if large else 46))
