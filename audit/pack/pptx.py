"""The pack as a PowerPoint deck (python-pptx): real tables a manager can edit, pictures with alt text."""

from __future__ import annotations

import io
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from audit.pack import layout
from audit.pack.slides import GLOSSARY, METHOD_NOTES, Pack, Slide

INK = RGBColor(0x11, 0x11, 0x11)
MUTED = RGBColor(0x44, 0x44, 0x44)
HEADER_FILL = RGBColor(0x08, 0x51, 0x9C)   # the darkest of the app's sequential blues: white text reads on it
STRIPE = RGBColor(0xEF, 0xF3, 0xFF)


def _text(slide, box: layout.Box, text: str, size: float, bold: bool = False, colour=INK):
    """A text box that wraps inside its area."""
    shape = slide.shapes.add_textbox(Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h))
    frame = shape.text_frame
    frame.word_wrap = True
    para = frame.paragraphs[0]
    para.text = text
    para.font.size, para.font.bold, para.font.color.rgb = Pt(size), bold, colour
    para.font.name = layout.FONT
    return shape


def _bullets(slide, box: layout.Box, items: list[tuple[str, str]], size: float) -> None:
    """Paragraphs with a bold lead-in each (glossary terms, method headings)."""
    shape = slide.shapes.add_textbox(Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h))
    frame = shape.text_frame
    frame.word_wrap = True
    for i, (lead, body) in enumerate(items):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.space_after = Pt(4)
        for text, bold in ((lead, True), (body, False)):
            if not text:
                continue
            run = para.add_run()
            run.text = text
            run.font.size, run.font.bold, run.font.color.rgb, run.font.name = Pt(size), bold, INK, layout.FONT


def _picture(slide, pic, box: layout.Box) -> None:
    """The picture scaled into its area, centred, with its alt text in the shape's description."""
    w, h = layout.fit(pic.size, box)
    shape = slide.shapes.add_picture(io.BytesIO(pic.png), Inches(box.x + (box.w - w) / 2), Inches(box.y),
                                     Inches(w), Inches(h))
    # Screen readers read a picture's alt text from cNvPr/@descr.
    shape._element.nvPicPr.cNvPr.set("descr", pic.alt)
    shape.name = "Chart" if "chart" in pic.alt.lower()[:40] else "Map"


def _table(slide, table, box: layout.Box) -> None:
    """The key table as a real PowerPoint table, header row in the house blue, numbers right-aligned."""
    from pptx.enum.text import PP_ALIGN

    rows, cols = len(table.rows) + 1, len(table.columns)
    size = layout.table_font(table)
    height = layout.ROW_IN(size) * rows
    shape = slide.shapes.add_table(rows, cols, Inches(box.x), Inches(box.y), Inches(box.w), Inches(height))
    grid = shape.table
    widths = layout.column_widths(table, box.w, size)
    for j, w in enumerate(widths):
        grid.columns[j].width = Emu(int(Inches(w)))
    for i in range(rows):
        grid.rows[i].height = Emu(int(Inches(layout.ROW_IN(size))))
        values = table.columns if i == 0 else table.rows[i - 1]
        for j, value in enumerate(values):
            c = grid.cell(i, j)
            c.margin_left = c.margin_right = Inches(0.05)
            c.margin_top = c.margin_bottom = Inches(0.02)
            c.text = value
            para = c.text_frame.paragraphs[0]
            para.font.size, para.font.name = Pt(size), layout.FONT
            para.font.bold = i == 0 or (i - 1) in table.highlight
            para.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF) if i == 0 else INK
            para.alignment = PP_ALIGN.RIGHT if (i > 0 and layout.numeric(value)) else PP_ALIGN.LEFT
            c.fill.solid()
            c.fill.fore_color.rgb = HEADER_FILL if i == 0 else (STRIPE if i % 2 == 0 else RGBColor(0xFF, 0xFF, 0xFF))


def _title(slide, text: str, box: layout.Box = layout.TITLE, size: float = layout.TITLE_PT) -> None:
    """The slide's title placeholder (what screen readers and the outline read), placed and styled as the house does."""
    from pptx.enum.text import PP_ALIGN

    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (Inches(v) for v in box.xywh)
    title.text = text
    para = title.text_frame.paragraphs[0]
    para.font.size, para.font.bold, para.font.name, para.font.color.rgb = Pt(size), True, layout.FONT, INK
    para.alignment = PP_ALIGN.LEFT


def _view(prs, s: Slide, footer: str) -> None:
    """One view: title, takeaway, picture on the left, key table on the right, source along the bottom."""
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only": the title is a real title placeholder
    _title(slide, s.title)
    _text(slide, layout.TAKEAWAY, s.takeaway, layout.TAKEAWAY_PT)
    if s.picture is not None:
        _picture(slide, s.picture, layout.PICTURE if s.table is not None else layout.WIDE)
    if s.table is not None:
        _table(slide, s.table, layout.TABLE)
        if s.caption:
            _text(slide, layout.caption_box(s.table), s.caption, layout.NOTE_PT, colour=MUTED)
    _text(slide, layout.FOOTER, s.source + " " + footer, layout.NOTE_PT, colour=MUTED)


def write(pack: Pack, path: str | Path | None = None) -> bytes:
    """The deck as bytes (and written to path when given): first slide, one slide per view, closing notes."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(layout.WIDTH), Inches(layout.HEIGHT)
    prs.core_properties.title = f"{pack.title}: {pack.subtitle}"
    prs.core_properties.language = "en-GB"
    # "Title Only", placed by hand: the template's title slide is laid out for 4:3.
    first = prs.slides.add_slide(prs.slide_layouts[5])
    _title(first, pack.title, layout.Box(0.8, 2.3, layout.WIDTH - 1.6, 1.1), 40)
    _text(first, layout.Box(0.8, 3.5, layout.WIDTH - 1.6, 0.6), pack.subtitle, 18)
    _text(first, layout.Box(0.8, 4.2, layout.WIDTH - 1.6, 1.0), layout.cover_note(pack), 14, colour=MUTED)
    footer = layout.footer(pack)
    for s in pack.slides:
        _view(prs, s, footer)
    closing = prs.slides.add_slide(prs.slide_layouts[5])
    _title(closing, "Method notes and glossary")
    _bullets(closing, layout.NOTES_LEFT, [("", n) for n in layout.method_notes(pack, METHOD_NOTES)], layout.CLOSING_PT)
    _bullets(closing, layout.NOTES_RIGHT, [(f"{k}: ", v) for k, v in GLOSSARY.items()], layout.CLOSING_PT)
    buf = io.BytesIO()
    prs.save(buf)
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
