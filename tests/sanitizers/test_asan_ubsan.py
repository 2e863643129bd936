"""The test suite against _rawffi built with AddressSanitizer and UBSan.

Builds the extension from src/native with -DPYCTYPES_SANITIZE=ON into a
temporary directory, lays it over a copy of the pyctypes package, and runs the
whole test suite (tests/, but for EXCLUDED and DESELECTED below) in a
subprocess with libasan (and libstdc++, which python3 does not link: ASan must
intercept C++ exceptions) preloaded, once in the native mode and once in the
pure mode (PYCTYPES_PURE=1: the Python level over the native primitives).

Every process of the run (pytest, its xdist workers, the children the tests
fork or spawn) writes its ASan reports to its own file in a log directory, so
that a report inside a test that passed (a forked child, a subprocess whose
output the test swallowed) is seen too.  Reports that are CPython 3.11's own
_ctypes crashing on an input where pyctypes raises (the reliability tests run
that side in a forked child on purpose: tests/reliability/FINDINGS.md, D1-D5)
are counted and printed, not failed.  gcc's libubsan takes no log_path: UBSan
reports go to stderr (where pytest may have captured them), and each one
aborts its process (-fno-sanitize-recover, abort_on_error), which every
harness here sees as a crash; the run's output is searched for them too.
The run fails on a failed test or on any report of pyctypes.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import pyctypes

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Left out of the sanitizer run, each with the reason; everything else in tests/ runs.
EXCLUDED = {
    "tests/programs": "real packages' suites and programs (pyglet under Xvfb with Mesa's "
                      "llvmpipe, numpy, multiprocessing): the slowest part of CI, and mostly "
                      "third-party native code that is not instrumented; they run on the "
                      "normal build",
    "tests/sanitizers": "this test itself",
    "tests/versions": "pyctypes on the other CPython versions, built normally in a venv each: "
                      "nothing of this sanitized build runs there",
    "tests/reliability/test_rel_leaks.py": "measures malloc'd bytes (mallinfo2) and RSS: "
                      "ASan's allocator is not glibc's (mallinfo2 sees none of it) and keeps "
                      "freed blocks in quarantine, so the figures would measure ASan; it runs "
                      "on the normal build in the same CI run",
}
DESELECTED = {
    "tests/test_readme.py::test_readme_commands_from_a_fresh_clone":
        "builds its own (unsanitized) pyctypes in fresh virtual environments, and runs the "
        "README's crash report example, which dies of SIGSEGV on purpose: the preloaded ASan "
        "would report that crash (it runs on the normal build)",
    "tests/conformance/test_harness.py::test_crash_fails_every_test_of_the_module":
        "checks that the conformance harness names the signal of a child it kills with "
        "SIGSEGV; ASan's SEGV handler turns the signal into a report and exit status 1 "
        "(a test of the harness, not of pyctypes; it runs on the normal build)",
}

# ASan: no leak check (CPython does not free everything at exit); abort on the
# first error; a refused allocation returns NULL as glibc's malloc does (tests
# ask for absurd sizes and expect MemoryError, not an ASan abort).
ASAN_OPTIONS = "detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
UBSAN_OPTIONS = "print_stacktrace=1:abort_on_error=1"
# Python's allocations through malloc, not pymalloc's arenas, so that ASan
# sees the bounds of every block (a small block overrun inside an arena is
# invisible to it): instances, their memory blocks, the keep-alives.
PYTHONMALLOC = "malloc"
MODES = {"native": None, "pure": "1"}
# Left out of the pure-mode pass only: CPython's suite runs pyctypes in both
# modes itself (tests/conformance/runner.py sets PYCTYPES_PURE per run), so
# the native-mode pass has run it in the pure mode already.
NATIVE_PASS_ONLY = ["tests/conformance/test_cpython_suite.py"]
TIMEOUT = 1500      # seconds per mode

pytestmark = pytest.mark.slow

# CPython's own _ctypes extension in a stack (symbolised or not), and ours.
_CPYTHON_CTYPES = re.compile(r"Modules/_ctypes/|/_ctypes\.cpython-\d+")
_OURS = re.compile(r"_rawffi|src/native/")


def _tool(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


_INTERPRETER_FRAME = re.compile(r"Python/ceval\.c|Objects/call\.c|pycore_c(eval|all)\.h|"
                                r"Objects/(typeobject|classobject|methodobject)\.c|"
                                r"Python/(bltinmodule|pythonrun)\.c|Modules/main\.c")


def digest(report, lines=80):
    """A report without the interpreter's own frames (eval loop, calls), cut short."""
    kept = [line for line in report.splitlines() if not _INTERPRETER_FRAME.search(line)]
    return "\n".join(kept[:lines])


def classify(log_dir):
    """The sanitizer logs of a run as (reports of pyctypes, reports that are
    CPython's own _ctypes crashing, allocations refused); each report is
    (file name, its text)."""
    ours, cpython, refused = [], [], 0
    for path in sorted(pathlib.Path(log_dir).iterdir()):
        text = path.read_text(errors="replace")
        refused += text.count("WARNING: AddressSanitizer failed to allocate")
        if not re.search(r"ERROR: (Address|UndefinedBehavior|Leak)Sanitizer|runtime error:", text):
            continue                    # warnings only: allocations refused (NULL returned)
        if "runtime error:" not in text and _CPYTHON_CTYPES.search(text) and not _OURS.search(text):
            cpython.append((path.name, text))
        else:
            ours.append((path.name, text))
    return ours, cpython, refused


@pytest.fixture(scope="module")
def sanitized_package(tmp_path_factory):
    if not (ROOT / "src" / "native").is_dir():
        pytest.fail("the sanitizer run needs the source tree (src/native)", pytrace=False)
    build = tmp_path_factory.mktemp("asan-build")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DPYCTYPES_SANITIZE=ON",
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DPython_EXECUTABLE={sys.executable}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    overlay = tmp_path_factory.mktemp("asan-site")
    package = pathlib.Path(pyctypes.__file__).parent
    shutil.copytree(package, overlay / "pyctypes",
                    ignore=shutil.ignore_patterns("_rawffi*.so", "__pycache__"))
    for so in build.glob("_rawffi*.so"):
        shutil.copy(so, overlay / "pyctypes")
    return overlay


def _xdist_args():
    try:
        import xdist  # noqa: F401
    except ImportError:
        return []
    return ["-n", "2"]


@pytest.mark.parametrize("mode", list(MODES))
def test_suite_under_asan_and_ubsan(sanitized_package, tmp_path, mode):
    log_dir = tmp_path / "sanitizer-logs"
    log_dir.mkdir()
    preload = " ".join([_tool(["gcc", "-print-file-name=libasan.so"]),
                        _tool(["g++", "-print-file-name=libstdc++.so"])])
    env = dict(os.environ, LD_PRELOAD=preload, PYTHONPATH=str(sanitized_package),
               ASAN_OPTIONS=f"{ASAN_OPTIONS}:log_path={log_dir}/asan",
               UBSAN_OPTIONS=UBSAN_OPTIONS,
               PYTHONMALLOC=PYTHONMALLOC)
    env.pop("PYCTYPES_PURE", None)
    if MODES[mode] is not None:
        env["PYCTYPES_PURE"] = MODES[mode]
    check = subprocess.run([sys.executable, "-c", "import pyctypes._rawffi as r; print(r.__file__)"],
                           env=env, capture_output=True, text=True, cwd=ROOT)
    assert check.stdout.strip().startswith(str(sanitized_package)), check.stderr
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_xdist_args(), "tests"]
    args += [f"--ignore={path}" for path in EXCLUDED]
    if mode != "native":
        args += [f"--ignore={path}" for path in NATIVE_PASS_ONLY]
    args += [f"--deselect={node}" for node in DESELECTED]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=TIMEOUT)
    output = proc.stdout + proc.stderr
    ours, cpython, refused = classify(log_dir)
    ours += [("output of the run", line) for line in output.splitlines()
             if "runtime error:" in line or "ERROR: AddressSanitizer" in line]
    assert not ours, "%d sanitizer report(s) of pyctypes; the first (%s):\n%s\n\n%s" % (
        len(ours), ours[0][0], digest(ours[0][1]), output[-3000:])
    assert proc.returncode == 0, output[-4000:] + (
        "\n(a test that crashed may hide a UBSan report in its captured stderr: "
        "run it alone with -s under this environment)")
    # pytest's summary line is the last line of stdout (stderr may hold warnings).
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
    print("under ASan+UBSan (%s mode): %s; 0 reports of pyctypes; %d of CPython's own _ctypes "
          "crashing on purpose (reliability tests, forked); %d absurd allocations refused"
          % (mode, summary, len(cpython), refused))
