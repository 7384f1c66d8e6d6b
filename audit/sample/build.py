"""Build a whole database from the synthetic sample, through the same importers real files use."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from audit.intake import ssda903 as import_903
from audit.intake import provision as import_provision
from audit import rounds
from audit.db import Database, WriteError
from audit.paths import SAMPLE_DATA

SAMPLE_ROUND = "2024 sample"
SSDA903_FOLDER = "ssda903"  # a folder of SSDA903 returns beside the contract files, if any
SAMPLE_FILES = ["needs.csv", "homes.csv", "occupancy.csv", "shortbreak_providers.csv", "shortbreak_children.csv"]

Progress = Callable[[float, str], None]


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that do not show progress."""


def load_files(db: Database, folder: Path, round_label: str, is_sample: bool, progress: Progress = _noop) -> dict:
    """Load homes, occupancy, short breaks, needs and (if the folder has ssda903/) 903 history from contract files."""
    progress(0.05, "Creating the database")
    db.init()
    progress(0.15, "Importing children's homes")
    homes = import_provision.load_homes(db, folder / "homes.csv")
    progress(0.3, "Importing which LAs use which places")
    occ = import_provision.load_occupancy(db, folder / "occupancy.csv")
    progress(0.4, "Importing short breaks")
    sb = import_provision.load_shortbreaks(db, folder / "shortbreak_providers.csv", folder / "shortbreak_children.csv")
    returns = folder / SSDA903_FOLDER
    history = None
    if returns.is_dir():
        # Episode history only, for the forecast: the needs round below already holds these children.
        progress(0.45, "Importing SSDA903 returns (placement history for the forecast)")
        history = import_903.load(db, [returns], derive_round=False,
                                  progress=lambda f, t: progress(0.45 + 0.15 * f, f"SSDA903: {t}"))
    progress(0.6, "Importing the needs audit")
    # Maps, matching and forecasts use each child's cohort: fitted and stored with the round, as for any import.
    needs = rounds.load_needs(db, folder / "needs.csv", round_label, is_sample=is_sample,
                              progress=lambda f, t: progress(0.6 + 0.38 * f, t))
    if is_sample:
        with db.write() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES ('sample', 'yes')")
    progress(1.0, "Ready")
    return {"homes": homes["homes"], "places": homes["places"], "occupancy_rows": occ["rows"],
            "shortbreak_children": sb["children"], "children": needs.rows,
            "episodes": history.episodes if history else 0}


def build_sample(db: Database, scale: str = "regional", seed: int | None = None, progress: Progress = _noop) -> dict:
    """Replace the database with the synthetic sample in one atomic step.

    The regional sample is read from the committed sample_data/ files; other
    scales or seeds are generated first. Either way the files go through the
    ordinary importers, so the sample exercises the real import path.
    """
    # Holding the writer lock for the whole build: an import cannot be based on the file this replaces, and
    # the staging folder is provably in use while the lock is held (so the next start may remove it if killed).
    with db.writer_lock() as target:
        db.check_writable(target)
        try:
            work_dir = tempfile.TemporaryDirectory(dir=target.parent, prefix=target.name + ".sample-")
        except OSError as exc:
            raise WriteError(f"{target.parent}: cannot build the sample here ({exc.strerror}); nothing was changed") from None
        with work_dir as work:
            work = Path(work)
            folder = SAMPLE_DATA
            if scale != "regional" or seed is not None:
                from audit.sample import generate as sample

                progress(0.02, f"Generating the {scale} sample")
                folder = work / "files"
                sample.write_sample(folder, scale=scale, **({"seed": seed} if seed is not None else {}))
                progress(0.03, f"Generating the {scale} sample's SSDA903 returns")
                sample.write_903(folder, scale=scale)
            staging = Database(work / "staging.duckdb")
            summary = load_files(staging, folder, SAMPLE_ROUND, True, progress)
            staging.close()
            db.close()
            os.replace(staging.path, target)
    return summary


def ensure_database(db: Database, progress: Progress = _noop) -> bool:
    """Build the sample database on first run; True when one was built."""
    if db.exists():
        return False
    with db.writer_lock():  # two browser tabs on first run build it once; an import waits for the build
        if db.exists():
            return False
        build_sample(db, progress=progress)
    return True
