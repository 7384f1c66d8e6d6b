"""The needs-profile template: sheets, dropdowns on every coded column, taxonomy, mapping, and it re-imports."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from audit import taxonomy
from audit.intake import needs as import_needs
from audit.geography import region
from audit.intake import template
from audit.cli import main
from audit.paths import TAXONOMY_CSV
from audit.intake.problems import ImportFailed

# A copy of the national Placements Data Standard ships with the package (with its licence).
STANDARD = TAXONOMY_CSV.parent / "placements-standard-v2.json"


@pytest.fixture(scope="module")
def workbook():
    return openpyxl.load_workbook(io.BytesIO(template.xlsx_bytes()))


def validations(ws) -> dict[str, object]:
    """Column letter -> the data validation covering it from row 2."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv
    return out


def list_values(wb, formula: str) -> list[str]:
    sheet, ref = formula.split("!")
    cells = wb[sheet][ref.replace("$", "")]
    return [c[0].value for c in cells]


def test_sheets_header_and_example_row(workbook):
    assert workbook.sheetnames == ["Instructions", "Children", "Lists", "Needs taxonomy"]
    ws = workbook["Children"]
    header = [c.value for c in ws[1]]
    assert header == import_needs.columns()
    assert {"child_id", "la", "age"} | set(taxonomy.codes()) <= set(header)
    example = dict(zip(header, [c.value for c in ws[2]]))
    assert example["child_id"] == "EXAMPLE" and example["la"] in region.REGION_LAS.values()
    assert {example[c] for c in taxonomy.codes()} == {"Y", "N"}
    assert workbook["Lists"].sheet_state == "hidden"


def test_every_coded_column_has_a_dropdown_with_the_right_values(workbook):
    ws = workbook["Children"]
    header = [c.value for c in ws[1]]
    dvs = validations(ws)
    letter = {col: openpyxl.utils.get_column_letter(i + 1) for i, col in enumerate(header)}
    expected = {c: ["Y", "N"] for c in taxonomy.codes() + ["dol_order"]}
    expected.update({
        "la": sorted(region.REGION_LAS.values()), "sex": ["M", "F", "X", "U"],
        "placement_type": import_needs.PLACE_CODES,
        "foster_suitability": import_needs.SUITABILITY, "residential_suitability": import_needs.SUITABILITY,
        "supported_suitability": import_needs.SUITABILITY, "cared_alongside": import_needs.CARED_ALONGSIDE,
    })
    for col, values in expected.items():
        dv = dvs[letter[col]]
        assert dv.type == "list", col
        assert list_values(workbook, dv.formula1) == values, col
        assert f"{letter[col]}2:{letter[col]}{template.ROWS + 1}" in str(dv.sqref)
    assert dvs[letter["age"]].type == "whole" and (dvs[letter["age"]].formula1, dvs[letter["age"]].formula2) == ("0", "25")
    assert dvs[letter["weekly_cost"]].type == "decimal"


def test_dropdown_values_match_the_placements_standard(workbook):
    spec = json.load(open(STANDARD))
    fields = {f["name"]: f for e in spec["entities"] for f in e["fields"]}
    assert fields["fosterCareSuitability"]["options"] == import_needs.SUITABILITY
    assert fields["livingCompanions"]["options"] == import_needs.CARED_ALONGSIDE


def test_taxonomy_sheet_defines_every_need_in_plain_english(workbook):
    ws = workbook["Needs taxonomy"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=23)]
    t = taxonomy.load()
    assert [r[0] for r in rows] == t["code"].tolist()
    assert [r[2] for r in rows] == t["label"].tolist()
    assert [r[1] for r in rows] == t["category_label"].tolist()


def test_instructions_list_the_placements_standard_mapping(workbook):
    text = [[c.value for c in r] for r in workbook["Instructions"].iter_rows()]
    flat = [v for r in text for v in r if v]
    spec = json.load(open(STANDARD))
    names = {f["name"] for e in spec["entities"] for f in e["fields"]}
    m = template.mapping()
    assert set(m["Placements Data Standard v2 field"]) <= names
    for r in m.itertuples(index=False):
        assert r[1] in flat
    assert {"riskSelfHarm", "livingCompanions", "residentialCareSuitability", "deprivationOfLiberty"} <= set(
        m["Placements Data Standard v2 field"])
    assert any("never stored" in str(v) for v in flat)


def test_empty_template_imports_as_no_children(tmp_path):
    for name, data in (("t.xlsx", template.xlsx_bytes(rows=50)), ("t.csv", template.csv_bytes())):
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(ImportFailed) as info:
            import_needs.parse(p)
        assert [x.severity for x in info.value.problems] == ["warning", "error"]
        assert "no rows of children" in info.value.problems[-1].message


def test_filled_template_loads(empty_db, tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(template.xlsx_bytes(rows=50)))
    ws = wb["Children"]
    header = [c.value for c in ws[1]]
    for i in range(3):
        row = {c: "" for c in header}
        row.update({"child_id": f"NFK-{i}", "la": "Norfolk", "age": 13 + i, "sex": "F", "home_postcode": "NR21 8",
                    "placement_type": "K2", "residential_suitability": "Preferred"})
        row.update({c: "Y" if j % (i + 2) == 0 else "N" for j, c in enumerate(taxonomy.codes())})
        ws.append([row[c] for c in header])
    p = tmp_path / "filled.xlsx"
    wb.save(p)
    r = import_needs.load(empty_db, p, "template round")
    assert r.rows == 3
    assert any("example" in w.message for w in r.warnings)
    n = empty_db.query("SELECT child_id, n_needs FROM children_enriched ORDER BY child_id")
    assert n["n_needs"].tolist()[0] > n["n_needs"].tolist()[2]


def test_csv_template_has_bom_and_the_contract_columns():
    raw = template.csv_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
    assert list(df.columns) == import_needs.columns() and df["child_id"].tolist() == ["EXAMPLE"]


def test_cli_writes_both_templates(tmp_path):
    assert main(["--db", str(tmp_path / "x.duckdb"), "template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert main(["--db", str(tmp_path / "x.duckdb"), "template", "--out", str(tmp_path / "t.csv")]) == 0
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames[1] == "Children"
    assert (tmp_path / "t.csv").read_bytes() == template.csv_bytes()
