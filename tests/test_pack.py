"""The meeting pack: open the PowerPoint and PDF it writes and check what a meeting would circulate.

The figures are read back from the files (python-pptx, pypdf) and compared with the
app's extracts for the same filters, value by value, parsing the text the pack shows
rather than re-using its formatter.
"""

from __future__ import annotations

import io
import re
import shutil

import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader

from audit import extracts, pack
from audit.cli import main
from audit.db import Database
from audit.filters import Filters
from audit.geography import region
from audit.pack import slides
from audit.suppress import PUBLIC, Viewer
from tests.conftest import file_digest

COUNT = re.compile(r"\d[\d,]*")


@pytest.fixture(scope="module")
def regional(sample_db_path, tmp_path_factory):
    """A full regional pack with every default view, and its deck and PDF, built once for the module."""
    path = tmp_path_factory.mktemp("pack") / "audit.duckdb"
    shutil.copy2(sample_db_path, path)
    db = Database(path)
    built = slides.build(db)
    yield db, built, pack.render(built, ".pptx"), pack.render(built, ".pdf")
    db.close()


def _deck(data: bytes):
    """The slides of a deck as python-pptx reads them."""
    return list(Presentation(io.BytesIO(data)).slides)


def _tables(slide) -> list[list[list[str]]]:
    """Every table on a slide as rows of cell text (header row first)."""
    return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]


def _pictures(slide) -> list:
    """Every picture on a slide."""
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def _number(text: str) -> float:
    """A figure as the pack prints it ('£5,999', '1,234', '57.9') as a number."""
    return float(text.replace("£", "").replace(",", ""))


def test_the_deck_has_a_first_slide_one_slide_per_view_and_a_closing_slide(regional):
    db, built, deck, _ = regional
    shown = _deck(deck)
    # Every default view the sample supports: the sample has no saved planning scenarios, said on the closing slide.
    assert [s.key for s in built.slides] == [v for v in slides.DEFAULT_VIEWS if v != "scenarios"]
    assert set(built.skipped) == {"scenarios"}
    assert len(shown) == len(built.slides) + 2 == 9
    first = " ".join(sh.text_frame.text for sh in shown[0].shapes if sh.has_text_frame)
    assert shown[0].shapes.title.text == "Needs audit: Eastern region"
    assert "Eastern region" in first and "2024 sample" in first and str(built.built.year) in first
    assert [s.shapes.title.text for s in shown[1:-1]] == [s.title for s in built.slides]
    closing = " ".join(sh.text_frame.text for sh in shown[-1].shapes if sh.has_text_frame)
    assert "Method notes and glossary" in closing and "Co-occurring needs:" in closing
    assert "Not in this pack: scenarios: no planning scenarios are saved" in closing
    assert "complex needs" not in " ".join(sh.text_frame.text for s in shown for sh in s.shapes if sh.has_text_frame)


def test_every_view_has_its_picture_with_alt_text_a_real_table_and_its_source(regional):
    _, built, deck, _ = regional
    for slide, s in zip(_deck(deck)[1:-1], built.slides):
        pics = _pictures(slide)
        assert len(pics) == 1, s.key
        alt = pics[0]._element.nvPicPr.cNvPr.get("descr")
        assert alt and s.takeaway in alt and len(alt) > len(s.takeaway) + 30, s.key
        assert pics[0].image.content_type == "image/png" and len(pics[0].image.blob) > 20_000
        tables = _tables(slide)
        assert len(tables) == 1 and tables[0][0] == s.table.columns, s.key
        text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
        assert s.takeaway in text and "Data as at" in text and "Source:" in text


def test_no_table_cell_in_the_pack_is_a_count_of_1_to_4(regional):
    _, built, deck, _ = regional
    cells = [c for slide in _deck(deck) for t in _tables(slide) for row in t[1:] for c in row]
    small = [c for c in cells if COUNT.fullmatch(c) and 1 <= int(c.replace(",", "")) <= 4]
    assert not small
    # The protection was exercised, not vacuous: the sample's gap tables hide small towns.
    assert "<5" in cells


def _extract_rows(db, built, s) -> pd.DataFrame:
    """The extract a slide's table comes from, for the same round and LA, as the public sees it."""
    f = Filters(round_id=built.scope.filters.round_id, la=built.scope.filters.la)
    return extracts.EXTRACTS[s.table.extract][1](db, f, PUBLIC)


def test_the_tables_figures_are_the_extracts_figures(regional):
    db, built, deck, _ = regional
    checked = 0
    for slide, s in zip(_deck(deck)[1:-1], built.slides):
        table = _tables(slide)[0]
        source = _extract_rows(db, built, s)
        if s.key == "forecast":
            source = source[(source["la"] == "TOTAL") & (source["year"] == source["year"].max())]
        # The pack prints these extract columns, in this order (its headings are shorter).
        columns = {"overview": ["LA", "Children", "Mean needs", "% with 4+ needs", "% over 20 miles",
                                "Avg weekly cost (£)"],
                   "needs": ["Need", "Children", "% of children", "Nuffield FJO %"],
                   "cohorts": ["Cohort", "Children", "% of children", "% over 20 miles", "Weekly cost (£)"],
                   "gaps_short_breaks": ["town", "la", "demand", "gap_score", "nearest_supply", "nearest_km"],
                   "gaps_residential": ["town", "la", "demand", "gap_score", "nearest_supply", "nearest_km"],
                   "distance": ["LA", "Children", "Median km", "% over 20 miles", "% outside own LA",
                                "% outside the region"],
                   "forecast": ["category", "observed", "demand", "lower", "upper"]}[s.key]
        rows = table[1:]
        assert len(rows) == min(len(source), 10 if s.key.startswith("gaps") else len(source)), s.key
        for shown, (_, want) in zip(rows, source[columns].iterrows()):
            for text, (col, value) in zip(shown[1:], list(want.items())[1:]):
                if isinstance(value, str):
                    assert text == value, (s.key, col, text, value)
                elif value is None or pd.isna(value):
                    assert text == "–", (s.key, col, text)
                else:
                    assert _number(text) == pytest.approx(float(value), abs=0.5 if "£" in col else 1e-9), (s.key, col)
                checked += 1
    assert checked > 250


def test_the_pdf_has_the_same_pages_titles_and_figures(regional):
    _, built, deck, pdf = regional
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(_deck(deck)) == len(built.slides) + 2
    assert "Eastern region" in reader.metadata.title and "2024 sample" in reader.metadata.title
    squash = lambda t: re.sub(r"\s+", " ", t)
    for page, s in zip(reader.pages[1:-1], built.slides):
        text = squash(page.extract_text())
        assert s.title in text
        assert squash(s.takeaway)[:60] in text
        for row in s.table.rows[:3]:
            assert row[-1] in text  # the last figure of the first rows is printed as text, not in a picture
        assert len(page.images) == 1, s.key
    # Every picture has alt text in the tagged structure tree (what screen readers read).
    tree = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    alts = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, dict) or hasattr(node, "keys"):
            if "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            if kids is not None:
                for k in kids if isinstance(kids, list) else [kids]:
                    if hasattr(k, "get_object"):
                        walk(k)
        elif isinstance(node, list):
            for k in node:
                walk(k)

    walk(tree)
    assert sorted(alts) == sorted(s.picture.alt for s in built.slides)


def test_an_la_pack_is_the_public_view_and_its_name_says_la_round_and_date(sample_db):
    built = slides.build(sample_db, la="Norfolk", views=["overview", "gaps_residential"])
    assert built.scope.viewer is PUBLIC and built.scope.filters.la == region.la_code("Norfolk")
    name = pack.file_name(built, ".pdf")
    assert name == f"needs-audit-pack_Norfolk_2024-sample_{built.built:%Y-%m-%d}.pdf"
    overview_table = built.slides[0].table
    assert [overview_table.rows[i][0] for i in overview_table.highlight] == ["Norfolk"]  # the chosen LA, in bold
    gaps = built.slides[1]
    # Norfolk's own viewer would see its small towns' children; the pack never does.
    own = extracts.EXTRACTS["gaps_residential"][1](sample_db, built.scope.filters,
                                                   Viewer(child_level_las=frozenset({region.la_code("Norfolk")})))
    public = extracts.EXTRACTS["gaps_residential"][1](sample_db, built.scope.filters, PUBLIC)
    assert (own["demand"].astype(str) != public["demand"].astype(str)).any()
    assert [r[2] for r in gaps.table.rows] == [slides.cell(v) for v in public["demand"].head(10)]
    assert all(t == "Norfolk" for t in (r[1] for r in gaps.table.rows))
    assert "Norfolk" in gaps.takeaway


def test_cli_writes_the_pack_and_refuses_bad_input(sample_db, tmp_path, capsys):
    before = file_digest(sample_db.path)
    out = tmp_path / "pack.pdf"
    rc = main(["pack", "--db", str(sample_db.path), "--out", str(out), "--la", "Norfolk",
               "--views", "overview,distance"])
    assert rc == 0
    reader = PdfReader(out)
    assert len(reader.pages) == 4
    assert "Norfolk" in reader.pages[0].extract_text() and "Distance from home: Norfolk" in reader.pages[2].extract_text()
    assert "4 slides" in capsys.readouterr().out
    folder = tmp_path / "packs"
    folder.mkdir()
    assert main(["pack", "--db", str(sample_db.path), "--out", str(folder), "--views", "overview"]) == 0
    made = list(folder.iterdir())
    assert len(made) == 1 and re.fullmatch(r"needs-audit-pack_Eastern-region_2024-sample_\d{4}-\d\d-\d\d\.pptx",
                                           made[0].name)
    assert len(_deck(made[0].read_bytes())) == 3
    for bad, message in ((["--views", "overview,nonsense"], "unknown view"), (["--la", "Atlantis"], "not one of"),
                         (["--round", "1999"], "not found")):
        assert main(["pack", "--db", str(sample_db.path), "--out", str(tmp_path / "x.pptx"), *bad]) == 2
        assert message in capsys.readouterr().err
    assert main(["pack", "--db", str(sample_db.path), "--out", str(tmp_path / "x.docx")]) == 2
    assert ".pptx or .pdf" in capsys.readouterr().err
    assert file_digest(sample_db.path) == before


def _statuses(node) -> list[str]:
    """Labels of every st.status box on the page."""
    found = [node.proto.label] if getattr(node, "type", None) == "status" else []
    for child in getattr(node, "children", {}).values():
        found += _statuses(child)
    return found


def test_data_page_button_makes_the_pack_with_progress_and_offers_the_download(make_app, monkeypatch):
    # Even a viewer who may see Norfolk's child-level data gets the public pack.
    monkeypatch.setenv("AUDIT_VIEWER_LAS", "Norfolk")
    at = make_app("pages/data.py", la="Norfolk", view="Meeting pack",
                  state={"pack_views": ["overview", "gaps_residential"], "pack_format": ".pptx"}).run()
    assert not at.exception, at.exception
    assert not [d for d in at.get("download_button") if "pack" in d.proto.label] and not _statuses(at.main)
    at.button(key="pack_go").click()
    at.run()
    assert not at.exception, at.exception
    assert _statuses(at.main) == ["Meeting pack ready"]  # the progress box, closed once the pack is made
    name, data, n, _ = at.session_state["pack_file"]
    assert n == 4 and name.startswith("needs-audit-pack_Norfolk_2024-sample_") and name.endswith(".pptx")
    labels = [d.proto.label for d in at.get("download_button")]
    assert f"Download {name} (4 slides)" in labels
    shown = _deck(data)
    assert [s.shapes.title.text for s in shown[1:3]] == ["Children in the audit: Norfolk",
                                                         "Gaps in children's home places: Norfolk"]
    cells = [c for slide in shown for t in _tables(slide) for row in t[1:] for c in row]
    assert not [c for c in cells if COUNT.fullmatch(c) and 1 <= int(c.replace(",", "")) <= 4]
    table = next(s for s in shown[1].shapes if s.has_table).table
    bold = [row.cells[0].text for row in list(table.rows)[1:] if row.cells[0].text_frame.paragraphs[0].font.bold]
    assert bold == ["Norfolk"]


def test_saved_scenarios_get_a_slide_with_the_planners_comparison(sample_db, tmp_path):
    from audit.analysis import scenarios

    for name, homes in (("Three homes", "3"), ("One home", "1")):
        assert main(["--db", str(sample_db.path), "plan", "--homes", homes, "--places", "4", "--save", name,
                     "--out", str(tmp_path / f"{homes}.csv")]) == 0
    built = slides.build(sample_db, views=["scenarios"])
    s = next(x for x in built.slides if x.key == "scenarios")
    assert s.table.columns[1:] == ["One home", "Three homes"]  # newest first, as the page lists them
    round_id = int(sample_db.scalar("SELECT max(round_id) FROM rounds"))
    page = scenarios.compare(sample_db, round_id, ["One home", "Three homes"], PUBLIC).set_index("Figure")
    for row in s.table.rows:
        assert row[1:] == [page.loc[row[0], "One home"], page.loc[row[0], "Three homes"]], row[0]
    # The takeaway names the plan bringing the most children within reach, with the figure the table shows.
    shown = page.loc["Brought within reach"]
    assert "'Three homes' brings the most children within reach (" + shown["Three homes"] + ")" in s.takeaway
    deck = _deck(pack.render(built, ".pptx"))
    assert any("Saved planning scenarios" in (sh.text_frame.text if sh.has_text_frame else "")
               for sl in deck for sh in sl.shapes)


def test_no_saved_scenarios_leaves_the_view_out_and_says_why(sample_db):
    built = slides.build(sample_db, views=["scenarios", "overview"])
    assert [s.key for s in built.slides if s.key in ("scenarios", "overview")] == ["overview"]
    assert "no planning scenarios" in built.skipped["scenarios"]
