"""Hostile URL parameters: numbers that are not numbers fall back to the page's default with a note, and
nothing typed in a link is ever read as Markdown (no link, image or icon can be planted in a note)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.filters import WORD_JOINER, md_text, quoted, url_int
from tests.apptest_support import run_page, shown_text

# Each parses with float() or passes str.isdigit(), and each once raised a traceback on some page.
HOSTILE_NUMBERS = ["1e999", "inf", "-inf", "nan", "-5", "0", "99999999999999999999", "²", "٣", "1e3", "4.5", "0x10",
                   "9" * 5000, " ", "1_000"]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_url_int_gives_the_default_and_a_note_for_anything_but_a_whole_number_in_range(value):
    n, note = url_int(value, 20, 2, 80, "Catchment (km)")
    assert n == 20
    assert note and note.startswith("Catchment (km) '") and "from 2 to 80: showing 20." in note


@pytest.mark.parametrize("value, expected", [("2", 2), ("80", 80), ("40", 40), ("40.0", 40), (" 7 ", 7), (None, 20), ("", 20)])
def test_url_int_reads_ascii_whole_numbers_in_range(value, expected):
    assert url_int(value, 20, 2, 80, "Catchment (km)") == (expected, None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_url_int_never_raises_and_agrees_with_a_plain_reading(text):
    n, note = url_int(text, 20, 2, 80, "x")
    digits = re.fullmatch(r"([0-9]+)(\.0*)?", text.strip(), re.ASCII)
    ok = digits and len(digits[1]) <= 9 and 2 <= int(digits[1]) <= 80
    assert (n, note is None) == ((int(digits[1]), True) if ok else (20, not text))


# What Streamlit's Markdown would turn into something other than text (checked in a real browser by
# tests/test_browser_xss.py): links, images, bare addresses, HTML, icons, colours, maths.
PAYLOADS = ["[Session expired - sign in again](http://127.0.0.9/x)", "![x](http://127.0.0.9/leak.png)",
            "<img src=x onerror=alert(1)>", "http://127.0.0.9/a", "www.example.org", "a@example.org",
            ":material/home:", ":red[alarm]", "$x^2$", "**bold**", "# heading", "line\nbreak | pipe", "`code`"]


def unescaped_marks(markdown: str) -> list[str]:
    """ASCII punctuation in Markdown that is not backslash-escaped (each could be syntax)."""
    marks, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown) and re.match(r"[!-/:-@\[-`{-~]", markdown[i + 1]):
            i += 2
            continue
        if re.match(r"[!-/:-@\[-`{-~]", markdown[i]):
            marks.append(markdown[i])
        i += 1
    return marks


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_escapes_every_markdown_mark_and_breaks_every_bare_address(payload):
    out = md_text(payload)
    assert shown_text(out) == " ".join(payload.split())          # it still reads as typed
    assert unescaped_marks(out) == []
    assert "://" not in out.replace("\\", "") and "www." not in out.replace("\\", "").lower()
    assert "\n" not in out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_md_text_round_trips_any_text(text):
    shown = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    assert shown_text(md_text(text)) == shown


def test_a_note_quotes_a_long_value_cut_short():
    assert len(shown_text(quoted("x" * 500))) == 63   # 60 characters, an ellipsis and the quotes


# -- every page that takes a number from its link ------------------------------------------------------

NUMERIC = [
    # page, its parameters in the link, the session-state keys they set, the defaults those take
    ("pages/map.py", {"km": "1e999"}, {"map_km": 32}),
    ("pages/map.py", {"km": "٣", "service": "short-breaks"}, {"map_km": 15}),
    ("pages/planner.py", {"homes": "1e999", "places": "nan", "miles": "-5"},
     {"plan_homes": 3, "plan_places": 4, "plan_miles": 20}),
    ("pages/planner.py", {"homes": "²", "places": "inf", "miles": "99999999999999999999"},
     {"plan_homes": 3, "plan_places": 4, "plan_miles": 20}),
    ("pages/cohorts.py", {"k": "²"}, {"cohort_k": 0}),
    ("pages/cohorts.py", {"k": "1e999"}, {"cohort_k": 0}),
    ("pages/forecast.py", {"years": "1e999"}, {"fc_years": 5}),
    ("pages/forecast.py", {"years": "٣"}, {"fc_years": 5}),
]


@pytest.mark.parametrize("page, params, defaults", NUMERIC,
                         ids=[f"{p.split('/')[1][:-3]}-{'-'.join(v)}" for p, v, _ in NUMERIC])
def test_a_number_that_is_not_one_opens_the_page_at_its_default_with_a_note(app, page, params, defaults):
    at = run_page(app, page, **params)
    assert not at.exception
    for key, value in defaults.items():
        assert at.session_state[key] == value, key
    notes = [shown_text(w.value) for w in at.warning]
    for value in params.values():
        if value not in ("short-breaks",):
            assert any(f"'{value[:60]}" in n for n in notes), (value, notes)


def test_a_link_typed_into_the_la_parameter_is_shown_as_text(app):
    payload = "[Session expired - sign in again](http://127.0.0.9/login)"
    at = run_page(app, "pages/overview.py", la=payload)
    notes = [w.value for w in at.sidebar.warning]
    assert len(notes) == 1
    assert shown_text(notes[0]).startswith(f"LA '{payload}' is not one of the 11 Eastern LAs")
    assert "](" not in notes[0] and "://" not in notes[0].replace("\\", "")
