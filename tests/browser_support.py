"""Run the real app in a subprocess for browser tests, against a copy of the sample database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    """An unused localhost port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db_path: Path, env_extra: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` on localhost and wait until it answers its health check."""
    port = free_port()
    env = dict(os.environ, AUDIT_DB=str(db_path), **(env_extra or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited: " + proc.stderr.read().decode()[-2000:])
    proc.kill()
    raise RuntimeError("streamlit did not start within 60 s")


def wait_for_app_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !/Running|Connecting/i.test(s.innerText); }""",
        timeout=timeout,
    )


def download_csv(page, label: str, last: bool = False):
    """Click the download button with this label (the first, or the last) and return its file name, bytes and table."""
    import io

    import pandas as pd

    buttons = page.get_by_test_id("stDownloadButton").filter(has_text=label)
    button = buttons.last if last else buttons.first
    button.wait_for(timeout=60_000)
    # A click during a script run can hit a button whose file the run is about to replace: no download comes.
    wait_for_app_idle(page)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    raw = open(info.value.path(), "rb").read()
    return info.value.suggested_filename, raw, pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
