"""Real programs on pyctypes (issue 7): pyglet, multiprocessing.sharedctypes, numpy.ctypeslib.

One test per suite of harness.py and pyctypes mode (default, PYCTYPES_PURE=1):
it fails when a test that passes on CPython's `_ctypes` does not pass on
pyctypes, and lists those tests.  Every suite runs in its own subprocesses; all
the selected suites run once, in parallel, when the first of these tests needs
results (`-k pyglet`, `-k pure` select as usual).  Marked `programs` (and
`slow`): `pytest -m "not programs"` leaves them out, `pytest -m programs` runs
them alone.
"""

import pytest

import harness  # this directory's harness.py (pytest puts the directory on sys.path)
import suiterun
from suiterun import MODES

pytestmark = [pytest.mark.programs, pytest.mark.slow]


@pytest.fixture(scope="session")
def program_runs(request):
    runs = suiterun.SessionRuns(request.config, request.session.items, harness.run_many,
                                "test_suite", "suite")
    request.config._pyctypes_program_runs = runs      # for the summary in conftest.py
    return runs


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("suite", list(harness.SUITES))
def test_suite(program_runs, suite, mode):
    reference, candidate = program_runs.get(suite, MODES[mode])
    comparison = harness.compare(reference, candidate)
    if not comparison.ok:
        pytest.fail(comparison.report(), pytrace=False)
    # The reference itself must have run something: an empty suite proves nothing.
    assert reference.counts()["pass"] > 0, f"{suite}: no test passed on CPython\n{reference.output}"
