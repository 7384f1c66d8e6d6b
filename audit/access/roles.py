"""The four roles, what each may see (a Viewer) and what each may change."""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.geography import region
from audit.suppress import Viewer

MEETING = "meeting"
LA_MANAGER = "la_manager"
DATA_OFFICER = "data_officer"
ADMINISTRATOR = "administrator"
ROLES = (MEETING, LA_MANAGER, DATA_OFFICER, ADMINISTRATOR)
ROLE_LABELS = {MEETING: "Network meeting", LA_MANAGER: "LA manager", DATA_OFFICER: "Data officer",
               ADMINISTRATOR: "Administrator"}
# Roles tied to their own LAs: an account of these roles without an LA could see and do nothing of its own.
LA_ROLES = (LA_MANAGER, DATA_OFFICER)
ALL_LAS = frozenset(region.REGION_LAS)


class Refused(PermissionError):
    """An account asked for something its role does not allow (the message says what and why)."""


@dataclass(frozen=True)
class Account:
    """Who is acting: email, role, own LAs, and how they got in (password, oidc, open, cli)."""

    email: str
    role: str
    las: frozenset[str] = field(default_factory=frozenset)
    how: str = "password"

    @property
    def child_level_las(self) -> frozenset[str]:
        """LAs whose child-level data this role may see: none for the meeting, all for the administrator.

        Nobody who has not signed in sees any: the open synthetic demo acts as administrator for what it
        may change, but shows what a visitor without an LA sees, so the demo shows suppression at work.
        """
        if self.how.startswith("open"):
            return frozenset()
        if self.role == ADMINISTRATOR:
            return ALL_LAS
        if self.role in LA_ROLES:
            return self.las
        return frozenset()

    def viewer(self, meeting_mode: bool = False) -> Viewer:
        """The Viewer that decides suppression: meeting mode, or the meeting role, shows the meeting's view."""
        if meeting_mode or self.role == MEETING:
            return Viewer(child_level_las=frozenset(), meeting_mode=True)
        return Viewer(child_level_las=self.child_level_las)

    @property
    def is_admin(self) -> bool:
        """Administrators manage users, settings, region-wide tables and every round."""
        return self.role == ADMINISTRATOR

    def may_write(self, las: frozenset[str] | set[str] | None = None) -> bool:
        """Whether this account may change data touching these LAs (None: region-wide tables, administrators only)."""
        if self.role == ADMINISTRATOR:
            return True
        if self.role != DATA_OFFICER or las is None:
            return False
        return bool(las) and set(las) <= self.las

    def require_write(self, what: str, las: frozenset[str] | set[str] | None = None) -> None:
        """Raise Refused unless may_write(las), naming the action and the LAs it would touch."""
        if self.may_write(las):
            return
        where = "the whole region" if las is None else ", ".join(region.la_name(c) for c in sorted(las)) or "no LA"
        raise Refused(f"{what} touches {where}: only an administrator"
                      + ("" if las is None else " or a data officer of every LA it touches") + " may do that "
                      f"(you are signed in as {self.email}, {ROLE_LABELS.get(self.role, self.role)}).")

    def require_admin(self, what: str) -> None:
        """Raise Refused unless this is an administrator."""
        if not self.is_admin:
            raise Refused(f"{what}: only an administrator may do that (you are signed in as {self.email}, "
                          f"{ROLE_LABELS.get(self.role, self.role)}).")

    def describe(self) -> str:
        """One line for the sidebar and the log: who, which role, which LAs."""
        las = ", ".join(region.la_name(c) for c in sorted(self.las)) if self.role in LA_ROLES else ""
        return f"{self.email} ({ROLE_LABELS.get(self.role, self.role)}{': ' + las if las else ''})"


def parse_las(values: str | list[str] | None) -> frozenset[str]:
    """LA names or codes (comma-separated or a list) as codes; raise ValueError naming any that is not Eastern."""
    if values is None:
        return frozenset()
    items = values.split(",") if isinstance(values, str) else [v for x in values for v in str(x).split(",")]
    codes, bad = set(), []
    for item in (i.strip() for i in items):
        if not item:
            continue
        code = region.la_code(item)
        (codes.add(code) if code else bad.append(item))
    if bad:
        raise ValueError(f"not Eastern LAs: {', '.join(bad)}; choose from {', '.join(sorted(region.REGION_LAS.values()))}")
    return frozenset(codes)


def check_role(role: str, las: frozenset[str]) -> None:
    """Raise ValueError for an unknown role, or an LA role without an LA."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; choose from {', '.join(ROLES)}")
    if role in LA_ROLES and not las:
        raise ValueError(f"a {role} needs at least one LA (--la)")
