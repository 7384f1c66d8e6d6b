"""Many visitors at once: N browser sessions open the app together and stay, while the server's memory is sampled.

A regional network meeting, or a morning when every LA's manager opens the dashboard,
means many sessions on one server. This opens N separate browser contexts (each its
own Streamlit session and websocket) in headless Debian chromium, all at the same
moment, each on a page of app.py's PAGES in turn, waits until every one is fully
drawn (the same test as bench_browser), then moves every session on to its next page
at once. Meanwhile the server's resident memory (the process and any children) is
read from /proc every 0.2 s.

Reported: sessions held (drawn without an error, out of N), errors, the median and
spread of time to fully drawn in each wave, and the server's peak resident memory,
whose target at national scale is under 2 GB. The first wave starts on a freshly
started server, so it includes every cache's first fill.

Run: python -m benchmarks.bench_load --scale national [--sessions 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.bench_browser import CHROMIUM, CHROMIUM_FLAGS, DRAWN_JS, NOTHING_EXPECTED, VIEWPORT, Server, page_url
from benchmarks.common import APP, RESULTS, TARGETS, Row, ensure_db, pages_from_app, print_table, write_rows

WAVE_TIMEOUT_MS = 900_000  # the first wave on a fresh national server fills every cache at once
SAMPLE_S = 0.2


class MemoryWatch:
    """Samples a process tree's resident memory (VmRSS of the process and its children) until stopped."""

    def __init__(self, pid: int):
        self.pid, self.peak_mb, self.samples = pid, 0.0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        """The process and its descendants (a forked import or fit counts against the server too)."""
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return out

    def rss_mb(self) -> float:
        """Resident memory of the whole tree now."""
        total = 0
        for pid in self._tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError):
                pass
        return total / 1024

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            mb = self.rss_mb()
            self.samples.append(mb)
            self.peak_mb = max(self.peak_mb, mb)
            time.sleep(SAMPLE_S)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


async def _drawn(page, url: str) -> tuple[float | None, str | None]:
    """ms from navigation to fully drawn, or None and what went wrong."""
    try:
        await page.wait_for_function(DRAWN_JS, arg=NOTHING_EXPECTED, polling=250, timeout=WAVE_TIMEOUT_MS)
        if await page.locator('[data-testid="stException"]').count():
            text = await page.locator('[data-testid="stException"]').first.inner_text()
            return None, f"{url}: {' '.join(text.split())[:200]}"
        return await page.evaluate("() => window.__drawnAt"), None
    except Exception as exc:  # a session that never draws is what this benchmark is looking for
        return None, f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


async def _wave(tabs: list, urls: list[str]) -> tuple[list[float], list[str]]:
    """Every session opens its URL at the same moment; times to drawn and errors."""
    await asyncio.gather(*(t.goto(u, wait_until="commit", timeout=WAVE_TIMEOUT_MS) for t, u in zip(tabs, urls)))
    results = await asyncio.gather(*(_drawn(t, u) for t, u in zip(tabs, urls)))
    return [ms for ms, _ in results if ms is not None], [e for _, e in results if e]


async def _sessions(base: str, n: int, waves: int) -> list[tuple[list[float], list[str]]]:
    """n browser contexts (n Streamlit sessions) through `waves` rounds of pages, all moving together."""
    from playwright.async_api import async_playwright

    pages = pages_from_app()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        contexts = [await browser.new_context(viewport=VIEWPORT) for _ in range(n)]
        tabs = [await c.new_page() for c in contexts]
        out = []
        for w in range(waves):
            urls = [page_url(base, pages[(i + w) % len(pages)]) for i in range(n)]
            out.append(await _wave(tabs, urls))
        await browser.close()
    return out


def run(scale: str, n: int, waves: int) -> list[Row]:
    """Start a server on a copy of the scale's database, hold n sessions through the waves, and report."""
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    db = work / "audit.duckdb"
    shutil.copy2(ensure_db(scale), db)
    server = Server(APP, {"AUDIT_DB": str(db)})
    try:
        server.wait_healthy()
        idle_mb = MemoryWatch(server.proc.pid).rss_mb()
        t0 = time.perf_counter()
        with MemoryWatch(server.proc.pid) as mem:
            result = asyncio.run(_sessions(server.url, n, waves))
        took = time.perf_counter() - t0
        hwm = server.peak_mb()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for w, (times, errors) in enumerate(result, 1):
        what = "fresh server" if w == 1 else "caches warm"
        rows.append(Row("load", f"{n} sessions at once, wave {w} ({what}): time to drawn", scale, "ms", times,
                        note=f"{len(times)} of {n} sessions drawn, {len(errors)} errors"
                             + (f"; first: {errors[0]}" if errors else ""),
                        extra={"errors": errors}))
    held = min(len(t) for t, _ in result)
    rows.append(Row("load", f"{n} sessions: held through every wave", scale, "sessions", [float(held)],
                    target=None, note=f"{sum(len(e) for _, e in result)} errors in {waves} waves, {took:.0f} s"))
    rows.append(Row("memory", f"{n} sessions: server peak memory (process tree, sampled)", scale, "MB",
                    [mem.peak_mb], target=TARGETS.get(("memory", scale)),
                    note=f"idle after start {idle_mb:.0f} MB; VmHWM of the server process {hwm or float('nan'):.0f} MB"))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command line: one scale, N sessions, W waves; prints the rows and saves them."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="national", choices=("regional", "national"))
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--waves", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = run(args.scale, args.sessions, args.waves)
    print_table(rows)
    write_rows(rows, args.out or RESULTS / f"load-{args.scale}.json")


if __name__ == "__main__":
    main()
