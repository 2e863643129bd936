"""Real programs on pyctypes: other people's packages and their own tests, on CPython's
`_ctypes` and on pyctypes, compared test by test (issue 7).

Suites (SUITES below), each run in a subprocess per implementation:

* pyglet's own test suite, `tests/unit` and `tests/integration`, taken from the
  sdist of the installed pyglet version (`pip download`, cached), run with
  pytest under a private Xvfb server with Mesa's software OpenGL;
* the tests of CPython's own `test._test_multiprocessing` that cover
  `multiprocessing.sharedctypes` (mp_sharedctypes.py), once per start method:
  fork, forkserver, spawn;
* numpy's own `numpy/tests/test_ctypeslib.py`, with pytest;
* our programs: pyglet_headless.py (a window, OpenGL drawing, events, pixels
  read back) and numpy_ndpointer.py (numpy arrays to C through ndpointer
  argtypes); each check of a program counts as a test.

Implementations (IMPLS): `cpython` (the reference), `pyctypes` (through
`python -m pyctypes`) and `pyctypes-pure` (the same with PYCTYPES_PURE=1).
Per-test outcomes come back as JSON lines (outcomes_plugin.py for pytest,
unittest_json.py for unittest, the RESULT line for our programs).

The rule: every test that passes on CPython passes on pyctypes.  A run that
crashed, timed out, failed to start its tests or ran on the wrong `_ctypes`
counts all its tests as failed.  A run that failed, or that does not pass a
test another implementation passes, is run again alone when the batch is over
(twice at most), and each test keeps its best outcome (pyglet's tests that
measure time are sensitive to a loaded machine).

Child processes: multiprocessing's spawn and forkserver children must run on
pyctypes too, through the `pyctypes-autoinstall.pth` of an installed pyctypes.
When the interpreter has no such file (a development tree run from src/), the
harness makes an overlay venv (system site-packages visible) holding the
repository's .pth and runs every suite with its interpreter.

    python tests/programs/harness.py                  all suites, report, exit 1 on deviations
    python tests/programs/harness.py pyglet-unit numpy-ctypeslib --json out.json

Environment: PYCTYPES_PROGRAMS_JOBS (parallel runs, default: CPU count),
PYCTYPES_PROGRAMS_CACHE (where the pyglet sdist's tests are kept, default
~/.cache/pyctypes/programs).
"""

import atexit
import contextlib
import dataclasses
import json
import os
import select
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(REPO, "src")
PTH_NAME = "pyctypes-autoinstall.pth"
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))      # tests/, for suiterun

import suiterun  # noqa: E402
from suiterun import IMPLS, PASSING, PYCTYPES_IMPLS, TestOutcome  # noqa: E402

RETRIES = 2
DEFAULT_JOBS = int(os.environ.get("PYCTYPES_PROGRAMS_JOBS", "0")) or os.cpu_count() or 2
CACHE = os.environ.get("PYCTYPES_PROGRAMS_CACHE") or os.path.join(
    os.path.expanduser("~"), ".cache", "pyctypes", "programs")


def _debian_packages(group):
    """A group of .ci/debian-packages, the one list that .ci/run installs."""
    with open(os.path.join(REPO, ".ci", "debian-packages")) as f:
        for line in f:
            if line.startswith(group + ":"):
                return tuple(line.split(":", 1)[1].split())
    raise RuntimeError(f"no '{group}:' line in .ci/debian-packages")


# Debian packages the display suites need (named in messages when something is missing).
DEBIAN_PACKAGES = _debian_packages("tests")


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str               # key: pyglet-unit, mp-spawn, ...
    package: str            # the table's row
    what: str               # what runs, for the table
    kind: str               # pytest | unittest | program
    target: tuple           # pytest arguments / unittest module / program file
    display: bool = False   # needs an X server
    timeout: float = 180.0
    env: tuple = ()
    cwd: str = None         # None: a fresh temporary directory (pyglet: the sdist's tests)
    distribution: str = None    # the PyPI distribution under test, for its version
    path: tuple = ()        # directories put first on PYTHONPATH (the harness's own tests)


def _mp_suite(method):
    return Suite(f"mp-{method}", "multiprocessing.sharedctypes",
                 f"CPython's test_multiprocessing_{method}: sharedctypes tests",
                 "unittest", ("mp_sharedctypes",), timeout=240.0,
                 env=(("PYCTYPES_MP_START_METHOD", method),))


SUITES = {s.name: s for s in [
    Suite("pyglet-integration", "pyglet", "pyglet's tests/integration", "pytest",
          ("tests/integration",), display=True, timeout=600.0, cwd="pyglet",
          distribution="pyglet"),
    Suite("pyglet-unit", "pyglet", "pyglet's tests/unit", "pytest",
          ("tests/unit",), display=True, timeout=300.0, cwd="pyglet", distribution="pyglet"),
    _mp_suite("spawn"), _mp_suite("forkserver"), _mp_suite("fork"),
    Suite("numpy-ctypeslib", "numpy.ctypeslib", "numpy's numpy/tests/test_ctypeslib.py", "pytest",
          ("--pyargs", "numpy.tests.test_ctypeslib"), distribution="numpy"),
    Suite("pyglet-headless", "pyglet headless program", "tests/programs/pyglet_headless.py",
          "program", ("pyglet_headless.py",), display=True, timeout=120.0, distribution="pyglet"),
    Suite("numpy-ndpointer", "numpy ndpointer program", "tests/programs/numpy_ndpointer.py",
          "program", ("numpy_ndpointer.py",), timeout=120.0, distribution="numpy"),
]}


class HarnessError(Exception):
    """Something the harness needs is missing (a package, Xvfb): said once, clearly."""


# ---------------------------------------------------------------------------
# What the suites need: pyglet's tests, an X server, an interpreter whose
# children bind to pyctypes.


def installed_version(distribution):
    import importlib.metadata
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


_pyglet_lock = threading.Lock()


def pyglet_tests_dir():
    """The tests/ and pytest.ini of the installed pyglet's sdist, downloaded once into CACHE.

    Only the tests are kept (not the sdist's copy of pyglet): they import the
    installed package."""
    with _pyglet_lock:
        return _pyglet_tests_dir()


def _pyglet_tests_dir():
    version = installed_version("pyglet")
    if version is None:
        raise HarnessError("pyglet is not installed: pip install '.[test]' (or pip install pyglet)")
    target = os.path.join(CACHE, f"pyglet-{version}")
    if os.path.exists(os.path.join(target, ".complete")):
        return target
    with tempfile.TemporaryDirectory(prefix="pyglet-sdist-") as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "--no-binary", ":all:", "-d", tmp, f"pyglet=={version}"],
                              capture_output=True, text=True, timeout=600)
        archives = [n for n in os.listdir(tmp) if n.endswith((".tar.gz", ".zip"))]
        if proc.returncode != 0 or not archives:
            raise HarnessError(f"could not download pyglet {version}'s sdist (its tests are "
                               f"there):\n{proc.stdout}{proc.stderr}")
        os.makedirs(CACHE, exist_ok=True)
        staging = target + f".tmp{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        prefix = f"pyglet-{version}/"
        with tarfile.open(os.path.join(tmp, archives[0])) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix + "tests/")
                       or m.name == prefix + "pytest.ini"]
            for member in members:
                member.name = member.name[len(prefix):]
            tar.extractall(staging, members=members, filter="data")
    open(os.path.join(staging, ".complete"), "w").close()
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


@contextlib.contextmanager
def xvfb():
    """A private Xvfb server (24-bit screen, GLX); yields its DISPLAY."""
    if shutil.which("Xvfb") is None:
        raise HarnessError("Xvfb is missing; these Debian packages are needed: "
                           + " ".join(DEBIAN_PACKAGES))
    read_end, write_end = os.pipe()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp", "-noreset", "+extension", "GLX"],
                            pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], 0.5)
            if ready:
                chunk = os.read(read_end, 64)
                if not chunk:
                    break
                number += chunk
        if not number.strip():
            log.seek(0)
            raise HarnessError("Xvfb did not start:\n" + log.read().decode(errors="replace")[-2000:])
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_end)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


_PROBE = "import sys, ctypes; print(sys.modules['_ctypes'].__name__)"
_interpreter_lock = threading.Lock()
_interpreter = None


def _binds_children(python):
    env = _environment(IMPLS["pyctypes"], None, {})
    env["PYCTYPES_INSTALL"] = "1"
    proc = subprocess.run([python, "-c", _PROBE], env=env, capture_output=True, text=True,
                          timeout=60)
    return proc.returncode == 0 and proc.stdout.strip() == "pyctypes._ctypes"


def interpreter():
    """(python, how): an interpreter whose children bind to pyctypes under PYCTYPES_INSTALL=1."""
    global _interpreter
    with _interpreter_lock:
        if _interpreter is None:
            _interpreter = _find_interpreter()
        return _interpreter


def _find_interpreter():
    if _binds_children(sys.executable):
        return sys.executable, "installed pyctypes-autoinstall.pth"
    home = tempfile.mkdtemp(prefix="pyctypes-programs-venv-")
    atexit.register(shutil.rmtree, home, True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", home],
                   check=True, capture_output=True)
    python = os.path.join(home, "bin", "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    shutil.copy(os.path.join(SRC, PTH_NAME), os.path.join(purelib, PTH_NAME))
    if not _binds_children(python):
        raise HarnessError(f"child processes do not bind to pyctypes even with {PTH_NAME} "
                           f"in {purelib}")
    return python, f"overlay venv {home} with the repository's {PTH_NAME}"


# ---------------------------------------------------------------------------
# Running one suite on one implementation.


@dataclasses.dataclass
class SuiteRun(suiterun.Outcomes):
    suite: str
    impl: str
    status: str = "ok"      # ok | crash | timeout | collect-error | wrong-binding | no-output | error
    problem: str = ""
    tests: dict = dataclasses.field(default_factory=dict)   # id -> TestOutcome
    stray: list = dataclasses.field(default_factory=list)   # [(id, detail)] collection errors
    running: str = ""
    returncode: int = None
    duration: float = 0.0
    output: str = ""
    result: dict = None     # a program's RESULT line
    retried: bool = False


def _environment(impl, suite, extra):
    path = [*(suite.path if suite is not None else ()), HERE]
    env = suiterun.child_environment(impl, path, drop=("WAYLAND_DISPLAY", "PYTEST_ADDOPTS",
                                                       "PYTEST_PLUGINS"))
    env["LIBGL_ALWAYS_SOFTWARE"] = "1"          # Mesa's llvmpipe, the same everywhere
    if suite is not None:
        env.update(suite.env)
    env.update(extra)
    return env


def _command(python, impl, suite):
    base = [python, "-X", "faulthandler"] + (["-m", "pyctypes"] if impl.pyctypes else [])
    if suite.kind == "pytest":
        return base + ["-m", "pytest", "-p", "outcomes_plugin", "-p", "no:cacheprovider",
                       "-q", "-rN", *suite.target]
    if suite.kind == "unittest":
        return base + ["-m", "unittest_json", *suite.target]
    program = os.path.join(HERE, suite.target[0])
    return base + (["run", program] if impl.pyctypes else [program])


def _parse_events(run, path):
    def collect_error(run, event):
        run.stray.append((event["id"], event["detail"]))
    return suiterun.read_events(run, path, {"collect-error": collect_error})


def _parse_program(run, output):
    """A program's checks as tests: the RESULT line's {"results": {check: bool}}."""
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            try:
                result = json.loads(line[len("RESULT "):])
            except ValueError:
                return None
            run.result = result
            for name, passed in result.get("results", {}).items():
                run.tests[name] = TestOutcome("pass" if passed else "fail")
            return {"ctypes_module": result.get("ctypes_module")}
    return None


def run_suite(suite_name, impl_name, timeout=None, python=None):
    """Run one suite on one implementation in a subprocess; a SuiteRun."""
    try:
        return _run_suite(suite_name, impl_name, timeout, python)
    except Exception as exc:             # a harness failure fails this run, not the batch
        import traceback
        return SuiteRun(suite_name, impl_name, status="error",
                        problem=f"the harness failed: {exc!r}", output=traceback.format_exc())


def _run_suite(suite_name, impl_name, timeout, python):
    suite, impl = SUITES[suite_name], IMPLS[impl_name]
    run = SuiteRun(suite_name, impl_name)
    timeout = timeout or suite.timeout
    try:
        python = python or interpreter()[0]
        cwd = pyglet_tests_dir() if suite.cwd == "pyglet" else None
    except HarnessError as exc:
        run.status, run.problem = "error", str(exc)
        return run
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"pyctypes-{suite_name}-"))
        events = os.path.join(tmp, "events.jsonl")
        extra = {"PYCTYPES_PROGRAMS_EVENTS": events, "TMPDIR": tmp}
        if suite.display:
            try:
                extra["DISPLAY"] = stack.enter_context(xvfb())
            except HarnessError as exc:
                run.status, run.problem = "error", str(exc)
                return run
        text = suiterun.run_child(run, _command(python, impl, suite), cwd=cwd or tmp,
                                  env=_environment(impl, suite, extra), timeout=timeout,
                                  new_session=True)
        run.output = text[-8000:]
        done = _parse_program(run, text) if suite.kind == "program" else _parse_events(run, events)
    if run.status != "ok":
        pass
    elif run.returncode is not None and run.returncode < 0:
        run.status = "crash"
        run.problem = f"{suiterun.describe_exit(run.returncode)}"
    elif suiterun.ended_badly(run, done, impl):
        pass
    elif suite.kind == "pytest" and done.get("exitstatus") not in (0, 1):
        run.status = "error"
        run.problem = f"pytest ended with exit status {done.get('exitstatus')}"
    elif suite.kind == "unittest" and done.get("exitstatus") == 3:
        run.status = "collect-error"
        run.problem = "the test module did not import"
    if run.running:
        run.problem += f", while running {run.running}"
    return run


def run_many(pairs, jobs=DEFAULT_JOBS, progress=None, retry=True):
    """Run (suite, impl) pairs in parallel, longest suites first; {(suite, impl): SuiteRun}.

    With `retry`, every run that failed, or that does not pass a test that
    another implementation's run of the same suite passes, is run again, alone,
    when the batch is over (up to RETRIES times); each test keeps its best
    outcome (pyglet has tests that time a sleep to the half millisecond)."""
    results = _run_batch(pairs, jobs, progress)
    for _ in range(RETRIES if retry else 0):
        # One at a time: what a loaded machine made fail gets a quiet one.
        again = _run_batch(_to_retry(results), 1, progress=None)
        for key, run in again.items():
            results[key] = _best_of(results[key], run)
            if progress is not None:
                progress(results[key])
    return results


def _run_batch(pairs, jobs, progress):
    order = list(SUITES)
    pairs = sorted(dict.fromkeys(pairs), key=lambda p: (order.index(p[0]), p[1]))
    return suiterun.run_parallel(run_suite, pairs, jobs, progress)


def _passing(run):
    return {t for t, o in run.tests.items() if o.outcome in PASSING} if run.ok else set()


def _to_retry(results):
    retry = []
    for suite in dict.fromkeys(s for s, _ in results):
        runs = {i: r for (s, i), r in results.items() if s == suite}
        passing = set().union(*(_passing(r) for r in runs.values()))
        retry += [(suite, i) for i, r in runs.items() if not r.ok or passing - _passing(r)]
    return retry


def _best_of(first, second):
    """Each test's better outcome over two runs of the same suite and implementation."""
    if not first.ok or not second.ok:
        best = second if second.ok else first
        best.retried = True
        return best
    merged = dataclasses.replace(second, tests=dict(second.tests), retried=True)
    for test_id, outcome in first.tests.items():
        other = merged.tests.get(test_id)
        if other is None or (outcome.outcome in PASSING and other.outcome not in PASSING):
            merged.tests[test_id] = outcome
    return merged


# ---------------------------------------------------------------------------
# Comparison.


@dataclasses.dataclass
class Comparison:
    suite: str
    impl: str
    reference: SuiteRun
    candidate: SuiteRun
    lost: list              # [(test id, CPython outcome, pyctypes outcome, detail)]

    @property
    def ok(self):
        return self.reference.ok and not self.lost

    def report(self):
        label = IMPLS[self.impl].label
        if not self.reference.ok:
            return (f"{self.suite}: the CPython reference run failed ({self.reference.status}: "
                    f"{self.reference.problem})\n{suiterun.indent(self.reference.output[-3000:])}")
        lines = [f"{self.suite} on {label}: {len(self.lost)} test(s) pass on CPython but not "
                 f"on pyctypes"]
        if not self.candidate.ok:
            lines.append(f"  the whole run counts as failed: {self.candidate.status}: "
                         f"{self.candidate.problem}")
        if self.candidate.retried:
            lines.append("  (retried alone: these tests did not pass any time)")
        for test_id, ref, got, detail in self.lost[:60]:
            lines.append(f"  {got.upper()} {test_id} (CPython: {ref})"
                         + (f": {suiterun.one_line(detail)}" if detail else ""))
        if len(self.lost) > 60:
            lines.append(f"  ... and {len(self.lost) - 60} more")
        extra = [(t, o) for t, o in sorted(self.candidate.tests.items())
                 if t not in self.reference.tests and o.outcome not in PASSING]
        for test_id, outcome in extra[:10]:
            lines.append(f"  {outcome.outcome.upper()} {test_id} (pyctypes only)"
                         + (f": {suiterun.one_line(outcome.detail)}" if outcome.detail else ""))
        for test_id, detail in self.candidate.stray[:10]:
            lines.append(f"  COLLECTION ERROR {test_id}: {suiterun.one_line(detail, 600)}")
        if not self.candidate.ok and self.candidate.output.strip():
            lines.append("  output of the run (tail):")
            lines.append(suiterun.indent(self.candidate.output[-3000:], "    "))
        return "\n".join(lines)


# Tests of real programs that check a CPython 3.11 behaviour pyctypes changes
# on purpose (docs/differences.md): (suite, test id) -> which.
# Such a test may fail on pyctypes; every other test passing on CPython must pass.
DELIBERATE = {
    ("numpy-ctypeslib", "::TestAsArray::test_reference_cycles"):
        "POINTER(T) does not keep T alive for good: the array and pointer types "
        "numpy makes and drops are collected, a reference cycle as every type is",
}


def compare(reference, candidate):
    lost = []
    for test_id, ref in sorted(reference.tests.items()):
        if ref.outcome not in PASSING or (reference.suite, test_id) in DELIBERATE:
            continue
        got = candidate.tests.get(test_id) if candidate.ok else None
        if got is None or got.outcome != ref.outcome:
            outcome = (got.outcome if got is not None else
                       "not run" if candidate.ok else f"not run ({candidate.status})")
            lost.append((test_id, ref.outcome, outcome, got.detail if got is not None else ""))
    return Comparison(reference.suite, candidate.impl, reference, candidate, lost)


def summary_line(run, reference=None):
    c = run.counts(reference)
    state = "" if run.ok else f" [{run.status}: {suiterun.one_line(run.problem, 120)}]"
    retried = " (retried)" if run.retried else ""
    return (f"{run.suite:20} {IMPLS[run.impl].label:26} {c['run']:4} run {c['pass']:4} pass "
            f"{c['skip']:4} skip {c['fail']:3} fail  {run.duration:6.1f} s{retried}{state}")


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", help="suites (default: all): " + ", ".join(SUITES))
    parser.add_argument("--impl", action="append", choices=list(IMPLS),
                        help="implementations besides CPython (default: both pyctypes modes)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--json", metavar="FILE", help="write every outcome as JSON")
    args = parser.parse_args(argv)
    suites = args.suites or list(SUITES)
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        parser.error("unknown suites: " + ", ".join(unknown))
    impls = ["cpython"] + [i for i in (args.impl or PYCTYPES_IMPLS) if i != "cpython"]
    python, how = interpreter()
    print(f"interpreter: {python} ({how})", flush=True)
    results = run_many([(s, i) for s in suites for i in impls], jobs=args.jobs,
                       progress=lambda run: print(summary_line(run), flush=True))
    failed = False
    print()
    for suite in suites:
        reference = results[suite, "cpython"]
        for impl in impls[1:]:
            comparison = compare(reference, results[suite, impl])
            if not comparison.ok:
                failed = True
                print(comparison.report())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{s}/{i}": dataclasses.asdict(r) for (s, i), r in results.items()}, f,
                      indent=1)
    print("all equal" if not failed else "pyctypes deviates from CPython (above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
