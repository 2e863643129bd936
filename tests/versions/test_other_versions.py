"""pyctypes on the other CPython versions it supports (issue 14), from one
pytest run: under 3.11, the 3.12 and 3.13 interpreters (interpreters.py
finds them and builds pyctypes into a venv for each) run

* their own ctypes test suite (test.test_ctypes), module by module, on
  CPython's `_ctypes` and on pyctypes in both modes (tools/conformance_table.py
  in the venv): every test that passes on CPython passes on pyctypes, and
  pyctypes skips nothing more;
* the differential tests of tests/ (test_*.py and native/, pyctypes side by
  side with that version's CPython `_ctypes`), in both modes;
* real programs: numpy.ctypeslib's tests, the numpy ndpointer program, and
  multiprocessing's sharedctypes tests with each start method
  (tests/programs/harness.py in the venv).

A version whose interpreter is missing skips with the reason, and the terminal
summary names it on a line of its own.  Marked `versions` and `slow`.
"""

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import warnings

import pytest

import interpreters

pytestmark = [pytest.mark.versions, pytest.mark.slow]

REPO = interpreters.REPO
VERSIONS = interpreters.other_versions()
MODES = {"default": "pyctypes", "pure": "pyctypes-pure"}
PROGRAM_SUITES = ("numpy-ctypeslib", "numpy-ndpointer", "mp-fork", "mp-forkserver", "mp-spawn")
# The differential tests run on each version: all of tests/test_*.py and
# tests/native, less the one that takes half the time (a quadratic PEP 3118
# format check, tests/test_cpython_fixes.py, run on the main version).
DIFF_TESTS = ("tests/test_*.py", "tests/native")
# Not differential tests: the README's commands, the docs build and the
# benchmark's --update check the repository's tooling, on 3.11 (their tools,
# mkdocs, auditwheel, cffi, are installed there only).
DIFF_EXCLUDED = ("tests/test_readme.py", "tests/test_docs.py", "tests/test_bench.py")
# Tests of a version's own suite that fail on pyctypes by a deliberate
# difference (docs/differences.md), reported as warnings, never silently:
# 3.13's test_*inheritance_hierarchy compare cls.__mro__ with CPython's exact
# list; pyctypes' family classes also have the native base holding their fast
# slots (and, in the pure mode, _CDataBase) in their MRO.
DELIBERATE = {"3.13": ("inheritance_hierarchy",)}
DIFF_DESELECT = ("tests/test_cpython_fixes.py::test_nested_array_buffer_format_as_cpython",)
TIMEOUT = float(os.environ.get("PYCTYPES_VERSIONS_TIMEOUT", "900"))


def _suite_modules(version):
    """The modules of `version`'s own ctypes test suite, listed from its stdlib
    (the interpreter is asked where that is); [] if it is missing."""
    python, _ = interpreters.find_interpreter(version)
    if python is None:
        return []
    proc = subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                          capture_output=True, text=True, timeout=60)
    stdlib = proc.stdout.strip()
    for package in (("test", "test_ctypes"), ("ctypes", "test")):
        directory = os.path.join(stdlib, *package)
        if os.path.isdir(directory):
            return sorted(n[:-3] for n in os.listdir(directory)
                          if n.startswith("test_") and n.endswith(".py"))
    return []


def _params():
    """(version, module) pairs; a version without an interpreter gets one
    placeholder, so that its skip (with the reason) is reported."""
    pairs = []
    for version in VERSIONS:
        modules = _suite_modules(version)
        pairs += [(version, m) for m in modules] or [(version, "(no interpreter)")]
    return pairs


def _venv_or_skip(version):
    env = interpreters.venv(version)
    if env.missing:
        pytest.skip(f"CPython {version}: {env.problem}")
    if env.problem:
        pytest.fail(env.problem, pytrace=False)
    return env


# ---------------------------------------------------------------------------
# Runs made once per version, shared by the tests.

_results = {}


def _once(key, make):
    if key not in _results:
        _results[key] = make()
    return _results[key]


@dataclasses.dataclass
class Run:
    returncode: int
    output: str
    data: object = None


def _run_in(env, command, json_name=None, extra_env=None):
    with tempfile.TemporaryDirectory(prefix="pyctypes-versions-") as tmp:
        out = os.path.join(tmp, json_name) if json_name else None
        full = command + (["--json", out] if out else [])
        try:
            proc = subprocess.run([env.python, *full], cwd=REPO, env=env.env(**(extra_env or {})),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  stdin=subprocess.DEVNULL, timeout=TIMEOUT)
            returncode, output = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired as exc:
            returncode, output = -1, f"timed out after {TIMEOUT:g} s\n{exc.stdout or ''}"
        data = None
        if out and os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                data = json.load(f)
    return Run(returncode, output, data)


def conformance(version):
    env = _venv_or_skip(version)
    return _once(("conformance", version), lambda: _run_in(
        env, ["tools/conformance_table.py"], "conformance.json"))


def programs(version):
    env = _venv_or_skip(version)
    return _once(("programs", version), lambda: _run_in(
        env, ["tests/programs/harness.py", *PROGRAM_SUITES], "programs.json"))


def differential(version, mode):
    env = _venv_or_skip(version)
    extra = {"PYCTYPES_PURE": "1"} if mode == "pure" else {}
    paths = [p for pattern in DIFF_TESTS for p in _glob(pattern) if p not in DIFF_EXCLUDED]
    command = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *paths,
               *(f"--deselect={d}" for d in DIFF_DESELECT)]
    return _once(("differential", version, mode), lambda: _run_in(env, command, None, extra))


def _glob(pattern):
    import glob
    return sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, pattern)))


# ---------------------------------------------------------------------------
# The tests.


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("version,module", _params())
def test_cpython_suite(version, module, mode):
    run = conformance(version)
    if run.data is None:
        pytest.fail(f"the conformance run on {version} gave no results "
                    f"(exit status {run.returncode}):\n{run.output[-4000:]}", pytrace=False)
    rows = {row["module"]: row for row in run.data["modules"]}
    row = rows.get(module)
    assert row is not None, f"{module} did not run on {version}"
    impl = MODES[mode]
    counts = row["cpython"]
    # CPython's own run must have run its tests (a suite that fails to
    # import ctypes runs none, and says OK)
    assert counts["run"] == row["tests"] and (counts["pass"] + counts["skip"] > 0 or row["tests"] == 0)
    if not row["conforms"][impl]:
        deviations = row["deviations"][impl]
        failed = []
        for t, got, detail in deviations["failed"]:
            if any(t.endswith(name) for name in DELIBERATE.get(version, ())):
                warnings.warn(f"deliberate difference on CPython {version} ({mode} mode): {t} fails "
                              f"(docs/differences.md)")
            else:
                failed.append((t, got, detail))
        if not failed and not deviations["extra_skips"] and row["status"][impl] == "ok":
            return
        lines = [f"{module} on CPython {version}, pyctypes {mode} mode "
                 f"({row['status'][impl]}): {len(failed)} test(s) pass on CPython "
                 f"but not on pyctypes, {len(deviations['extra_skips'])} extra skip(s)"]
        lines += [f"  FAILED {t}: {got}: {detail[:300]}" for t, got, detail in failed]
        lines += [f"  EXTRA SKIP {t}: {reason}" for t, reason in deviations["extra_skips"]]
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("version", VERSIONS)
def test_differential(version, mode):
    run = differential(version, mode)
    tail = run.output[-6000:]
    if run.returncode != 0:
        pytest.fail(f"tests/ on CPython {version}, pyctypes {mode} mode "
                    f"(exit status {run.returncode}):\n{tail}", pytrace=False)
    assert " passed" in tail.splitlines()[-1], tail


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("suite", PROGRAM_SUITES)
@pytest.mark.parametrize("version", VERSIONS)
def test_programs(version, suite, mode):
    sys.path.insert(0, os.path.join(REPO, "tests", "programs"))
    try:
        import harness
    finally:
        sys.path.pop(0)
    run = programs(version)
    if run.data is None:
        pytest.fail(f"the programs harness on {version} gave no results "
                    f"(exit status {run.returncode}):\n{run.output[-4000:]}", pytrace=False)
    reference, candidate = (_suite_run(harness, run.data[f"{suite}/{impl}"])
                            for impl in ("cpython", MODES[mode]))
    comparison = harness.compare(reference, candidate)
    if not comparison.ok:
        pytest.fail(f"CPython {version}:\n" + comparison.report(), pytrace=False)
    assert reference.counts()["pass"] > 0, f"{suite} on {version}: no test passed on CPython"


def _suite_run(harness, data):
    data = dict(data)
    data["tests"] = {k: harness.TestOutcome(**v) for k, v in data["tests"].items()}
    data["stray"] = [tuple(s) for s in data.get("stray", ())]
    return harness.SuiteRun(**data)
