"""Callbacks (Python callables called from C) on pyctypes, side by side with
CPython's _ctypes, called by the C functions of tests/clib/funcs.c."""

import ctypes as C
import gc
import re
import sys
import textwrap
import warnings

import pytest
from hypothesis import given, settings, strategies as st
from test import support

from pyctypes import ctypes as P
from pyctypes._ctypes._native import PURE

from diffhelp import outcome, run_script, same, unraisable_report


@pytest.fixture
def libs(clib_path):
    return {C: C.CDLL(clib_path), P: P.CDLL(clib_path)}


def stderr_of(script, ct):
    """What a script using ``ct`` prints on stderr, run in a subprocess on
    CPython's ctypes or on pyctypes (addresses masked)."""
    return re.sub(r"0x[0-9a-f]+", "0x?", run_script(script, ct).stderr)


# ---------------------------------------------------------------- argument and result types

TYPES = [
    ("c_byte", st.integers(-128, 127)), ("c_ubyte", st.integers(0, 255)),
    ("c_short", st.integers(-2**15, 2**15 - 1)), ("c_ushort", st.integers(0, 2**16 - 1)),
    ("c_int", st.integers(-2**31, 2**31 - 1)), ("c_uint", st.integers(0, 2**32 - 1)),
    ("c_long", st.integers(-2**63, 2**63 - 1)), ("c_ulong", st.integers(0, 2**64 - 1)),
    ("c_longlong", st.integers(-2**63, 2**63 - 1)),
    ("c_ulonglong", st.integers(0, 2**64 - 1)),
    ("c_float", st.floats(width=32, allow_nan=False)), ("c_double", st.floats(allow_nan=False)),
    ("c_longdouble", st.floats(allow_nan=False)), ("c_bool", st.booleans()),
    ("c_char", st.binary(min_size=1, max_size=1)),
    ("c_wchar", st.characters(blacklist_categories=("Cs",))),
    ("c_void_p", st.none() | st.integers(1, 2**64 - 1)),
]


@pytest.mark.parametrize("typename,values", TYPES, ids=[t[0] for t in TYPES])
@given(data=st.data())
@settings(max_examples=20, deadline=None)
def test_round_trip_through_callback(typename, values, data):
    """A callback of (c_byte, T) -> T called from Python through the closure."""
    value = data.draw(values)

    def run(ct):
        tp = getattr(ct, typename)
        got = []

        def func(*args):
            got.append(args)
            return args[-1]
        result = ct.CFUNCTYPE(tp, ct.c_byte, tp)(func)(-3, value)
        return got, result
    assert outcome(run, P) == outcome(run, C)


def test_called_from_c(libs):
    def run(ct, lib):
        seen = []
        int_cb = ct.CFUNCTYPE(ct.c_int, ct.c_int)(lambda x: x * 3)
        seen.append(lib.call_int_cb(int_cb, 14))
        lib.call_double_cb.restype = ct.c_double
        lib.call_double_cb.argtypes = [ct.CFUNCTYPE(ct.c_double, ct.c_double, ct.c_double),
                                       ct.c_double, ct.c_double]
        double_cb = ct.CFUNCTYPE(ct.c_double, ct.c_double, ct.c_double)(lambda a, b: a - b)
        seen.append(lib.call_double_cb(double_cb, 1.5, 0.25))
        calls = []
        lib.call_void_cb(ct.CFUNCTYPE(None, ct.c_int)(calls.append), 4)
        seen.append(calls)
        many = ct.CFUNCTYPE(ct.c_long, *[ct.c_long] * 8, ct.c_double, ct.c_double)(
            lambda *a: int(sum(a) * 10))
        lib.call_many_cb.restype = ct.c_long
        seen.append(lib.call_many_cb(many))
        return seen
    assert same(libs, run) == ("ok", [43, 1.25, [0, 1, 2, 3], 560])


def test_pointer_and_string_arguments(libs):
    def run(ct, lib):
        def bump(p):
            p[0] += 100
            return p[0] * 2
        ptr_cb = ct.CFUNCTYPE(ct.c_int, ct.POINTER(ct.c_int))(bump)
        # A char * result points into a bytes object made by the callback:
        # it is kept alive (leaked, as CPython does, with a warning).
        charp_cb = ct.CFUNCTYPE(ct.c_char_p, ct.c_char_p)(lambda s: s + b"!")
        lib.call_charp_cb.restype = ct.c_char_p
        wcharp_cb = ct.CFUNCTYPE(ct.c_wchar_p, ct.c_wchar_p)(lambda s: s * 2)
        return (lib.call_ptr_cb(ptr_cb, 5), lib.call_charp_cb(charp_cb, b"hello"),
                wcharp_cb("ab\xe9"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # the char * result "leaks"
        assert same(libs, run) == ("ok", (315, b"hello!", "ab\xe9ab\xe9"))


def test_structure_argument(libs):
    def run(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        got = []

        def func(p):
            got.append((type(p).__name__, p.x, p.y))
            p.x = 0             # a copy: the caller's value is unchanged
            return p.y * 1000 + 7
        cb = ct.CFUNCTYPE(ct.c_long, Point)(func)
        lib.call_point_cb.restype = ct.c_long
        return lib.call_point_cb(cb, 3, 4), got
    assert same(libs, run) == ("ok", (4007, [("Point", 3, 4)]))


def test_simple_subclass_arguments_are_instances():
    def run(ct):
        class MyInt(ct.c_int):
            pass
        got = []

        def func(arg):
            got.append((type(arg).__name__, arg.value if isinstance(arg, MyInt) else arg))
            return 5
        ct.CFUNCTYPE(None, MyInt)(func)(42)
        return ct.CFUNCTYPE(ct.c_int, ct.c_int)(func)(43), got
    assert outcome(run, P) == outcome(run, C)


def test_restype_none_ignores_result():
    def run(ct):
        return ct.CFUNCTYPE(None)(lambda: (1, "abc", None))()
    assert outcome(run, P) == outcome(run, C) == ("ok", None)


def test_returned_function_pointer_fields():
    def run(ct):
        proto = ct.CFUNCTYPE(ct.c_long, ct.c_int, ct.c_int, ct.c_int, ct.c_int)

        class WndClass(ct.Structure):
            _fields_ = [("style", ct.c_uint), ("proc", proto)]
        w = WndClass()
        w.proc = proto(lambda a, b, c, d: a + b + c + d)
        f = w.proc
        del w
        gc.collect()
        return f(10, 11, 12, 13), type(f).__name__
    assert outcome(run, P) == outcome(run, C) == ("ok", (46, "CFunctionType"))


# ---------------------------------------------------------------- bad prototypes

@pytest.mark.parametrize("restype", ["POINTER", "object", "Structure"])
def test_invalid_result_types(restype):
    def run(ct):
        class S(ct.Structure):
            _fields_ = [("a", ct.c_int)]
        rt = {"POINTER": ct.POINTER(ct.c_double), "object": object, "Structure": S}[restype]
        return ct.CFUNCTYPE(rt)(lambda: None)
    result = outcome(run, P)
    assert result == outcome(run, C) == ("raise", "TypeError",
                                         "invalid result type for callback function")


def test_not_callable_and_no_argtypes():
    import _ctypes
    import pyctypes._ctypes as ours

    def run(ct, m):
        return (outcome(ct.CFUNCTYPE(ct.c_int), "not callable"),
                outcome(m.CFuncPtr, lambda: 1))
    assert run(P, ours) == run(C, _ctypes)


# ---------------------------------------------------------------- errors inside callbacks

def raising(arg):
    42 / arg
    raise ValueError(arg)


@pytest.mark.parametrize("argtype,arg,exc,text", [
    ("c_int", 42, ValueError, "42"), ("c_int", 0, ZeroDivisionError, None),
    ("c_double", 0.0, ZeroDivisionError, None),
    ("c_char_p", b"spam", TypeError, "unsupported operand type(s) for /: 'int' and 'bytes'"),
])
def test_exception_reported_as_unraisable(argtype, arg, exc, text):
    for ct in (C, P):
        cb = ct.CFUNCTYPE(ct.c_int, getattr(ct, argtype))(raising)
        with support.catch_unraisable_exception() as cm:
            cb(arg)             # the result is undefined
            assert isinstance(cm.unraisable.exc_value, exc)
            if text is not None:
                assert str(cm.unraisable.exc_value) == text
            assert (cm.unraisable.err_msg, cm.unraisable.object) == \
                unraisable_report("on calling ctypes callback function", raising)
            frames = []
            tb = cm.unraisable.exc_traceback
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            assert frames == ["raising"]


def test_result_conversion_error_reported():
    def func():
        return ("tuple",)
    for ct in (C, P):
        with support.catch_unraisable_exception() as cm:
            ct.CFUNCTYPE(ct.c_int)(func)()
            assert isinstance(cm.unraisable.exc_value, TypeError)
            assert (cm.unraisable.err_msg, cm.unraisable.object) == \
                unraisable_report("on converting result of ctypes callback function", func)


def test_unraisable_default_hook_output():
    script = """
def raising(arg):
    42 / arg
ct.CFUNCTYPE(ct.c_int, ct.c_int)(raising)(0)
ct.CFUNCTYPE(ct.c_int)(lambda: "x")()
"""
    assert stderr_of(script, P) == stderr_of(script, C)
    assert re.search("Exception ignored on calling ctypes callback function:? <function raising",
                     stderr_of(script, P))


def test_memory_leak_warning():
    for ct in (C, P):
        cb = ct.CFUNCTYPE(ct.c_char_p)(lambda: b"abc")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert cb() == b"abc"
        assert [str(w.message) for w in caught] == ["memory leak in callback function."]
        assert caught[0].category is RuntimeWarning
        assert caught[0].filename == __file__


def test_argument_creation_error():
    """A NULL py_object argument cannot be made: the error is printed (without
    CPython's intended message line, which it never manages to write) and
    the callable is not called."""
    script = """
cb = ct.CFUNCTYPE(ct.c_int, ct.py_object)(print)
caller = ct.CFUNCTYPE(ct.c_int, ct.c_void_p)(ct.cast(cb, ct.c_void_p).value)
caller(None)
"""
    assert stderr_of(script, P) == stderr_of(script, C) == "ValueError: PyObject is NULL\n"


def test_argument_instance_error_shows_python_frames():
    script = """
class S(ct.Structure):
    _fields_ = [("a", ct.c_int)]
    def __init__(self):
        raise KeyError("init")
ct.CFUNCTYPE(ct.c_int, S)(lambda s: 1)(S.from_buffer_copy(bytes(4)))
"""
    assert stderr_of(script, P) == stderr_of(script, C)
    assert stderr_of(script, P).endswith("KeyError: 'init'\n")


# ---------------------------------------------------------------- keeping alive, GC, threads

def test_objects_hold_the_thunk():
    cb = P.CFUNCTYPE(P.c_int, P.c_int)(lambda x: x)
    assert list(cb._objects) == ["0"]
    thunk = cb._objects["0"]
    assert type(thunk).__name__ == "CThunkObject" and type(thunk).__module__ == "_ctypes"
    assert P.cast(cb, P.c_void_p).value == thunk.address


def test_stored_callback_stays_alive(libs):
    def run(ct, lib):
        cb = ct.CFUNCTYPE(ct.c_int, ct.c_int)(lambda x: x + 1000)
        lib.store_cb(cb)
        gc.collect()
        return lib.call_stored_cb(5), lib.call_stored_cb(-5)
    assert same(libs, run) == ("ok", (1005, 995))


def test_callback_from_a_c_thread(libs):
    import threading

    def run(ct, lib):
        idents = []

        def func(x):
            idents.append(threading.get_ident())
            return x * 2
        cb = ct.CFUNCTYPE(ct.c_int, ct.c_int)(func)
        return lib.call_in_thread(cb, 21), idents[0] != threading.get_ident()
    assert same(libs, run) == ("ok", (42, True))


@support.refcount_test
def test_refcounts_released():
    def func(*args):
        pass
    base = sys.getrefcount(func)
    f = P.CFUNCTYPE(P.c_int, P.c_int, P.c_ulonglong)(func)
    assert sys.getrefcount(func) > base
    f.cycle = f
    del f
    gc.collect()
    assert sys.getrefcount(func) == base


def test_cycles_through_callbacks_are_collected():
    proto = P.CFUNCTYPE(None)

    class Holder:
        def method(self):
            pass

        def __init__(self):
            self.v = proto(self.method)
    for _ in range(16):
        Holder()
    gc.collect()
    assert not [x for x in gc.get_objects() if isinstance(x, Holder)]


@support.refcount_test
def test_py_object_callbacks_balance_refcounts():
    for ct in (C, P):
        for functype in (ct.CFUNCTYPE, ct.PYFUNCTYPE):
            obj = object()
            cb = functype(ct.py_object, ct.py_object)(lambda o: o)
            cb(obj)
            before = sys.getrefcount(obj)
            for _ in range(100):
                assert cb(obj) is obj
            assert sys.getrefcount(obj) == before
            none_cb = functype(ct.py_object)(lambda: None)
            before = sys.getrefcount(None)
            for _ in range(1000):
                none_cb()
            assert abs(sys.getrefcount(None) - before) < 50


def test_qsort(libs):
    def run(ct, lib):
        libc = ct.CDLL(None)

        @ct.CFUNCTYPE(ct.c_int, ct.POINTER(ct.c_int), ct.POINTER(ct.c_int))
        def compare(a, b):
            return a[0] - b[0]
        array = (ct.c_int * 6)(5, 1, 99, 7, 33, -4)
        libc.qsort(array, len(array), ct.sizeof(ct.c_int), compare)
        return list(array)
    assert same(libs, run) == ("ok", [-4, 1, 5, 7, 33, 99])


def test_argument_instances_kept_by_the_callable_stay_theirs(libs):
    """A pointer or structure argument the callable keeps (in a list, by an
    attribute, a weak reference, a keep-alive, a resize) is never handed to a
    later call: each call's arguments arrive as fresh instances would (no
    attribute, keep-alive, weak reference or other size), and what a kept one
    holds stays as its own call left it."""
    import weakref

    def run(ct, lib):
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        kept, refs, seen = [], [], []
        ways = [None, "list", "attribute", "weakref", "contents", "resize", "retype"]

        class OtherPointer(ct.POINTER(ct.c_int)):
            pass

        def func(n, p, q):
            seen.append((n, type(p).__name__, type(q).__name__, p.x, p.y, q[0], p._objects, q._objects, hasattr(p, "note"), hasattr(q, "note"), ct.sizeof(p),
                         weakref.getweakrefcount(p), weakref.getweakrefcount(q)))
            how = ways[n % len(ways)]
            if how == "list":
                kept.append((n, p, q))
            elif how == "attribute":
                p.note = n
                q.note = n
            elif how == "weakref":
                refs.append((n, weakref.ref(p), weakref.ref(q)))
            elif how == "contents":
                q.contents = ct.c_int(-n)
                p.x = n                 # no keep-alive for p
            elif how == "resize":
                ct.resize(p, 64)
            elif how == "retype":
                q.__class__ = OtherPointer
            p.y = -1            # copies: the caller's memory is not touched
            return n

        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int, Point, ct.POINTER(ct.c_int))
        cb = proto(func)
        values = (ct.c_int * 40)(*range(100, 140))      # outlives the kept pointers to it
        results = [cb(n, Point(n, 2 * n), ct.pointer(ct.c_int.from_buffer(values, 4 * n)))
                   for n in range(40)]
        return (results, seen, [(n, p.x, p.y, q[0]) for n, p, q in kept],
                [(n, r1() is None, r2() is None) for n, r1, r2 in refs])
    got = same(libs, run)
    assert got[0] == "ok" and got[1][0] == list(range(40))


@pytest.mark.parametrize("argtype", ["POINTER(c_double)", "vec"])
def test_reused_argument_instances_start_clean(libs, argtype):
    """Every call gets an instance holding exactly its argument, whatever
    the previous call left in the last one (checked against CPython)."""
    def run(ct, lib):
        class Vec(ct.Structure):
            _fields_ = [("a", ct.c_double), ("b", ct.c_char * 3)]
        tp = Vec if argtype == "vec" else ct.POINTER(ct.c_double)
        seen = []

        def func(v):
            if tp is Vec:
                seen.append((v.a, v.b))
                v.a, v.b = 99.0, b"zzz"
            else:
                seen.append((bool(v), v[0] if v else None,
                             bool(v) and ct.cast(v, ct.c_void_p).value == ct.addressof(store)))
            return 0

        cb = ct.CFUNCTYPE(ct.c_int, tp)(func)
        store = ct.c_double(0.0)
        for i in range(5):
            store.value = i / 4
            cb(Vec(i, b"ab") if tp is Vec else ct.pointer(store))
        if tp is not Vec:
            cb(tp())           # a NULL pointer argument
        return seen
    same(libs, run)


def test_argument_classes_with_their_own_construction_run_it(libs):
    """An argument class overriding __new__ or __init__ is called for each
    argument, as CPython's callbacks call the class (only classes with their
    family's own construction are made natively)."""
    def run(ct, lib):
        made = []

        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]

            def __init__(self, *args):
                made.append(("init", args))
                super().__init__(*args)

        class Ptr(ct.POINTER(ct.c_int)):
            _type_ = ct.c_int

            def __new__(cls, *args):
                made.append(("new", args))
                return super().__new__(cls, *args)

        cb = ct.CFUNCTYPE(ct.c_int, Point, Ptr)(lambda p, q: p.x + p.y + q[0])
        target = ct.c_int(5)
        results = [cb(Point(i, 1), ct.cast(ct.pointer(target), Ptr)) for i in range(3)]
        return results, made
    assert same(libs, run)[0] == "ok"


def test_restype_subclass_instance_result():
    """A deliberate difference (docs/differences.md): a callback declared to return
    `class MyInt(c_int)` may return a MyInt; its value is the result.  CPython
    reports a TypeError for it (and returns garbage): the report is checked
    there, the value here.  Any other value is converted as before."""
    class MyInt(P.c_int):
        pass
    proto = P.CFUNCTYPE(MyInt, P.c_int)
    values = {1: MyInt(42), 2: 7, 3: MyInt(-5)}
    cb = proto(lambda x: values[x])
    f = P.CFUNCTYPE(P.c_int, P.c_int)(P.cast(cb, P.c_void_p).value)
    assert [f(1), f(2), f(3), f(1)] == [42, 7, -5, 42]

    class CMyInt(C.c_int):
        pass
    reported = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: reported.append(type(u.exc_value))
    try:
        ccb = C.CFUNCTYPE(CMyInt, C.c_int)(lambda x: CMyInt(42))
        C.CFUNCTYPE(C.c_int, C.c_int)(C.cast(ccb, C.c_void_p).value)(1)
    finally:
        sys.unraisablehook = old
    assert reported == [TypeError]


def test_foreign_thread_leaves_no_dummy_thread(libs):
    """A callback run on a thread C made (a Python thread state for the
    callback only) sees a threading._DummyThread as its current thread; when
    it returns, that dummy is gone from threading._active, as CPython 3.13
    removes it (3.11 kept one per call for good: docs/differences.md)."""
    import threading
    lib = libs[P]
    proto = P.CFUNCTYPE(P.c_int, P.c_int)
    f = lib.call_in_thread
    f.argtypes, f.restype = [proto, P.c_int], P.c_int
    inside = []

    def cb(x):
        inside.append((type(threading.current_thread()).__name__, len(threading._active)))
        return x + 1
    c = proto(cb)
    before = dict(threading._active)
    assert [f(c, i) for i in range(3)] == [1, 2, 3]
    assert inside == [("_DummyThread", len(before) + 1)] * 3
    assert threading._active == before


def test_reentrant_callbacks(clib_path):
    """C calls a callback that calls C again, until the recursion limit: as
    deep as CPython's ctypes natively (within two levels); under PYCTYPES_PURE=1 each level runs
    about five Python frames (the call, callproc, the callback's invoke, the
    callback), so at least a sixth of the recursion limit (a deliberate
    difference of the pure mode).  At the limit the RecursionError is reported
    as unraisable, that callback returns 0, every level returns, and the
    process lives on.  (In a child: pytest's own unraisable hook cannot run at
    the recursion limit.)"""
    script = textwrap.dedent(f"""\
        deepest = [0]
        lib = ct.CDLL({clib_path!r})
        def again(n):
            deepest[0] = max(deepest[0], n)
            return lib.call_int_cb(callback, n + 1)
        callback = ct.CFUNCTYPE(ct.c_int, ct.c_int)(again)
        result = lib.call_int_cb(callback, 0)
        print(deepest[0], result, flush=True)
        """)
    mine, theirs = run_script(script, P), run_script(script, C)
    assert mine.returncode == 0 and theirs.returncode == 0, mine.stderr[-2000:]
    assert "RecursionError" in mine.stderr and "RecursionError" in theirs.stderr
    (my_depth, my_result), (their_depth, _) = (map(int, done.stdout.split()) for done in (mine, theirs))
    assert my_result > my_depth     # every level returned its value + 1
    if PURE:
        assert my_depth >= sys.getrecursionlimit() // 6
    else:
        # 3.13 counts the frames of a level one way or the other at the limit: 997 against 998
        assert my_depth >= their_depth - 2
