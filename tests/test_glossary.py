"""The glossary: one plain-English definition per term, covering the terms the pages show."""

from __future__ import annotations

import pytest

from audit import glossary
from audit.placements import RESIDENTIAL


def test_every_residential_placement_code_is_explained():
    assert set(glossary.PLACEMENT_CODES) == set(RESIDENTIAL)
    for code in RESIDENTIAL:
        assert code in glossary.placement_codes() and glossary.define(code.lower()).startswith(code)


def test_terms_on_the_shared_screen_are_defined_in_plain_words():
    for term in ("Fair share per child", "Short of a fair share", "Gap score", "Access per child", "BIC",
                 "Stability (ARI)", "MAPE", "Lift", "Towns with a gap", "Could", "Placed"):
        text = glossary.define(term)
        assert len(text) > 40 and "  " not in text, term
    assert "0.5" in glossary.define("lift")  # the direction: below 1 is less often than chance


def test_an_undefined_term_is_an_error_not_a_blank_help_text():
    with pytest.raises(KeyError, match="Nonsense"):
        glossary.define("Nonsense")


def test_method_notes_list_each_term_with_its_definition():
    note = glossary.note("gap score", "MAPE")
    assert note.splitlines() == [f"- **gap score**: {glossary.define('gap score')}", f"- **MAPE**: {glossary.define('MAPE')}"]
