"""Hostile and malformed files against every importer, through the CLI: exit 2, a line naming the file, database unchanged.

The corpus (tests/hostile/make_hostile.py) is generated at test time from each importer's own
good rows, so the repository holds no zip bomb; hypothesis then adds a defect to randomly
perturbed good files, and corrupts bytes at random, for every importer.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.cli import main
from audit.intake import readers
from audit.intake.problems import ImportFailed
from audit.paths import SAMPLE_DATA
from tests.conftest import file_digest
from tests.hostile import make_hostile

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


def _rows(path: Path, n: int = 6) -> list[list[str]]:
    """The header and first rows of a good sample file."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))[: n + 1]


def _ofsted_rows(n: int = 6) -> list[list[str]]:
    """A providers list as Ofsted publishes it, made from the sample's homes."""
    homes = pd.read_csv(SAMPLE_DATA / "homes.csv", dtype=str, keep_default_na=False).head(n)
    df = pd.DataFrame({"URN": homes["urn"], "Provider Type": "Children's home", "Setting name": homes["name"],
                       "Owner Name": homes["provider"], "Local Authority": homes["la"], "Max Users": homes["places"],
                       "Registration categories": "EBD"})
    return [list(df.columns)] + df.values.tolist()


Y903 = SAMPLE_DATA / "ssda903" / "2023"
# importer -> (good rows to spoil, CLI arguments with the spoiled file, where in the folder it goes)
IMPORTERS = {
    "needs": (_rows(SAMPLE_DATA / "needs.csv"), lambda f: ["import", "needs", f, "--round", "fuzz"], ""),
    "homes": (_rows(SAMPLE_DATA / "homes.csv"), lambda f: ["import", "homes", f], ""),
    "occupancy": (_rows(SAMPLE_DATA / "occupancy.csv"), lambda f: ["import", "occupancy", f], ""),
    "shortbreaks": (_rows(SAMPLE_DATA / "shortbreak_children.csv"),
                    lambda f: ["import", "shortbreaks", str(SAMPLE_DATA / "shortbreak_providers.csv"), f], ""),
    "ofsted": (_ofsted_rows(), lambda f: ["import", "ofsted", f], ""),
    "903": (_rows(Y903 / "episodes.csv"), lambda f: ["import", "903", f, str(Y903 / "header.csv")], "2023"),
}


def _run(db_path: Path, argv: list[str], capsys) -> tuple[int, list[str]]:
    """Run the CLI in this process; its exit code and stderr lines other than progress."""
    capsys.readouterr()
    rc = main(["--db", str(db_path), *argv])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("[")]
    return rc, lines


def _place(tmp: Path, importer: str, name: str, data: bytes) -> Path:
    """Write a spoiled file where its importer expects it (903 returns sit in a year folder)."""
    folder = tmp / "in" / IMPORTERS[importer][2]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _assert_refused(db_path: Path, digest: str, rc: int, lines: list[str], name: str, words: str | None = None):
    """Exit 2, at least one problem line naming the file (and saying why), the database byte-for-byte unchanged."""
    assert rc == 2, lines
    assert any(name in ln for ln in lines), lines
    if words:
        assert any(words in ln for ln in lines), lines
    assert file_digest(db_path) == digest
    leftovers = [p.name for p in db_path.parent.iterdir() if p.name.endswith((".tmp", ".wal"))]
    assert not leftovers


# -- the corpus, every file against every importer ------------------------------------------------------
@pytest.mark.parametrize("importer", sorted(IMPORTERS))
@pytest.mark.parametrize("hostile", sorted(make_hostile.CORPUS))
def test_hostile_file_is_refused_by_every_importer(sample_db, tmp_path, capsys, importer, hostile):
    rows, argv, _ = IMPORTERS[importer]
    data, words = make_hostile.CORPUS[hostile](rows)
    path = _place(tmp_path, importer, hostile, data)
    digest = file_digest(sample_db.path)
    rc, lines = _run(sample_db.path, argv(str(path)), capsys)
    _assert_refused(sample_db.path, digest, rc, lines, hostile, words)


@pytest.mark.parametrize("hostile", ["far_cell.xlsx", "zip_bomb.xlsx"])
def test_the_real_cli_process_survives_and_exits_2(sample_db, tmp_path, hostile):
    """The 1.5 KB workbook that made the parser abort the process (exit 134) now gets a one-line refusal."""
    data, words = make_hostile.CORPUS[hostile](IMPORTERS["needs"][0])
    path = _place(tmp_path, "needs", hostile, data)
    digest = file_digest(sample_db.path)
    r = subprocess.run([sys.executable, "-m", "audit.cli", "--db", str(sample_db.path), "import", "needs", str(path),
                        "--round", "x"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("[")]
    _assert_refused(sample_db.path, digest, r.returncode, lines, hostile, words)
    assert len(lines) == 1


def test_newline_in_file_name_keeps_one_line_per_problem(sample_db, tmp_path, capsys):
    rows = [list(r) for r in IMPORTERS["needs"][0]]
    rows[1][2] = "fourteen"  # one bad age, so there is a problem to report
    name = "needs\nround 2.csv"
    path = _place(tmp_path, "needs", name, make_hostile.csv_text(rows).encode())
    digest = file_digest(sample_db.path)
    rc, lines = _run(sample_db.path, ["import", "needs", str(path), "--round", "x"], capsys)
    _assert_refused(sample_db.path, digest, rc, lines, "needs\\nround 2.csv", "whole number")
    assert all(ln.startswith("needs\\nround 2.csv") for ln in lines), lines


# -- the child process's own limits (what catches a blow-up no check foresaw) -------------------------------
def test_parse_in_child_gives_the_same_frame(tmp_path):
    p = SAMPLE_DATA / "needs.csv"
    a = readers.parse_in_child(p, {"child_id", "la", "age"}, "needs.csv")
    b = readers.parse_file(p, {"child_id", "la", "age"}, "needs.csv")
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs


def test_memory_limit_turns_a_blow_up_into_a_problem(sample_db, tmp_path, capsys):
    """A sheet within every checked limit (9,900 rows x 1,000 columns) whose grid still needs 317 MB:
    under a 64 MB limit the parser aborts in the child, and the caller gets one problem line."""
    raw = make_hostile.xlsx(make_hostile.sheet_xml(IMPORTERS["needs"][0][:2], far_cell="ALL9900"))
    p = tmp_path / "dense.xlsx"
    p.write_bytes(raw)
    with pytest.raises(ImportFailed) as info:
        readers.parse_in_child(p, {"child_id"}, p.name, memory_mb=64)
    assert "memory" in str(info.value.problems[0])
    capsys.readouterr()
    digest = file_digest(sample_db.path)
    os.environ["AUDIT_PARSE_MEMORY_MB"] = "64"  # read at import: set it for the module as the CLI would see it
    try:
        readers.PARSE_MEMORY_MB, old = 64, readers.PARSE_MEMORY_MB
        rc, lines = _run(sample_db.path, ["import", "needs", str(p), "--round", "x"], capsys)
    finally:
        readers.PARSE_MEMORY_MB = old
        del os.environ["AUDIT_PARSE_MEMORY_MB"]
    _assert_refused(sample_db.path, digest, rc, lines, "dense.xlsx", "memory")
    assert len(lines) == 1  # the parser's own abort message stays in the child


def test_time_limit_turns_a_stall_into_a_problem(tmp_path):
    with pytest.raises(ImportFailed) as info:
        readers.parse_in_child(SAMPLE_DATA / "needs.csv", {"child_id"}, "needs.csv", timeout_s=0.001)
    assert "longer than" in str(info.value.problems[0])


# -- names reach maps and tables: markup and control characters are refused at the door -----------------
PAYLOADS = ["<img src=x onerror=alert(1)>", "Oak <b>House</b>", "Oak\nHouse", "Oak\x00House", "Oak\u202eesuoH"]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("target", ["homes:name", "homes:provider", "shortbreaks:name", "ofsted:Setting name",
                                    "ofsted:Owner Name"])
def test_names_with_markup_or_control_characters_are_refused(sample_db, tmp_path, capsys, target, payload):
    importer, column = target.split(":")
    if importer == "shortbreaks":
        rows = _rows(SAMPLE_DATA / "shortbreak_providers.csv")
        argv = lambda f: ["import", "shortbreaks", f, str(SAMPLE_DATA / "shortbreak_children.csv")]
    else:
        rows, argv, _ = IMPORTERS[importer]
    rows = [list(r) for r in rows]
    rows[2][rows[0].index(column)] = payload
    path = _place(tmp_path, importer, f"{importer}.csv", make_hostile.csv_text(rows).encode())
    digest = file_digest(sample_db.path)
    rc, lines = _run(sample_db.path, argv(str(path)), capsys)
    # NUL is refused by the reader for every column; the rest by the name check, naming the row.
    _assert_refused(sample_db.path, digest, rc, lines, f"{importer}.csv", "NUL" if "\x00" in payload else "row 3")


def test_plain_names_with_apostrophes_and_ampersands_still_load(empty_db, tmp_path, capsys):
    rows = [list(r) for r in IMPORTERS["homes"][0]]
    rows[1][1] = "St Mary's & St John's (Annexe) - \"The Lodge\""
    path = _place(tmp_path, "homes", "homes.csv", make_hostile.csv_text(rows).encode())
    rc, lines = _run(empty_db.path, ["import", "homes", str(path)], capsys)
    assert rc == 0, lines
    assert empty_db.scalar("SELECT name FROM homes WHERE urn = $u", {"u": rows[1][0]}) == rows[1][1]


# -- hypothesis: perturbed good files with one defect; random corruption ---------------------------------
NOISE = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
CONTROL = st.sampled_from([chr(c) for c in [*range(1, 9), *range(0x0E, 0x1C), 0x7F, *range(0x86, 0xA0)]])
DEFECTS = ["control", "duplicate_header", "truncated", "long_cell", "far_cell", "crc", "bomb"]


@pytest.mark.parametrize("importer", sorted(IMPORTERS))
@settings(FUZZ, max_examples=8)
@given(data=st.data(), defect=st.sampled_from(DEFECTS))
def test_a_perturbed_file_with_a_defect_is_refused(sample_db, tmp_path_factory, capsys, importer, data, defect):
    rows, argv, _ = IMPORTERS[importer]
    rows = [list(r) for r in rows[: data.draw(st.integers(2, len(rows)), label="rows")]]
    for _ in range(data.draw(st.integers(0, 4), label="noisy cells")):  # noise in data cells (not the header)
        r, c = data.draw(st.integers(1, len(rows) - 1)), data.draw(st.integers(0, len(rows[0]) - 1))
        rows[r][c] = data.draw(NOISE)
    r, c = data.draw(st.integers(1, len(rows) - 1)), data.draw(st.integers(0, len(rows[0]) - 1))
    if defect == "control":
        rows[r][c] = "A" + data.draw(CONTROL) + "B" + rows[r][c]
        raw, words = make_hostile.csv_text(rows).encode(), "control character"
    elif defect == "duplicate_header":
        rows = [row + [row[c]] for row in rows]
        rows[0][-1] = f" {rows[0][c].upper()} "
        raw, words = make_hostile.csv_text(rows).encode(), "twice"
    elif defect == "truncated":
        rows[-1] = rows[-1][: data.draw(st.integers(1, len(rows[0]) - 1))]
        rows[-1][-1] = rows[-1][-1] or "x"  # a non-blank last row, cut short
        raw, words = make_hostile.csv_text(rows).rstrip("\r\n").encode(), "cut off"
    elif defect == "long_cell":
        rows[r][c] = "z" * data.draw(st.integers(32_768, 40_000))
        raw, words = make_hostile.csv_text(rows).encode(), "32,767"
    else:
        make = {"far_cell": make_hostile.far_cell, "crc": make_hostile.crc_mismatch, "bomb": make_hostile.zip_bomb}[defect]
        raw, words = make(rows)
    name = f"spoiled.{'xlsx' if raw[:2] == b'PK' else 'csv'}"
    path = _place(tmp_path_factory.mktemp("fuzz"), importer, name, raw)
    digest = file_digest(sample_db.path)
    rc, lines = _run(sample_db.path, argv(str(path)), capsys)
    _assert_refused(sample_db.path, digest, rc, lines, name, words)


@FUZZ
@given(data=st.data(), importer=st.sampled_from(sorted(IMPORTERS)), as_xlsx=st.booleans())
def test_random_corruption_exits_0_or_2_and_never_half_writes(sample_db_path, tmp_path_factory, capsys, data,
                                                               importer, as_xlsx):
    rows, argv, _ = IMPORTERS[importer]
    raw = bytearray(make_hostile.xlsx(make_hostile.sheet_xml(rows)) if as_xlsx else make_hostile.csv_text(rows).encode())
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        at = data.draw(st.integers(0, len(raw)))
        cut = data.draw(st.integers(0, 8))
        raw[at:at + cut] = data.draw(st.binary(max_size=8))
    tmp = tmp_path_factory.mktemp("corrupt")
    db_path = tmp / "audit.duckdb"
    shutil.copy2(sample_db_path, db_path)
    digest = file_digest(db_path)
    name = "corrupt.xlsx" if as_xlsx else "corrupt.csv"
    path = _place(tmp, importer, name, bytes(raw))
    rc, lines = _run(db_path, argv(str(path)), capsys)
    assert rc in (0, 2), lines
    if rc == 2:
        _assert_refused(db_path, digest, rc, lines, name)
