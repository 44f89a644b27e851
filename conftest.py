"""Run the MyST-Markdown chapters under nbval: `pytest --nbval-lax chapters -n 2`.

nbval collects only .ipynb files; this collector reads chapters/*.md with jupytext and hands the
notebook to nbval, which then runs every code cell (hidden checks included) in one kernel per
chapter. The chapters have no stored outputs, so only --nbval-lax makes sense for them.
"""

import os
from pathlib import Path
from unittest import mock

import pytest

CHAPTERS = Path(__file__).parent / "chapters"


def _nbval_on(config):
    return bool(getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False))


def pytest_addoption(parser):
    group = parser.getgroup("vglab")
    group.addoption("--backend", choices=("numpy", "torch", "both"), default=None,
                    help="run the unit tests on this backend only (default both; env VGLAB_TEST_BACKENDS; "
                         "read by tests/conftest.py)")
    group.addoption("--device", default=None,
                    help="the torch device of the unit tests, e.g. cuda (env VGLAB_TEST_DEVICE); "
                         "without CUDA a cuda run is skipped with a message")


def pytest_configure(config):
    if _nbval_on(config):
        # What `make test` exports: static explorers, no progress bars, and figures kept
        # (MPLBACKEND=Agg silently drops every figure). The kernels inherit this environment.
        os.environ.setdefault("VGLAB_STATIC", "1")
        os.environ.pop("MPLBACKEND", None)
        # Run the chapters with this interpreter (where vglab is installed), not whatever
        # "python3" kernel happens to be registered.
        if not config.option.nbval_kernel_name:
            config.option.nbval_current_env = True


def pytest_collect_file(file_path, parent):
    if _nbval_on(parent.config) and file_path.suffix == ".md" and file_path.parent == CHAPTERS:
        if MystNotebook is None:
            raise pytest.UsageError("running chapters/*.md under nbval needs jupytext")
        return MystNotebook.from_parent(parent, path=file_path)
    return None


def pytest_ignore_collect(collection_path, config):
    # A paired chapters/*.ipynb (for Colab) is the same chapter as its .md: run it once.
    if collection_path.suffix == ".ipynb" and collection_path.parent == CHAPTERS:
        return collection_path.with_suffix(".md").exists() or None
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    # The cells of a chapter share one kernel: send each chapter to a single worker.
    if _nbval_on(config):
        from xdist.scheduler import LoadFileScheduling

        return LoadFileScheduling(config, log)
    return None


try:
    import jupytext
    import nbval.plugin
except ImportError:  # no nbval: no --nbval option, nothing to collect; no jupytext: UsageError
    MystNotebook = None
else:

    class MystNotebook(nbval.plugin.IPyNbFile):
        """A chapter notebook stored as MyST Markdown."""

        def collect(self):
            nb = jupytext.read(self.path)
            for cell in nb.cells:  # cells the book does not run either (a reader's exercise stub)
                tags = cell.metadata.get("tags", [])
                if "skip-execution" in tags and "nbval-skip" not in tags:
                    cell.metadata["tags"] = [*tags, "nbval-skip"]
            with mock.patch.object(nbval.plugin.nbformat, "read", lambda *a, **k: nb):
                yield from super().collect()
