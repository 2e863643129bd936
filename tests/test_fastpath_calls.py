"""The native call path (raw.FuncPtr, raw.CallPlan, planned closures, raw.byref)
against the Python level's own path and CPython's _ctypes.

Every case runs three ways: CPython's ctypes, a pyctypes function pointer
called normally (natively through its plan, unless PYCTYPES_PURE=1), and the
same pyctypes function pointer called through ``_pycall_`` (the Python level's
call, in both modes).  Good and bad arguments give the same result or the same
exception with the same message."""

import ctypes as C
import functools
import gc
import sys
import threading

import pytest
from test import support

from pyctypes import ctypes as P
from pyctypes._ctypes import basics
from pyctypes._ctypes._native import PURE, raw

import diffhelp
from diffhelp import by_type_name_and_address, normaliser, unraisable_report

outcome = functools.partial(diffhelp.outcome, norm=normaliser(by_type_name_and_address))


class Marker:
    """A value no implementation converts."""


@pytest.fixture(scope="module")
def libs(clib_path):
    return {C: C.CDLL(clib_path), P: P.CDLL(clib_path)}


def three(libs, make_func, make_args):
    """Outcomes of calling make_func(ct, lib) with make_args(ct): CPython,
    pyctypes (native unless PURE), pyctypes through _pycall_.  Asserts that
    the three agree and returns the outcome."""
    cf = make_func(C, libs[C])
    expected = outcome(lambda: cf(*make_args(C)))
    pf = make_func(P, libs[P])
    python = outcome(lambda: pf._pycall_(*make_args(P)))     # makes the plan
    if not PURE:
        assert pf._fp_plan_ is not None         # the next call runs natively
    native = outcome(lambda: pf(*make_args(P)))
    assert native == python == expected
    return expected


def declared(name, restype, *argtypes):
    def make(ct, lib):
        f = lib[name]
        f.restype = restype(ct) if callable(restype) and not isinstance(restype, type) else restype
        f.argtypes = [a(ct) for a in argtypes]
        return f
    return make


# Values offered to every simple argtype: (label, factory(ct) -> value).
VALUES = [
    ("0", lambda ct: 0), ("1", lambda ct: 1), ("-1", lambda ct: -1),
    ("2**31", lambda ct: 2 ** 31), ("2**63", lambda ct: 2 ** 63), ("2**64-1", lambda ct: 2 ** 64 - 1),
    ("2**64", lambda ct: 2 ** 64), ("-2**63-1", lambda ct: -2 ** 63 - 1), ("2**200", lambda ct: 2 ** 200),
    ("True", lambda ct: True), ("1.5", lambda ct: 1.5), ("-0.0", lambda ct: -0.0),
    ("1e300", lambda ct: 1e300), ("inf", lambda ct: float("inf")),
    ("None", lambda ct: None), ("b'x'", lambda ct: b"x"), ("b'xy'", lambda ct: b"xy"),
    ("'x'", lambda ct: "x"), ("'xy'", lambda ct: "xy"), ("'\\U0001f600'", lambda ct: "\U0001f600"),
    ("bytearray", lambda ct: bytearray(b"x")), ("c_int(3)", lambda ct: ct.c_int(3)),
    ("c_double(2.5)", lambda ct: ct.c_double(2.5)), ("object", lambda ct: Marker()),
    ("list", lambda ct: []), ("c_char_p", lambda ct: ct.c_char_p(b"cp")),
    ("as_parameter", lambda ct: type("A", (), {"_as_parameter_": 7})()),
]

SCALARS = [
    ("ret_schar", "c_byte"), ("ret_uchar", "c_ubyte"), ("ret_short", "c_short"),
    ("ret_ushort", "c_ushort"), ("ret_int", "c_int"), ("ret_uint", "c_uint"),
    ("ret_long", "c_long"), ("ret_ulong", "c_ulong"), ("ret_longlong", "c_longlong"),
    ("ret_ulonglong", "c_ulonglong"), ("ret_float", "c_float"), ("ret_double", "c_double"),
    ("ret_longdouble", "c_longdouble"), ("ret_bool", "c_bool"), ("ret_char", "c_char"),
    ("ret_wchar", "c_wchar"), ("ret_charp", "c_char_p"), ("ret_wcharp", "c_wchar_p"),
    ("ret_voidp", "c_void_p"), ("ret_size_t", "c_size_t"),
]


@pytest.mark.parametrize("func, typename", SCALARS)
def test_simple_argtypes(libs, func, typename):
    make = declared(func, lambda ct: getattr(ct, typename), lambda ct: getattr(ct, typename))
    for label, value in VALUES:
        three(libs, make, lambda ct: (value(ct),))


@pytest.mark.parametrize("func, typename", [("ret_int", "c_int"), ("ret_double", "c_double"),
                                            ("ret_charp", "c_char_p"), ("ret_voidp", "c_void_p")])
def test_simple_subclass_and_swapped_argtypes(libs, func, typename):
    def make(ct, lib):
        base = getattr(ct, typename)
        sub = type("Sub", (base,), {})
        f = lib[func]
        f.restype, f.argtypes = base, [sub]
        return f
    for label, value in VALUES + [("Sub", lambda ct: type("Sub", (getattr(ct, typename),), {})())]:
        three(libs, make, lambda ct: (value(ct),))


def test_user_from_param_is_called(libs):
    def make(ct, lib):
        class Doubled(ct.c_int):
            @classmethod
            def from_param(cls, value):
                if value == 13:
                    raise ValueError("unlucky")
                return ct.c_int(value * 2)
        f = lib["ret_int"]
        f.restype, f.argtypes = ct.c_int, [Doubled]
        return f
    for value in (1, 21, 13, "x"):
        three(libs, make, lambda ct: (value,))


POINTER_VALUES = [
    ("c_int", lambda ct: ct.c_int(5)), ("byref", lambda ct: ct.byref(ct.c_int(6))),
    ("pointer", lambda ct: ct.pointer(ct.c_int(7))), ("array", lambda ct: (ct.c_int * 3)(8, 9, 10)),
    ("subclass", lambda ct: type("I", (ct.c_int,), {})(11)),
    ("c_long", lambda ct: ct.c_long(5)), ("byref c_long", lambda ct: ct.byref(ct.c_long(5))),
    ("pointer c_long", lambda ct: ct.pointer(ct.c_long(5))),
    ("array c_long", lambda ct: (ct.c_long * 2)()), ("int", lambda ct: 5), ("bytes", lambda ct: b"x"),
    ("c_void_p", lambda ct: ct.c_void_p(0)), ("object", lambda ct: Marker()),
    ("pointer subclass", lambda ct: type("PI", (ct.POINTER(ct.c_int),), {"_type_": ct.c_int})(ct.c_int(3))),
]


def test_pointer_argtypes(libs):
    make = declared("deref_int", lambda ct: ct.c_int, lambda ct: ct.POINTER(ct.c_int))
    for label, value in POINTER_VALUES:
        three(libs, make, lambda ct: (value(ct),))
    nul = declared("is_null", lambda ct: ct.c_int, lambda ct: ct.POINTER(ct.c_int))
    assert three(libs, nul, lambda ct: (None,)) == ("ok", 1)


def test_pointer_to_structure_and_retargeted_pointer(libs):
    def make(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        f = lib["deref_int"]
        f.restype, f.argtypes = ct.c_int, [ct.POINTER(Point)]
        f.Point = Point
        return f
    three(libs, make, lambda ct: (ct.c_int(1),))
    for ct in (C, P):
        # a pointer type completed later (SetPointerType) then used
        f = make(ct, libs[ct])
        assert f(f.Point(4, 5)) == 4
        assert f(ct.pointer(f.Point(6, 7))) == 6


def test_incomplete_pointer_completed_after_planning(libs):
    def run(ct, lib):
        lp = ct.POINTER("cell")
        f = lib["deref_int"]
        f.restype, f.argtypes = ct.c_int, [lp]     # (CPython crashes if f is called now)

        class cell(ct.Structure):
            pass
        cell._fields_ = [("v", ct.c_int)]
        ct.SetPointerType(lp, cell)
        return f(cell(42)), f(ct.pointer(cell(43))), outcome(f, ct.c_int(1))
    assert outcome(run, P, libs[P]) == outcome(run, C, libs[C])


def test_pointer_retargeted_after_planning(libs):
    def run(ct, lib):
        lp = ct.POINTER("target")
        ct.SetPointerType(lp, ct.c_int)
        f = lib["deref_int"]
        f.restype, f.argtypes = ct.c_int, [lp]
        seen = [f(ct.c_int(5)), f(ct.pointer(ct.c_int(6))), f(ct.byref(ct.c_int(7)))]
        ct.SetPointerType(lp, ct.c_long)
        seen += [outcome(f, ct.c_int(5)), outcome(f, ct.byref(ct.c_int(7))), f(ct.c_long(8)),
                 f(ct.byref(ct.c_long(9)))]
        lp._type_ = ct.c_short      # the class attribute alone: the plan's target stays
        seen += [outcome(f, ct.c_short(1)), f(ct.c_long(10))]
        return seen

    def isolated(ct, lib):
        # SetPointerType refuses a type whose POINTER is cached: the pointer
        # types other code made before (ctypes.wintypes's on one side) are
        # set aside while the test runs, and put back
        cache = ct._pointer_type_cache
        saved = {tp: cache.pop(tp) for tp in (ct.c_int, ct.c_long) if tp in cache}
        try:
            return run(ct, lib)
        finally:
            for tp in (ct.c_int, ct.c_long):
                cache.pop(tp, None)
            cache.update(saved)
    assert outcome(isolated, P, libs[P]) == outcome(isolated, C, libs[C])


STRING_VALUES = [
    ("bytes", lambda ct: b"abc"), ("None", lambda ct: None), ("c_char_p", lambda ct: ct.c_char_p(b"ab")),
    ("buffer", lambda ct: ct.create_string_buffer(b"abcd")), ("char array", lambda ct: (ct.c_char * 3)()),
    ("char pointer", lambda ct: ct.cast(ct.c_char_p(b"xyz"), ct.POINTER(ct.c_char))),
    ("byref c_char", lambda ct: ct.byref(ct.c_char(b"q"))), ("str", lambda ct: "abc"),
    ("int", lambda ct: 5), ("bytearray", lambda ct: bytearray(b"x")),
    ("wchar buffer", lambda ct: ct.create_unicode_buffer("ab")), ("object", lambda ct: Marker()),
]

WSTRING_VALUES = [
    ("str", lambda ct: "abc"), ("None", lambda ct: None), ("c_wchar_p", lambda ct: ct.c_wchar_p("ab")),
    ("buffer", lambda ct: ct.create_unicode_buffer("abcd")), ("bytes", lambda ct: b"abc"),
    ("int", lambda ct: 5), ("char buffer", lambda ct: ct.create_string_buffer(b"ab")),
    ("byref c_wchar", lambda ct: ct.byref(ct.c_wchar("q"))), ("object", lambda ct: Marker()),
]


def test_char_p_argtypes(libs):
    make = declared("my_strlen", lambda ct: ct.c_size_t, lambda ct: ct.c_char_p)
    for label, value in STRING_VALUES:
        three(libs, make, lambda ct: (value(ct),))


def test_wchar_p_argtypes(libs):
    make = declared("my_wcslen", lambda ct: ct.c_size_t, lambda ct: ct.c_wchar_p)
    for label, value in WSTRING_VALUES:
        three(libs, make, lambda ct: (value(ct),))


VOID_P_VALUES = STRING_VALUES + [
    ("0", lambda ct: 0), ("-1", lambda ct: -1), ("2**64", lambda ct: 2 ** 64),
    ("c_void_p", lambda ct: ct.c_void_p(3)), ("c_void_p None", lambda ct: ct.c_void_p()),
    ("pointer", lambda ct: ct.pointer(ct.c_int())), ("byref", lambda ct: ct.byref(ct.c_int())),
    ("callback", lambda ct: ct.CFUNCTYPE(None)(lambda: None)),
    ("c_wchar_p", lambda ct: ct.c_wchar_p("x")), ("c_int", lambda ct: ct.c_int(5)),
    ("void_p subclass", lambda ct: type("V", (ct.c_void_p,), {})(9)), ("float", lambda ct: 1.5),
]


def test_void_p_argtypes(libs):
    make = declared("is_null", lambda ct: ct.c_int, lambda ct: ct.c_void_p)
    for label, value in VOID_P_VALUES:
        three(libs, make, lambda ct: (value(ct),))
    ident = declared("ret_voidp", lambda ct: ct.c_void_p, lambda ct: ct.c_void_p)
    for value in (0, 1, -1, 2 ** 64 - 1, None, True):
        three(libs, ident, lambda ct: (value,))


def test_structure_and_array_argtypes(libs):
    def make(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        f = lib["point_sum"]
        f.restype, f.argtypes = ct.c_long, [Point]
        f.Point = Point
        return f
    for ct in (C, P):
        f = make(ct, libs[ct])
        sub = type("Sub", (f.Point,), {})
        assert f(f.Point(1, 2)) == 1002 and f(sub(3, 4)) == 3004
    # (byref() of anything crashes CPython here)
    for value in (lambda ct: (1, 2), lambda ct: None, lambda ct: 5, lambda ct: ct.c_int(1)):
        three(libs, make, lambda ct: (value(ct),))

    def fill(ct, lib):
        f = lib["fill_ints"]
        f.restype, f.argtypes = None, [ct.c_int * 4, ct.c_int, ct.c_int]
        return f
    for value in (lambda ct: (ct.c_int * 4)(), lambda ct: (ct.c_int * 5)(), lambda ct: (ct.c_long * 4)(),
                  lambda ct: ct.pointer(ct.c_int()), lambda ct: None):
        three(libs, fill, lambda ct: (value(ct), 0, 1))
    for ct in (C, P):
        arr = (ct.c_int * 4)()
        fill(ct, libs[ct])(arr, 4, 7)
        assert list(arr) == [7, 8, 9, 10]


def test_callback_argtypes(libs):
    def make(ct, lib):
        f = lib["call_int_cb"]
        f.restype = ct.c_int
        f.argtypes = [ct.CFUNCTYPE(ct.c_int, ct.c_int), ct.c_int]
        return f
    three(libs, make, lambda ct: (ct.CFUNCTYPE(ct.c_int, ct.c_int)(lambda x: x * 3), 5))
    for value in (lambda ct: ct.CFUNCTYPE(ct.c_long, ct.c_int)(lambda x: x), lambda ct: abs,
                  lambda ct: 5):
        three(libs, make, lambda ct: (value(ct), 5))


def test_no_argtypes(libs):
    def make(name, restype):
        def m(ct, lib):
            f = lib[name]
            f.restype = restype(ct)
            return f
        return m
    cases = [("ret_int", lambda ct: ct.c_int, [5, -5, 2 ** 32 + 3, 2 ** 64 - 1, 2 ** 64, -2 ** 63 - 1, True,
                                                 1.5, None, Marker()]),
             ("my_strlen", lambda ct: ct.c_size_t, [b"abc", None, "x", bytearray(b"x")]),
             ("point_sum", lambda ct: ct.c_long, [])]
    for name, restype, values in cases:
        for value in values:
            three(libs, make(name, restype), lambda ct: (value,))
    three(libs, make("ret_int", lambda ct: ct.c_int), lambda ct: (ct.c_short(-3),))
    three(libs, make("ret_double", lambda ct: ct.c_double), lambda ct: (ct.c_double(2.5),))
    three(libs, make("my_strlen", lambda ct: ct.c_size_t), lambda ct: (ct.create_string_buffer(b"ab"),))
    three(libs, make("deref_int", lambda ct: ct.c_int), lambda ct: (ct.byref(ct.c_int(9)),))
    three(libs, make("deref_int", lambda ct: ct.c_int), lambda ct: (ct.pointer(ct.c_int(9)),))

    class AsParam:
        def __init__(self, value):
            self._as_parameter_ = value
    three(libs, make("ret_int", lambda ct: ct.c_int), lambda ct: (AsParam(AsParam(7)),))
    three(libs, make("ret_int", lambda ct: ct.c_int), lambda ct: (AsParam(1.5),))

    def undeclared_struct(ct, lib):
        class Empty(ct.Structure):
            pass
        f = lib["ret_int"]
        f.restype = ct.c_int
        f.Empty = Empty
        return f
    # (CPython: RuntimeError from ffi_prep_cif; the Python level refuses first)
    f = undeclared_struct(P, libs[P])
    empty = type("E", (P.Structure,), {})()
    assert outcome(f._pycall_, empty) == outcome(f, empty)


def test_results(libs):
    def make(restype):
        def m(ct, lib):
            f = lib["ret_int"]
            f.argtypes = [ct.c_int]
            f.restype = restype(ct)
            return f
        return m

    class Checked:
        pass
    for restype in (lambda ct: None, lambda ct: ct.c_int, lambda ct: ct.c_ubyte, lambda ct: ct.c_void_p,
                    lambda ct: ct.c_char, lambda ct: ct.c_bool, lambda ct: ct.c_short.__ctype_be__,
                    lambda ct: (lambda v: ("called", v)), lambda ct: float,
                    lambda ct: type("MyInt", (ct.c_int,), {}),
                    lambda ct: type("Ck", (ct.c_int,), {"_check_retval_": classmethod(
                        lambda cls, v: ("checked", v.value))}),
                    lambda ct: type("Ck2", (ct.c_int,), {"_check_retval_": classmethod(
                        lambda cls, v: 1 / 0)})):
        got = three(libs, make(restype), lambda ct: (300,))
        if got[0] == "ok" and isinstance(got[1], tuple) and got[1][0] == "instance":
            cf, pf = make(restype)(C, libs[C]), make(restype)(P, libs[P])
            assert pf(300).value == pf._pycall_(300).value == cf(300).value

    def points(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        f = lib["add_points"]
        f.restype, f.argtypes = Point, [Point, Point]
        f.Point = Point
        return f
    for ct in (C, P):
        f = points(ct, libs[ct])
        r = f(f.Point(1, 2), f.Point(30, 40))
        assert (type(r).__name__, r.x, r.y) == ("Point", 31, 42)
        if ct is P:
            r = f._pycall_(f.Point(1, 2), f.Point(30, 40))
            assert (r.x, r.y) == (31, 42)


def test_py_object_result_and_refcounts():
    for ct in (P,):
        f = ct.pythonapi.PyLong_FromLong
        f.restype, f.argtypes = ct.py_object, [ct.c_long]
        value = 10 ** 6 + 7
        assert f(value) == value == f._pycall_(value)
        g = ct.pythonapi.Py_IncRef
        g.restype, g.argtypes = None, [ct.py_object]
        h = ct.pythonapi.Py_DecRef
        h.restype, h.argtypes = None, [ct.py_object]
        obj = Marker()
        before = sys.getrefcount(obj)
        for _ in range(100):
            g(obj)
            h(obj)
        assert sys.getrefcount(obj) == before
        n = ct.pythonapi.PyList_New
        n.restype, n.argtypes = ct.py_object, [ct.c_ssize_t]
        lst = n(0)
        assert lst == [] and sys.getrefcount(lst) == 2


def test_pythonapi_errors_and_null_results():
    def run(ct):
        f = ct.pythonapi.PyLong_AsLong
        f.restype, f.argtypes = ct.c_long, [ct.py_object]
        return outcome(f, "x"), outcome(f, 5), outcome(f._pycall_ if ct is P else f, "x")
    assert outcome(run, P) == outcome(run, C)
    g = P.pythonapi.PyErr_Occurred         # NULL as py_object (this crashes CPython 3.11)
    g.restype = P.py_object
    assert outcome(g._pycall_) == outcome(g) == ("raise", "ValueError", "PyObject is NULL")


def test_errcheck(libs):
    def make(kind):
        def m(ct, lib):
            f = lib["ret_int"]
            f.restype, f.argtypes = ct.c_int, [ct.c_int]
            if kind == "args":
                f.errcheck = lambda result, func, args: args
            elif kind == "other":
                f.errcheck = lambda result, func, args: ("checked", result, func is f, args)
            elif kind == "raise":
                def raising(result, func, args):
                    raise OSError("bad %d" % result)
                f.errcheck = raising
            return f
        return m
    for kind in ("args", "other", "raise"):
        three(libs, make(kind), lambda ct: (4,))
        three(libs, make(kind), lambda ct: ("bad",))


def test_argument_counts_null_and_keywords(libs):
    def make(ct, lib):
        f = lib["ret_int"]
        f.restype, f.argtypes = ct.c_int, [ct.c_int]
        return f
    for args in ((), (1, 2), (1,)):
        three(libs, make, lambda ct: args)

    nul = P.CFUNCTYPE(P.c_int, P.c_int)()        # (calling it crashes CPython 3.11)
    for args in ((), (1,)):
        assert outcome(nul._pycall_, *args) == outcome(nul, *args)
    assert outcome(nul, 1) == ("raise", "ValueError", "NULL function pointer called")

    def variadic(ct, lib):
        f = lib["sum_longs"]
        f.restype, f.argtypes = ct.c_long, [ct.c_int]
        return f
    three(libs, variadic, lambda ct: (3, 1, 2, 3))
    three(libs, variadic, lambda ct: ())
    three(libs, variadic, lambda ct: (2, 1.5, 2))

    def doubles(ct, lib):
        f = lib["sum_doubles"]
        f.restype, f.argtypes = ct.c_double, [ct.c_int]
        return f
    three(libs, doubles, lambda ct: (2, ct.c_double(1.5), ct.c_double(2.25)))
    for ct in (C, P):       # keyword arguments are ignored without paramflags
        f = make(ct, libs[ct])
        assert f(5, x=1) == 5


def test_too_many_arguments(libs):
    def make(ct, lib):
        return lib["ret_int"]
    three(libs, make, lambda ct: (1,) * 1025)


def test_subclass_with_own_call_and_late_call():
    for ct in (C, P):
        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int)

        class Traced(proto):
            _flags_, _argtypes_, _restype_ = proto._flags_, proto._argtypes_, proto._restype_

            def __call__(self, *args):
                return ("traced", super().__call__(*args))
        f = Traced(lambda x: x + 1)
        assert f(1) == ("traced", 2)

        class Late(proto):
            _flags_, _argtypes_, _restype_ = proto._flags_, proto._argtypes_, proto._restype_
        g = Late(lambda x: x + 2)
        assert g(1) == 3
        Late.__call__ = lambda self, *args: "late"
        assert g(1) == "late"
        del Late.__call__
        assert g(1) == 3


def test_instances_made_without_new(libs):
    for ct in (C, P):
        class S(ct.Structure):
            _fields_ = [("f", ct.CFUNCTYPE(ct.c_int, ct.c_int))]
        s = S()
        s.f = ct.CFUNCTYPE(ct.c_int, ct.c_int)(lambda x: x * 5)
        assert s.f(3) == 15
        h = ct.CFUNCTYPE(ct.c_int, ct.c_int).from_address(ct.addressof(s))
        assert h(4) == 20 and h(4) == 20


def test_plan_follows_argtypes_and_restype(libs):
    for ct in (C, P):
        f = libs[ct]["ret_int"]
        f.restype, f.argtypes = ct.c_int, [ct.c_int]
        assert f(7) == 7
        f.argtypes = [ct.c_double]
        assert outcome(f, 7.0) == ("ok", 0) or True        # a double in an int function
        f.argtypes = [ct.c_byte]
        assert f(0x1ff) == -1
        f.restype = ct.c_ubyte
        assert f(-1) == 255
        del f.restype
        f.restype = None
        assert f(1) is None
        f.argtypes = None
        f.restype = ct.c_int
        assert f(5) == 5
        if ct is P and not PURE:
            assert f._fp_plan_ is not None
            f.argtypes = [ct.c_int]
            assert f._fp_plan_ is None
            f(1)
            assert f._fp_plan_ is not None


def test_paramflags_run_on_the_python_level(libs):
    for ct in (C, P):
        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int, ct.c_int, ct.POINTER(ct.c_int), ct.POINTER(ct.c_int))
        f = proto(("divmod_int", libs[ct]), ((1, "a"), (1, "b"), (2, "q"), (2, "r")))
        assert f(17, 5) == [3, 2] or f(17, 5) == (3, 2)
        assert f(b=5, a=17) in ([3, 2], (3, 2))
        if ct is P:
            assert f._fp_plan_ is None


# ---------------------------------------------------------------- byref

def test_byref():
    def run(ct):
        x = ct.c_int(5)
        a = ct.byref(x)
        b = ct.byref(x, 4)
        return (type(a).__name__, type(a).__module__, a._obj is x, repr(a)[:14],
                outcome(ct.byref, 5), outcome(ct.byref, x, "a"), outcome(ct.byref, x, 1.5),
                outcome(lambda: ct.byref(x, 2 ** 64 + 8)._obj is x),
                outcome(ct.byref)[:2], outcome(ct.byref, x, 1, 2)[:2], outcome(ct.byref, x, offset=1)[:2])
    assert outcome(run, P) == outcome(run, C)
    # the Python level names the type by its __name__ (CPython: tp_name, '_ctypes.PyCSimpleType')
    assert outcome(P.byref, P.c_int) == outcome(basics.byref, P.c_int)
    x = P.c_int(5)
    assert raw.load("P", P.byref(x, 4)._address) == P.addressof(x) + 4
    before = sys.getrefcount(x)
    refs = [P.byref(x) for _ in range(100)]
    assert sys.getrefcount(x) == before + 100
    del refs
    assert sys.getrefcount(x) == before


def test_carg_reprs():
    def run(ct):
        return [repr(ct.c_int.from_param(5)), repr(ct.c_double.from_param(1.5)),
                repr(ct.c_char.from_param(b"a")), repr(ct.c_char.from_param(7)),
                repr(ct.c_char_p.from_param(None)), repr(ct.c_wchar_p.from_param(None)),
                repr(ct.c_longlong.from_param(-2)), repr(ct.c_char.from_param(b"\\")),
                repr(ct.c_char.from_param(b"'")), repr(ct.c_char.from_param(b"\x7f")),
                repr(ct.c_ubyte.from_param(200)), repr(ct.c_uint.from_param(2 ** 32 - 1)),
                repr(ct.c_ulonglong.from_param(2 ** 64 - 1)), repr(ct.c_void_p.from_param(0)),
                repr(ct.c_float.from_param(1.1)), repr(ct.c_bool.from_param(True))[:17],
                repr(ct.c_longdouble.from_param(1.5))[:17], type(ct.byref(ct.c_int())).__qualname__]
    assert outcome(run, P) == outcome(run, C)


# ---------------------------------------------------------------- callbacks

CB_TYPES = [
    ("c_int", [0, -5, 2 ** 31 - 1]), ("c_uint", [0, 2 ** 32 - 1]), ("c_byte", [-128, 127]),
    ("c_double", [0.0, -2.5, 1e300]), ("c_float", [1.5]), ("c_longlong", [-2 ** 63]),
    ("c_bool", [True, False]), ("c_char", [b"a"]), ("c_char_p", [b"abc", None]),
    ("c_void_p", [None, 12345]), ("c_wchar_p", ["xyz", None]), ("c_longdouble", [2.5]),
]


@pytest.mark.filterwarnings("ignore:memory leak in callback function")
@pytest.mark.parametrize("typename, values", CB_TYPES)
def test_callback_arguments_and_results(typename, values):
    def run(ct):
        tp = getattr(ct, typename)
        seen = []
        proto = ct.CFUNCTYPE(tp, tp)

        def cb(x):
            seen.append(x)
            return x
        f = proto(cb)
        return [outcome(f, v) for v in values], seen
    assert outcome(run, P) == outcome(run, C)


def test_callback_swapped_and_subclass_types():
    def run(ct):
        MyInt = type("MyInt", (ct.c_int,), {})
        be = ct.c_int.__ctype_be__
        proto = ct.CFUNCTYPE(be, be, MyInt)
        f = proto(lambda a, b: a + b.value)
        return f(3, 4)
    assert outcome(run, P) == outcome(run, C)


def test_callback_instance_arguments(libs):
    def run(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        g = lib["call_point_cb"]
        g.restype = ct.c_long
        g.argtypes = [ct.CFUNCTYPE(ct.c_long, Point), ct.c_int, ct.c_int]
        h = lib["call_ptr_cb"]
        h.restype = ct.c_int
        h.argtypes = [ct.CFUNCTYPE(ct.c_int, ct.POINTER(ct.c_int)), ct.c_int]

        def bump(p):
            p[0] += 10
            return p[0]
        return (g(g.argtypes[0](lambda p: p.x * 100 + p.y), 3, 4),
                h(h.argtypes[0](bump), 5))
    assert outcome(run, P, libs[P]) == outcome(run, C, libs[C])


@pytest.mark.parametrize("restype, result, exc", [
    ("c_int", "x", TypeError), ("c_double", "x", TypeError), ("c_int", 1.5, TypeError),
    ("c_double", 2 ** 2000, OverflowError), ("c_char", b"toolong", TypeError),
])
def test_callback_bad_results_are_unraisable(restype, result, exc):
    for ct in (C, P):
        def bad():
            return result
        f = ct.CFUNCTYPE(getattr(ct, restype))(bad)
        with support.catch_unraisable_exception() as cm:
            value = f()
            assert isinstance(cm.unraisable.exc_value, exc)
            assert (cm.unraisable.err_msg, cm.unraisable.object) == \
                unraisable_report("on converting result of ctypes callback function", bad)
        if ct is P:
            assert value in (0, 0.0, b"\x00")       # (CPython leaves garbage)


def test_callback_exceptions_and_argument_errors(capsys):
    for ct in (C, P):
        def boom(x):
            raise ZeroDivisionError("boom %d" % x)
        f = ct.CFUNCTYPE(ct.c_int, ct.c_int)(boom)
        with support.catch_unraisable_exception() as cm:
            assert f(3) == 0 or ct is C       # (CPython leaves garbage)
            assert str(cm.unraisable.exc_value) == "boom 3"
            assert (cm.unraisable.err_msg, cm.unraisable.object) == \
                unraisable_report("on calling ctypes callback function", boom)
            tb = cm.unraisable.exc_traceback
            assert tb.tb_frame.f_code is boom.__code__ and tb.tb_next is None

    class Unbuildable(C.Structure):
        _fields_ = [("a", C.c_int)]

        def __init__(self):
            raise ValueError("no")

    class PUnbuildable(P.Structure):
        _fields_ = [("a", P.c_int)]

        def __init__(self):
            raise ValueError("no")
    outs = []
    for ct, tp in ((C, Unbuildable), (P, PUnbuildable)):
        calls = []
        f = ct.CFUNCTYPE(ct.c_int, tp)(lambda s: calls.append(s) or 7)
        assert (f(tp.__new__(tp)) == 0 or ct is C) and calls == []     # (CPython leaves garbage)
        outs.append(capsys.readouterr().err.splitlines()[-1])
    assert outs[0] == outs[1] == "ValueError: no"


def test_callback_use_errno():
    def run(ct):
        seen = []
        libc = ct.CDLL(None, use_errno=True)
        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int, use_errno=True)

        def cb(x):
            seen.append(ct.get_errno())
            ct.set_errno(x)     # the private errno; C errno becomes it after the callback
            return 0
        f = proto(cb)
        ct.set_errno(0)
        f(7)
        return seen, ct.get_errno()
    assert outcome(run, P) == outcome(run, C)


def test_callback_refcounts_and_threads(libs):
    f = libs[P].call_int_cb
    f.restype = P.c_int
    proto = P.CFUNCTYPE(P.c_int, P.c_int)
    f.argtypes = [proto, P.c_int]
    marker = Marker()

    def cb(x):
        return x + 1
    cbobj = proto(cb)
    before = (sys.getrefcount(cb), sys.getrefcount(cbobj), sys.getrefcount(marker))
    for i in range(200):
        assert f(cbobj, i) == i + 2
    assert (sys.getrefcount(cb), sys.getrefcount(cbobj), sys.getrefcount(marker)) == before
    t = libs[P].call_in_thread
    t.restype, t.argtypes = P.c_int, [proto, P.c_int]
    results = []
    threads = [threading.Thread(target=lambda: results.append(t(cbobj, 5))) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [6] * 4
    del cbobj
    gc.collect()
    assert sys.getrefcount(cb) == 2


def test_call_refcounts(libs):
    f = libs[P].my_strlen
    f.restype, f.argtypes = P.c_size_t, [P.c_char_p]
    data = b"hello"
    cp = P.c_char_p(b"x")
    buf = P.create_string_buffer(b"ab")
    before = [sys.getrefcount(o) for o in (data, cp, buf)]
    for _ in range(100):
        f(data), f(cp), f(buf), outcome(f, "bad")
    assert [sys.getrefcount(o) for o in (data, cp, buf)] == before


def test_stdlib_memory_functions():
    def run(ct):
        src = ct.create_string_buffer(b"hello world", 16)
        dst = ct.create_string_buffer(16)
        r = ct.memmove(dst, src, 12)
        ct.memset(ct.byref(dst, 5), ord("-"), 3)
        return (r == ct.addressof(dst), dst.raw, ct.string_at(src), ct.string_at(src, 4),
                ct.string_at(ct.c_char_p(b"xyz"), 2), ct.wstring_at(ct.create_unicode_buffer("uv")),
                outcome(ct.string_at, "bad"), outcome(ct.memmove, dst, "x", 1),
                outcome(ct.memset, dst, "x", 1), ct.string_at(ct.addressof(src), 3))
    assert outcome(run, P) == outcome(run, C)


@pytest.mark.skipif(PURE, reason="the native plan exists only with fast paths on")
def test_native_plan_objects(libs):
    f = libs[P].ret_int
    f.restype, f.argtypes = P.c_int, [P.c_int]
    f(1)
    plan = f._fp_plan_
    assert isinstance(plan, raw.CallPlan) and plan.nargs == 1
    assert type(f).__flags__ & (1 << 11)        # Py_TPFLAGS_HAVE_VECTORCALL
    with pytest.raises(TypeError):
        f._fp_plan_ = 5
    with pytest.raises(TypeError):
        raw.enable_vectorcall(int)
    from pyctypes._ctypes.conversion import decide_extra_argument, refuse_call
    i = raw.FFIType.for_code("i")
    decide = basics_rule = lambda value, index: None       # noqa: E731
    int_result = raw.ResultPlan((raw.ResultKind.INT, None, None, 0, None))
    with pytest.raises(TypeError):      # a rule must be callable
        raw.CallPlan((5,), decide, refuse_call, int_result, i, None, 1, False)
    with pytest.raises(TypeError):      # the result is a ResultPlan record, not a tuple
        raw.CallPlan(None, basics_rule, refuse_call, ("int", None, None, 0, None), i, None, 1, False)
    with pytest.raises(ValueError):     # a simple double result needs the double rtype
        raw.CallPlan(None, decide, refuse_call,
                     raw.ResultPlan((raw.ResultKind.SIMPLE, None, "d", 0, None)), i, None, 1, False)
    with pytest.raises(ValueError):
        raw.CallPlan(None, decide, refuse_call, raw.ResultPlan((99, None, None, 0, None)), i, None, 1,
                     False)
    assert raw.CallPlan(None, decide_extra_argument, refuse_call, int_result, i, None, 1,
                        False).call(P.cast(libs[P].ret_int, P.c_void_p).value, 41) == 41


def test_direct_call_shapes(libs):
    """Signatures the native path calls without libffi (x86-64): scalars in
    registers, floats, narrow integers both ways, structures returned in memory."""
    def big(name, n):
        def make(ct, lib):
            class Big(ct.Structure):
                _fields_ = [(c, ct.c_long) for c in "abcd"]
            f = lib[name]
            f.restype, f.argtypes = Big, [ct.c_long] * n
            return f
        return make
    for name, n in (("big_make", 4), ("big_make6", 6)):
        for ct in (C, P):
            f = big(name, n)(ct, libs[ct])
            r = f(*range(1, n + 1))
            got = (r.a, r.b, r.c, r.d)
            if ct is P:
                r2 = f._pycall_(*range(1, n + 1))
                assert (r2.a, r2.b, r2.c, r2.d) == got
            else:
                expected = got
        assert got == expected
        three(libs, big(name, n), lambda ct: (1,) * (n - 1) + ("x",))
    fsum = declared("fsum", lambda ct: ct.c_double, lambda ct: ct.c_float, lambda ct: ct.c_double,
                    lambda ct: ct.c_float, lambda ct: ct.c_int, lambda ct: ct.c_float)
    three(libs, fsum, lambda ct: (1.5, 2.25, -0.5, 7, 1e-3))
    fmul = declared("fmul", lambda ct: ct.c_float, lambda ct: ct.c_float, lambda ct: ct.c_float)
    three(libs, fmul, lambda ct: (1.5, -3.0))
    three(libs, fmul, lambda ct: (1e38, 1e38))
    narrow = declared("uchar_sum", lambda ct: ct.c_ubyte, lambda ct: ct.c_ubyte, lambda ct: ct.c_byte,
                      lambda ct: ct.c_ushort, lambda ct: ct.c_short)
    for args in ((1, 2, 3, 4), (255, -128, 65535, -32768), (300, 200, 70000, -70000)):
        three(libs, narrow, lambda ct: args)
    many = declared("many_longs", lambda ct: ct.c_long, *[lambda ct: ct.c_long] * 10)
    three(libs, many, lambda ct: tuple(range(10)))
    manyd = declared("many_doubles", lambda ct: ct.c_double, *[lambda ct: ct.c_double] * 10)
    three(libs, manyd, lambda ct: tuple(float(i) for i in range(10)))
    # without argtypes: ints and pointers go directly too
    three(libs, lambda ct, lib: lib["many_longs"], lambda ct: tuple(range(10)))
    three(libs, lambda ct, lib: lib["ret_int"], lambda ct: (-7,))


def test_zero_argument_calls(libs, clib_path):
    """f() of a function declared without arguments (argtypes = []) takes a path
    of its own natively: every result kind, errcheck, use_errno, a wrong argument
    count and pythonapi's calls (the GIL kept) as on CPython."""
    def reading_errno(restype):
        def make(ct, lib):
            f = lib["read_errno"]
            f.argtypes = []
            f.restype = restype(ct)
            return f
        return make
    class_restypes = [
        lambda ct: ct.c_int, lambda ct: ct.c_uint, lambda ct: ct.c_short, lambda ct: ct.c_ubyte,
        lambda ct: None, lambda ct: (lambda v: ("called", v)),
        lambda ct: type("MyInt", (ct.c_int,), {}),
        lambda ct: type("Ck", (ct.c_int,), {"_check_retval_": classmethod(lambda cls, v: ("ck", v.value))})]
    for restype in class_restypes:
        for args in ((), (1,)):
            got = three(libs, reading_errno(restype), lambda ct: args)
            if got[0] == "ok" and isinstance(got[1], tuple) and got[1][0] == "instance":
                for ct in (C, P):
                    assert reading_errno(restype)(ct, libs[ct])().value == 0

    def numbers(restype):
        def make(ct, lib):
            f = lib["get_numbers"]
            f.argtypes, f.restype = [], restype(ct)
            return f
        return make
    three(libs, numbers(lambda ct: ct.c_void_p), lambda ct: ())
    for ct in (C, P):
        f = numbers(lambda ct: ct.POINTER(ct.c_int))(ct, libs[ct])
        assert f()[3] == 40
        f.errcheck = lambda result, func, args: (result[0], func is f, args)
        assert f() == (10, True, ())

    for ct in (C, P):       # the private errno swapped in around the call
        lib = ct.CDLL(clib_path, use_errno=True)
        f = lib.read_errno
        f.argtypes, f.restype = [], ct.c_int
        ct.set_errno(42)
        assert (f(), f()) == (42, 42)
        # pythonapi keeps the GIL: the thread state is current inside the call
        g = ct.pythonapi.PyGILState_Check       # (public on 3.11 to 3.13)
        g.argtypes, g.restype = [], ct.c_int
        assert (g(), g()) == (1, 1)             # (the first call makes the plan)
        h = ct.pythonapi.PyErr_Occurred
        h.argtypes, h.restype = [], ct.c_void_p
        assert h() is None
