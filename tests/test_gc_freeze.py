"""The app takes its libraries out of the garbage collector's way, so Streamlit's collection after every run is quick."""

import gc
import sys

from pages import ui
from tests.apptest_support import run_page


def test_after_a_page_runs_the_loaded_libraries_are_frozen(app):
    run_page(app, "pages/needs.py")
    # Streamlit collects garbage after every run; what it must walk is what is not frozen.
    assert gc.get_freeze_count() > 100_000
    assert len(gc.get_objects()) < gc.get_freeze_count() / 10
    assert ui._modules_frozen == len(sys.modules)


def test_a_newly_imported_module_is_frozen_on_the_next_run(app):
    run_page(app, "pages/needs.py")
    before = gc.get_freeze_count()
    import email.mime.multipart  # noqa: F401  a module the app has not loaded: any new import counts
    assert ui._modules_frozen != len(sys.modules)
    run_page(app, "pages/data.py")
    assert ui._modules_frozen == len(sys.modules)
    assert gc.get_freeze_count() > before
