"""The meeting pack: the views a network meeting looked at, as a PowerPoint deck and a PDF to circulate.

`slides` builds each view's content from the same functions the pages and `audit export`
use, always for the public viewer; `images` renders the app's Vega-Lite charts offline
(vl-convert) and static maps of the app's map layers (matplotlib); `pptx` and `pdf` write
the same pages from `layout`.

May import: `audit.analysis`, `audit.charts`, `audit.extracts`, `audit.geography`, `audit.suppress`,
`audit.db`, `audit.filters`. Never imports `audit.intake`, `audit.sample` or `audit.cli` (nor streamlit).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from audit.db import Database

FORMATS = (".pptx", ".pdf")


def file_name(pack, suffix: str) -> str:
    """'needs-audit-pack_Norfolk_2024-sample_2026-12-03.pptx': LA (or region), round and date say what it is."""
    def slug(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")

    where = slug(pack.scope.where.replace("the ", "")) if pack.scope.filters.la is None else slug(pack.scope.where)
    return f"needs-audit-pack_{where}_{slug(pack.scope.round_label)}_{pack.built:%Y-%m-%d}{suffix}"


def render(pack, suffix: str) -> bytes:
    """The pack's bytes in one format (.pptx or .pdf)."""
    if suffix == ".pptx":
        from audit.pack import pptx

        return pptx.write(pack)
    if suffix == ".pdf":
        from audit.pack import pdf

        return pdf.write(pack)
    raise ValueError(f"a pack is written as {' or '.join(FORMATS)}, not '{suffix}'")


def make(db: Database, out: str | Path, round_label: str | None = None, la: str | None = None,
         views=None, progress: Callable[[float, str], None] | None = None) -> tuple[Path, object]:
    """Build the pack and write it; a folder as `out` gets the standard file name. Returns the path and the pack."""
    from audit.pack import slides

    out = Path(out)
    suffix = out.suffix.lower() if not out.is_dir() else ".pptx"
    if suffix not in FORMATS:
        raise ValueError(f"--out must end in {' or '.join(FORMATS)}, not '{out.name}'")
    pack = slides.build(db, round_label, la, tuple(views or slides.DEFAULT_VIEWS), progress)
    if progress:
        progress(len(pack.slides) / (len(pack.slides) + 1), f"Writing {suffix[1:].upper()}…")
    data = render(pack, suffix)
    path = out / file_name(pack, suffix) if out.is_dir() else out
    path.write_bytes(data)
    if progress:
        progress(1.0, "Done")
    return path, pack
