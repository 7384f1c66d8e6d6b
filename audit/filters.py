"""The shared filters every page applies, and their round trip through URL query parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from audit.geography import region

AGE_BANDS = ["0-9", "10-12", "13-15", "16-17", "18+"]


@dataclass(frozen=True)
class Filters:
    """Which audit round, LA and age band a view shows (None = all)."""

    round_id: int | None = None
    la: str | None = None
    age_band: str | None = None

    def params(self) -> dict:
        """Named parameters for the SQL in audit/sql/."""
        return {"round_id": self.round_id, "la": self.la, "age_band": self.age_band}

    def to_query(self, round_label: str | None = None) -> dict[str, str]:
        """URL query parameters that reproduce this view (names, not internal ids)."""
        q = {}
        if round_label:
            q["round"] = round_label
        if self.la:
            q["la"] = region.la_name(self.la)
        if self.age_band:
            q["age"] = self.age_band
        return q

    def with_(self, **changes) -> "Filters":
        """A copy with some filters changed."""
        return replace(self, **changes)


# Every ASCII punctuation mark: CommonMark shows a backslash-escaped one as itself, never as syntax.
_MARKDOWN_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_WWW = re.compile(r"(?i)(www)\\\.")
WORD_JOINER = "\u2060"  # invisible, and not part of any URL, address or icon name
# A whole number typed in a URL: ASCII digits only ('²' and '٣' pass str.isdigit but are no choice of ours).
_WHOLE = re.compile(r"[0-9]{1,9}(\.0*)?", re.ASCII)


def md_text(value, limit: int | None = None) -> str:
    """Any text from data or a URL, made safe to put in Markdown: it shows as typed, never as a link, image or icon.

    Names come from files and URLs anyone can write: `![x](http://...)` would fetch an outside image
    for every visitor and `[Sign in again](http://...)` would show an attacker's link. Backslashes
    neutralise Markdown syntax and HTML; Streamlit's Markdown still turns bare addresses
    (http://..., www...., a@b) and `:material/...:` into links and icons after escapes are read, so
    an invisible word joiner goes after every ':' and '@' and into 'www.'. Line breaks become spaces
    (a new line could start a heading or a table row).
    """
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    text = _WWW.sub(lambda m: m.group(1) + WORD_JOINER + "\\.", _MARKDOWN_PUNCT.sub(r"\\\1", text))
    return text.replace(":", ":" + WORD_JOINER).replace("@", "@" + WORD_JOINER)


def quoted(value) -> str:
    """A value typed in the URL, quoted and made inert for a Markdown note (cut short: a note is one line)."""
    return "'" + md_text(value, limit=60) + "'"


def url_int(value: str | None, default: int, lo: int, hi: int, what: str) -> tuple[int, str | None]:
    """A whole number from the URL, else the default and a note saying why; nothing typed there can raise.

    float() alone accepts 'nan', 'inf' and '1e999' (int() of which raises), int() accepts '٣' and
    str.isdigit() accepts '²': only ASCII digits are read, and only values from lo to hi are kept.
    """
    if value is None or value == "":
        return default, None
    text = str(value).strip()
    if _WHOLE.fullmatch(text):
        n = int(float(text))
        if lo <= n <= hi:
            return n, None
    return default, f"{what} {quoted(value)} is not a whole number from {lo} to {hi}: showing {default}."


def from_query(query: dict[str, str], rounds: dict[str, int]) -> tuple[Filters, list[str]]:
    """Filters from URL query parameters; unknown values are ignored and reported, never fatal."""
    notes = []
    round_label = query.get("round")
    round_id = rounds.get(round_label) if round_label else None
    if round_label and round_id is None:
        notes.append(f"Audit round {quoted(round_label)} not found: showing the latest round.")
    if round_id is None and rounds:
        round_id = next(iter(rounds.values()))
    la = None
    if query.get("la"):
        la = region.la_code(query["la"])
        if la is None:
            notes.append(f"LA {quoted(query['la'])} is not one of the 11 Eastern LAs: showing the whole region.")
    age = query.get("age")
    if age and age not in AGE_BANDS:
        notes.append(f"Age band {quoted(age)} not recognised: showing all ages.")
        age = None
    return Filters(round_id=round_id, la=la, age_band=age or None), notes


# -- Protecting filter values against each other -------------------------------------------------------------
# Every view is a margin of the round's LA x age band x sex x placement type table. Showing views one at a
# time lets a reader subtract: Central Bedfordshire all ages 36, bands 10-12..18+ 7, 14, 14, 0, so ages
# 0-9 = 1; or an LA's girls from all its children. Three two-way tables are protected, each as a whole with
# its margins (audit.disclosure, MILP): LA x age band, LA x sex and LA x placement type. They share only the
# LA axis, and any LA's split by age band fits any split by sex (a transport problem with those margins always
# has a solution), so what one table shows cannot narrow another's hidden cells; a view hidden in any table is
# hidden. Protecting the whole four-way table instead was measured on the sample: 132 s, and it hid the
# region's own total. So sex or placement type with an age band, or both together, are shown only to whoever
# may see that LA. A hidden view shows none of its children's figures, on every page.

_HIDDEN_VIEWS: dict = {}
SLICE_AXES = ("age_band", "sex", "placement")


def _hidden_in(counts, column: str, las: list, viewer) -> set:
    """Views of one LA x <column> table hidden by its protection: {(la or None, value or None)}."""
    from audit import disclosure

    values = ([b for b in AGE_BANDS if b in set(counts[column])] if column == "age_band" else
              sorted(set(counts[column])))
    t = counts.pivot_table(index="la_code", columns=column, values="n", aggfunc="sum", fill_value=0)
    t = t.reindex(index=las, columns=values, fill_value=0)
    # Unrecorded sex or placement type ('') is in every 'all' but cannot be picked as a view.
    fam, index = disclosure.cube_family(t.to_numpy(int), lambda v: v[1] is None or values[v[1]] != "",
                                        [viewer.may_see(la) for la in las])
    pat = disclosure.protect(fam).pattern.counts
    return {(None if i is None else las[i], None if j is None else values[j]) for (i, j), c in index.items() if pat[c]}


def hidden_slices(db, round_id: int | None, viewer=None) -> frozenset:
    """(la, band, sex, placement) views hidden for this viewer; None = all. Views with two of band, sex and
    placement set are not in it: view_hidden shows them only to those who may see the LA."""
    from audit.suppress import PUBLIC

    viewer = viewer or PUBLIC
    key = (str(db.path), db.version, round_id, viewer)
    if key in _HIDDEN_VIEWS:
        return _HIDDEN_VIEWS[key]
    counts = db.q("children_by_slice", round_id=round_id)
    out: set = set()
    if not counts.empty:
        las = sorted(counts["la_code"].unique())
        for axis, column in enumerate(SLICE_AXES):
            for la, value in _hidden_in(counts, column, las, viewer):
                view = [la, None, None, None]
                view[1 + axis] = value
                out.add(tuple(view))
    if len(_HIDDEN_VIEWS) > 32:
        _HIDDEN_VIEWS.clear()
    _HIDDEN_VIEWS[key] = frozenset(out)
    return _HIDDEN_VIEWS[key]


def hidden_views(db, round_id: int | None, viewer=None) -> frozenset:
    """(la, band) views hidden for this viewer, all sexes and placement types: la None = the region, band None = all ages."""
    return frozenset((la, band) for la, band, sex, placement in hidden_slices(db, round_id, viewer)
                     if sex is None and placement is None)


def view_hidden(db, f: Filters, viewer=None, sex: str | None = None, placement: str | None = None) -> bool:
    """Whether this view (LA, age band and, on the needs page, sex or placement type) must show none of its figures."""
    if sum(x is not None for x in (f.age_band, sex, placement)) > 1:
        return not (viewer is not None and f.la is not None and viewer.may_see(f.la))
    if f.age_band is None and f.la is None and sex is None and placement is None:
        return False
    return (f.la, f.age_band, sex, placement) in hidden_slices(db, f.round_id, viewer)


HIDDEN_VIEW_NOTE = ("Hidden: with the other LAs, age bands, sexes and placement types shown, this view's figures "
                    "would reveal a count of fewer than 5 children.")
COMBINED_VIEW_NOTE = ("Hidden: sex or placement type together with an age band, or with each other, is shown only to "
                      "those who may see this LA's children; choose one of them, or all ages, to see the figures.")


def hidden_note(f: Filters, sex: str | None = None, placement: str | None = None) -> str:
    """Why a hidden view shows nothing, in the words that fit how it was picked."""
    return COMBINED_VIEW_NOTE if sum(x is not None for x in (f.age_band, sex, placement)) > 1 else HIDDEN_VIEW_NOTE
