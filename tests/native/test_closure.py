"""Closure: C calling Python through ffi closures (arguments, narrow and struct
results, threads Python never saw, exceptions, lifetime)."""

import ctypes as C
import gc
import sys
import threading
import weakref

import pytest

from pyctypes import _rawffi as R

from test_ffitypes import S_big, S_dd, S_fii, S_ii

GIL = R.CALL_RELEASE_GIL
T = R.FFIType.for_code


def cif_of(ffi, restype, argtypes):
    return R.CallInterface(ffi.ffi_of(restype), [ffi.ffi_of(a) for a in argtypes])


def arg(args, i, ctype):
    """The value of argument i (a ctypes instance viewing it)."""
    argv = C.cast(C.c_void_p(args), C.POINTER(C.c_void_p))
    return ctype.from_address(argv[i])


class Recorder:
    """A callable(args, result) computing result = fn(*argument values)."""

    def __init__(self, restype, argtypes, fn):
        self.restype, self.argtypes, self.fn = restype, argtypes, fn
        self.calls = []

    def __call__(self, args, result):
        vals = [arg(args, i, t) for i, t in enumerate(self.argtypes)]
        vals = [v if isinstance(v, C.Structure) else v.value for v in vals]
        self.calls.append((vals, threading.get_ident()))
        r = self.fn(*vals)
        if self.restype is not None:
            self.restype.from_address(result).value = r


def closure(ffi, restype, argtypes, fn):
    ct = None if restype == "v" else ffi.CTYPE.get(restype, restype)
    rec = Recorder(ct, [ffi.CTYPE.get(a, a) if isinstance(a, str) else a for a in argtypes], fn)
    return R.Closure(cif_of(ffi, restype, argtypes), rec), rec


def test_int_callback(sym, ffi):
    cl, rec = closure(ffi, "i", "ii", lambda a, b: a - b)
    # cb_call_int(f, a, b) returns f(a, b) * 10
    assert ffi.value(sym("cb_call_int"), "i", "Pii", cl.address, 7, 9) == -20
    assert [c[0] for c in rec.calls] == [[7, 9]]
    assert rec.calls[0][1] == threading.get_ident()
    # the same without releasing the GIL around the call (PyDLL-like)
    assert ffi.value(sym("cb_call_int"), "i", "Pii", cl.address, 1, -1, flags=0) == 20
    assert ffi.value(sym("cb_call_int"), "i", "Pii", cl.address, 1, -1,
                     flags=R.CALL_CHECK_PYERR | R.CALL_USE_ERRNO) == 20


def test_attributes(ffi):
    cif = cif_of(ffi, "i", "ii")
    f = lambda args, result: None  # noqa: E731
    cl = R.Closure(cif, f)
    assert cl.cif is cif
    assert cl.callable is f
    assert isinstance(cl.address, int) and cl.address != 0
    assert R.Closure(cif=cif, callable=f).address != cl.address
    with pytest.raises(TypeError, match="must be a CallInterface"):
        R.Closure(T("i"), f)
    with pytest.raises(TypeError, match="must be callable"):
        R.Closure(cif, 5)


@pytest.mark.parametrize("cfunc,code,ret,expected", [
    ("cb_call_schar", "b", -1, -1),
    ("cb_call_schar", "b", -128, -128),
    ("cb_call_schar", "b", 127, 127),
    ("cb_call_short", "h", -2, -2),
    ("cb_call_short", "h", -32768, -32768),
    ("cb_call_uchar", "B", 200, 200),
    ("cb_call_uchar", "B", 255, 255),
    ("cb_call_uint_raw", "I", 2**32 - 1, 2**32 - 1),
    ("cb_call_uint_raw", "I", 2**31, 2**31),
])
def test_narrow_results_read_by_c(cfunc, code, ret, expected, sym, ffi):
    cl, _ = closure(ffi, code, "", lambda: ret)
    restype = "q" if cfunc.endswith("raw") else "I" if code == "B" else "i"
    assert ffi.value(sym(cfunc), restype, "P", cl.address) == expected


@pytest.mark.parametrize("code,ret", [
    ("b", -1), ("b", -128), ("B", 255), ("h", -2), ("H", 65535), ("i", -5), ("I", 2**32 - 1),
    ("l", -2**63), ("L", 2**64 - 1), ("q", -7), ("Q", 2**64 - 2), ("?", True), ("c", b"\xff"),
    ("u", "\U0001F600"), ("f", 0.25), ("d", -1e300), ("g", 2.5), ("P", 0x1234567),
])
def test_round_trip_through_rawffi_call(code, ret, ffi):
    # Python -> CallInterface.call -> closure -> Python, narrow types both ways
    cl, rec = closure(ffi, code, code * 2, lambda a, b: ret)
    res = ffi.invoke(cl.address, code, code * 2, ret, ret, flags=GIL)
    assert res.value == ret
    assert rec.calls[0][0] == [ret, ret]
    assert rec.calls[0][1] == threading.get_ident()


def test_double_and_float_args(sym, ffi):
    cl, rec = closure(ffi, "d", "df", lambda x, y: x * 4 + y)
    # cb_call_double(f, x) returns f(x, 0.5f) + 1.0
    assert ffi.value(sym("cb_call_double"), "d", "Pd", cl.address, 2.25) == 2.25 * 4 + 0.5 + 1.0
    assert rec.calls[0][0] == [2.25, 0.5]


def test_long_double(sym, ffi):
    cl, _ = closure(ffi, "g", "g", lambda x: x * 3)
    assert ffi.value(sym("cb_call_longdouble"), "g", "Pg", cl.address, 1.5) == 4.5


def test_struct_args_and_result(sym, ffi):
    seen = []

    def fn(args, result):
        a = arg(args, 0, S_ii)
        b = arg(args, 1, S_fii)
        seen.append((a.a, a.b, b.a, b.b, b.c))
        # the result buffer is zeroed before the call
        assert bytes((C.c_char * 16).from_address(result)) == bytes(16)
        out = S_dd.from_address(result)
        out.a = a.a * b.a
        out.b = a.b + b.b + b.c

    cl = R.Closure(cif_of(ffi, S_dd, [S_ii, S_fii]), fn)
    res = ffi.invoke(sym("cb_call_struct"), S_dd, "P", cl.address)
    assert seen == [(3, 4, 1.5, 7, 9)]
    assert (res.a, res.b) == (4.5, 20.0)


def test_big_struct_in_memory(sym, ffi):
    def fn(args, result):
        a = arg(args, 0, S_big)
        out = S_big.from_address(result)
        out.a, out.b, out.c = a.c * 100, a.b * 100, a.a * 100

    cl = R.Closure(cif_of(ffi, S_big, [S_big]), fn)
    res = ffi.invoke(sym("cb_call_big"), S_big, "P", cl.address)
    assert (res.a, res.b, res.c) == (300, 200, 100)


def test_void_callback(sym, ffi):
    got = []
    cl = R.Closure(cif_of(ffi, "v", "i"), lambda args, result: got.append(arg(args, 0, C.c_int).value))
    ffi.invoke(sym("cb_call_void"), "v", "P", cl.address)
    assert got == [42]


def test_many_args(sym, ffi):
    codes = "ididididid"
    cl, rec = closure(ffi, "d", codes, lambda *v: sum(v))
    # cb_call_many returns (int) f(1, 2.5, ..., 9, 10.5)
    assert ffi.value(sym("cb_call_many"), "i", "P", cl.address) == 57
    assert rec.calls[0][0] == [1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5, 9, 10.5]


def test_called_from_c_thread(sym, ffi):
    # the C library calls back from a pthread Python never saw
    cl, rec = closure(ffi, "i", "i", lambda i: i * i - 3)
    n = 50
    total = ffi.value(sym("cb_call_in_thread"), "q", "Pi", cl.address, n, flags=GIL)
    assert total == sum(i * i - 3 for i in range(n))
    assert [c[0] for c in rec.calls] == [[i] for i in range(n)]
    idents = {c[1] for c in rec.calls}
    assert len(idents) == 1 and idents != {threading.get_ident()}


class Unraisable:
    def __enter__(self):
        self.seen = []
        self.old = sys.unraisablehook
        sys.unraisablehook = lambda u: self.seen.append((u.exc_type, str(u.exc_value), u.object))
        return self

    def __exit__(self, *exc):
        sys.unraisablehook = self.old


def test_exception_is_unraisable_and_result_zero(sym, ffi):
    def boom(args, result):
        C.c_int.from_address(result).value = 99  # written, then discarded
        raise ZeroDivisionError("from the callback")

    cl = R.Closure(cif_of(ffi, "i", "ii"), boom)
    with Unraisable() as u:
        assert ffi.value(sym("cb_call_int"), "i", "Pii", cl.address, 1, 2) == 0
    assert u.seen == [(ZeroDivisionError, "from the callback", boom)]

    def boom_d(args, result):
        C.c_double.from_address(result).value = 5.0
        raise KeyError("d")

    cl2 = R.Closure(cif_of(ffi, "d", "df"), boom_d)
    with Unraisable() as u:
        assert ffi.value(sym("cb_call_double"), "d", "Pd", cl2.address, 3.0) == 1.0
    assert [s[0] for s in u.seen] == [KeyError]


def test_exception_in_c_thread(sym, ffi):
    def fn(args, result):
        i = arg(args, 0, C.c_int).value
        if i % 2:
            raise ValueError(i)
        C.c_int.from_address(result).value = i

    cl = R.Closure(cif_of(ffi, "i", "i"), fn)
    with Unraisable() as u:
        assert ffi.value(sym("cb_call_in_thread"), "q", "Pi", cl.address, 6, flags=GIL) == 0 + 2 + 4
    assert [(s[0], s[1]) for s in u.seen] == [(ValueError, "1"), (ValueError, "3"), (ValueError, "5")]


def test_cycle_is_collected(ffi):
    class Fn:
        def __call__(self, args, result):
            pass

    f = Fn()
    f.closure = R.Closure(cif_of(ffi, "v", ""), f)
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None


def test_refcounts(sym, ffi):
    def fn(args, result):
        C.c_int.from_address(result).value = 1

    cif = cif_of(ffi, "i", "ii")
    before = sys.getrefcount(fn), sys.getrefcount(cif)
    cl = R.Closure(cif, fn)
    assert (sys.getrefcount(fn), sys.getrefcount(cif)) == (before[0] + 1, before[1] + 1)
    for _ in range(200):
        ffi.invoke(sym("cb_call_int"), "i", "Pii", cl.address, 1, 2)
    del cl
    assert (sys.getrefcount(fn), sys.getrefcount(cif)) == before
