"""Plain-English definitions of every technical term the app shows, in one place.

Pages use these for their help texts (`help(term)`) and method notes (`note(*terms)`), so a term means
the same on every page and on the shared screen, and changing a definition changes it everywhere.
"""

from __future__ import annotations

from audit.placements import RESIDENTIAL

TERMS: dict[str, str] = {
    "fair share": "The places (or short-break capacity) each child would have if everything within reach were shared "
                  "out equally across the region's children who need it.",
    "fair share per child": "The region's matching places divided by the children who need them: what every child "
                            "would have if provision were spread evenly.",
    "short of a fair share": "How many places the towns with a gap would need, added up, for each of their children "
                             "to have a fair share.",
    "gap score": "How many places a town is short of a fair share for its children: 0 means no gap; 10 means ten more "
                 "places within reach would give its children a fair share.",
    "access per child": "Places within reach of a child's town, shared with every other child who can reach them, per "
                        "child. 1 is a fair share; below 1 is less than the region's average.",
    "towns with a gap": "Towns whose children have less than a fair share of the matching provision within reach.",
    "catchment": "How far (straight line) a child could be expected to travel to the provision.",
    "bic": "BIC (Bayesian information criterion): a score of how well a number of cohorts describes the children, "
           "with a penalty for using more cohorts. Lower is better; the lowest point is the best balance.",
    "stability (ari)": "How often the same children end up together when the cohorts are fitted again on resampled "
                       "audits (mean adjusted Rand index): 1 = always the same groups, 0 = no better than chance. "
                       "Above 0.8 is stable.",
    "mape": "Mean absolute percentage error: when the forecast is tested on past years it did not see, how far it was "
            "from what happened, on average, as a % of the actual number. 10% means about one child in ten off.",
    "lift": "How many times more often two needs occur together than they would if unrelated: 1 = no link, "
            "2 = twice as often, 0.5 = half as often (they tend not to occur together).",
    "phi": "The correlation between two needs, from -1 (never together) through 0 (unrelated) to 1 (always together).",
    "could": "Each child alone: is there a home that meets all their needs and has a place within reach?",
    "placed": "With places shared out between all the round's children, the home each child would get.",
    "co-occurring needs": "Needs that a child has at the same time as others, which provision has to meet together.",
    "<5": "Between 1 and 4 children: hidden so that no child can be identified.",
    "c": "Hidden so that totals cannot reveal a number under 5.",
}

# The residential SSDA903 placement codes, in the words audit/placements.py groups them by.
PLACEMENT_CODES: dict[str, str] = {
    "K1": "secure children's home",
    "K2": "children's home",
    "R1": "residential care home",
    "S1": "residential school",
    "P3": "other residential setting",
}


def define(term: str) -> str:
    """The plain-English definition of a term (any case); a KeyError names a term nobody has defined yet."""
    key = term.strip().lower()
    if key in TERMS:
        return TERMS[key]
    code = term.strip().upper()
    if code in PLACEMENT_CODES:
        return f"{code}: {PLACEMENT_CODES[code]} (SSDA903 placement code)."
    raise KeyError(f"No glossary entry for {term!r}")


def help(term: str) -> str:  # noqa: A001 - it is the widget argument it fills
    """A widget's help text for a term: its name, then what it means."""
    return f"**{term}**: {define(term)}"


def note(*terms: str) -> str:
    """A method note's 'words used' paragraph: each term in bold with its definition."""
    return "\n".join(f"- **{t}**: {define(t)}" for t in terms)


def placement_codes(codes=RESIDENTIAL) -> str:
    """The residential placement codes in words, for a caption where they appear."""
    return "; ".join(f"{c} = {PLACEMENT_CODES.get(c, 'other')}" for c in codes)
