"""What every benchmark shares: repeated timing with a spread, peak memory, result rows, the machine, the pages.

Each part (bench_build, bench_pages, bench_browser, analyses) runs in its own
process so its peak memory is its own, and writes a JSON list of result rows
that benchmarks.run gathers into one table.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
RESULTS = ROOT / "benchmarks" / "results"
DB_DIR = RESULTS / "db"
SCALES = ("regional", "national")
PACKAGES = ("streamlit", "pandas", "numpy", "duckdb", "altair", "folium", "streamlit-folium", "geopandas",
            "shapely", "scikit-learn", "stepmix", "scipy", "playwright")

# Issue 6's targets, in ms (times) or MB (memory); a row with no target is reported for information.
TARGETS = {
    ("page_warm", "regional"): 300.0,
    ("page_warm", "national"): 1000.0,
    ("browser_ratio", "regional"): 2.0,
    ("first_run", "regional"): 30_000.0,
    ("memory", "national"): 2048.0,
}


@dataclass
class Row:
    """One line of the results table: a measurement's median and spread, its target and whether it is met."""

    group: str
    name: str
    scale: str
    unit: str
    samples: list[float]
    target: float | None = None
    note: str = ""
    n: int = 0
    median: float = float("nan")
    q1: float = float("nan")
    q3: float = float("nan")
    min: float = float("nan")
    max: float = float("nan")
    status: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.samples = [float(s) for s in self.samples]
        self.n = len(self.samples)
        if self.samples:
            s = sorted(self.samples)
            self.median = statistics.median(s)
            self.min, self.max = s[0], s[-1]
            self.q1, self.q3 = quartiles(s)
        if self.target is not None and self.samples:
            self.status = "ok" if self.median <= self.target else "MISS"


def quartiles(values: list[float]) -> tuple[float, float]:
    """Lower and upper quartile (the IQR's ends); with fewer than 4 samples, min and max say more."""
    s = sorted(values)
    if len(s) < 4:
        return s[0], s[-1]
    q = statistics.quantiles(s, n=4, method="inclusive")
    return q[0], q[2]


def time_ms(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None,
            warmup: int = 0) -> list[float]:
    """Wall time of fn in ms over `repeat` runs (setup before each, untimed), after `warmup` untimed runs."""
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    out = []
    for _ in range(repeat):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Wall times in ms of `repeat` runs of fn after one warm-up, and the last result (for checks on it)."""
    out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


class Stopwatch:
    """`with Stopwatch() as sw: ...` then sw.ms: for timing a block that is not a single call."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self.t0) * 1000
        return False


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status_mb(pid: int, field_name: str = "VmHWM") -> float | None:
    """A memory line of /proc/<pid>/status in MB (VmHWM = peak resident set), or None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_child(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> tuple[float, float, int, str]:
    """Run a command to completion: wall ms, its peak RSS in MB (from wait4), exit code, and stderr's tail."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    ms = (time.perf_counter() - t0) * 1000
    return ms, usage.ru_maxrss / 1024, proc.returncode, err[-2000:]


# -- the machine ---------------------------------------------------------------
def _cpu_model() -> str:
    """The CPU model line of /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gb() -> float:
    """Installed RAM in GB from /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _chromium_version() -> str:
    """Debian chromium's version string, or 'not installed'."""
    try:
        out = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"


def machine() -> dict:
    """What the figures were measured on, so a reader can judge them (and whether the machine was busy)."""
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            versions[p] = "-"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gb": round(_mem_total_gb(), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "chromium": _chromium_version(),
        "packages": versions,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def machine_line(m: dict) -> str:
    """The machine in one line for the table's heading."""
    return (f"{m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gb']:.0f} GB RAM, Python {m['python']}, "
            f"load average at start {m['load_average'][0]:.2f}")


# -- the pages -------------------------------------------------------------------
@dataclass(frozen=True)
class PageSpec:
    """One st.Page entry of app.py: its script, title and URL path."""

    script: str
    title: str
    url_path: str
    default: bool


def pages_from_app(app: Path = APP) -> list[PageSpec]:
    """Every page the app registers, in sidebar order, so new pages are benchmarked without editing the suite.

    The app has kept its list in two shapes: st.Page("pages/x.py", ...) calls in
    app.py, and a PAGES list of (script, title, url_path) in pages/ui.py that
    app.py hands to st.navigation (the first entry is the default). Both are read.
    """
    out = _pages_in_app_py(app)
    return out or _pages_in_ui()


def _pages_in_app_py(app: Path) -> list[PageSpec]:
    """st.Page("pages/x.py", title=..., url_path=..., default=...) calls written out in app.py."""
    out = []
    for node in ast.walk(ast.parse(app.read_text())):  # ast.walk meets a list's items in order
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            continue
        script = node.args[0].value
        kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
        stem = Path(script).stem
        out.append(PageSpec(script, str(kw.get("title", stem)), str(kw.get("url_path", stem)),
                            bool(kw.get("default", False))))
    return out


def _pages_in_ui() -> list[PageSpec]:
    """pages.ui.PAGES: (script, title, url_path) tuples (an icon once stood before url_path), the first the default page."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    quiet_streamlit()
    from pages import ui

    out = []
    for i, entry in enumerate(getattr(ui, "PAGES", [])):
        script, title, url = entry[0], entry[1], entry[-1]
        stem = Path(script).stem
        out.append(PageSpec(script, title or stem, url or stem, i == 0))
    return out


def quiet_streamlit() -> None:
    """Silence Streamlit's bare-mode warnings, which would bury the table."""
    try:
        from streamlit import logger

        logger.set_log_level("error")
    except Exception:  # an older or newer Streamlit without this hook: the warnings are only noise
        pass


# -- databases ---------------------------------------------------------------------
def db_path(scale: str) -> Path:
    """Where the benchmark database of a scale lives (built by bench_build, reused by the other parts)."""
    return DB_DIR / f"{scale}.duckdb"


def ensure_db(scale: str) -> Path:
    """The scale's benchmark database, built through `audit sample` if an earlier part has not built it."""
    path = db_path(scale)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "audit.cli", "--db", str(path), "sample", "--scale", scale],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


# -- results -----------------------------------------------------------------------
def write_rows(rows: list[Row], path: Path) -> None:
    """Save a part's rows as JSON for benchmarks.run to gather."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in rows], indent=1))


def read_rows(path: Path) -> list[Row]:
    """Load a part's rows back (recomputing the summary from the samples)."""
    rows = []
    for d in json.loads(path.read_text()):
        keep = {k: d[k] for k in ("group", "name", "scale", "unit", "samples", "target", "note", "extra") if k in d}
        rows.append(Row(**keep))
    return rows


def fmt(value: float, unit: str) -> str:
    """A figure in its unit, at a precision a reader can use."""
    if value != value:
        return "-"
    if unit == "ms":
        return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:,.0f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.3g} {unit}"


def spread(r: Row) -> str:
    """IQR when there are enough samples for one, else min-max."""
    if r.n == 0:
        return ""
    if r.n == 1:
        return "(1 run)"
    label = "IQR" if r.n >= 4 else "range"
    return f"{label} {fmt(r.q1, r.unit)}-{fmt(r.q3, r.unit)}"


def table(rows: list[Row]) -> list[list[str]]:
    """Rows as text cells: what, scale, median, spread, n, target, status, note."""
    out = []
    for r in rows:
        target = "" if r.target is None else ("< " + fmt(r.target, r.unit))
        out.append([f"{r.group}: {r.name}", r.scale, fmt(r.median, r.unit), spread(r), str(r.n), target,
                    r.status, r.note])
    return out


HEADER = ["benchmark", "scale", "median", "spread", "n", "target", "status", "note"]


def print_table(rows: list[Row], file=sys.stdout) -> None:
    """The table as aligned plain text."""
    cells = [HEADER] + table(rows)
    widths = [min(max(len(c[i]) for c in cells), 60) for i in range(len(HEADER) - 1)]
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)) + "  " + c[-1], file=file)


def markdown_table(rows: list[Row]) -> str:
    """The table as Markdown (for the summary file and the README)."""
    cells = table(rows)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]
    return "\n".join(lines)


def arg_scales(values: list[str] | None) -> list[str]:
    """Scales named on a command line, in the suite's order."""
    wanted = set(values or SCALES)
    return [s for s in SCALES if s in wanted]
