"""Shared fixtures: a sample database built once through the real import path."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from audit.db import Database


@pytest.fixture(scope="session")
def sample_db_path(tmp_path_factory) -> Path:
    """The regional sample, built once per test session from sample_data/."""
    from audit.sample.build import build_sample

    path = tmp_path_factory.mktemp("sample") / "audit.duckdb"
    build_sample(Database(path))
    return path


@pytest.fixture
def sample_db(sample_db_path, tmp_path) -> Database:
    """A private copy of the sample database that a test may change."""
    path = tmp_path / "audit.duckdb"
    shutil.copy2(sample_db_path, path)
    db = Database(path)
    yield db
    db.close()


@pytest.fixture
def empty_db(tmp_path) -> Database:
    """A database with the schema and reference tables only."""
    db = Database(tmp_path / "empty.duckdb")
    db.init()
    yield db
    db.close()


def file_digest(path: Path) -> str:
    """Content hash of a database file, to prove a failed import changed nothing."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table_snapshot(db: Database) -> dict:
    """Every table's full contents, sorted, for before/after comparisons."""
    tables = db.query("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")["table_name"]
    snap = {}
    for t in tables:
        df = db.query(f"SELECT * FROM {t}")
        snap[t] = df.sort_values(list(df.columns)).reset_index(drop=True).to_csv() if len(df.columns) else ""
    return snap


ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def make_app(sample_db, monkeypatch):
    """Factory for an AppTest of the whole app on a private sample database.

    make_app("pages/map.py", la="Norfolk") opens that page with those query parameters;
    state={"f_age": "16-17"} presets widget values by key. Note: in an st.navigation app,
    AppTest's second .run() executes only the page script, not app.py, so drive widgets by
    presetting their session-state keys before the first run rather than set_value().run().
    """
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AUDIT_DB", str(sample_db.path))
    monkeypatch.delenv("AUDIT_VIEWER_LAS", raising=False)

    import streamlit as st

    # Cached results are keyed by the database file's version, but start each test clean anyway.
    st.cache_resource.clear()
    st.cache_data.clear()

    def make(page: str | None = None, state: dict | None = None, **query):
        at = AppTest.from_file(APP, default_timeout=90)
        for key, value in (state or {}).items():
            at.session_state[key] = value
        for key, value in query.items():
            at.query_params[key] = value
        if page:
            at.switch_page(page)
        return at

    return make


@pytest.fixture
def app(make_app):
    """The AppTest factory under the name the page tests use."""
    return make_app


# -- browser tests ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium (Playwright cannot download its own browser here), with quiet-network flags."""
    from tests.browser_support import CHROMIUM_ARGS

    return {"executable_path": shutil.which("chromium") or "/usr/bin/chromium", "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args():
    """A desktop-sized window that accepts downloads."""
    return {"viewport": {"width": 1440, "height": 1000}, "accept_downloads": True}


@pytest.fixture(scope="module")
def app_url(sample_db_path, tmp_path_factory):
    """The real app served on localhost from a copy of the sample database, for one test module."""
    from tests.browser_support import start_app

    db = tmp_path_factory.mktemp("browser") / "audit.duckdb"
    shutil.copy2(sample_db_path, db)
    proc, url = start_app(db)
    yield url
    proc.terminate()
    proc.wait(10)
