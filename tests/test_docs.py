"""The repository's own documents stay true: every command and option the CLI takes is in the data contract."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from audit.cli import parser

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's own parser, by name."""
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_is_in_the_data_contract():
    missing = []
    for name, sub in _subcommands().items():
        if f"`audit {name}" not in CONTRACT:
            missing.append(f"audit {name}")
        for action in sub._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt not in ("--help",) and opt not in CONTRACT:
                    missing.append(f"audit {name} {opt}")
    assert not missing, f"docs/data-contract.md does not describe: {missing}"


def test_readme_links_point_inside_the_repository():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target
    assert "../shared" not in README
