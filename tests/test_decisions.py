"""Python decides, C++ remembers: every argument conversion rule is Python
(pyctypes._ctypes.params and the from_param rules of the families); the native
call path asks a rule for the first value of each type at a call site and
executes the remembered action for the next ones.

These tests check what that promises: a rule runs (a breakpoint in it fires)
for each new type of value in both modes; results and errors equal CPython's
whatever the cache holds; a malformed decision is refused with an exception;
what a rule decided from changing (SetPointerType) is noticed."""

import ctypes as C
import sys

import pytest
from diffhelp import outcome

from pyctypes import ctypes as P
from pyctypes._ctypes import primitive
from pyctypes._ctypes._native import PURE, raw
from pyctypes._ctypes.conversion import decide_extra_argument, refuse_call


@pytest.fixture(scope="module")
def libs(clib_path):
    return {C: C.CDLL(clib_path), P: P.CDLL(clib_path)}


class RuleCalls:
    """Counts the calls of one rule's code, as a debugger's breakpoint in it
    would fire (sys.settrace 'call' events)."""

    def __init__(self, code):
        self.code = code
        self.count = 0

    def _trace(self, frame, event, arg):
        if event == "call" and frame.f_code is self.code:
            self.count += 1
        return None

    def __enter__(self):
        self._old = sys.gettrace()
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._old)


def strlen(ct, lib):
    f = lib.my_strlen
    f.argtypes, f.restype = [ct.c_char_p], ct.c_size_t
    return f


def test_breakpoint_in_the_rule_fires_for_each_new_type(libs):
    """argtypes=[c_char_p]: the c_char_p rule runs at the first call with each
    new type of argument (every call under PURE); the results and errors are
    CPython's."""
    cf, pf = strlen(C, libs[C]), strlen(P, libs[P])
    values = [lambda ct: b"hello", lambda ct: b"hi", lambda ct: ct.c_char_p(b"abc"),
              lambda ct: ct.c_char_p(b"de"), lambda ct: None, lambda ct: bytearray(b"x"),
              lambda ct: 3.5, lambda ct: ct.create_string_buffer(b"four"), lambda ct: b"again"]
    new_type = [True, False, True, False, True, True, True, True, False]
    with RuleCalls(primitive._c_char_p_param_rule.__code__) as calls:
        for make, is_new in zip(values, new_type):
            before = calls.count
            got = outcome(pf, make(P))
            assert got == outcome(cf, make(C))
            fired = calls.count - before
            if PURE:
                assert fired == 1
            elif got[0] == "raise":
                assert fired == 1           # refusals are decided each time, by the rule
            else:
                assert fired == (1 if is_new else 0)


def test_rule_decides_again_for_a_value_the_remembered_store_refuses(libs):
    """c_char argtype: exact bytes of length 1 are stored by the remembered
    action; a longer bytes (same type) goes back to the rule, which raises
    CPython's error."""
    def func(ct, lib):
        f = lib.ret_int
        f.argtypes, f.restype = [ct.c_char], ct.c_int
        return f
    cf, pf = func(C, libs[C]), func(P, libs[P])
    for value in (b"a", b"bc", b"d", 65, 300, b"", "x"):
        assert outcome(pf, value) == outcome(cf, value)


def test_more_types_than_a_site_remembers(libs):
    """A c_void_p site sees more types of value than its cache holds; every
    call still passes what CPython passes."""
    def func(ct, lib):
        f = lib.is_null
        f.argtypes, f.restype = [ct.c_void_p], ct.c_int
        return f
    cf, pf = func(C, libs[C]), func(P, libs[P])

    def values(ct):
        buf = ct.create_string_buffer(4)
        return [None, 0, 5, b"x", "y", ct.c_void_p(0), ct.c_void_p(7), ct.c_char_p(None),
                buf, ct.pointer(ct.c_int(1)), ct.byref(ct.c_int(2)), ct.c_int(3), 1.5]
    for _ in range(3):
        assert [outcome(pf, v) for v in values(P)] == [outcome(cf, v) for v in values(C)]


def test_pointer_site_notices_set_pointer_type(libs):
    """A POINTER argtype remembers 'an A instance passes by reference'; after
    SetPointerType gives the pointer type another target, A is refused again
    (as CPython does)."""
    def run(ct, lib):
        class A(ct.Structure):
            _fields_ = [("x", ct.c_int)]

        class B(ct.Structure):
            _fields_ = [("x", ct.c_int)]
        LP = ct.POINTER("Target")
        ct.SetPointerType(LP, A)
        f = lib.deref_int
        f.argtypes, f.restype = [LP], ct.c_int
        first = [outcome(f, A(7)), outcome(f, A(8))]
        LP.set_type(B)      # (SetPointerType itself refuses a second target)
        return first + [outcome(f, A(9)), outcome(f, B(10))]
    assert run(P, libs[P]) == run(C, libs[C])


@pytest.mark.skipif(PURE, reason="the native plan exists only with fast paths on")
@pytest.mark.parametrize("decision", [
    lambda v: 5,
    lambda v: (raw.Pass.NULL, v, None, True),
    lambda v: raw.ArgDecision((17, v, None, True)),
    lambda v: raw.ArgDecision((raw.Pass.STORE, v, "x", True)),
    lambda v: raw.ArgDecision((raw.Pass.STORE, v, None, True)),
    lambda v: raw.ArgDecision((raw.Pass.INT, "not an int", None, True)),
    lambda v: raw.ArgDecision((raw.Pass.MEMORY, v, raw.FFIType.for_code("i"), True)),
    lambda v: raw.ArgDecision((raw.Pass.MEMORY, P.c_char(), raw.FFIType.for_code("q"), True)),
    lambda v: raw.ArgDecision((raw.Pass.MEMORY, P.c_int(), raw.FFIType.for_code("v"), True)),
    lambda v: raw.ArgDecision((raw.Pass.ADDRESS, 1234, None, True)),
    lambda v: raw.ArgDecision((raw.Pass.CARG, v, None, True)),
    lambda v: raw.ArgDecision((raw.Pass.STORE, v, "i", True, 5)),
    lambda v: raw.ArgDecision((raw.Pass.INT, v, None, True, P.c_int.from_param(1))),
], ids=["not-a-record", "tuple", "unknown-action", "bad-code", "no-code", "int-of-str",
        "memory-of-int", "memory-too-small", "memory-void", "address-of-int", "carg-of-int",
        "converted-not-carg", "converted-not-store"])
def test_malformed_decisions_are_refused(libs, decision):
    """A rule that answers nonsense gets a TypeError at the call, never a crash."""
    address = P.cast(libs[P].ret_int, P.c_void_p).value
    plan = raw.CallPlan((lambda value, index: decision(value),), decide_extra_argument, refuse_call,
                        raw.ResultPlan((raw.ResultKind.INT, None, None, 0, None)),
                        raw.FFIType.for_code("i"), None, 1, False)
    with pytest.raises(TypeError, match="malformed ArgDecision"):
        plan.call(address, 41)
    good = raw.CallPlan((lambda value, index: raw.ArgDecision((raw.Pass.INT, value, None, True)),),
                        decide_extra_argument, refuse_call,
                        raw.ResultPlan((raw.ResultKind.INT, None, None, 0, None)),
                        raw.FFIType.for_code("i"), None, 1, False)
    assert good.call(address, 41) == 41 and good.call(address, 42) == 42


def test_from_param_is_the_rule_materialized():
    """The public from_param of each family returns what CPython's does."""
    def run(ct):
        class S(ct.Structure):
            _fields_ = [("a", ct.c_int)]
        s = S()
        cases = [(ct.c_int, 5), (ct.c_int, "x"), (ct.c_double, 1), (ct.c_char, b"a"),
                 (ct.c_bool, []), (ct.c_char_p, b"abc"), (ct.c_char_p, None),
                 (ct.c_wchar_p, "abc"), (ct.c_void_p, 7), (ct.c_void_p, b"x"),
                 (ct.c_void_p, ct.c_char_p(b"q")), (ct.POINTER(ct.c_int), ct.c_int(3)),
                 (ct.POINTER(ct.c_int), None), (S, s), (S, 5), (ct.py_object, [1])]
        out = []
        for tp, value in cases:
            r = outcome(tp.from_param, value)
            if r[0] == "ok":
                v = r[1]
                r = ("ok", type(v).__name__ if v is not value else "itself",
                     getattr(v, "_obj", None) is value)
            out.append(r)
        return out
    assert run(P) == run(C)


# ---------------------------------------------------------------- callbacks

def test_callback_result_rule_fires_for_each_new_type(libs):
    """A callback's result is stored by the Python level's store_result for
    the first value of each type (every value under PURE); later values of a
    remembered type are stored natively, and a value the row refuses goes
    back to Python, which reports it as CPython does."""
    from pyctypes._ctypes import conversion
    results = [3, 4, True, 5.5, 6, "x", 7, 2 ** 70]

    def run(ct, lib):
        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int)
        f = lib.call_int_cb
        f.argtypes, f.restype = [proto, ct.c_int], ct.c_int
        seen, reported = [], []
        cb = proto(lambda i: results[i])
        old = sys.unraisablehook
        sys.unraisablehook = lambda u: reported.append((type(u.exc_value).__name__, str(u.exc_value)))
        try:
            for i in range(len(results)):
                seen.append(f(cb, i))
        finally:
            sys.unraisablehook = old
        return seen, reported
    with RuleCalls(_store_result_code(conversion)) as calls:
        got, got_reported = run(P, libs[P])
    expected, expected_reported = run(C, libs[C])
    assert got_reported == expected_reported
    refused = [i for i, r in enumerate(results) if not isinstance(r, int)]
    # CPython returns whatever the result slot held when a result is refused;
    # pyctypes returns the zeroed slot (+ 1 by the C caller)
    assert [g for i, g in enumerate(got) if i not in refused] == \
        [e for i, e in enumerate(expected) if i not in refused]
    assert [got[i] for i in refused] == [1] * len(refused)
    # new types: int, bool, float (refused), str (refused); then a refusal is
    # decided again each time: 4 calls of store_result for 8 results natively
    assert calls.count == (len(results) if PURE else 4)


def _store_result_code(conversion):
    """The code object of make_callback's store_result closure."""
    for const in conversion.make_callback.__code__.co_consts:
        if getattr(const, "co_name", None) == "store_result":
            return const
    raise AssertionError("make_callback has no store_result")


@pytest.mark.skipif(PURE, reason="closure plans exist only with fast paths on")
@pytest.mark.parametrize("plan", [
    lambda: (("load", "i", False),),
    lambda: (raw.ClosureArg(("load", None, "i", 0, False)),),
    lambda: (raw.ClosureArg((9, None, "i", 0, False)),),
    lambda: (raw.ClosureArg((raw.ClosureArgKind.LOAD, None, "\udcff", 0, False)),),
    lambda: (raw.ClosureArg((raw.ClosureArgKind.LOAD, None, "g", 0, True)),),
    lambda: (raw.ClosureArg((raw.ClosureArgKind.NEW, int, None, 4, False)),),
    lambda: (raw.ClosureArg((raw.ClosureArgKind.NEW, P.c_int, None, 64, False)),),
    lambda: (raw.ClosureArg((raw.ClosureArgKind.READER, 5, None, 0, False)),),
    lambda: (),
], ids=["tuple", "kind-str", "kind-unknown", "code-surrogate", "swapped-g", "new-int",
        "new-too-big", "reader-not-callable", "too-few"])
def test_malformed_closure_plans_are_refused(plan):
    """A closure plan is refused when made (never when C calls it): records,
    not tuples of strings (a kind string that cannot be encoded once crashed)."""
    cif = raw.CallInterface(raw.FFIType.for_code("i"), [raw.FFIType.for_code("i")])
    args = plan()
    with pytest.raises((TypeError, ValueError)):
        raw.Closure(cif, abs, 0, raw.ClosurePlan((args, "i", lambda a, v: False, print)))
    with pytest.raises(TypeError):
        raw.Closure(cif, abs, 0, (args, "i", lambda a, v: False, print))
