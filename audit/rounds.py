"""Loading a needs round end to end: the import, then the round's cohorts, so no visitor waits for a fit.

Cohorts are fitted on the whole round once, here, and stored; every page, map and extract
then reads the stored cohorts. A round whose needs cannot be grouped (too few distinct
patterns) still loads: the cohort pages say why there are none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from audit.analysis import cohort_store
from audit.analysis.cohorts import TooFewPatterns
from audit.db import Database
from audit.intake import needs as import_needs
from audit.intake.problems import Problem

Progress = Callable[[float, str], None]
IMPORT_SHARE = 0.6  # of the progress bar: the rest is the cohort fit, the slower part at national scale


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that show none."""


def load_needs(db: Database, path: str | Path, round_label: str, *, group: bool = True,
               progress: Progress | None = None, **options) -> import_needs.NeedsImport:
    """Import a needs file (see intake.needs.load for the options) and fit and store its round's cohorts."""
    progress = progress or _noop
    result = import_needs.load(db, path, round_label, progress=lambda f, t: progress(IMPORT_SHARE * f, t), **options)
    if group and result.round_id is not None:
        group_round(db, result, lambda f, t: progress(IMPORT_SHARE + (1 - IMPORT_SHARE) * f, f"Cohorts: {t}"))
    progress(1.0, "Round loaded")
    return result


def group_round(db: Database, result: import_needs.NeedsImport, progress: Progress) -> None:
    """Fit and store the round's cohorts; a round too uniform to group gets a warning, not a failed import."""
    try:
        cohort_store.fit_and_store(db, result.round_id, progress=progress)
    except TooFewPatterns as exc:
        result.warnings.append(Problem(result.round_label, None, None, None,
                                       f"no cohorts for this round: {exc}", severity="warning"))
