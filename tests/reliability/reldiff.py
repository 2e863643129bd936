"""Side-by-side machinery of the reliability tests: run one operation on
CPython's ctypes (`C`) and on pyctypes (`P`), compare the outcomes, count the
cases, and run whole property tests in a forked child so that a crash is a
failure that names its input instead of a dead test run.

    check(lambda ct: ct.c_int(value).value)   # same result or same exception

An outcome is ("ok", normalised result) or ("raise", exception class name,
message).  Exception classes are compared by name (each side has its own
ArgumentError); messages are compared only where `messages=True` (CPython's
tests check them there), and otherwise counted as "message_differing" for the
report without failing.
"""

import faulthandler
import functools
import os
import pickle
import tempfile
import traceback

import pytest

from hypothesis import HealthCheck, settings

import ctypes as C
from pyctypes import ctypes as P

import diffhelp

# values compare by their bits (floats, instances' bytes): diffhelp.by_bits
normalise = diffhelp.by_bits

_COMMON = dict(deadline=None, derandomize=False, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("rel-ci", max_examples=150, **_COMMON)
settings.register_profile("rel-long", max_examples=2000, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def rel_settings():
    """The settings object the property tests of this directory decorate with
    (their own profile, so that other test directories are not affected)."""
    return settings.get_profile("rel-long" if PROFILE == "long" else "rel-ci")



# Counters of this process; conftest gathers them (xdist workers and forked
# children included) and prints and saves them at the end of the session.
STATS = {"tried": 0, "differing": 0, "message_differing": 0, "crashed": 0,
         "cpython_crashed": 0}
MESSAGE_DIFFS = {}          # "C message -> P message" -> count (first 50 kept)

# File descriptor where a forked child writes each case before running it.
_case_fd = None


def outcome(op, ct):
    """Run op(ct) and say what happened (a RecursionError is not an outcome)."""
    return diffhelp.outcome(op, ct, norm=normalise, reraise=(RecursionError,))


def same_exception(c_out, p_out, messages):
    if c_out[1] != p_out[1]:
        return False
    return not messages or c_out[2] == p_out[2]


def outcome_forked(op, ct):
    """outcome(op, ct) in a forked child: None if the child died (CPython
    3.11 crashes on some input, e.g. slicing a NULL char pointer)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            faulthandler.disable()          # an expected crash: no traceback printed
            os.close(r)
            with os.fdopen(w, "wb") as pipe:
                pipe.write(pickle.dumps(outcome(op, ct)))
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return pickle.loads(data) if data else None


def check(op, *, messages=False, case=None, expect=None, cpython_crashes=None):
    """Compare op(C) with op(P); count the case; raise AssertionError on a
    difference.  `expect` replaces CPython's outcome where pyctypes is meant to
    differ (a CPython 3.11 bug: say which in the caller).  With
    `cpython_crashes` (an exception class name, or a predicate on pyctypes'
    outcome), CPython's side runs in a forked child, and where it dies (or
    raises SystemError: an error set while a result was returned) pyctypes
    must raise that exception (or satisfy the predicate)."""
    if case is not None:
        note_case(case)
    STATS["tried"] += 1
    if expect is not None:
        c_out = expect
    elif cpython_crashes:
        c_out = outcome_forked(op, C)
        if c_out is None or c_out[1] == "SystemError":
            STATS["cpython_crashed"] += 1
            p_out = outcome(op, P)
            if callable(cpython_crashes):
                good = cpython_crashes(p_out)
            else:
                good = p_out[0] == "raise" and p_out[1] == cpython_crashes
            if not good:
                STATS["differing"] += 1
                raise AssertionError("CPython crashes here, pyctypes must raise %s; it gave %r"
                                     % (cpython_crashes, p_out))
            return p_out
    else:
        c_out = outcome(op, C)
    p_out = outcome(op, P)
    if c_out[0] == p_out[0] == "ok":
        ok = c_out[1] == p_out[1]
    elif c_out[0] == p_out[0] == "raise":
        ok = same_exception(c_out, p_out, messages)
        if ok and c_out[2] != p_out[2]:
            STATS["message_differing"] += 1
            key = "%s: %r -> %r" % (c_out[1], c_out[2], p_out[2])
            if key in MESSAGE_DIFFS or len(MESSAGE_DIFFS) < 50:
                MESSAGE_DIFFS[key] = MESSAGE_DIFFS.get(key, 0) + 1
    else:
        ok = False
    if not ok:
        STATS["differing"] += 1
        raise AssertionError("pyctypes differs from CPython's _ctypes%s\n  CPython:  %r\n"
                             "  pyctypes: %r" % ("" if case is None else " on %s" % (case,),
                                                 c_out, p_out))
    return p_out


def note_case(description):
    """Write the case about to run where the parent of a forked child finds
    it if the child dies."""
    if _case_fd is not None:
        text = ("%s\n" % (description,)).encode("utf-8", "backslashreplace")
        os.lseek(_case_fd, 0, os.SEEK_SET)
        os.ftruncate(_case_fd, 0)
        os.write(_case_fd, text)


def _recording(inner):
    @functools.wraps(inner)
    def run(*args, **kwargs):
        note_case("%s(%s)" % (inner.__name__, ", ".join(
            [repr(a) for a in args] + ["%s=%r" % kv for kv in sorted(kwargs.items())])))
        return inner(*args, **kwargs)
    return run


def _short_report(exc, depth=0):
    """The exception's type, message and notes (hypothesis puts the
    falsifying example there), with its innermost frames; the same for each
    exception of a group."""
    lines = traceback.format_exception_only(exc)
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    lines[:0] = traceback.format_list(frames)
    for sub in getattr(exc, "exceptions", ())[:3]:
        lines.append("---- sub-exception:\n" + _short_report(sub, depth + 1))
    return "".join(lines)


def _stats_delta(before):
    return {k: STATS[k] - before.get(k, 0) for k in STATS}


def merge_stats(delta, messages=None):
    for key, count in delta.items():
        STATS[key] = STATS.get(key, 0) + count
    for key, count in (messages or {}).items():
        if key in MESSAGE_DIFFS or len(MESSAGE_DIFFS) < 50:
            MESSAGE_DIFFS[key] = MESSAGE_DIFFS.get(key, 0) + count


def guarded(test):
    """Run the (hypothesis) test in a forked child.  The child writes each
    generated input to a file before running it; if the child dies of a
    signal the test fails with that input.  Counters come back to the parent."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        global _case_fd
        fd, case_path = tempfile.mkstemp(prefix="pyctypes-case-")
        r, w = os.pipe()
        before = dict(STATS)
        before_messages = dict(MESSAGE_DIFFS)
        pid = os.fork()
        if pid == 0:                                    # the child
            code = 0
            try:
                os.close(r)
                _case_fd = fd
                hyp = getattr(test, "hypothesis", None)
                if hyp is not None:
                    hyp.inner_test = _recording(hyp.inner_test)
                try:
                    test(*args, **kwargs)
                    result = ("passed", None)
                except BaseException as exc:            # noqa: BLE001 - sent to the parent
                    result = ("failed", _short_report(exc))
                messages = {k: n - before_messages.get(k, 0) for k, n in MESSAGE_DIFFS.items()
                            if n != before_messages.get(k, 0)}
                payload = pickle.dumps((result, _stats_delta(before), messages))
                with os.fdopen(w, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:                       # noqa: BLE001
                code = 3
            finally:
                os._exit(code)
        os.close(w)
        with os.fdopen(r, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            with open(case_path, encoding="utf-8", errors="replace") as f:
                last_case = f.read().strip()
        finally:
            os.close(fd)
            os.unlink(case_path)
        if not payload:
            STATS["crashed"] += 1
            STATS["differing"] += 1
            how = ("killed by signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status)
                   else "exit status %d" % os.WEXITSTATUS(status))
            pytest.fail("the test process died (%s) on the input:\n  %s"
                        % (how, last_case or "<before the first case>"), pytrace=False)
        (verdict, text), delta, messages = pickle.loads(payload)
        # hypothesis runs a failing case many times while shrinking it: one
        # failed test counts as one differing case (its minimal example)
        delta["differing"] = min(delta["differing"], 1) if verdict == "passed" else 1
        merge_stats(delta, messages)
        if verdict != "passed":
            pytest.fail("in a forked child, last input run:\n  %s\n%s" % (last_case, text),
                        pytrace=False)

    return wrapper
