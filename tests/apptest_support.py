"""Small readers of an AppTest result, and a known cohort split, shared by the page tests."""

from __future__ import annotations


def run_page(make, page: str, **params):
    """Run the app at a page with URL parameters; the page must not raise."""
    at = make(page, **params).run()
    assert not at.exception, at.exception
    return at


def qp(at, key: str):
    """One URL parameter as a string (AppTest may hold it as a one-item list)."""
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) else v


def also_figures(at) -> dict:
    """The figures meeting mode lists after the visual instead of as tiles ("**Also:** Places **986** · ...")."""
    import re

    text = next((m.value for m in at.markdown if m.value.startswith("**Also:**")), "")
    return dict(re.findall(r"(?:^\*\*Also:\*\* | · )(.+?) \*\*(.+?)\*\*", text))


def metrics(at) -> dict:
    """Headline figures as {label: value}: the metric tiles, and in meeting mode the ones listed after the visual."""
    return {**{m.label: m.value for m in at.metric}, **also_figures(at)}


def tile_rows(at) -> list[int]:
    """How many columns each row of metric tiles has, top to bottom."""
    rows = []

    def walk(node):
        kids = list(getattr(node, "children", {}).values())
        cols = [c for c in kids if getattr(c, "type", None) == "column"]
        if any(getattr(x, "type", None) == "metric" for c in cols for x in c.children.values()):
            rows.append(len(cols))
        for c in kids:
            walk(c)

    walk(at.main)
    return rows


def table_with(at, column: str):
    """The first table on the page that has this column (a grid, or meeting mode's plain table)."""
    return next(d.value for d in [*at.dataframe, *at.table] if column in d.value.columns)


def plant_exploitation_cohort(db, round_id: int) -> None:
    """Replace whatever cohorts were fitted with two known ones: children with CSE or CCE, and the rest."""
    with db.write() as con:
        con.execute("DELETE FROM child_cohorts WHERE round_id = ?", [round_id])
        con.execute("DELETE FROM cohort_names WHERE round_id = ?", [round_id])
        con.execute("""INSERT INTO child_cohorts SELECT round_id, la_code, child_id,
                           CASE WHEN bool_or(code IN ('cse', 'cce') AND present) THEN 1 ELSE 2 END
                       FROM child_needs WHERE round_id = ? GROUP BY ALL""", [round_id])
        con.execute("INSERT INTO cohort_names (round_id, cohort, name) VALUES (?, 1, 'Exploitation'), (?, 2, 'Other')",
                    [round_id, round_id])


def shown_text(markdown: str) -> str:
    """What Markdown escaped by audit.filters.md_text shows: backslash escapes read, word joiners dropped."""
    import re

    from audit.filters import WORD_JOINER

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")


def markdown_tables(at) -> list:
    """Every Markdown table drawn (ui.markdown_table), as DataFrames of the text shown."""
    import pandas as pd

    out = []
    for m in at.markdown:
        lines = m.value.splitlines()
        if len(lines) >= 2 and lines[0].startswith("| ") and set(lines[1]) <= set("|-:"):
            cells = [[shown_text(c.strip()) for c in line.strip().strip("|").split(" | ")]
                     for line in lines]
            out.append(pd.DataFrame(cells[2:], columns=cells[0]))
    return out


ROLE_ACCOUNTS = {
    "meeting": ("meeting@region.example", "meeting", None),
    "norfolk_manager": ("manager@norfolk.example", "la_manager", "Norfolk"),
    "suffolk_officer": ("officer@suffolk.example", "data_officer", "Suffolk"),
    "administrator": ("admin@region.example", "administrator", None),
}


def add_accounts(db) -> dict:
    """One account per role in the database's access store (no local password: tests sign them in directly)."""
    from audit.access.store import AccessStore, cli_account

    store = AccessStore.beside(db.path)
    for email, role, la in ROLE_ACCOUNTS.values():
        if store.account(email) is None:
            store.add_user(email, role, la, None, by=cli_account())
    return {name: email for name, (email, _, _) in ROLE_ACCOUNTS.items()}


def signed_in_as(email: str) -> dict:
    """Session state of a session whose sign-in form accepted this email (pages.ui.ACCOUNT_KEY)."""
    return {"_access_email": email}
