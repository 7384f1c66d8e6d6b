"""The folder layout is a promise: each layer imports only what its folder's docstring allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parents[1] / "audit"
CORE = {"db", "sql", "filters", "suppress", "disclosure", "taxonomy", "placements", "paths", "export", "reference"}
# What each layer must never import (its own folder's docstring says the same in words).
FORBIDDEN = {
    "geography": {"intake", "analysis", "charts", "sample", "extracts", "cli", "db", "filters", "suppress"},
    "intake": {"analysis", "charts", "sample", "extracts", "cli"},
    "analysis": {"charts", "intake", "sample", "extracts", "cli", "pack"},
    "charts": {"intake", "sample", "extracts", "cli", "pack"},
    "sample": {"charts", "extracts", "cli"},
    "pack": {"intake", "sample", "cli"},
    "access": {"intake", "analysis", "charts", "sample", "extracts", "cli"},
    "core": {"intake", "analysis", "charts", "sample", "extracts", "cli"},
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _layer(path: Path) -> str:
    """A module's layer: its folder, or 'core' for the shared modules at the top (cli and extracts are the hub)."""
    rel = path.relative_to(AUDIT)
    if len(rel.parts) > 1 and rel.parts[0] != "sql":
        return rel.parts[0]
    return "core" if rel.stem in CORE or rel.parts[0] == "sql" else rel.stem


MODULES = sorted(AUDIT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(AUDIT)))
def test_each_module_imports_only_what_its_layer_allows(path):
    layer = _layer(path)
    banned = FORBIDDEN.get(layer, set())
    bad = sorted(m for m in _imports(path)
                 if m.startswith("audit.") and m.split(".")[1] in banned)
    assert not bad, f"{path.relative_to(AUDIT)} ({layer}) imports {bad}"
    assert not any(m == "streamlit" or m.startswith("streamlit.") for m in _imports(path)), "audit/ never imports streamlit"


def test_every_folder_says_what_lives_there_and_what_it_may_import():
    for pkg in ("intake", "analysis", "charts", "geography", "sample", "pack", "access"):
        doc = ast.get_docstring(ast.parse((AUDIT / pkg / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, pkg
