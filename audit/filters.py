"""The shared filters every page applies, and their round trip through URL query parameters."""

from __future__ import annotations

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


def from_query(query: dict[str, str], rounds: dict[str, int]) -> tuple[Filters, list[str]]:
    """Filters from URL query parameters; unknown values are ignored and reported, never fatal."""
    notes = []
    round_label = query.get("round")
    round_id = rounds.get(round_label) if round_label else None
    if round_label and round_id is None:
        notes.append(f"Audit round '{round_label}' not found: showing the latest round.")
    if round_id is None and rounds:
        round_id = next(iter(rounds.values()))
    la = None
    if query.get("la"):
        la = region.la_code(query["la"])
        if la is None:
            notes.append(f"LA '{query['la']}' is not one of the 11 Eastern LAs: showing the whole region.")
    age = query.get("age")
    if age and age not in AGE_BANDS:
        notes.append(f"Age band '{age}' not recognised: showing all ages.")
        age = None
    return Filters(round_id=round_id, la=la, age_band=age or None), notes
