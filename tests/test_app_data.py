"""AppTest: the Data page offers the template, loads files or reports their problems, manages rounds and extracts."""

import io

import openpyxl
import pandas as pd
import pytest

from audit import extracts
from audit.paths import SAMPLE_DATA
from tests.conftest import table_snapshot

PAGE = "pages/data.py"


@pytest.fixture(autouse=True)
def fresh_caches():
    """ui.database() is cached per process; these tests write, so each must open its own database."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at, form_key: str):
    """Press the submit button of one form (forms are told apart by their widgets' keys)."""
    buttons = [b for b in at.get("form_submit_button") if b.proto.form_id == form_key]
    assert buttons, form_key
    buttons[0].click()
    return run(at)


def table_with(at, column: str) -> pd.DataFrame:
    """The first table on the page that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def download_labels(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_page_shows_template_rounds_and_extracts(make_app, sample_db):
    at = run(make_app(PAGE))
    headers = [h.value for h in at.header]
    assert headers[:2] == ["1. Get the needs-profile template", "2. Load an audit round"]
    assert {"Template (XLSX)", "Template (CSV)"} <= set(download_labels(at))
    rounds = table_with(at, "Checksum (SHA-256)")
    assert rounds["Round"].tolist() == ["2024 sample"]
    assert rounds["Children"].iat[0] == f"{sample_db.scalar('SELECT count(*) FROM children'):,}"
    keys = {d.proto.id for d in at.get("download_button")}
    offered = [n for n in extracts.EXTRACTS if any(f"dl_extract_{n}" in k for k in keys)]
    # Every extract but the child-level ones is offered to a viewer with no LA of their own.
    assert set(offered) == set(extracts.EXTRACTS) - extracts.CHILD_LEVEL


def test_child_level_extract_only_for_the_viewers_own_la(make_app, monkeypatch):
    monkeypatch.setenv("AUDIT_VIEWER_LAS", "Norfolk")
    own = run(make_app(PAGE, la="Norfolk"))
    ids = " ".join(d.proto.id for d in own.get("download_button"))
    assert "dl_extract_children" in ids and "dl_extract_episodes" in ids
    other = run(make_app(PAGE, la="Suffolk"))
    assert "dl_extract_children" not in " ".join(d.proto.id for d in other.get("download_button"))
    meeting = run(make_app(PAGE, la="Norfolk", meeting="1"))
    assert "dl_extract_children" not in " ".join(d.proto.id for d in meeting.get("download_button"))


def test_bad_upload_shows_validation_report_and_changes_nothing(make_app, sample_db):
    before = table_snapshot(sample_db)
    at = make_app(PAGE)
    run(at)
    df = pd.read_csv(SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False).head(3)
    df.loc[0, ["la", "age"]] = ["Atlantis", "99"]
    bad = df.to_csv(index=False).encode()
    at.file_uploader(key="needs_file").set_value(("bad.csv", bad, "text/csv"))
    at.text_input(key="needs_round").set_value("2025 Q1")
    submit(at, "needs_form")
    assert any("Nothing was loaded" in e.value for e in at.error)
    report = table_with(at, "message")
    assert {"la", "age"} <= set(report["column"].dropna())
    la_row = report[report["column"] == "la"].iloc[0]
    assert la_row["file"] == "bad.csv" and int(la_row["row"]) == 2 and la_row["value"] == "Atlantis"
    assert "Download the validation report (CSV)" in download_labels(at)
    assert table_snapshot(sample_db) == before


def test_good_upload_shows_summary_and_adds_the_round(make_app, sample_db):
    at = make_app(PAGE)
    run(at)
    data = (SAMPLE_DATA / "needs.csv").read_bytes()
    at.file_uploader(key="needs_file").set_value(("needs.csv", data, "text/csv"))
    at.text_input(key="needs_round").set_value("2025 Q1")
    submit(at, "needs_form")
    assert any("into round **2025 Q1**" in s.value for s in at.success)
    per_la = next(d.value for d in at.dataframe if list(d.value.columns) == ["LA", "Children"])
    assert len(per_la) == 11
    assert sample_db.scalar("SELECT count(*) FROM rounds WHERE label = '2025 Q1'") == 1


def test_template_download_is_the_real_template(make_app):
    at = run(make_app(PAGE))
    # The page hands over template.xlsx_bytes(); open what the module builds and check the sheets.
    from audit import template

    wb = openpyxl.load_workbook(io.BytesIO(template.xlsx_bytes()))
    assert wb.sheetnames == ["Instructions", "Children", "Lists", "Needs taxonomy"]


def test_delete_round_needs_the_label_typed(make_app, sample_db):
    at = make_app(PAGE, state={"del_round": "2024 sample"})
    run(at)
    button = at.button(key="del_go")
    assert button.disabled
    at.text_input(key="del_confirm").set_value("2024 sample")
    run(at)
    at.button(key="del_go").click()
    run(at)
    assert sample_db.scalar("SELECT count(*) FROM rounds") == 0


def test_every_extract_exports_from_the_command_line(sample_db, tmp_path):
    from audit.cli import main

    for name in extracts.EXTRACTS:
        out = tmp_path / f"{name}.csv"
        la = ["--la", "Norfolk"] if name in extracts.CHILD_LEVEL else []
        assert main(["--db", str(sample_db.path), "export", name, "--out", str(out)] + la) == 0, name
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        pd.read_csv(out, encoding="utf-8-sig")  # parses as CSV
    assert main(["--db", str(sample_db.path), "export", "children", "--out", str(tmp_path / "x.csv")]) == 2


def test_903_upload_of_several_files_makes_a_round(make_app, sample_db):
    at = make_app(PAGE)
    run(at)
    files = [(f"{p.parent.name}_{p.name}", p.read_bytes(), "text/csv")
             for p in sorted((SAMPLE_DATA / "ssda903" / "2024").glob("*.csv"))]
    at.file_uploader(key="f903_files").set_value(files)
    submit(at, "f903_form")
    assert any("Round **SSDA903 2024-03-31**" in s.value for s in at.success), [e.value for e in at.error]
    assert sample_db.scalar("SELECT count(*) FROM rounds WHERE source_kind = 'ssda903'") == 1
    postcodes = table_with(at, "result")
    assert set(postcodes["column"]) == {"HOME_POST", "PL_POST"}


def test_ofsted_upload_with_an_unusable_file_reports_and_changes_nothing(make_app, sample_db):
    before = table_snapshot(sample_db)
    at = make_app(PAGE)
    run(at)
    at.file_uploader(key="ofsted_file").set_value(("providers.csv", b"URN,Provider type\nSC1,Children's home\n", "text/csv"))
    submit(at, "ofsted_form")
    report = table_with(at, "message")
    assert report["message"].str.contains("no column for places").any()
    assert table_snapshot(sample_db) == before


def test_tab_query_parameter_opens_the_903_tab(make_app):
    at = run(make_app(PAGE, tab="903"))
    assert at.session_state["data_tab"] == "SSDA903 returns"
    v = at.query_params.get("tab")
    assert (v[0] if isinstance(v, list) else v) == "903"
    unknown = run(make_app(PAGE, tab="nonsense"))
    assert unknown.session_state["data_tab"] == "Children's homes"
