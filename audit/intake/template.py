"""The needs-profile template LAs fill in: an XLSX with instructions, dropdowns and the taxonomy, and a CSV.

The XLSX has four sheets: Instructions (how to fill it in, and which
Placements Data Standard v2 field each column follows), Children (one row per
child, the data contract's columns, an example row, a dropdown on every coded
column), Needs taxonomy (plain-English definitions) and Lists (the dropdowns'
values). Both files re-import through audit.intake.needs unchanged; the example
row is skipped with a warning if left in.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from audit import taxonomy
from audit.geography import region
from audit.intake.needs import CARED_ALONGSIDE, PLACE_CODES, SUITABILITY, columns, standard_field

ROWS = 5000  # rows carrying dropdowns; a large LA has a few hundred children in residential care
EXAMPLE = {
    "child_id": "EXAMPLE", "la": "Norfolk", "age": 15, "sex": "F", "home_postcode": "NR21 8",
    "placement_type": "K2", "placement_urn": "SC123456", "placement_postcode": "IP24 1", "weekly_cost": 6100,
    "dol_order": "N", "foster_suitability": "Unsuitable", "residential_suitability": "Preferred",
    "supported_suitability": "Not specified", "cared_alongside": "Solo placement recommended",
}
EXAMPLE_NEEDS = {"missing", "self_harm", "mh_emotional", "mh_trauma", "cse", "placement_breakdown"}
SEX_OPTIONS = ["M", "F", "X", "U"]
PLACE_LABELS = {
    "A3": "Placed for adoption", "A4": "Placed for adoption", "A5": "Placed for adoption", "A6": "Placed for adoption",
    "H5": "Semi-independent living", "K1": "Secure children's home", "K2": "Children's home",
    "K3": "Registered supported accommodation", "P1": "With parents", "P2": "Independent living",
    "P3": "Residential employment", "R1": "Residential care home", "R2": "NHS or health establishment",
    "R3": "Family centre or mother and baby unit", "R5": "Young offender institution", "S1": "Residential school",
    "T0": "Temporary", "T1": "Temporary", "T2": "Temporary", "T3": "Temporary", "T4": "Temporary",
    "U1": "Foster care with relatives or friends", "U2": "Foster care with relatives or friends",
    "U3": "Foster care with relatives or friends", "U4": "Foster care with other carers",
    "U5": "Foster care with other carers", "U6": "Foster care with other carers", "Z1": "Other",
    "Z11": "Other", "Z12": "Other", "Z13": "Other", "Z14": "Other",
}

COLUMN_HELP = {
    "child_id": "Pseudonymous reference, unique within your LA for this round. Never a name.",
    "la": "The child's responsible LA (choose from the list, or an ONS code).",
    "age": "Whole years on the audit date, 0 to 25.",
    "sex": "M, F, X or U.",
    "home_postcode": "Where the child lived before care: full postcode or sector (e.g. NR21 8). Only the sector is kept.",
    "placement_type": "SSDA903 PLACE code of the current placement (K2 = children's home).",
    "placement_urn": "Ofsted URN of the home (e.g. SC123456).",
    "placement_postcode": "Postcode or sector of the placement. Only the sector is kept.",
    "weekly_cost": "Weekly cost in pounds (the actual fee paid).",
    "dol_order": "Y if the child is subject to a deprivation of liberty order.",
    "foster_suitability": "Is foster care suitable for this child?",
    "residential_suitability": "Is residential care suitable for this child?",
    "supported_suitability": "Is supported accommodation suitable for this child?",
    "cared_alongside": "Who can the child be cared for alongside?",
}


def _lists() -> dict[str, list[str]]:
    """The values each coded column may take, for the dropdowns."""
    return {
        "flag": ["Y", "N"], "la": sorted(region.REGION_LAS.values()), "sex": SEX_OPTIONS, "place": PLACE_CODES,
        "suitability": SUITABILITY, "cared_alongside": CARED_ALONGSIDE,
    }


def _column_list(col: str) -> str | None:
    """Which dropdown list a template column uses (None for free columns)."""
    if col in taxonomy.codes() or col == "dol_order":
        return "flag"
    return {"la": "la", "sex": "sex", "placement_type": "place", "foster_suitability": "suitability",
            "residential_suitability": "suitability", "supported_suitability": "suitability",
            "cared_alongside": "cared_alongside"}.get(col)


def mapping() -> pd.DataFrame:
    """Template column -> Placements Data Standard v2 field, with how values translate."""
    rows = []
    for col in columns():
        f = standard_field(col)
        if not f:
            continue
        if col in taxonomy.codes():
            note = ("Y/N/blank = 'Y' / 'N' / 'Not Specified'" if f == "communicationNeeds"
                    else "Y = 'Risk Present', N = 'No known risk'")
        elif col == "child_id":
            note = "a pseudonymous reference, never the case-management ID"
        elif col == "dol_order":
            note = "Y = true, N = false"
        elif col == "placement_postcode":
            note = "postcode or sector of placementLocation"
        elif col in ("weekly_cost", "placement_urn"):
            note = "same value"
        else:
            note = "same options"
        rows.append({"template column": col, "Placements Data Standard v2 field": f, "values": note})
    rows.append({"template column": "placement_type", "Placements Data Standard v2 field": "placementType",
                 "values": "the template uses SSDA903 PLACE codes (K1, K2, R1, S1 = Residential; U1-U6 = Foster; "
                           "H5, K3, P2 = Supported Accommodation)"})
    return pd.DataFrame(rows)


def example_frame() -> pd.DataFrame:
    """The template's header and example row as a table."""
    row = {c: EXAMPLE.get(c, "") for c in columns()}
    for code in taxonomy.codes():
        row[code] = "Y" if code in EXAMPLE_NEEDS else "N"
    return pd.DataFrame([row], columns=columns())


def csv_bytes() -> bytes:
    """The template as CSV (UTF-8 with BOM so Excel opens it correctly): header and example row."""
    return ("\ufeff" + example_frame().to_csv(index=False, lineterminator="\r\n")).encode("utf-8")


def _instructions(ws, n_rows: int) -> None:
    """Write the instructions sheet: what to do, the rules, and the Placements Data Standard mapping."""
    bold = Font(bold=True)
    lines = [
        ("Eastern Region Needs Audit: needs-profile template", Font(bold=True, size=14)),
        ("", None),
        ("How to fill it in", bold),
        ("1. Use the 'Children' sheet: one row per child in residential care on the audit date.", None),
        ("2. Row 2 is an example: overwrite it or leave it (it is skipped, with a warning, when you upload).", None),
        ("3. child_id is a pseudonymous reference you can trace back yourself. Never enter a name or the case-management ID.", None),
        ("4. For each of the 22 needs choose Y or N. Leave it blank only if it was not recorded: blanks count as 'not present' "
         "and the upload reports how many blanks each column had.", None),
        ("5. Coded columns have dropdowns. Dates are not needed; age is in whole years on the audit date.", None),
        ("6. Postcodes may be full or sectors (e.g. NR21 8). Full postcodes are used to measure distance and then reduced to "
         "the sector: they are never stored.", None),
        ("7. Save as .xlsx (or CSV UTF-8) and upload it on the Data page, or run: audit import needs FILE --round LABEL", None),
        ("8. Type values, do not use formulas: cells with formulas are refused.", None),
        ("", None),
        ("A need category is present when any of its codes is Y. 'Number of needs' counts the 11 categories (0-11), as the "
         "Nuffield Family Justice Observatory counts them. See the 'Needs taxonomy' sheet for plain-English definitions.", None),
        ("", None),
        ("Columns", bold),
    ]
    for text, font in lines:
        ws.append([text])
        if font:
            ws.cell(ws.max_row, 1).font = font
    ws.append(["column", "required", "what to enter"])
    for c in ws[ws.max_row]:
        c.font = bold
    labels = taxonomy.code_labels()
    for col in columns():
        required = "yes" if col in ("child_id", "la", "age") or col in labels else "no"
        ws.append([col, required, COLUMN_HELP.get(col) or f"Need: {labels.get(col, '')} (Y/N)"])
    ws.append([])
    ws.append(["Placements Data Standard v2 (draft, effective 2025-07-18): where template columns follow its fields"])
    ws.cell(ws.max_row, 1).font = bold
    ws.append(["template column", "Placements Data Standard v2 field", "values"])
    for c in ws[ws.max_row]:
        c.font = bold
    for r in mapping().itertuples(index=False):
        ws.append(list(r))
    ws.append([])
    ws.append(["Uploads may also use the standard's field names as column headers (e.g. riskSelfHarm with 'Risk Present')."])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 110


def _taxonomy_sheet(ws) -> None:
    """The 22 need codes with their category and plain-English definition."""
    t = taxonomy.load()
    ws.append(["code", "category", "definition", "Placements Data Standard v2 field"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in t.itertuples(index=False):
        ws.append([r.code, r.category_label, r.label, r.placements_standard_field or ""])
    ws.append([])
    ws.append(["PLACE code", "meaning"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for code in PLACE_CODES:
        ws.append([code, PLACE_LABELS.get(code, "")])
    for col, width in zip("ABCD", (22, 26, 60, 34)):
        ws.column_dimensions[col].width = width


def xlsx_bytes(rows: int = ROWS) -> bytes:
    """The template workbook as bytes."""
    wb = Workbook()
    _instructions(wb.active, rows)
    wb.active.title = "Instructions"
    data = wb.create_sheet("Children")
    cols = columns()
    frame = example_frame()
    data.append(cols)
    data.append(frame.iloc[0].tolist())
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    labels = taxonomy.code_labels()
    for j, col in enumerate(cols, start=1):
        cell = data.cell(1, j)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(text_rotation=0, wrap_text=False)
        cell.comment = Comment(COLUMN_HELP.get(col) or labels.get(col, col), "Needs audit")
        data.column_dimensions[get_column_letter(j)].width = max(10, min(len(col) + 2, 28))
    for cell in data[2]:
        cell.font = Font(italic=True, color="808080")
    data.freeze_panes = "B2"
    lists = wb.create_sheet("Lists")
    for k, (name, values) in enumerate(_lists().items(), start=1):
        lists.cell(1, k, name).font = Font(bold=True)
        for i, v in enumerate(values, start=2):
            lists.cell(i, k, v)
    refs = {name: f"Lists!${get_column_letter(k)}$2:${get_column_letter(k)}${len(values) + 1}"
            for k, (name, values) in enumerate(_lists().items(), start=1)}
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        rng = f"{letter}2:{letter}{rows + 1}"
        lst = _column_list(col)
        if lst:
            dv = DataValidation(type="list", formula1=refs[lst], allow_blank=True, showErrorMessage=True,
                                errorTitle="Not in the list", error="Choose a value from the dropdown (or leave blank).")
        elif col == "age":
            dv = DataValidation(type="whole", operator="between", formula1="0", formula2="25", allow_blank=True,
                                showErrorMessage=True, error="Age must be a whole number from 0 to 25.")
        elif col == "weekly_cost":
            dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100000", allow_blank=True,
                                showErrorMessage=True, error="Weekly cost must be between 0 and 100,000 pounds.")
        else:
            continue
        data.add_data_validation(dv)
        dv.add(rng)
    _taxonomy_sheet(wb.create_sheet("Needs taxonomy"))
    lists.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
