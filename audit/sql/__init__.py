"""All SQL lives in this folder, one named file per query; load() reads them once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Return the text of audit/sql/<name>.sql."""
    return (_DIR / f"{name}.sql").read_text(encoding="utf-8")
