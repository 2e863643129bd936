"""Calls into C with hostile arguments, restypes, errchecks and callbacks,
side by side with CPython's _ctypes, through tests/reliability/rellib.c: the
conversion of every simple and pointer argtype, default conversions without
argtypes, wrong argument counts, restype and errcheck results and errors, and
callbacks returning wrong types or raising (the unraisable-hook reports are
compared)."""

import operator
import sys

from hypothesis import given, strategies as st

from reldiff import check, guarded, normalise, rel_settings
from relvalues import SIMPLE_NAMES, Index, build, value_specs

POINTER_ARGTYPES = ["LP_c_int", "LP_c_char", "c_int_3", "LP_LP_c_int"]


def argtype(name, ct):
    table = {
        "LP_c_int": lambda: ct.POINTER(ct.c_int),
        "LP_c_char": lambda: ct.POINTER(ct.c_char),
        "c_int_3": lambda: ct.c_int * 3,
        "LP_LP_c_int": lambda: ct.POINTER(ct.POINTER(ct.c_int)),
    }
    return table[name]() if name in table else getattr(ct, name)


INT_SPECS = ("int", "bool", "intsub")


def observe_result(result, name, spec):
    """A call's result, without the addresses that differ between the two."""
    if name == "c_void_p":
        if result is None or (spec and spec[0] in INT_SPECS):
            return result
        return "an address"
    if name == "c_longdouble" or isinstance(result, float):
        return normalise(result)
    return normalise(result)


@guarded
@rel_settings()
@given(name=st.sampled_from(SIMPLE_NAMES), spec=value_specs())
def test_argtypes_simple(rel_lib, name, spec):
    """f.argtypes = [T]; f.restype = T; f(value) returns value as C saw it."""
    def op(ct):
        func = getattr(ct.CDLL(rel_lib), "rret_" + name)
        func.argtypes = [argtype(name, ct)]
        func.restype = argtype(name, ct)
        if name in ("c_char_p", "c_wchar_p") and spec[0] in INT_SPECS and spec[1]:
            return "an integer address: reading it is a crash"
        value = build(spec, ct)
        if name == "py_object":
            # a py_object restype takes a new reference from C: read the address
            func.restype = ct.c_void_p
            return func(value) == id(value)
        return observe_result(func(value), name, spec)
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(POINTER_ARGTYPES), spec=value_specs())
def test_argtypes_pointer(rel_lib, name, spec):
    """A pointer argtype: what is accepted (auto byref of an instance, arrays,
    None) and refused, and the int C reads through it."""
    def op(ct):
        func = ct.CDLL(rel_lib).deref_or_minus1
        func.argtypes = [argtype(name, ct)]
        func.restype = ct.c_int
        value = build(spec, ct)
        if isinstance(value, int) and value:
            return "an integer address"
        result = func(value)
        # through a pointer to a pointer, C reads (part of) an address
        return result if name != "LP_LP_c_int" or result == -1 else "called"
    check(op)


@guarded
@rel_settings()
@given(specs=st.lists(value_specs(), max_size=3), with_argtypes=st.booleans(),
       variadic_name=st.sampled_from(["rret_c_longlong", "rret_c_double", "rret_c_char_p"]))
def test_default_conversions_and_arg_count(rel_lib, specs, with_argtypes, variadic_name):
    """Without argtypes: ints, bytes, str, None and ctypes instances convert,
    the rest is an ArgumentError; with argtypes, a wrong count is a TypeError."""
    def op(ct):
        func = getattr(ct.CDLL(rel_lib), variadic_name)
        func.restype = ct.c_longlong
        if with_argtypes:
            func.argtypes = [ct.c_longlong]
        args = [build(s, ct) for s in specs]
        result = func(*args)
        # only results that do not depend on an address are compared
        first = specs[0] if specs else None
        if variadic_name == "rret_c_longlong" and first and first[0] in INT_SPECS:
            return result & 0xFFFFFFFF if not with_argtypes else result
        return "called"
    check(op)


RESTYPES = st.one_of(
    st.sampled_from(["c_int", "c_char_p", "c_void_p", "c_double", "None", "callable_int",
                     "callable_raises", "struct", "LP_c_int", "c_int_3", "c_bool"]),
    st.tuples(st.just("other"), value_specs()))
ERRCHECKS = st.sampled_from([None, "identity", "args", "replace", "raises", "not callable",
                             "wrong arity"])


def make_restype(spec, ct):
    if isinstance(spec, tuple):
        return build(spec[1], ct)
    table = {
        "None": lambda: None,
        "callable_int": lambda: (lambda value: ("called with", value)),
        "callable_raises": lambda: (lambda value: 1 / 0),
        "struct": lambda: type("S", (ct.Structure,), {"_fields_": [("a", ct.c_longlong)]}),
        "LP_c_int": lambda: ct.POINTER(ct.c_int),
        "c_int_3": lambda: ct.c_int * 3,
    }
    return table[spec]() if spec in table else getattr(ct, spec)


def make_errcheck(kind):
    table = {
        "identity": lambda result, func, args: result,
        "args": lambda result, func, args: ("args", tuple(type(a).__name__ for a in args)),
        "replace": lambda result, func, args: 42,
        "raises": lambda result, func, args: (_ for _ in ()).throw(OSError(5, "from errcheck")),
        "not callable": 5,
        "wrong arity": lambda result: result,
    }
    return table[kind]


@guarded
@rel_settings()
@given(restype=RESTYPES, errcheck=ERRCHECKS, value=st.sampled_from([0, 1, 7, -1, 2 ** 40]))
def test_restype_and_errcheck(rel_lib, restype, errcheck, value):
    def op(ct):
        func = ct.CDLL(rel_lib).rret_c_longlong
        func.argtypes = [ct.c_longlong]
        res = make_restype(restype, ct)
        func.restype = res
        if errcheck is not None:
            func.errcheck = make_errcheck(errcheck)
        if getattr(res, "__name__", None) in ("c_char_p", "c_wchar_p", "LP_c_int", "py_object") \
                and value != 0:
            return "an integer address: reading it is a crash"
        result = func(value)
        if type(result).__name__ in ("LP_c_int", "S", "c_int_Array_3"):
            # an array or structure restype: the 8 bytes the function returned
            return type(result).__name__, bool(result) if type(result).__name__ == "LP_c_int" \
                else bytes(result)[:8]
        return normalise(result)
    if restype in ("py_object", ("other", ("ctype", "py_object"))):
        # CPython 3.11 decrefs the NULL its py_object getter failed on: a crash
        # (FINDINGS.md, D5); pyctypes raises ValueError: PyObject is NULL
        check(op, cpython_crashes="ValueError")
    else:
        check(op)


class Unraisable:
    """Collects what sys.unraisablehook is given while active."""

    def __init__(self):
        self.reports = []

    def hook(self, info):
        # the exception's message may name a metaclass (FINDINGS.md, messages)
        self.reports.append((info.exc_type.__name__, (info.err_msg or "").split(":")[0]))

    def __enter__(self):
        self.old, sys.unraisablehook = sys.unraisablehook, self.hook
        return self

    def __exit__(self, *exc):
        sys.unraisablehook = self.old


CALLBACK_RESTYPES = ["c_int", "c_double", "c_char_p", "c_void_p", "c_bool", "c_char",
                     "c_float", "c_longlong", "c_ubyte", "py_object", "None", "struct",
                     "LP_c_int", "c_wchar"]


@guarded
@rel_settings()
@given(restype=st.sampled_from(CALLBACK_RESTYPES), spec=value_specs(),
       mode=st.sampled_from(["return", "raise", "raise_base", "wrong_args"]))
def test_callback_results_and_errors(restype, spec, mode):
    """A callback called from C (through its own trampoline) returns a
    wrong type or raises: the same unraisable report, the same result when
    there is none.  Restypes CPython refuses for callbacks are refused."""
    def op(ct):
        if restype == "struct":
            res = type("S", (ct.Structure,), {"_fields_": [("a", ct.c_int)]})
        elif restype == "LP_c_int":
            res = ct.POINTER(ct.c_int)
        else:
            res = None if restype == "None" else getattr(ct, restype)
        proto = ct.CFUNCTYPE(res, ct.c_int)

        def py(x):
            if mode == "raise":
                raise ValueError("raised in the callback")
            if mode == "raise_base":
                raise KeyboardInterrupt("a base exception in the callback")
            return build(spec, ct)

        if restype in ("c_char_p", "c_wchar_p", "LP_c_int", "py_object") and mode == "return" \
                and spec[0] in INT_SPECS and spec[1]:
            return "an integer address as a pointer result: reading it is a crash"
        cb = proto(py if mode != "wrong_args" else (lambda: 0))
        with Unraisable() as caught:
            try:
                result = cb(5)
            except KeyboardInterrupt:
                result = "KeyboardInterrupt propagated"
            except Exception as exc:            # noqa: BLE001 - see below
                result = exc
        if caught.reports:
            # the result of a failed callback is whatever the result buffer
            # held (CPython leaves it as it was): not compared
            return "reported", caught.reports
        if isinstance(result, Exception):
            raise result
        if restype in ("c_char_p", "c_void_p", "py_object", "LP_c_int", "struct"):
            return "no report", type(result).__name__
        return "no report", normalise(result)
    # a pointer result of a failed callback is a garbage pointer on CPython
    # 3.11 (reading it crashes); pyctypes reports the error and gives NULL
    check(op, cpython_crashes=(lambda p_out: p_out[0] == "ok" and p_out[1][1][0] == "reported")
          if restype in ("py_object", "c_char_p", "LP_c_int", "c_wchar_p") else None)


@guarded
@rel_settings()
@given(argtypes=st.lists(st.sampled_from(["c_int", "c_char_p", "c_double", "LP_c_int",
                                          "struct", "c_int_3", "py_object"]), max_size=3),
       bad=st.one_of(st.none(), value_specs()))
def test_callback_argument_conversion(argtypes, bad):
    """Callback prototypes: the arguments a callback receives from C, and
    prototypes CPython refuses (a structure or array argtype by value is
    allowed for structures, refused for arrays)."""
    def op(ct):
        types = [argtype(n, ct) if n != "struct" else
                 type("S", (ct.Structure,), {"_fields_": [("a", ct.c_int)]})
                 for n in argtypes]
        if bad is not None:
            types.append(build(bad, ct))
        proto = ct.CFUNCTYPE(ct.c_int, *types)
        seen = []
        cb = proto(lambda *args: seen.append(tuple(type(a).__name__ for a in args)) or 0)
        return [proto.__name__, cb is not None, seen]
    check(op)


@guarded
@rel_settings()
@given(first=st.sampled_from(["byref", "pointer", "array", "buffer"]), bad=value_specs(),
       position=st.integers(0, 2))
def test_failed_call_leaves_arguments_as_they_were(rel_lib, first, bad, position):
    """A call whose conversion fails at some argument: the call does not
    happen, and the objects already converted are unchanged."""
    def op(ct):
        fill = ct.CDLL(None).memset
        fill.argtypes = [ct.c_void_p, ct.c_int, ct.c_size_t]
        fill.restype = ct.c_void_p
        target = (ct.c_int * 2)(11, 22)
        arg = {"byref": lambda: ct.byref(target), "pointer": lambda: ct.pointer(target),
               "array": lambda: target, "buffer": lambda: target}[first]()
        args = [arg, 0x7F, 8]
        value = build(bad, ct)
        if position % 2 == 1:               # the size: never more than the 8 bytes
            try:
                size = operator.index(value)
            except Exception:               # noqa: BLE001 - not an integer: refused
                size = 0
            if not 0 <= size <= 8 and not isinstance(value, (float, complex)):
                return "a size past the buffer"
            if hasattr(value, "value") and not isinstance(value, Index):
                return "a ctypes instance as the size"
        args[1 + position % 2] = value
        try:
            fill(*args)
        except Exception:
            assert list(target) == [11, 22], "a failed call changed its arguments"
            raise
        return "called"
    check(op)
