"""Run CPython's own ctypes test suite on CPython's `_ctypes` and on pyctypes.

Two halves in one file:

* the driver (``python runner.py --out FILE test_x``, or through pyctypes:
  ``python -m pyctypes -m runner --out FILE test_x``) runs one module of the
  running interpreter's stdlib ``ctypes.test`` package with unittest and writes
  one JSON object per line to FILE as it goes: a ``start`` event before each
  test, a ``result`` event per test outcome, and a final ``done`` event naming
  the ``_ctypes`` module the run was bound to.  Writing as it goes means a
  crash still tells which test was running.

* the parent side (imported by the pytest module and tools/conformance_table.py)
  lists the modules, runs the driver in subprocesses -- one per module and
  implementation, a few at a time, each with a timeout, so that a crash or a
  hang only costs that module -- and compares the outcomes.

Implementations (the keys of IMPLS): ``cpython`` (CPython's C `_ctypes`, the
reference), ``pyctypes`` (default mode) and ``pyctypes-pure`` (PYCTYPES_PURE=1).

Rules of the comparison (issue 4): every test that passes on CPython must pass
on pyctypes, and pyctypes may skip only what CPython skips.  A module whose run
crashed, timed out, failed to import or was bound to the wrong `_ctypes` counts
every one of its tests as failed.
"""

import dataclasses
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))      # tests/, for suiterun (in the driver too)

import suiterun  # noqa: E402
from suiterun import IMPLS, PASSING, PYCTYPES_IMPLS  # noqa: E402,F401 (PYCTYPES_IMPLS: tools/)

def _suite_package():
    """The package of the running interpreter's ctypes test suite: `ctypes.test`
    up to 3.11, `test.test_ctypes` from 3.12 (found by where it is, not by version)."""
    import sysconfig
    stdlib = sysconfig.get_path("stdlib")
    if os.path.isdir(os.path.join(stdlib, "test", "test_ctypes")):
        return "test.test_ctypes"
    return "ctypes.test"


PACKAGE = _suite_package()

DEFAULT_TIMEOUT = float(os.environ.get("PYCTYPES_CONFORMANCE_TIMEOUT", "90"))
DEFAULT_JOBS = int(os.environ.get("PYCTYPES_CONFORMANCE_JOBS", "0")) or os.cpu_count() or 2


# ---------------------------------------------------------------------------
# Driver: runs in the subprocess.


def _driver(argv):
    import argparse
    import traceback
    import unittest

    parser = argparse.ArgumentParser(prog="runner", description="run one ctypes.test module")
    parser.add_argument("--out", required=True, help="JSON-lines output file")
    parser.add_argument("--package", default=PACKAGE, help="package of the module")
    parser.add_argument("module", help="module of ctypes.test, e.g. test_arrays")
    args = parser.parse_args(argv)

    emit = suiterun.emitter(args.out)

    unittest_dir = os.path.dirname(unittest.__file__)

    def short(err):
        # The last line of the exception, as `unittest` would end its report,
        # and where it was raised (the innermost frame outside unittest).
        exc_type, exc, tb = err
        text = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        frames = [f for f in traceback.extract_tb(tb)
                  if os.path.dirname(f.filename) != unittest_dir]
        if frames:
            where = frames[-1]
            text += f" [{os.path.basename(where.filename)}:{where.lineno} in {where.name}]"
        return text

    def import_failure(exc):
        # The traceback without the import machinery's frames.
        tb = traceback.TracebackException.from_exception(exc)
        tb.stack = traceback.StackSummary.from_list(
            [f for f in tb.stack if not f.filename.startswith("<frozen importlib")
             and not f.filename.endswith(os.path.join("importlib", "__init__.py"))])
        return "".join(tb.format())[-4000:]

    name = f"{args.package}.{args.module}"
    try:
        import importlib
        module = importlib.import_module(name)
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    except BaseException as exc:
        emit(event="import-error", detail=import_failure(exc))
        emit(event="done", ctypes_module=_bound_ctypes())
        return 3
    suite.run(suiterun.JSONResult(emit, short))
    emit(event="done", ctypes_module=_bound_ctypes())
    return 0


def _bound_ctypes():
    module = sys.modules.get("_ctypes")
    return getattr(module, "__name__", None)


# ---------------------------------------------------------------------------
# Parent side.


def ctypes_test_dir():
    """Directory of the running interpreter's ctypes test package (not imported)."""
    import sysconfig
    return os.path.join(sysconfig.get_path("stdlib"), *PACKAGE.split("."))


def list_modules():
    """Names of the test modules of `ctypes.test`: ['test_anon', 'test_array_in_pointer', ...]."""
    return sorted(name[:-3] for name in os.listdir(ctypes_test_dir())
                  if name.startswith("test_") and name.endswith(".py"))


@dataclasses.dataclass
class ModuleRun(suiterun.Outcomes):
    """Outcomes of one module on one implementation."""
    module: str
    impl: str
    status: str = "ok"          # ok | crash | timeout | import-error | wrong-binding | no-output
    problem: str = ""           # what went wrong with the run, for messages
    tests: dict = dataclasses.field(default_factory=dict)   # test id -> TestOutcome
    running: str = ""           # test started last but not finished (for crashes)
    returncode: int = None
    duration: float = 0.0
    output: str = ""            # stdout+stderr of the subprocess (tail)


def _parse(run, path):
    """Fill `run` from the driver's JSON-lines file; return the `done` event or None."""
    def import_error(run, event):
        run.status, run.problem = "import-error", event["detail"]
    return suiterun.read_events(run, path, {"import-error": import_error})


def _command(impl, module, out, package):
    driver = ["-m", "runner", "--out", out, "--package", package, module]
    python = [sys.executable, "-X", "faulthandler"]
    if impl.pyctypes:
        return python + ["-m", "pyctypes"] + driver
    return python + driver


def run_module(module, impl_name, timeout=DEFAULT_TIMEOUT, package=PACKAGE, extra_path=()):
    """Run one `ctypes.test` module on one implementation in a subprocess.

    `package` and `extra_path` (prepended to PYTHONPATH) exist for the
    harness's own tests, which run made-up modules.
    """
    impl = IMPLS[impl_name]
    run = ModuleRun(module, impl_name)
    with tempfile.TemporaryDirectory(prefix="pyctypes-conformance-") as tmp:
        out = os.path.join(tmp, "results.jsonl")
        output = suiterun.run_child(run, _command(impl, module, out, package), cwd=tmp,
                                    env=suiterun.child_environment(impl, [HERE, *extra_path]),
                                    timeout=timeout)
        run.output = output[-6000:]
        done = _parse(run, out)
    if run.status == "ok":
        if done is not None and run.returncode:
            # The tests ran, then the interpreter died (at shutdown, say): still a crash.
            run.status = "crash"
            run.problem = f"{suiterun.describe_exit(run.returncode)} after the last test"
        else:
            suiterun.ended_badly(run, done, impl)
    if run.running and run.status != "timeout":
        run.problem += f", while running {run.running}"
    elif run.running:
        run.problem += f", in {run.running}"
    return run


def run_many(pairs, jobs=DEFAULT_JOBS, timeout=DEFAULT_TIMEOUT, progress=None):
    """Run (module, impl) pairs in parallel; return {(module, impl): ModuleRun}.

    `progress`, if given, is called with each ModuleRun as it completes.
    """
    return suiterun.run_parallel(lambda module, impl: run_module(module, impl, timeout),
                                 dict.fromkeys(pairs), jobs, progress)


@dataclasses.dataclass
class Comparison:
    """pyctypes' run of one module against CPython's."""
    module: str
    impl: str
    reference: ModuleRun
    candidate: ModuleRun
    lost: list          # [(test id, CPython outcome, pyctypes outcome, detail)]
    extra_skips: list   # [(test id, CPython outcome, skip reason)]
    stray: list         # [(id, outcome, detail)] reported by pyctypes only (fixture errors)

    @property
    def ok(self):
        return self.reference.ok and not self.lost and not self.extra_skips

    @property
    def skips_equal(self):
        return (self.candidate.ok and
                self.reference.ids_with("skip") == self.candidate.ids_with("skip"))

    def report(self):
        """Multi-line account of every deviation, for a pytest failure message."""
        label = IMPLS[self.impl].label
        lines = []
        if not self.reference.ok:
            lines.append(f"{self.module}: the CPython reference run itself failed "
                         f"({self.reference.status}: {self.reference.problem})")
            lines.append(suiterun.indent(self.reference.output[-2000:]))
            return "\n".join(lines)
        lines.append(f"{self.module} on {label}: {len(self.lost)} test(s) pass on CPython "
                     f"but not on pyctypes, {len(self.extra_skips)} extra skip(s)")
        if not self.candidate.ok:
            lines.append(f"  the whole module counts as failed: {self.candidate.status}: "
                         f"{self.candidate.problem.strip()}")
        for test_id, ref, got, detail in _capped(self.lost, lines):
            lines.append(f"  FAILED {_short_id(test_id)}: {got}"
                         + (f": {suiterun.one_line(detail)}" if detail else ""))
        for test_id, ref, reason in _capped(self.extra_skips, lines):
            lines.append(f"  EXTRA SKIP {_short_id(test_id)} (CPython: {ref}): {reason}")
        for test_id, got, detail in self.stray:
            lines.append(f"  {got.upper()} {_short_id(test_id)}: {suiterun.one_line(detail)}")
        if not self.candidate.ok and self.candidate.output.strip():
            lines.append("  output of the run (tail):")
            lines.append(suiterun.indent(self.candidate.output[-3000:], "    "))
        return "\n".join(lines)


def compare(reference, candidate):
    """Compare a pyctypes ModuleRun with CPython's run of the same module."""
    lost, extra = [], []
    broken = not candidate.ok
    for test_id, ref in sorted(reference.tests.items()):
        got = candidate.tests.get(test_id)
        if broken:
            # Crash, timeout, import error, wrong binding: every test counts as failed.
            if ref.outcome in PASSING:
                outcome = got.outcome if got is not None else "not run"
                lost.append((test_id, ref.outcome, f"{outcome} ({candidate.status})",
                             got.detail if got is not None else ""))
        elif got is not None and got.outcome == "skip" and ref.outcome != "skip":
            extra.append((test_id, ref.outcome, got.detail))
        elif ref.outcome in PASSING and (got is None or got.outcome != ref.outcome):
            lost.append((test_id, ref.outcome, got.outcome if got is not None else "not run",
                         got.detail if got is not None else ""))
    # Errors outside any test of CPython's run (setUpClass, module fixtures):
    # they explain the tests reported as "not run".
    stray = [(test_id, got.outcome, got.detail) for test_id, got in sorted(candidate.tests.items())
             if test_id not in reference.tests and got.outcome not in PASSING]
    return Comparison(reference.module, candidate.impl, reference, candidate, lost, extra, stray)


def totals(results, impl):
    """Summed counts of `impl` over the modules in `results` ({(module, impl): run}),
    counted over CPython's tests where CPython's run of the module is there."""
    total = {"modules": 0, "run": 0, "pass": 0, "skip": 0, "fail": 0}
    for (module, name), run in results.items():
        if name == impl:
            total["modules"] += 1
            for key, value in run.counts(results.get((module, "cpython"))).items():
                total[key] += value
    return total


def _capped(items, lines, limit=60):
    """The first `limit` items; a line in `lines` says how many more there were."""
    if len(items) > limit:
        lines.append(f"  (listing {limit} of {len(items)})")
    return items[:limit]


def _short_id(test_id):
    prefix = PACKAGE + "."
    return test_id[len(prefix):] if test_id.startswith(prefix) else test_id


if __name__ == "__main__":
    sys.exit(_driver(sys.argv[1:]))
