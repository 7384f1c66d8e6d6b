"""One page layout for the deck and the PDF, in inches on a 16:9 slide, so both carry the same pages."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 13.333, 7.5
FONT = "Arial"
TITLE_PT, TAKEAWAY_PT, NOTE_PT, CLOSING_PT = 26, 15, 9, 11


@dataclass(frozen=True)
class Box:
    """An area of the page: left, top, width and height in inches."""

    x: float
    y: float
    w: float
    h: float

    @property
    def xywh(self) -> tuple[float, float, float, float]:
        """The four numbers, for APIs that take them in order."""
        return self.x, self.y, self.w, self.h


MARGIN = 0.45
TITLE = Box(MARGIN, 0.25, WIDTH - 2 * MARGIN, 0.7)
TAKEAWAY = Box(MARGIN, 0.95, WIDTH - 2 * MARGIN, 0.85)
PICTURE = Box(MARGIN, 1.95, 7.0, 4.75)
TABLE = Box(7.75, 1.95, WIDTH - 7.75 - MARGIN, 4.75)
WIDE = Box(MARGIN, 1.95, WIDTH - 2 * MARGIN, 4.75)
FOOTER = Box(MARGIN, 6.8, WIDTH - 2 * MARGIN, 0.6)
NOTES_LEFT = Box(MARGIN, 1.2, 6.9, 5.9)
NOTES_RIGHT = Box(7.6, 1.2, WIDTH - 7.6 - MARGIN, 5.9)


def ROW_IN(size: float) -> float:
    """Height of one table row for a font size: the text plus small margins."""
    return size * 1.55 / 72 + 0.04


def table_font(table) -> float:
    """The largest font (11 pt down to 8 pt) at which the table, wrapped cells and all, leaves room for its note."""
    for size in (11, 10, 9, 8):
        if table_height(table, size, TABLE.w) <= TABLE.h - 0.55:
            return size
    return 8


def _lines(text: str, width: float, size: float, bold: bool = False) -> int:
    """Lines a cell's text takes at a column width, wrapping at spaces (an estimate from the mean character width)."""
    room = max(int((width - 0.12) / (size * (0.62 if bold else 0.56) / 72)), 1)
    lines, used = 1, 0
    for word in text.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > room:
            lines, used = lines + 1, len(word)
        else:
            used += need
    return lines


def table_height(table, size: float, total: float) -> float:
    """The table's height in inches with wrapped cells: each row as tall as its longest cell needs."""
    widths = column_widths(table, total, size)
    line = size * 1.2 / 72
    height = 0.0
    for i, row in enumerate([table.columns, *table.rows]):
        n = max(_lines(t, w, size, bold=i == 0) for t, w in zip(row, widths))
        height += max(ROW_IN(size), n * line + 0.05)
    return height


def caption_box(table) -> Box:
    """Just under the table (never into the footer): the note that says what the table's terms mean."""
    top = min(TABLE.y + table_height(table, table_font(table), TABLE.w) + 0.1, FOOTER.y - 0.45)
    return Box(TABLE.x, top, TABLE.w, FOOTER.y - top)


def numeric(text: str) -> bool:
    """Whether a cell holds a figure (right-aligned so digits line up), hidden marks included."""
    t = text.replace(",", "").replace("£", "").replace("%", "").strip()
    if t in ("<5", "c", "–"):
        return True
    try:
        float(t)
        return True
    except ValueError:
        return False


def column_widths(table, total: float, size: float, measure=None) -> list[float]:
    """Column widths that keep every figure and every word on one line; text columns share what is left.

    Figures are short and must never wrap; names (LAs, towns, cohorts) may wrap between words, never
    inside one. measure(text, bold) gives a text's width in inches (the PDF measures its real font);
    without it, widths are estimated from the mean character width of Arial.
    """
    pad = 0.14
    if measure is None:
        def measure(text: str, bold: bool = False) -> float:
            return len(text) * size * (0.62 if bold else 0.56) / 72

    natural, floor, flexible = [], [], []
    for j, head in enumerate(table.columns):
        cells = [r[j] for r in table.rows]
        words = [w for c in cells for w in c.split()]
        head_word = max(measure(w, True) for w in head.split())
        natural.append(max([measure(c) for c in cells] + [head_word]) + pad)
        floor.append(max([measure(w) for w in words] + [head_word]) + pad)
        flexible.append(not all(numeric(c) for c in cells))
    if sum(natural) <= total:
        return [w * total / sum(natural) for w in natural]
    # Too wide: text columns give up width, down to their longest word, in proportion to what they can spare.
    spare = [n - f if flex else 0.0 for n, f, flex in zip(natural, floor, flexible)]
    excess = sum(natural) - total
    cut = min(excess, sum(spare))
    widths = [n - (cut * sp / sum(spare) if sum(spare) else 0.0) for n, sp in zip(natural, spare)]
    return [w * total / sum(widths) for w in widths]


def fit(size: tuple[int, int], box: Box) -> tuple[float, float]:
    """Width and height in inches of a picture scaled to fit its box, keeping its shape."""
    w, h = size
    scale = min(box.w / w, box.h / h)
    return w * scale, h * scale


def footer(pack) -> str:
    """What every view's footer adds: the pack's scope and round."""
    return f"{pack.title}, round {pack.scope.round_label}."


def cover_note(pack) -> str:
    """The first slide's second paragraph: what protection the figures carry, and what was left out."""
    note = ("Public view: every count of 1-4 children is shown as \"<5\" and numbers that totals could reveal as \"c\", "
            "whoever made this pack.")
    if pack.scope.sample:
        note += " Synthetic sample data, not real children."
    return note


def method_notes(pack, notes: list[str]) -> list[str]:
    """The method notes, plus one line for each view left out and why."""
    out = list(notes)
    for name, why in pack.skipped.items():
        out.append(f"Not in this pack: {name.replace('_', ' ')}: {why}.")
    return out
