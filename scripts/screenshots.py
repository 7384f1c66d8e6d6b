"""Regenerate the screenshot gallery: every page and view, normal and meeting mode, at 1366x768 and 1920x1080.

    .venv/bin/python scripts/screenshots.py [--db data/audit.duckdb] [--out screenshots] [--only map] [--la Norfolk]

Starts the app on localhost against a copy of the database (the sample is built if none is given),
drives headless Chromium through each screen and saves the first screen (what a room sees without
scrolling) as screenshots/<size>/<mode>/<page>__<view>.png, plus a full-page shot beside it.
The folder is git-ignored: the PNGs are for looking at and for the README, not for the repository.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser_support import CHROMIUM_ARGS, start_app, wait_for_app_idle  # noqa: E402
from tests.gallery import MAP, SCREENS, VISUAL, screen_name, screen_url  # noqa: E402

SIZES = {"1366x768": (1366, 768), "1920x1080": (1920, 1080)}


def database(given: str | None, tmp: Path) -> Path:
    """A private copy of the given database, or a freshly built sample (the app must not write to the original)."""
    target = tmp / "audit.duckdb"
    if given:
        shutil.copy2(given, target)
    else:
        from audit.db import Database
        from audit.sample.build import build_sample

        build_sample(Database(target))
    return target


def settle(page, visual: str) -> None:
    """Wait for the script run to finish and the key visual to be drawn (a map's tiles inside its iframe)."""
    wait_for_app_idle(page)
    try:
        if visual is None:
            return
        page.wait_for_selector(VISUAL, timeout=30_000)
        if visual == MAP:
            page.frame_locator(MAP).first.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    except Exception as exc:  # a missing visual is itself worth a screenshot
        print(f"  (key visual not drawn: {type(exc).__name__})")
    time.sleep(1.0)  # Vega-Lite and Leaflet animate in


def full_page(page, path: Path, w: int, h: int) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as the content."""
    tall = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                    return m ? m.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": w, "height": min(max(int(tall), h), 8000)})
    time.sleep(0.8)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": w, "height": h})


def main(argv: list[str] | None = None) -> int:
    """Take every screenshot; print where they went."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database to copy (default: build the synthetic sample)")
    ap.add_argument("--out", default=str(ROOT / "screenshots"))
    ap.add_argument("--only", help="only pages whose url path contains this")
    ap.add_argument("--la", help="also open every screen with this LA chosen")
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated, from " + ", ".join(SIZES))
    ap.add_argument("--modes", default="normal,meeting")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_app(database(args.db, Path(tmp)))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=CHROMIUM_ARGS, headless=True)
                for size in args.sizes.split(","):
                    w, h = SIZES[size]
                    for mode in args.modes.split(","):
                        folder = out / size / mode
                        folder.mkdir(parents=True, exist_ok=True)
                        for path, view, extra, visual in SCREENS:
                            if args.only and args.only not in path:
                                continue
                            for la in [None] + ([args.la] if args.la else []):
                                name = screen_name(path, view, la)
                                print(f"{size} {mode} {name}")
                                # A fresh tab per screen: Streamlit keeps a tab's session, so a reused tab
                                # would keep the last screen's LA and meeting toggle whatever the link says.
                                page = browser.new_page(viewport={"width": w, "height": h})
                                page.goto(screen_url(url, path, view, extra, mode == "meeting", la))
                                settle(page, visual)
                                page.screenshot(path=str(folder / f"{name}.png"))
                                full_page(page, folder / f"{name}.full.png", w, h)
                                page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"Screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
