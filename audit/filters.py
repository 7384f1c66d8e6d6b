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
# Every view is one cell of the LA x age band table, whose margins are the LA's all-ages view and the
# region's view of that band. Showing the views one at a time lets a reader subtract: Central Bedfordshire
# all ages 36, bands 10-12..18+ 7, 14, 14, 0, so ages 0-9 = 1. That table is protected as a whole
# (audit.disclosure, MILP with its margins); a view whose cell is hidden shows none of its children's
# figures, on every page. Sex and placement type (needs page only) are not in this table yet.

_HIDDEN_VIEWS: dict = {}


def hidden_views(db, round_id: int | None, viewer=None) -> frozenset:
    """(la, band) views hidden for this viewer: la None = the whole region, band None = all ages."""
    from audit import disclosure
    from audit.suppress import PUBLIC

    viewer = viewer or PUBLIC
    key = (str(db.path), db.version, round_id, viewer)
    if key in _HIDDEN_VIEWS:
        return _HIDDEN_VIEWS[key]
    counts = db.q("children_by_la_band", round_id=round_id)
    table = counts.pivot_table(index="la_code", columns="age_band", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=[b for b in AGE_BANDS if b in table.columns])
    out: set = set()
    if table.size:
        fam, t = disclosure.matrix_family(table.to_numpy(int), True, True,
                                          [viewer.may_see(la) for la in table.index])
        pat = disclosure.protect(fam).pattern.counts
        for i, la in enumerate(table.index):
            out |= {(la, band) for j, band in enumerate(table.columns) if pat[t["cells"][i, j]]}
            if pat[t["rows"][i]]:
                out.add((la, None))
        out |= {(None, band) for j, band in enumerate(table.columns) if pat[t["cols"][j]]}
    if len(_HIDDEN_VIEWS) > 32:
        _HIDDEN_VIEWS.clear()
    _HIDDEN_VIEWS[key] = frozenset(out)
    return _HIDDEN_VIEWS[key]


def view_hidden(db, f: Filters, viewer=None) -> bool:
    """Whether this LA/age-band view must show none of its children's figures (see hidden_views)."""
    if f.age_band is None and f.la is None:
        return False
    return (f.la, f.age_band) in hidden_views(db, f.round_id, viewer)


HIDDEN_VIEW_NOTE = ("Hidden: with the other age bands and LAs shown, this view's figures would reveal "
                    "a count of fewer than 5 children.")
