"""The pack as a PDF with the same pages as the deck (fpdf2): text stays text, tables are drawn as tables.

fpdf2 rather than reportlab: it is pure Python and small, has a table API that
lays out the same rows as the deck's tables, embeds a Unicode TrueType font
(for "£", "–" and "≤"), and writes alt text for images into a tagged structure
tree, which screen readers use. The font is DejaVu Sans from matplotlib's own
data, so the PDF looks the same on any machine that has the package.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from audit.pack import layout
from audit.pack.slides import GLOSSARY, METHOD_NOTES, Pack, Slide

FAMILY = "DejaVu"
INK, MUTED = (17, 17, 17), (68, 68, 68)
HEADER_FILL, STRIPE = (8, 81, 156), (239, 243, 255)


def _fonts(pdf: FPDF) -> None:
    """DejaVu Sans (regular and bold) from matplotlib's data folder: a Unicode font every install has."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf.add_font(FAMILY, "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(folder / "DejaVuSans-Bold.ttf"))


def _text(pdf: FPDF, box: layout.Box, text: str, size: float, bold: bool = False, colour=INK) -> None:
    """Wrapped text inside an area."""
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.set_xy(box.x, box.y)
    pdf.multi_cell(box.w, size * 1.25 / 72, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, table, box: layout.Box) -> None:
    """The key table: header row in the house blue, striped rows, numbers right-aligned, as in the deck."""
    rows = len(table.rows) + 1
    size = layout.table_font(table)
    # The PDF font is a little wider than Arial: one point smaller keeps the same rows on the page.
    pdf.set_font(FAMILY, "", size - 1)
    pdf.set_text_color(*INK)
    pdf.set_left_margin(box.x)
    pdf.set_xy(box.x, box.y)
    def measure(text: str, bold: bool = False) -> float:
        """The text's width in the PDF's own font, in inches."""
        pdf.set_font(FAMILY, "B" if bold else "", size - 1)
        return pdf.get_string_width(text)

    widths = layout.column_widths(table, box.w, size - 1, measure)
    pdf.set_font(FAMILY, "", size - 1)
    align = ["RIGHT" if table.rows and all(layout.numeric(r[j]) for r in table.rows) else "LEFT"
             for j in range(len(table.columns))]
    with pdf.table(width=box.w, col_widths=widths, align="LEFT", text_align=align, line_height=layout.ROW_IN(size) * 0.7,
                   first_row_as_headings=True, borders_layout="HORIZONTAL_LINES", cell_fill_color=STRIPE,
                   cell_fill_mode="ROWS",
                   headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=HEADER_FILL),
                   padding=(0.02, 0.05)) as grid:
        for i, values in enumerate([table.columns, *table.rows]):
            row = grid.row()
            bold = FontFace(emphasis="BOLD") if (i - 1) in table.highlight else None
            for v in values:
                row.cell(v, style=bold)
    pdf.set_left_margin(layout.MARGIN)


def _view(pdf: FPDF, s: Slide, footer: str) -> None:
    """One view on one page, placed as on the slide."""
    pdf.add_page()
    pdf.start_section(s.title)  # the PDF's outline (bookmarks) lists every view
    _text(pdf, layout.TITLE, s.title, layout.TITLE_PT - 4, bold=True)
    _text(pdf, layout.TAKEAWAY, s.takeaway, layout.TAKEAWAY_PT - 2)
    if s.picture is not None:
        box = layout.PICTURE if s.table is not None else layout.WIDE
        w, h = layout.fit(s.picture.size, box)
        import io

        pdf.image(io.BytesIO(s.picture.png), x=box.x + (box.w - w) / 2, y=box.y, w=w, h=h, alt_text=s.picture.alt)
    if s.table is not None:
        _table(pdf, s.table, layout.TABLE)
        if s.caption:
            top = max(pdf.get_y() + 0.08, layout.TABLE.y)
            _text(pdf, layout.Box(layout.TABLE.x, top, layout.TABLE.w, 0.5), s.caption, layout.NOTE_PT - 1,
                  colour=MUTED)
    _text(pdf, layout.FOOTER, s.source + " " + footer, layout.NOTE_PT - 1, colour=MUTED)


def _paragraphs(pdf: FPDF, box: layout.Box, items: list[tuple[str, str]], size: float) -> None:
    """Paragraphs with a bold lead-in (the glossary's terms)."""
    pdf.set_left_margin(box.x)
    pdf.set_xy(box.x, box.y)
    pdf.set_text_color(*INK)
    for lead, body in items:
        pdf.set_font(FAMILY, "", size)
        text = (f"**{lead}**" if lead else "") + body.replace("**", "")
        pdf.multi_cell(box.w, size * 1.3 / 72, text, markdown=True, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.06)
    pdf.set_left_margin(layout.MARGIN)


def write(pack: Pack, path: str | Path | None = None) -> bytes:
    """The PDF as bytes (and written to path when given), page for page the deck's slides."""
    pdf = FPDF(orientation="L", unit="in", format=(layout.HEIGHT, layout.WIDTH))
    pdf.set_auto_page_break(False)
    pdf.set_margins(layout.MARGIN, layout.MARGIN)
    pdf.set_title(f"{pack.title}: {pack.subtitle}")
    pdf.set_lang("en-GB")
    pdf.set_creator("Eastern Region Needs Audit (audit pack)")
    _fonts(pdf)
    pdf.add_page()
    pdf.start_section(pack.title)
    _text(pdf, layout.Box(0.8, 2.4, layout.WIDTH - 1.6, 1.0), pack.title, 36, bold=True)
    _text(pdf, layout.Box(0.8, 3.6, layout.WIDTH - 1.6, 0.5), pack.subtitle, 16)
    _text(pdf, layout.Box(0.8, 4.3, layout.WIDTH - 1.6, 1.0), layout.cover_note(pack), 13, colour=MUTED)
    footer = layout.footer(pack)
    for s in pack.slides:
        _view(pdf, s, footer)
    pdf.add_page()
    pdf.start_section("Method notes and glossary")
    _text(pdf, layout.TITLE, "Method notes and glossary", layout.TITLE_PT - 4, bold=True)
    _paragraphs(pdf, layout.NOTES_LEFT, [("", n) for n in layout.method_notes(pack, METHOD_NOTES)], layout.CLOSING_PT - 1)
    _paragraphs(pdf, layout.NOTES_RIGHT, [(f"{k}: ", v) for k, v in GLOSSARY.items()], layout.CLOSING_PT - 1)
    data = bytes(pdf.output())
    if path is not None:
        Path(path).write_bytes(data)
    return data
