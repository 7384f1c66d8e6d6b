"""Browser: single sign-on through Streamlit's st.login against a real local OpenID Connect provider.

oidc-provider-mock runs a provider on localhost; the app is started with an [auth] secrets file
pointing at it. No part of Streamlit or Authlib is mocked: the browser follows the real redirects.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from audit.access.store import AccessStore, cli_account
from tests.browser_support import ROOT, download_csv, free_port, wait_for_app_idle

pytestmark = pytest.mark.browser
MANAGER = "manager@norfolk.example"


@pytest.fixture
def sso_app(sample_db_path, tmp_path):
    """The app on a copy of the sample with one OIDC-only account, configured for a local provider."""
    from oidc_provider_mock import run_server_in_thread

    db = tmp_path / "audit.duckdb"
    shutil.copy2(sample_db_path, db)
    AccessStore.beside(db).add_user(MANAGER, "la_manager", "Norfolk", None, by=cli_account())
    with run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        port = free_port()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(f'''[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-of-some-length"
client_id = "eastern-audit"
client_secret = "not-a-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
''')
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "localhost", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--secrets.files", str(secrets)],
            cwd=ROOT, env={**__import__("os").environ, "AUDIT_DB": str(db)},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://localhost:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        try:
            yield url, db
        finally:
            proc.terminate()
            proc.wait(10)


def _sign_in_with_provider(page, url: str, email: str) -> None:
    """Press the app's sign-in button and tell the provider who we are."""
    page.goto(url + "/?la=Norfolk")
    page.get_by_role("button", name="Sign in with your organisation").click(timeout=60_000)
    page.locator('input[name="sub"]').first.fill(email)
    page.get_by_role("button", name="Authorize").click()


def test_oidc_sign_in_maps_the_email_to_its_account(page, sso_app):
    url, db = sso_app
    _sign_in_with_provider(page, url, MANAGER)
    page.wait_for_selector(f"text=Signed in as", timeout=90_000)
    wait_for_app_idle(page)
    assert MANAGER in page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Child-level access: Norfolk" in page.locator('[data-testid="stSidebar"]').inner_text()
    log = AccessStore.beside(db).log_frame()
    assert ((log["action"] == "sign_in") & (log["actor"] == MANAGER) & (log["detail"] == "oidc")).any()
    # Every download is logged: a chart's data (ui.download) and a child-level extract of their own LA.
    page.goto(url + "/distance?la=Norfolk")
    download_csv(page, "Download chart data (CSV)")
    page.goto(url + "/data?la=Norfolk&view=Extracts+%28CSV%29")
    page.wait_for_selector("text=Child-level needs profiles", timeout=60_000)
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has_text="audit export children")
    row.get_by_role("button", name="Download CSV").wait_for(timeout=60_000)
    wait_for_app_idle(page)
    with page.expect_download(timeout=120_000) as dl:
        row.get_by_role("button", name="Download CSV").click()
    assert "child_id" in open(dl.value.path(), encoding="utf-8-sig").readline()
    deadline = time.time() + 20
    while time.time() < deadline:
        log = AccessStore.beside(db).log_frame()
        downloads = log[(log["action"] == "download") & (log["actor"] == MANAGER)]
        if len(downloads) >= 2:
            break
        time.sleep(0.5)
    assert {"children"} <= set(downloads["view"]) and len(downloads) >= 2, downloads
    child = downloads[downloads["view"] == "children"].iloc[0]
    assert child["n_rows"] > 0 and '"la": "E10000020"' in child["filters"]


def test_oidc_sign_in_of_an_email_without_an_account_is_refused(page, sso_app):
    url, db = sso_app
    _sign_in_with_provider(page, url, "stranger@elsewhere.example")
    page.wait_for_selector("text=has no account for this audit", timeout=90_000)
    assert not page.locator('[data-testid="stMetric"]').count()
    log = AccessStore.beside(db).log_frame()
    assert ((log["action"] == "sign_in_refused") & (log["actor"] == "stranger@elsewhere.example")).any()
