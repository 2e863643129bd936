"""The conformance harness itself (runner.py), on made-up test modules.

Each case writes a reference module and a candidate module of the same name
(in two directories) and checks what runner.compare makes of them: lost
passes, extra skips, crashes, hangs, import errors and fixture errors.
"""

import textwrap

import pytest

import runner  # this directory's runner.py (pytest puts the directory on sys.path)

pytestmark = pytest.mark.conformance


PACKAGE = "fakesuite"

REFERENCE = """
    import unittest
    import ctypes

    class T(unittest.TestCase):
        def test_a(self):
            pass

        def test_b(self):
            pass

        @unittest.skip("Windows only")
        def test_c(self):
            pass

        def test_d(self):
            self.fail("fails on CPython too")

        @unittest.expectedFailure
        def test_e(self):
            self.fail("known")
"""


def _write(directory, body):
    package = directory / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "test_fake.py").write_text(textwrap.dedent(body))
    return str(directory)


def _compare(tmp_path, candidate_body, timeout=30):
    ref_dir = _write(tmp_path / "ref", REFERENCE)
    cand_dir = _write(tmp_path / "cand", candidate_body)
    reference = runner.run_module("test_fake", "cpython", timeout, PACKAGE, [ref_dir])
    candidate = runner.run_module("test_fake", "cpython", timeout, PACKAGE, [cand_dir])
    assert reference.ok, reference.problem
    return runner.compare(reference, candidate)


def _ids(entries):
    return sorted(entry[0].rsplit(".", 1)[1] for entry in entries)


def test_reference_outcomes(tmp_path):
    run = runner.run_module("test_fake", "cpython", 30, PACKAGE,
                            [_write(tmp_path, REFERENCE)])
    assert run.ok
    assert {t.rsplit(".", 1)[1]: o.outcome for t, o in run.tests.items()} == {
        "test_a": "pass", "test_b": "pass", "test_c": "skip", "test_d": "fail",
        "test_e": "expected-failure"}
    assert run.tests[f"{PACKAGE}.test_fake.T.test_c"].detail == "Windows only"
    assert run.counts() == {"run": 5, "pass": 3, "skip": 1, "fail": 1}


def test_identical_runs_conform(tmp_path):
    comparison = _compare(tmp_path, REFERENCE)
    assert comparison.ok and comparison.skips_equal
    assert comparison.lost == [] and comparison.extra_skips == []


def test_lost_pass_and_extra_skip(tmp_path):
    body = (REFERENCE.replace("def test_a(self):\n            pass",
                              "def test_a(self):\n            raise TypeError('no luck')")
            .replace("def test_b(self):", "@unittest.skip('not here')\n        def test_b(self):"))
    comparison = _compare(tmp_path, body)
    assert not comparison.ok and not comparison.skips_equal
    assert _ids(comparison.lost) == ["test_a"]
    assert comparison.lost[0][2] == "error"
    assert _ids(comparison.extra_skips) == ["test_b"]
    report = comparison.report()
    assert "FAILED fakesuite.test_fake.T.test_a: error: TypeError: no luck [test_fake.py:" in report
    assert "EXTRA SKIP fakesuite.test_fake.T.test_b (CPython: pass): not here" in report
    counts = comparison.candidate.counts(comparison.reference)
    assert counts == {"run": 5, "pass": 1, "skip": 2, "fail": 2}


def test_failing_subtest_is_a_failure(tmp_path):
    body = REFERENCE.replace(
        "def test_b(self):\n            pass",
        "def test_b(self):\n"
        "            for i in range(3):\n"
        "                with self.subTest(i=i):\n"
        "                    self.assertLess(i, 2)")
    comparison = _compare(tmp_path, body)
    assert _ids(comparison.lost) == ["test_b"]
    assert "(i=2)" in comparison.lost[0][3]


def test_skipping_a_test_that_fails_on_cpython_is_an_extra_skip(tmp_path):
    body = REFERENCE.replace("def test_d(self):", "@unittest.skip('x')\n        def test_d(self):")
    comparison = _compare(tmp_path, body)
    assert comparison.lost == [] and _ids(comparison.extra_skips) == ["test_d"]


def test_crash_fails_every_test_of_the_module(tmp_path):
    body = REFERENCE.replace(
        "def test_b(self):\n            pass",
        "def test_b(self):\n"
        "            import os, signal\n"
        "            os.kill(os.getpid(), signal.SIGSEGV)")
    comparison = _compare(tmp_path, body)
    assert comparison.candidate.status == "crash"
    assert "SIGSEGV" in comparison.candidate.problem
    assert "test_fake.T.test_b" in comparison.candidate.problem
    # test_a passed before the crash and still counts as failed.
    assert _ids(comparison.lost) == ["test_a", "test_b", "test_e"]
    assert comparison.candidate.counts(comparison.reference)["pass"] == 0
    assert "Fatal Python error: Segmentation fault" in comparison.report()


def test_timeout_fails_every_test_of_the_module(tmp_path):
    body = REFERENCE.replace("def test_b(self):\n            pass",
                             "def test_b(self):\n            import time; time.sleep(60)")
    comparison = _compare(tmp_path, body, timeout=3)
    assert comparison.candidate.status == "timeout"
    assert "timed out after 3 s, in fakesuite.test_fake.T.test_b" in comparison.candidate.problem
    assert _ids(comparison.lost) == ["test_a", "test_b", "test_e"]


def test_import_error_fails_every_test_of_the_module(tmp_path):
    comparison = _compare(tmp_path, "import ctypes\nraise ImportError('broken binding')\n")
    assert comparison.candidate.status == "import-error"
    assert "ImportError: broken binding" in comparison.candidate.problem
    assert "<frozen importlib" not in comparison.candidate.problem
    assert _ids(comparison.lost) == ["test_a", "test_b", "test_e"]


def test_fixture_error_is_reported(tmp_path):
    body = REFERENCE.replace(
        "class T(unittest.TestCase):",
        "class T(unittest.TestCase):\n"
        "        @classmethod\n"
        "        def setUpClass(cls):\n"
        "            raise ValueError('no fixture')\n")
    comparison = _compare(tmp_path, body)
    assert _ids(comparison.lost) == ["test_a", "test_b", "test_e"]
    assert all(entry[2] == "not run" for entry in comparison.lost)
    assert "ERROR setUpClass (fakesuite.test_fake.T): ValueError: no fixture" in comparison.report()


def test_run_bound_to_another_ctypes_fails(tmp_path):
    # The CPython run must be bound to CPython's `_ctypes`; this one never imports it.
    comparison = _compare(tmp_path, REFERENCE.replace("import ctypes", "import sys"))
    assert comparison.candidate.status == "wrong-binding"
    assert "_ctypes = None" in comparison.candidate.problem
    assert not comparison.ok


def test_crash_at_interpreter_exit_fails_the_module(tmp_path):
    body = textwrap.dedent(REFERENCE) + textwrap.dedent("""
        import atexit, os, signal
        atexit.register(lambda: os.kill(os.getpid(), signal.SIGABRT))
    """)
    comparison = _compare(tmp_path, body)
    assert comparison.candidate.status == "crash"
    assert comparison.candidate.problem == "killed by SIGABRT after the last test"
    assert _ids(comparison.lost) == ["test_a", "test_b", "test_e"]
