"""unittest driver of the programs harness: `python -m unittest_json MODULE`.

Runs the tests of MODULE (its load_tests included) and writes each outcome, as
it goes, in the JSON lines of outcomes_plugin.py to the file named by
PYCTYPES_PROGRAMS_EVENTS.  Subtests fold into their test (the worst outcome).
"""

import importlib
import json
import os
import sys
import traceback
import unittest

_out = None


def _emit(**event):
    global _out
    if _out is None:
        _out = open(os.environ["PYCTYPES_PROGRAMS_EVENTS"], "a", buffering=1, encoding="utf-8")
    _out.write(json.dumps(event) + "\n")
    _out.flush()


def _short(err):
    return "".join(traceback.format_exception_only(err[0], err[1])).strip().splitlines()[-1]


def _full(err):
    return "".join(traceback.format_exception(*err))[-4000:]


class JSONResult(unittest.TestResult):
    def _id(self, test):
        if isinstance(test, unittest.case._SubTest):
            return test.test_case.id()
        return test.id()

    def _result(self, test, outcome, detail="", tb=""):
        _emit(event="result", id=self._id(test), outcome=outcome, detail=detail, tb=tb)

    def startTest(self, test):
        super().startTest(test)
        _emit(event="start", id=self._id(test))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._result(test, "pass")

    def addError(self, test, err):
        super().addError(test, err)
        self._result(test, "error", _short(err), _full(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._result(test, "fail", _short(err), _full(err))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "fail" if issubclass(err[0], test.failureException) else "error"
            self._result(test, outcome, f"{subtest._subDescription()}: {_short(err)}", _full(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._result(test, "skip", str(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._result(test, "expected-failure", _short(err))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._result(test, "unexpected-success")


def main(argv):
    (name,) = argv
    try:
        suite = unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(name))
    except BaseException as exc:
        _emit(event="collect-error", id=name,
              detail="".join(traceback.format_exception(exc))[-4000:])
        status = 3
    else:
        result = JSONResult()
        suite.run(result)
        status = 0 if result.wasSuccessful() else 1
    module = sys.modules.get("_ctypes")
    _emit(event="done", ctypes_module=getattr(module, "__name__", None), exitstatus=status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
