"""Every page and view of the app, with the element that is its key visual: shared by the meeting-mode
browser test and scripts/screenshots.py, so the gallery and the test walk the same screens."""

from __future__ import annotations

from urllib.parse import urlencode

# The Streamlit elements that count as a page's key visual (a map, a chart or a table).
MAP = 'iframe[title="streamlit_folium.st_folium"]'
CHART = '[data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stDataFrame"], [data-testid="stTable"]'
VISUAL = f"{MAP}, {CHART}, {TABLE}"

# (url path, view tab or None, extra query parameters, what the key visual is, or None when it has none)
SCREENS: list[tuple[str, str | None, dict, str | None]] = [
    ("overview", "Map of children and homes", {}, MAP),
    ("overview", "Children by LA", {}, CHART),
    ("needs", "How common", {}, CHART),
    ("needs", "Needs per child", {}, CHART),
    ("needs", "Which occur together", {}, CHART),
    ("needs", "Combinations", {}, CHART),
    ("cohorts", "What each cohort needs", {}, CHART),
    ("cohorts", "Each cohort", {}, TABLE),
    ("cohorts", "How many cohorts", {}, CHART),
    ("cohorts", "Compared with Nuffield", {}, TABLE),
    ("map", "Map", {}, MAP),
    ("map", "Towns ranked by gap", {}, TABLE),
    ("distance", "Distance from home", {}, CHART),
    ("distance", "By cohort", {}, TABLE),
    ("distance", "Where children are placed", {}, CHART),
    ("distance", "Who uses each LA's places", {}, CHART),
    ("planner", "Matching", {}, TABLE),
    ("planner", "Needs in the way", {}, TABLE),
    ("planner", "By cohort", {}, TABLE),
    ("planner", "Planning new homes", {}, MAP),
    ("forecast", "Chart", {}, CHART),
    ("forecast", "Table", {}, TABLE),
    ("forecast", "By cohort", {}, TABLE),
    ("data", "Rounds loaded", {}, None),  # an administrator's page: checked for overflow only
]


def screen_url(base: str, path: str, view: str | None, extra: dict, meeting: bool, la: str | None = None) -> str:
    """The deep link that opens one screen (the page, its view, meeting mode, an LA)."""
    query = dict(extra)
    if view:
        query["view"] = view
    if la:
        query["la"] = la
    if meeting:
        query["meeting"] = "1"
    # The first page is served at the root URL only (/overview is "Page not found").
    return f"{base}/{'' if path == 'overview' else path}" + (f"?{urlencode(query)}" if query else "")


def screen_name(path: str, view: str | None, la: str | None = None) -> str:
    """A file-name-safe name for one screen."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in (view or "page").lower()).strip("-")
    return f"{path}__{slug}" + (f"__{la.lower()}" if la else "")


# Measures what a room sees on the first screen; run in the page. Returns the numbers a test checks.
MEASURE_JS = """(visualSel) => {
  const doc = document.documentElement;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const visuals = [...document.querySelectorAll(visualSel)].filter(visible);
  const first = visuals.length ? visuals[0].getBoundingClientRect() : null;
  // Wide content that runs off the right: the page scrolls sideways, or an element inside the main area ends past it.
  const mainRight = main.getBoundingClientRect().right;
  let widest = 0, culprit = '';
  for (const el of main.querySelectorAll('[data-testid="stVerticalBlock"] > div, canvas, svg, table, iframe')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > widest) { widest = r.right; culprit = el.getAttribute('data-testid') || el.tagName; }
  }
  // Grids that scroll sideways inside themselves hide columns just as surely.
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(visible);
  const gridOverflow = grids.some(g => { const s = g.querySelector('.dvn-scroller');
                                         return s && s.scrollWidth > s.clientWidth + 2; });
  const tableFonts = [...document.querySelectorAll('[data-testid="stTable"] td, [data-testid="stMarkdownContainer"] td')]
      .filter(visible).map(td => parseFloat(getComputedStyle(td).fontSize));
  // A grid draws its text on a canvas at Streamlit's fixed 14 px, whatever the page's CSS says.
  const gridFonts = grids.map(() => 14);
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, widest, mainRight, culprit,
          gridOverflow, visualTop: first ? first.top + window.scrollY : null,
          tableFont: [...tableFonts, ...gridFonts].length ? Math.min(...tableFonts, ...gridFonts) : null,
          sidebarOpen: (() => { const s = document.querySelector('[data-testid="stSidebar"]');
                                if (!s || s.getAttribute('data-collapsed') === 'true') return false;
                                const r = s.getBoundingClientRect(); return r.width > 50 && r.right > 50; })()};
}"""
