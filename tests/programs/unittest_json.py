"""unittest driver of the programs harness: `python -m unittest_json MODULE`.

Runs the tests of MODULE (its load_tests included) and writes each outcome, as
it goes, in the JSON lines of outcomes_plugin.py to the file named by
PYCTYPES_PROGRAMS_EVENTS.  Subtests fold into their test (the worst outcome).
"""

import importlib
import os
import sys
import traceback
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.append(TESTS)                      # for suiterun

import suiterun  # noqa: E402

_emit = suiterun.emitter(lambda: os.environ["PYCTYPES_PROGRAMS_EVENTS"])


def _short(err):
    return "".join(traceback.format_exception_only(err[0], err[1])).strip().splitlines()[-1]


def main(argv):
    (name,) = argv
    try:
        suite = unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(name))
    except BaseException as exc:
        _emit(event="collect-error", id=name,
              detail="".join(traceback.format_exception(exc))[-4000:])
        status = 3
    else:
        result = suiterun.JSONResult(_emit, _short)
        suite.run(result)
        status = 0 if result.wasSuccessful() else 1
    module = sys.modules.get("_ctypes")
    _emit(event="done", ctypes_module=getattr(module, "__name__", None), exitstatus=status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
