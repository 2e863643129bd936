"""helpers: errno accessors, memmove/memset addresses, string_at/wstring_at/cast
called as C functions, reference helpers."""

import ctypes as C
import sys

import pytest

from pyctypes import _rawffi as R

T = R.FFIType.for_code
PYAPI = R.CALL_CHECK_PYERR  # PYFUNCTYPE: GIL held, Python errors raised


def call_o(function, codes, values):
    """Call a C function returning a new PyObject* (py_object result), with
    the GIL held, and take over the result."""
    cif = R.CallInterface(T("O"), [T(c) for c in codes])
    res = C.c_void_p()
    cif.call(function, [C.addressof(v) for v in values], C.addressof(res), PYAPI)
    return R.take_object(C.addressof(res))


def test_memmove_memset():
    buf = C.create_string_buffer(b"abcdefghij", 10)
    cif = R.CallInterface(T("P"), [T("P"), T("P"), T("L")])
    dst, src, n = C.c_void_p(C.addressof(buf) + 2), C.c_void_p(C.addressof(buf)), C.c_ulong(5)
    res = C.c_void_p()
    cif.call(R.memmove_addr, [C.addressof(dst), C.addressof(src), C.addressof(n)], C.addressof(res),
             R.CALL_RELEASE_GIL)
    assert buf.raw == b"ababcdehij"
    assert res.value == dst.value
    cif2 = R.CallInterface(T("P"), [T("P"), T("i"), T("L")])
    byte, n = C.c_int(ord("z")), C.c_ulong(3)
    cif2.call(R.memset_addr, [C.addressof(src), C.addressof(byte), C.addressof(n)],
              C.addressof(res), 0)
    assert buf.raw == b"zzzbcdehij"
    assert res.value == src.value


def test_string_at():
    buf = C.create_string_buffer(b"hello\0world", 12)
    p = C.c_void_p(C.addressof(buf))
    assert call_o(R.string_at_addr, "Pi", [p, C.c_int(-1)]) == b"hello"
    assert call_o(R.string_at_addr, "Pi", [p, C.c_int(11)]) == b"hello\0world"
    assert call_o(R.string_at_addr, "Pi", [p, C.c_int(0)]) == b""
    r = call_o(R.string_at_addr, "Pi", [p, C.c_int(3)])
    assert r == b"hel" and sys.getrefcount(r) == 2
    with pytest.raises(ValueError, match="NULL pointer"):
        call_o(R.string_at_addr, "Pi", [C.c_void_p(None), C.c_int(-1)])
    with pytest.raises(SystemError, match="Negative size passed to PyBytes_FromStringAndSize"):
        call_o(R.string_at_addr, "Pi", [p, C.c_int(-5)])


def test_string_at_of_c_result(sym, ffi):
    # a char * returned by C, then string_at on it
    p = ffi.invoke(sym("str_hello"), "P", "")
    assert call_o(R.string_at_addr, "Pi", [p, C.c_int(-1)]) == b"hello, world"
    assert call_o(R.string_at_addr, "Pi", [p, C.c_int(5)]) == b"hello"


def test_wstring_at(sym, ffi):
    p = ffi.invoke(sym("wstr_hello"), "P", "")
    text = "h\u00e9llo \U0001F600"
    assert call_o(R.wstring_at_addr, "Pi", [p, C.c_int(-1)]) == text
    assert call_o(R.wstring_at_addr, "Pi", [p, C.c_int(2)]) == text[:2]
    buf = C.create_unicode_buffer("ab\0cd", 6)
    q = C.c_void_p(C.addressof(buf))
    assert call_o(R.wstring_at_addr, "Pi", [q, C.c_int(5)]) == "ab\0cd"
    assert call_o(R.wstring_at_addr, "Pi", [q, C.c_int(-1)]) == "ab"
    with pytest.raises(ValueError, match="NULL pointer"):
        call_o(R.wstring_at_addr, "Pi", [C.c_void_p(None), C.c_int(-1)])


def test_cast_hook():
    calls = []

    class Target:
        pass

    src = ["the source"]

    def hook(address, s, ctype):
        calls.append((address, s, ctype))
        return ("cast", address)

    pyobj = lambda o: C.c_void_p(id(o))  # noqa: E731  (a borrowed PyObject* argument)
    R.set_cast_hook(hook)
    try:
        r = call_o(R.cast_addr, "POO", [C.c_void_p(0x1000), pyobj(src), pyobj(Target)])
        assert r == ("cast", 0x1000)
        assert sys.getrefcount(r) == 2
        r = call_o(R.cast_addr, "POO", [C.c_void_p(None), pyobj(src), pyobj(Target)])
        assert r == ("cast", 0)
        assert calls == [(0x1000, src, Target), (0, src, Target)]

        def bad(address, s, ctype):
            raise TypeError("cannot cast")

        R.set_cast_hook(bad)
        with pytest.raises(TypeError, match="cannot cast"):
            call_o(R.cast_addr, "POO", [C.c_void_p(1), pyobj(src), pyobj(Target)])
    finally:
        R.set_cast_hook(None)
    with pytest.raises(RuntimeError, match="no cast hook"):
        call_o(R.cast_addr, "POO", [C.c_void_p(1), pyobj(src), pyobj(Target)])
    with pytest.raises(TypeError):
        R.set_cast_hook(5)
    # The hook is process-wide: give the Python level's back to later tests.
    pointer_module = sys.modules.get("pyctypes._ctypes.pointer")
    if pointer_module is not None:
        R.set_cast_hook(pointer_module._cast)


def test_incref_decref():
    o = object()
    base = sys.getrefcount(o)
    assert R.Py_INCREF(o) is o
    assert sys.getrefcount(o) == base + 1
    assert R.Py_INCREF(o) is o
    assert sys.getrefcount(o) == base + 2
    assert R.Py_DECREF(o) is o
    assert R.Py_DECREF(o) is o
    assert sys.getrefcount(o) == base


def test_pyobj_from_ptr():
    o = ["x"]
    base = sys.getrefcount(o)
    r = R.PyObj_FromPtr(id(o))
    assert r is o
    assert sys.getrefcount(o) == base + 1
    del r
    with pytest.raises(ValueError):
        R.PyObj_FromPtr(0)


def test_take_object():
    o = ["y"]
    base = sys.getrefcount(o)
    R.Py_INCREF(o)  # the reference the slot will hold
    slot = C.c_void_p(id(o))
    r = R.take_object(C.addressof(slot))
    assert r is o
    del r
    assert sys.getrefcount(o) == base
    null = C.c_void_p(None)
    with pytest.raises(ValueError, match="^PyObject is NULL$"):
        R.take_object(C.addressof(null))
    with pytest.raises(TypeError):
        R.take_object("x")


def test_errno_accessors():
    old = R.set_errno(12345)
    assert R.get_errno() == 12345
    assert R.set_errno(-1) == 12345
    assert R.get_errno() == -1
    R.set_errno(old)
