"""Colour choices that stay readable for colour-blind viewers and on projectors."""

# Sequential blues (ColorBrewer Blues, 5 classes): light = few, dark = many.
SEQUENTIAL = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]
# Diverging for gap scores (ColorBrewer RdYlBu reversed would clash with grades; use orange-purple).
GAP = ["#f7f7f7", "#fdb863", "#e66101", "#b2182b"]
NO_DATA = "#bdbdbd"
# Okabe-Ito, the standard colour-blind-safe qualitative palette.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GRADE_COLOURS = {
    "Outstanding": "#009E73",
    "Good": "#56B4E9",
    "Requires improvement": "#E69F00",
    "Inadequate": "#D55E00",
    "Not yet inspected": "#999999",
}
