"""The programs harness itself (harness.py, outcomes_plugin.py, unittest_json.py), on
made-up suites: per-test outcomes, crashes, time-outs, binding checks, the comparison
and the retry rule.  Fast; not marked `programs`."""

import dataclasses
import textwrap

import pytest

import harness  # this directory's harness.py (pytest puts the directory on sys.path)

Outcome = harness.TestOutcome


def run_of(impl, status="ok", **tests):
    return harness.SuiteRun("made-up", impl, status=status,
                            tests={t: Outcome(o) for t, o in tests.items()})


# -- comparison, retry ------------------------------------------------------


def test_compare_counts_every_test_that_passes_on_cpython_and_not_on_pyctypes():
    reference = run_of("cpython", a="pass", b="pass", c="fail", d="skip", e="expected-failure",
                       f="pass", g="pass")
    candidate = run_of("pyctypes", a="pass", b="fail", c="pass", d="skip", e="pass", f="skip")
    comparison = harness.compare(reference, candidate)
    assert [(t, ref, got) for t, ref, got, _ in comparison.lost] == [
        ("b", "pass", "fail"), ("e", "expected-failure", "pass"), ("f", "pass", "skip"),
        ("g", "pass", "not run")]
    assert not comparison.ok
    assert harness.compare(reference, run_of("pyctypes", a="pass", b="pass", e="expected-failure",
                                             f="pass", g="pass")).ok


def test_a_deliberate_difference_is_not_lost(monkeypatch):
    """A test named in DELIBERATE may fail on pyctypes; the others still count."""
    monkeypatch.setitem(harness.DELIBERATE, ("made-up", "b"), "a deliberate difference")
    reference = run_of("cpython", a="pass", b="pass", c="pass")
    comparison = harness.compare(reference, run_of("pyctypes", a="pass", b="fail", c="fail"))
    assert [t for t, _, _, _ in comparison.lost] == ["c"]


def test_a_broken_run_loses_every_passing_test():
    reference = run_of("cpython", a="pass", b="fail")
    candidate = run_of("pyctypes", "crash", a="pass")
    comparison = harness.compare(reference, candidate)
    assert [(t, got) for t, _, got, _ in comparison.lost] == [("a", "not run (crash)")]
    assert candidate.counts(reference) == {"run": 2, "pass": 0, "skip": 0, "fail": 2}


def test_a_failed_reference_fails_the_comparison():
    comparison = harness.compare(run_of("cpython", "timeout"), run_of("pyctypes", a="pass"))
    assert not comparison.ok and "reference run failed" in comparison.report()


def test_retry_picks_runs_missing_a_test_another_passes_and_keeps_the_best():
    results = {("s", "cpython"): run_of("cpython", a="pass", b="fail"),
               ("s", "pyctypes"): run_of("pyctypes", a="fail", b="pass"),
               ("s", "pyctypes-pure"): run_of("pyctypes-pure", a="pass", b="pass"),
               ("t", "cpython"): run_of("cpython", a="pass"),
               ("t", "pyctypes"): run_of("pyctypes", "crash")}
    assert sorted(harness._to_retry(results)) == [("s", "cpython"), ("s", "pyctypes"),
                                                   ("t", "pyctypes")]
    best = harness._best_of(run_of("pyctypes", a="fail", b="pass"), run_of("pyctypes", a="pass",
                                                                            b="fail"))
    assert {t: o.outcome for t, o in best.tests.items()} == {"a": "pass", "b": "pass"}
    assert best.retried


# -- made-up suites run for real --------------------------------------------

PYTEST_FILE = """
    import os, sys, pytest

    def test_pass():
        import ctypes
        assert ctypes.c_int(7).value == 7

    def test_fail():
        assert 1 == 2

    @pytest.mark.skip(reason="not today")
    def test_skip():
        pass

    @pytest.mark.xfail(reason="known")
    def test_xfail():
        assert False

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture broke")

    def test_setup_error(broken):
        pass

    def test_bound_to():
        import _ctypes
        assert _ctypes.__name__ == os.environ["EXPECTED_CTYPES"]

    def test_crash_if_asked():
        if os.environ.get("CRASH"):
            os.abort()

    def test_sleep_if_asked():
        if os.environ.get("SLEEP"):
            import time
            time.sleep(60)
"""

UNITTEST_MODULE = """
    import unittest

    class T(unittest.TestCase):
        def test_pass(self):
            import ctypes
            self.assertEqual(ctypes.sizeof(ctypes.c_short), 2)

        def test_subtests(self):
            for i in range(3):
                with self.subTest(i=i):
                    self.assertLess(i, 2)

        @unittest.skip("why not")
        def test_skip(self):
            pass

        @unittest.expectedFailure
        def test_expected(self):
            self.fail()
"""

PROGRAM = """
    import json, os, sys, _ctypes
    results = {"one": True, "two": os.environ.get("FAIL_TWO") is None}
    bound = os.environ.get("CLAIM_CTYPES") or _ctypes.__name__
    print("RESULT " + json.dumps({"ok": all(results.values()), "results": results,
                                  "ctypes_module": bound}))
"""


@pytest.fixture
def made_up(tmp_path, monkeypatch):
    """Register made-up suites in the harness: {kind: suite name}."""
    (tmp_path / "test_made_up.py").write_text(textwrap.dedent(PYTEST_FILE))
    (tmp_path / "made_up_unittest.py").write_text(textwrap.dedent(UNITTEST_MODULE))
    program = tmp_path / "made_up_program.py"
    program.write_text(textwrap.dedent(PROGRAM))
    suites = {
        "pytest": harness.Suite("made-up-pytest", "made-up", "", "pytest",
                                (str(tmp_path / "test_made_up.py"),), timeout=60.0),
        "unittest": harness.Suite("made-up-unittest", "made-up", "", "unittest",
                                  ("made_up_unittest",), path=(str(tmp_path),), timeout=60.0),
        "program": harness.Suite("made-up-program", "made-up", "", "program", (str(program),),
                                 timeout=60.0),
    }
    monkeypatch.setattr(harness, "SUITES", {**harness.SUITES, **{s.name: s for s in suites.values()}})
    return suites


def _with_env(monkeypatch, suite, **env):
    patched = dataclasses.replace(suite, env=tuple(env.items()))
    monkeypatch.setitem(harness.SUITES, suite.name, patched)
    return suite.name


@pytest.mark.parametrize("impl", ["cpython", "pyctypes"])
def test_pytest_outcomes(made_up, monkeypatch, impl):
    name = _with_env(monkeypatch, made_up["pytest"],
                     EXPECTED_CTYPES=harness.IMPLS[impl].ctypes_module)
    run = harness.run_suite(name, impl)
    assert run.ok, (run.status, run.problem, run.output)
    outcomes = {t.split("::")[-1]: o.outcome for t, o in run.tests.items()}
    assert outcomes == {"test_pass": "pass", "test_fail": "fail", "test_skip": "skip",
                        "test_xfail": "expected-failure", "test_setup_error": "error",
                        "test_bound_to": "pass", "test_crash_if_asked": "pass",
                        "test_sleep_if_asked": "pass"}
    details = {t.split("::")[-1]: o.detail for t, o in run.tests.items()}
    assert details["test_skip"] == "Skipped: not today"
    assert "fixture broke" in details["test_setup_error"]


def test_a_crash_names_the_running_test(made_up, monkeypatch):
    name = _with_env(monkeypatch, made_up["pytest"], CRASH="1", EXPECTED_CTYPES="_ctypes")
    run = harness.run_suite(name, "cpython")
    assert run.status == "crash"
    assert "SIGABRT" in run.problem and run.problem.endswith("test_crash_if_asked")
    assert run.tests[next(t for t in run.tests if t.endswith("test_pass"))].outcome == "pass"


def test_a_time_out(made_up, monkeypatch):
    name = _with_env(monkeypatch, made_up["pytest"], SLEEP="1", EXPECTED_CTYPES="_ctypes")
    run = harness.run_suite(name, "cpython", timeout=8)
    assert run.status == "timeout" and "test_sleep_if_asked" in run.problem


@pytest.mark.parametrize("impl", ["cpython", "pyctypes-pure"])
def test_unittest_outcomes(made_up, impl):
    run = harness.run_suite(made_up["unittest"].name, impl)
    assert run.ok, (run.status, run.problem, run.output)
    assert {t.rsplit(".", 1)[-1]: o.outcome for t, o in run.tests.items()} == {
        "test_pass": "pass", "test_subtests": "fail", "test_skip": "skip",
        "test_expected": "expected-failure"}
    assert run.tests["made_up_unittest.T.test_subtests"].detail.startswith("(i=2)")


def test_program_checks_are_tests(made_up, monkeypatch):
    run = harness.run_suite(made_up["program"].name, "pyctypes")
    assert run.ok and {t: o.outcome for t, o in run.tests.items()} == {"one": "pass", "two": "pass"}
    name = _with_env(monkeypatch, made_up["program"], FAIL_TWO="1")
    assert harness.run_suite(name, "cpython").tests["two"].outcome == "fail"


def test_a_run_on_the_wrong_ctypes_is_refused(made_up, monkeypatch):
    name = _with_env(monkeypatch, made_up["program"], CLAIM_CTYPES="_ctypes")
    run = harness.run_suite(name, "pyctypes")
    assert run.status == "wrong-binding"
    assert harness.compare(harness.run_suite(name, "cpython"), run).lost


def test_children_of_pyctypes_runs_bind_to_pyctypes():
    python, _ = harness.interpreter()
    assert harness._binds_children(python)


def test_suites_cover_the_issue():
    kinds = {s.name: s.kind for s in harness.SUITES.values() if not s.name.startswith("made-up")}
    assert {"pyglet-unit", "pyglet-integration", "mp-fork", "mp-forkserver", "mp-spawn",
            "numpy-ctypeslib", "pyglet-headless", "numpy-ndpointer"} <= set(kinds)
