"""Test suites run in child processes on CPython's `_ctypes` and on pyctypes, test
by test: the part that the conformance runner (conformance/runner.py, CPython's own
ctypes test suite) and the programs harness (programs/harness.py, real programs and
their suites) share.  Each of them adds what to run and its rule of comparison.

Child side: a driver writes one JSON object a line to an events file as the run
goes, so that a crash still tells which test was running:

    {"event": "start", "id": test id}                       before each test
    {"event": "result", "id", "outcome", "detail", "tb"}    each outcome (a test
                                                             reporting several keeps the worst)
    {"event": "done", "ctypes_module": name, ...}           at the end: the `_ctypes` it ran on

(and the drivers' own "import-error" or "collect-error").  JSONResult writes them
for unittest, and emitter writes any of them.

Parent side: the implementations (IMPLS), a run's outcomes read back from its
events (read_events) and counted (Outcomes), the environment of a child, the
verdict on how a child ended, runs in parallel.

Only the standard library is imported here: the children import it too, before
anything binds `ctypes`.
"""

import concurrent.futures
import dataclasses
import json
import os
import signal
import subprocess
import time
import traceback
import unittest

# Outcomes of one test, worst first: when a test reports several (a failing
# subtest and a cleanup error, say), the worst one stands.
OUTCOMES = ("error", "fail", "unexpected-success", "skip", "expected-failure", "pass")
# Outcomes that count as "the test passes" on the reference implementation.
PASSING = ("pass", "expected-failure")


@dataclasses.dataclass(frozen=True)
class Impl:
    name: str           # key used in reports and JSON
    label: str          # human-readable, for messages and the tables
    pyctypes: bool      # run through `python -m pyctypes`
    env: tuple          # extra environment variables (name, value)
    ctypes_module: str  # the `_ctypes` module the run must be bound to


IMPLS = {
    "cpython": Impl("cpython", "CPython", False, (), "_ctypes"),
    "pyctypes": Impl("pyctypes", "pyctypes", True, (), "pyctypes._ctypes"),
    "pyctypes-pure": Impl("pyctypes-pure", "pyctypes PYCTYPES_PURE=1", True,
                          (("PYCTYPES_PURE", "1"),), "pyctypes._ctypes"),
}
PYCTYPES_IMPLS = ("pyctypes", "pyctypes-pure")
# The pytest parameter "mode" of the tests that compare a run with CPython's.
MODES = {"default": "pyctypes", "pure": "pyctypes-pure"}


# ---------------------------------------------------------------------------
# Child side.


def emitter(path):
    """emit(**event): writes one event line to the file `path` (or the path that
    the function `path` gives), opened for appending at the first event."""
    out = None

    def emit(**event):
        nonlocal out
        if out is None:
            out = open(path() if callable(path) else path, "a", buffering=1, encoding="utf-8")
        out.write(json.dumps(event) + "\n")
        out.flush()
    return emit


class JSONResult(unittest.TestResult):
    """A unittest result that writes each test's events as it goes: emit(**event)
    writes one, short(err) is an exception's one-line detail.  Subtests fold into
    their test."""

    def __init__(self, emit, short):
        super().__init__()
        self._emit, self._short = emit, short

    @staticmethod
    def _full(err):
        return "".join(traceback.format_exception(*err))[-4000:]

    def _id(self, test):
        if isinstance(test, unittest.case._SubTest):
            return test.test_case.id()
        return test.id()

    def _result(self, test, outcome, detail="", tb=""):
        self._emit(event="result", id=self._id(test), outcome=outcome, detail=detail, tb=tb)

    def startTest(self, test):
        super().startTest(test)
        self._emit(event="start", id=self._id(test))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._result(test, "pass")

    def addError(self, test, err):
        super().addError(test, err)
        self._result(test, "error", self._short(err), self._full(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._result(test, "fail", self._short(err), self._full(err))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "fail" if issubclass(err[0], test.failureException) else "error"
            self._result(test, outcome, f"{subtest._subDescription()}: {self._short(err)}",
                         self._full(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._result(test, "skip", str(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._result(test, "expected-failure", self._short(err))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._result(test, "unexpected-success")


# ---------------------------------------------------------------------------
# Parent side: one run's outcomes.


@dataclasses.dataclass
class TestOutcome:
    outcome: str
    detail: str = ""
    tb: str = ""


class Outcomes:
    """What the dataclass of a run (fields `status` and `tests`: test id ->
    TestOutcome) says about its tests."""

    @property
    def ok(self):
        return self.status == "ok"

    def ids_with(self, *outcomes):
        return sorted(t for t, o in self.tests.items() if o.outcome in outcomes)

    def counts(self, reference=None):
        """{'run', 'pass', 'skip', 'fail'} counts; a broken run passes and skips nothing.

        With a `reference` run (CPython's), counted over the reference's tests:
        a test that this run lacks counts as failed.
        """
        ids = list(reference.tests if reference is not None else self.tests)
        outcomes = [self.tests[t].outcome if self.ok and t in self.tests else "not run"
                    for t in ids]
        passed = sum(o in PASSING for o in outcomes)
        skipped = outcomes.count("skip")
        return {"run": len(ids), "pass": passed, "skip": skipped,
                "fail": len(ids) - passed - skipped}


def worst(old, new):
    """The worse of two outcomes of one test (old may be None)."""
    if old is None or OUTCOMES.index(new.outcome) < OUTCOMES.index(old.outcome):
        return new
    return old


def read_events(run, path, handlers=None):
    """Fill run.tests and run.running from a child's events file; any other event
    goes to handlers[kind](run, event).  Returns the `done` event, or None."""
    done = None
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue          # a line cut short by a crash
        kind = event["event"]
        if kind == "start":
            run.running = event["id"]
        elif kind == "result":
            test_id = event["id"]
            run.tests[test_id] = worst(run.tests.get(test_id),
                                       TestOutcome(event["outcome"], event["detail"], event["tb"]))
            if run.running == test_id:
                run.running = ""
        elif kind == "done":
            done = event
        elif handlers and kind in handlers:
            handlers[kind](run, event)
    return done


def describe_exit(returncode):
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def ended_badly(run, done, impl):
    """Set run.status and run.problem if the child stopped before its `done`
    event or ran on another `_ctypes` than impl's; True if it did."""
    if done is None:
        run.status = "crash" if run.returncode else "no-output"
        run.problem = f"{describe_exit(run.returncode)} before the end of the run"
    elif done.get("ctypes_module") != impl.ctypes_module:
        run.status = "wrong-binding"
        run.problem = (f"the run used _ctypes = {done.get('ctypes_module')!r}, "
                       f"not {impl.ctypes_module!r}")
    else:
        return False
    return True


# ---------------------------------------------------------------------------
# Parent side: running children.


def pyctypes_root():
    """The directory holding the pyctypes package this process imports (installed, or
    src/ of a development tree on PYTHONPATH): the runs on pyctypes use the same."""
    import pyctypes
    return os.path.dirname(os.path.dirname(os.path.abspath(pyctypes.__file__)))


def child_environment(impl, path, drop=()):
    """The environment of a child running on `impl`: PYTHONPATH is `path`, then
    (on pyctypes) pyctypes_root(), then this process's PYTHONPATH; variables that
    would change the run (PYCTYPES_PURE, startup files, and `drop`) are removed."""
    env = dict(os.environ)
    for name in ("PYCTYPES_PURE", "PYCTYPES_INSTALL", "PYTHONSTARTUP", "PYTHONINSPECT", *drop):
        env.pop(name, None)
    path = list(path)
    if impl.pyctypes:
        path.append(pyctypes_root())
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])   # an installed pyctypes may come from there
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(impl.env)
    return env


def run_child(run, command, *, cwd, env, timeout, new_session=False):
    """Run a child to its end or its time-out (then run.status is "timeout"); set
    run.returncode and run.duration; return its output (stdout and stderr) as text."""
    start = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                              start_new_session=new_session)
        run.returncode, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        run.status, run.problem = "timeout", f"timed out after {timeout:g} s"
        output = exc.stdout or b""
    run.duration = time.monotonic() - start
    return output.decode("utf-8", "replace")


def run_parallel(run_one, pairs, jobs, progress=None):
    """run_one(*pair) for every pair, `jobs` at a time; {pair: its run}.
    `progress`, if given, is called with each run as it completes."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_one, *pair): pair for pair in pairs}
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            results[futures[future]] = run
            if progress is not None:
                progress(run)
    return results


class SessionRuns:
    """The runs that a pytest session's selected tests compare, made in one
    parallel batch on first use.  The tests are those named `test`, parametrized
    by `param` (the module or suite) and "mode" (a key of MODES); run_many(pairs)
    runs (name, implementation) pairs.

    Under pytest-xdist every worker sees all the collected items but runs only
    some: there each test runs just its own pairs (xdist gives the parallelism).
    """

    def __init__(self, config, items, run_many, test, param):
        self.items, self.run_many, self.test, self.param = items, run_many, test, param
        self.results = {}
        self.batched = hasattr(config, "workerinput")    # xdist worker: no batch

    def _selected(self):
        pairs = []
        for item in self.items:
            callspec = getattr(item, "callspec", None)
            if getattr(item, "originalname", None) == self.test and callspec is not None:
                name, impl = callspec.params[self.param], MODES[callspec.params["mode"]]
                pairs += [(name, "cpython"), (name, impl)]
        return pairs

    def get(self, name, impl):
        """CPython's run and `impl`'s run of `name`."""
        if not self.batched:
            self.batched = True
            self.results.update(self.run_many(self._selected()))
        wanted = [(name, "cpython"), (name, impl)]
        missing = [key for key in wanted if key not in self.results]
        if missing:
            self.results.update(self.run_many(missing))
        return [self.results[key] for key in wanted]


# ---------------------------------------------------------------------------
# Reports.


def one_line(text, limit=300):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def indent(text, prefix="  "):
    return "\n".join(prefix + line for line in text.rstrip().splitlines())
