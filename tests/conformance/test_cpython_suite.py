"""CPython's own ctypes test suite, run on CPython's `_ctypes` and on pyctypes.

One test per module of the running interpreter's stdlib `ctypes.test` package
and per pyctypes mode (default, PYCTYPES_PURE=1).  It fails when a test that
passes on CPython does not pass on pyctypes, or when pyctypes skips a test that
CPython does not skip; the message lists those tests.  Every module runs in its
own subprocess (see runner.py), so a crash or a hang fails only that module.

All the selected modules run once, in parallel, when the first of these tests
needs its results: select with -k as usual (`-k test_arrays`, `-k pure`).
Environment: PYCTYPES_CONFORMANCE_JOBS (parallel runs, default: CPU count),
PYCTYPES_CONFORMANCE_TIMEOUT (seconds per module run, default 90).
"""

import os

import pytest

import runner  # this directory's runner.py (pytest puts the directory on sys.path)
import suiterun
from suiterun import MODES

pytestmark = [pytest.mark.conformance, pytest.mark.slow]

MODULES = runner.list_modules()


@pytest.fixture(scope="session")
def suite_runs(request):
    runs = suiterun.SessionRuns(request.config, request.session.items, runner.run_many,
                                "test_module", "module")
    request.config._pyctypes_conformance_runs = runs     # for the summary in conftest.py
    return runs


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("module", MODULES)
def test_module(suite_runs, module, mode):
    reference, candidate = suite_runs.get(module, MODES[mode])
    comparison = runner.compare(reference, candidate)
    if not comparison.ok:
        pytest.fail(comparison.report(), pytrace=False)


def test_module_list_is_the_stdlib_suite():
    # The suite is read from the running interpreter, never copied
    # (ctypes.test on 3.11, test.test_ctypes from 3.12).
    import importlib.util
    directory = os.path.dirname(importlib.util.find_spec(runner.PACKAGE).origin)
    assert runner.ctypes_test_dir() == directory
    assert MODULES and all(os.path.isfile(os.path.join(directory, m + ".py")) for m in MODULES)
    assert "test_structures" in MODULES and "test_wintypes" in MODULES
