"""The needs page's charts, built from the database in one call each so the page can cache whole figures.

Building a chart and serialising its data costs more than the statistics
behind it; a cached chart comes back in a fraction of that, which keeps the
page's reruns after a filter change well inside 300 ms.
"""

from __future__ import annotations

import altair as alt

from audit.analysis import cooccur
from audit.analysis import needs_view
from audit.geography import region
from audit.charts import needs as fn
from audit.db import Database
from audit.analysis.needs_view import Selection
from audit.suppress import PUBLIC, Viewer


def prevalence(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: str = "categories",
               compare: bool = False, large: bool = False) -> alt.TopLevelMixin:
    """Share of children with each need, with Nuffield's markers; beside the region's when comparing."""
    reference = cooccur.NUFFIELD_PREVALENCE if level == "categories" else needs_view.NUFFIELD_CODE_PREVALENCE
    prev = needs_view.prevalence_table(db, sel, viewer, level)
    if not compare or sel.filters.la is None:
        return fn.prevalence_bar(needs_view.for_figure(prev), reference=reference, large=large)
    region_prev = needs_view.prevalence_table(db, sel.region(), viewer, level)
    return fn.prevalence_bar(needs_view.for_figure(prev), reference=reference,
                             compare=needs_view.for_figure(region_prev),
                             names=(region.la_name(sel.filters.la), "Whole region"), large=large)


def needs_per_child(db: Database, sel: Selection, viewer: Viewer = PUBLIC, large: bool = False,
                    title: str = "How many need categories each child has") -> alt.TopLevelMixin:
    """Children by number of need categories, with the mean and Nuffield's mean marked."""
    dist = needs_view.needs_per_child_table(db, sel, viewer)
    data = dist.display.rename(columns={"Need categories": "n_needs", "Children": "children"})
    return fn.needs_per_child_bar(data, needs_view.summary_stats(db, sel, viewer), large=large, title=title)


def cooccurrence(db: Database, sel: Selection, viewer: Viewer = PUBLIC, level: str = "categories",
                 measure: str = "count", large: bool = False, title: str | None = None) -> alt.TopLevelMixin:
    """The co-occurrence heatmap in one measure, significant pairs starred, small cells '<5'."""
    matrix = needs_view.cooccurrence_table(db, sel, viewer, level, measure)
    pairs = needs_view.pair_table(db, sel, viewer, level)
    return fn.cooccurrence_heatmap(matrix.display, measure, needs_view.significant_pairs(pairs), large=large,
                                   title=title)


def combinations(db: Database, sel: Selection, viewer: Viewer = PUBLIC, large: bool = False,
                 title: str = "Most common combinations of needs") -> alt.TopLevelMixin | None:
    """UpSet chart of the most common category combinations that can be shown (None when none can)."""
    combos = needs_view.combinations_table(db, sel, viewer, "categories")
    shown = needs_view.combinations_for_figure(combos)[~combos.mask["Children"].to_numpy()]
    return fn.upset_chart(shown, large=large, title=title) if len(shown) else None
