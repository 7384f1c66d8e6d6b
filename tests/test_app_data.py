"""AppTest: the Data page offers the template, loads files or reports their problems, manages rounds and extracts."""

import io

import openpyxl
import pandas as pd
import pytest

from audit import extracts
from audit.paths import SAMPLE_DATA
from tests.apptest_support import add_accounts, shown_text, signed_in_as
from tests.conftest import table_snapshot

PAGE = "pages/data.py"
VIEWS = ["Template", "Load a round", "Rounds loaded", "Provision and SSDA903", "Extracts (CSV)", "Meeting pack"]
LOAD, ROUNDS, PROVISION, EXTRACTS = VIEWS[1], VIEWS[2], VIEWS[3], VIEWS[4]


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
    # the template first, then loading a round; the open demo acts as administrator, who also reads the audit log
    assert [t.label for t in at.tabs] == VIEWS + ["Audit log"]
    assert {"Template (XLSX)", "Template (CSV)"} <= set(download_labels(at))
    at = run(make_app(PAGE, view=ROUNDS))
    rounds = table_with(at, "Checksum (SHA-256)")
    assert rounds["Round"].tolist() == ["2024 sample"]
    assert rounds["Children"].iat[0] == f"{sample_db.scalar('SELECT count(*) FROM children'):,}"
    at = run(make_app(PAGE, view=EXTRACTS))
    keys = {d.proto.id for d in at.get("download_button")}
    offered = [n for n in extracts.EXTRACTS if any(f"dl_extract_{n}" in k for k in keys)]
    # Every extract but the child-level ones (one LA at a time) is offered for the whole region.
    assert set(offered) == set(extracts.EXTRACTS) - extracts.CHILD_LEVEL


def test_child_level_extract_only_for_the_viewers_own_la(make_app, sample_db):
    me = signed_in_as(add_accounts(sample_db)["norfolk_manager"])
    own = run(make_app(PAGE, la="Norfolk", view=EXTRACTS, state=me))
    ids = " ".join(d.proto.id for d in own.get("download_button"))
    assert "dl_extract_children" in ids and "dl_extract_episodes" in ids
    other = run(make_app(PAGE, la="Suffolk", view=EXTRACTS, state=me))
    assert "dl_extract_imports" in " ".join(d.proto.id for d in other.get("download_button"))  # the view is drawn
    assert "dl_extract_children" not in " ".join(d.proto.id for d in other.get("download_button"))
    meeting = run(make_app(PAGE, la="Norfolk", meeting="1", view=EXTRACTS, state=me))
    assert "dl_extract_imports" in " ".join(d.proto.id for d in meeting.get("download_button"))
    assert "dl_extract_children" not in " ".join(d.proto.id for d in meeting.get("download_button"))


def test_bad_upload_shows_validation_report_and_changes_nothing(make_app, sample_db):
    before = table_snapshot(sample_db)
    at = make_app(PAGE, view=LOAD)
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
    at = make_app(PAGE, view=LOAD)
    run(at)
    data = (SAMPLE_DATA / "needs.csv").read_bytes()
    at.file_uploader(key="needs_file").set_value(("needs.csv", data, "text/csv"))
    at.text_input(key="needs_round").set_value("2025 Q1")
    submit(at, "needs_form")
    assert any("into round **2025 Q1**" in s.value for s in at.success)
    per_la = next(d.value for d in at.dataframe if list(d.value.columns) == ["LA", "Children"])
    assert len(per_la) == 11
    assert sample_db.scalar("SELECT count(*) FROM rounds WHERE label = '2025 Q1'") == 1
    assert at.session_state["view"] == LOAD   # the import's rerun stays on the view that shows its summary


def test_template_download_is_the_real_template(make_app):
    at = run(make_app(PAGE))
    urls = {d.proto.label: d.proto.url for d in at.get("download_button")}
    assert urls["Template (XLSX)"].endswith(".xlsx") and urls["Template (CSV)"].endswith(".csv")
    # The page hands over template.xlsx_bytes(); open what the module builds and check the sheets.
    from audit.intake import template

    wb = openpyxl.load_workbook(io.BytesIO(template.xlsx_bytes()))
    assert wb.sheetnames == ["Instructions", "Children", "Lists", "Needs taxonomy"]


def test_delete_round_needs_the_label_typed(make_app, sample_db):
    at = make_app(PAGE, state={"del_round": "2024 sample"}, view=ROUNDS)
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
        own = name in extracts.CHILD_LEVEL
        la = ["--unsuppressed-for", "Norfolk"] if own else []
        assert main(["--db", str(sample_db.path), "export", name, "--out", str(out)] + la) == 0, name
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        assert raw[3:].startswith(b"UNSUPPRESSED FOR Norfolk") == own, name
        pd.read_csv(out, encoding="utf-8-sig", skiprows=1 if own else 0)  # parses as CSV
    assert main(["--db", str(sample_db.path), "export", "children", "--out", str(tmp_path / "x.csv")]) == 2
    # --la filters but never unsuppresses: child-level rows still need the explicit flag.
    assert main(["--db", str(sample_db.path), "export", "children", "--la", "Norfolk", "--out", str(tmp_path / "y.csv")]) == 2


def test_903_upload_of_several_files_makes_a_round(make_app, sample_db):
    at = make_app(PAGE, state={"data_tab": "SSDA903 returns", "data_log_open": True}, view=PROVISION)
    run(at)
    files = [(f"{p.parent.name}_{p.name}", p.read_bytes(), "text/csv")
             for p in sorted((SAMPLE_DATA / "ssda903" / "2024").glob("*.csv"))]
    at.file_uploader(key="f903_files").set_value(files)
    submit(at, "f903_form")
    assert any("Round **SSDA903 2024-03-31**" in shown_text(s.value) for s in at.success), [e.value for e in at.error]
    assert sample_db.scalar("SELECT count(*) FROM rounds WHERE source_kind = 'ssda903'") == 1
    postcodes = table_with(at, "result")
    assert set(postcodes["column"]) == {"HOME_POST", "PL_POST"}
    # The open import log now starts with this import, with its checksum.
    log = table_with(at, "import_id")
    assert log["kind"].iat[0] == "ssda903" and log["round"].iat[0] == "SSDA903 2024-03-31"
    assert log["checksum"].iat[0]


def test_ofsted_upload_with_an_unusable_file_reports_and_changes_nothing(make_app, sample_db):
    before = table_snapshot(sample_db)
    at = make_app(PAGE, state={"data_tab": "Ofsted providers list"}, view=PROVISION)
    run(at)
    at.file_uploader(key="ofsted_file").set_value(("providers.csv", b"URN,Provider type\nSC1,Children's home\n", "text/csv"))
    submit(at, "ofsted_form")
    report = table_with(at, "message")
    assert report["message"].str.contains("no column for places").any()
    assert table_snapshot(sample_db) == before


def test_tab_query_parameter_opens_the_903_tab(make_app):
    at = run(make_app(PAGE, tab="903"))
    assert at.session_state["view"] == PROVISION   # an old link opens the view that holds the tab
    assert at.session_state["data_tab"] == "SSDA903 returns"
    assert at.file_uploader(key="f903_files") and not [u for u in at.file_uploader if u.key == "homes_file"]
    v = at.query_params.get("tab")
    assert (v[0] if isinstance(v, list) else v) == "903"
    unknown = run(make_app(PAGE, tab="nonsense"))
    assert unknown.session_state["data_tab"] == "Children's homes"
    assert unknown.file_uploader(key="homes_file")


def test_default_view_is_the_template_and_a_link_opens_loading_a_round(make_app):
    at = run(make_app(PAGE))
    assert at.session_state["view"] == "Template"
    v = at.query_params.get("view")
    assert not v   # the first view keeps the URL clean
    assert "Template (XLSX)" in download_labels(at)
    assert not [u for u in at.file_uploader if u.key == "needs_file"]   # the next view is not drawn

    linked = run(make_app(PAGE, view=LOAD))
    assert linked.session_state["view"] == LOAD
    assert linked.file_uploader(key="needs_file") and linked.text_input(key="needs_round")
    assert not {"Template (XLSX)", "Template (CSV)"} & set(download_labels(linked))


def test_import_log_is_drawn_only_when_opened(make_app, sample_db):
    closed = run(make_app(PAGE, view=PROVISION))
    assert not [d for d in closed.dataframe if "import_id" in d.value.columns]
    opened = run(make_app(PAGE, state={"data_log_open": True}, view=PROVISION))
    log = table_with(opened, "import_id")
    assert len(log) == sample_db.scalar("SELECT count(*) FROM imports") > 0


def test_homes_upload_after_an_old_903_link_stays_on_the_provision_view(make_app):
    at = run(make_app(PAGE, tab="903"))
    at.session_state["data_tab"] = "Children's homes"   # as a click on the sub-tab does
    run(at)
    at.file_uploader(key="homes_file").set_value(("homes.csv", (SAMPLE_DATA / "homes.csv").read_bytes(), "text/csv"))
    submit(at, "homes_form")
    assert any(s.value.startswith("Loaded ") and " homes with " in s.value for s in at.success)
    assert at.file_uploader(key="homes_file")
