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

pytestmark = [pytest.mark.conformance, pytest.mark.slow]

MODES = {"default": "pyctypes", "pure": "pyctypes-pure"}
MODULES = runner.list_modules()


class SuiteRuns:
    """The runs of this session, made in one parallel batch on first use.

    Under pytest-xdist every worker sees all the collected items but runs only
    some: there each test runs just its own module (xdist gives the parallelism).
    """

    def __init__(self, config, items):
        self.config = config
        self.items = items
        self.results = {}
        self.batched = hasattr(config, "workerinput")    # xdist worker: no batch

    def _selected(self):
        pairs = []
        for item in self.items:
            callspec = getattr(item, "callspec", None)
            if getattr(item, "originalname", None) == "test_module" and callspec is not None:
                module, impl = callspec.params["module"], MODES[callspec.params["mode"]]
                pairs += [(module, "cpython"), (module, impl)]
        return pairs

    def get(self, module, impl):
        """CPython's run and `impl`'s run of `module`."""
        if not self.batched:
            self.batched = True
            self.results.update(runner.run_many(self._selected()))
        wanted = [(module, "cpython"), (module, impl)]
        missing = [key for key in wanted if key not in self.results]
        if missing:
            self.results.update(runner.run_many(missing))
        return [self.results[key] for key in wanted]


@pytest.fixture(scope="session")
def suite_runs(request):
    runs = SuiteRuns(request.config, request.session.items)
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
    # The suite is read from the running interpreter, never copied.
    import ctypes
    directory = os.path.join(os.path.dirname(ctypes.__file__), "test")
    assert runner.ctypes_test_dir() == directory
    assert MODULES and all(os.path.isfile(os.path.join(directory, m + ".py")) for m in MODULES)
    assert "test_structures" in MODULES and "test_wintypes" in MODULES
