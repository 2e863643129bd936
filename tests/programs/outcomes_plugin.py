"""pytest plugin of the programs harness: every test's outcome, as it goes, in JSON lines.

Loaded with `-p outcomes_plugin` (this directory on PYTHONPATH) in the runs that
harness.py starts; writes to the file named by PYCTYPES_PROGRAMS_EVENTS:

    {"event": "start", "id": nodeid}                      before each test
    {"event": "result", "id", "outcome", "detail", "tb"}  per failing/skipping phase, and the passing call
    {"event": "collect-error", "id", "detail"}            a module that failed to collect
    {"event": "done", "ctypes_module", "exitstatus"}      at the end: the `_ctypes` the run used

Writing as it goes means that a crash still tells which test was running.
Outcomes are those of the harness: pass, fail, error, skip, expected-failure,
unexpected-success (a test reporting several keeps the worst).
"""

import os
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.append(TESTS)                      # for suiterun

import suiterun  # noqa: E402

_emit = suiterun.emitter(lambda: os.environ["PYCTYPES_PROGRAMS_EVENTS"])


def _text(longrepr, limit):
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):          # a skip: (path, line, reason)
        return str(longrepr[-1])[:limit]
    return str(longrepr)[-limit:]


def _short(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0] if crash.message else ""
    return _text(report.longrepr, 300).strip().splitlines()[-1:][0] if report.longrepr else ""


def pytest_runtest_logstart(nodeid, location):
    _emit(event="start", id=nodeid)


def _outcome(report):
    xfail = hasattr(report, "wasxfail")
    if report.when != "call":
        if report.failed:
            return "error"
        if report.skipped:
            return "expected-failure" if xfail else "skip"
        return None                           # a passing setup/teardown says nothing
    if report.passed:
        return "unexpected-success" if xfail else "pass"
    if report.skipped:
        return "expected-failure" if xfail else "skip"
    return "fail"


def pytest_runtest_logreport(report):
    outcome = _outcome(report)
    if outcome is None:
        return
    if outcome in ("skip", "expected-failure"):
        detail = report.wasxfail if outcome == "expected-failure" else _text(report.longrepr, 300)
        tb = ""
    elif outcome in ("fail", "error"):
        detail = (f"in {report.when}: " if report.when != "call" else "") + _short(report)
        tb = _text(report.longrepr, 4000)
    else:
        detail = tb = ""
    _emit(event="result", id=report.nodeid, outcome=outcome, detail=detail, tb=tb)


def pytest_collectreport(report):
    if report.failed:
        _emit(event="collect-error", id=report.nodeid, detail=_text(report.longrepr, 4000))


def pytest_sessionfinish(session, exitstatus):
    module = sys.modules.get("_ctypes")
    _emit(event="done", ctypes_module=getattr(module, "__name__", None), exitstatus=int(exitstatus))
