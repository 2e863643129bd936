"""CallInterface: preparing cifs and calling C functions (scalars, structs by
value, variadic, errno, GIL, Python errors)."""

import ctypes as C
import sys
import threading

import pytest

from pyctypes import _rawffi as R

from test_ffitypes import (S_big, S_c3, S_cg, S_cs, S_dd, S_f3, S_ff, S_fii, S_id, S_ii,
                           S_nested)

GIL = R.CALL_RELEASE_GIL

# (C function, code, a, b, expected result) -- expected computed here from C's rules
SCALARS = [
    ("t_schar", "b", -100, 100, 56),            # -200 wraps in signed char
    ("t_schar", "b", 5, 7, -2),
    ("t_uchar", "B", 200, 100, 44),
    ("t_short", "h", -30000, 10000, 25536),
    ("t_short", "h", 1, 3, -2),
    ("t_ushort", "H", 65535, 2, 1),
    ("t_int", "i", -2**31, 1, 2**31 - 1),
    ("t_int", "i", 1, 2, -1),
    ("t_uint", "I", 2**32 - 1, 5, 4),
    ("t_long", "l", -2**63, 1, 2**63 - 1),
    ("t_long", "l", 10, 2**40, 10 - 2**40),
    ("t_ulong", "L", 2**64 - 1, 2, 1),
    ("t_longlong", "q", 3, 2**62, 3 - 2**62),
    ("t_ulonglong", "Q", 2**63, 2**63 + 7, 7),
    ("t_float", "f", 1.5, -2.25, -3.375),
    ("t_double", "d", 1e300, 1e-310, 1e300 * 1e-310),
    ("t_longdouble", "g", 1.5, 2.25, 3.375),
    ("t_bool", "?", True, False, True),
    ("t_bool", "?", True, True, False),
    ("t_char", "c", b"\x7f", b"\x01", b"\x80"),
    ("t_char", "c", b"A", b" ", b"a"),
    ("t_wchar", "u", "a", "\x01", "b"),
    ("t_wchar", "u", "\U0001F600", "\x01", "\U0001F601"),
]


@pytest.mark.parametrize("name,code,a,b,expected", SCALARS)
def test_scalars(name, code, a, b, expected, sym, ffi):
    assert ffi.value(sym(name), code, code * 2, a, b) == expected


@pytest.mark.parametrize("name,code,a,b,expected", SCALARS)
def test_result_written_at_its_size(name, code, a, b, expected, sym, ffi):
    # the result is narrowed to restype.size bytes: nothing after it is touched
    ct = ffi.CTYPE[code]
    cif = R.CallInterface(R.FFIType.for_code(code), [R.FFIType.for_code(code)] * 2)
    guard = C.create_string_buffer(b"\xa5" * 32, 32)
    args = [ct(a), ct(b)]
    cif.call(sym(name), [C.addressof(x) for x in args], C.addressof(guard), GIL)
    size = C.sizeof(ct)
    assert guard.raw[size:] == b"\xa5" * (32 - size)
    assert ct.from_buffer_copy(guard.raw[:size]).value == expected


def test_pointer(sym, ffi):
    buf = C.create_string_buffer(16)
    base = C.addressof(buf)
    assert ffi.value(sym("t_pointer"), "P", "Pl", base, 5) == base + 5
    assert ffi.value(sym("t_pointer"), "P", "Pl", None, 0) is None


def test_many_arguments(sym, ffi):
    codes = "idididididididididbf"
    vals = [1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5, 9, 10.5, 11, 12.5, 13, 14.5, 15, 16.5, 17, 18.5, -19, 0.25]
    assert ffi.value(sym("t_many"), "d", codes, *vals) == sum(vals)


def test_void_result(sym, ffi):
    assert ffi.invoke(sym("t_store"), "v", "i", 1234) is None
    assert ffi.value(sym("t_last_store"), "i", "") == 1234
    # a non-zero result address is allowed for void and left untouched
    cif = R.CallInterface(R.FFIType.for_code("v"), [R.FFIType.for_code("i")])
    guard = C.c_uint64(0x1122334455667788)
    cif.call(sym("t_store"), [C.addressof(C.c_int(5))], C.addressof(guard), 0)
    assert guard.value == 0x1122334455667788
    assert ffi.value(sym("t_last_store"), "i", "") == 5


# struct cases: (class, make args (codes, values), expected fields as a tuple)
def fields(s):
    out = []
    for name, _t in s._fields_:
        v = getattr(s, name)
        if isinstance(v, C.Structure):
            out.append(fields(v))
        elif isinstance(v, C.Array):
            out.append(tuple(v))
        else:
            out.append(v)
    return tuple(out)


# (class, C prefix, make codes, make args, fields, sum, sum code, fields doubled by C)
STRUCT_CASES = [
    (S_cs, "s_cs", "ch", (b"\x05", -300), (b"\x05", -300), 5 - 300, "i", (b"\x0a", -600)),
    (S_ii, "s_ii", "ii", (7, -2**30), (7, -2**30), 7 - 2**30, "i", (14, -2**31)),
    (S_ff, "s_ff", "ff", (1.5, -0.25), (1.5, -0.25), 1.25, "f", (3.0, -0.5)),
    (S_dd, "s_dd", "dd", (1e200, 3.5), (1e200, 3.5), 1e200 + 3.5, "d", (2e200, 7.0)),
    (S_id, "s_id", "id", (-9, 0.5), (-9, 0.5), -8.5, "d", (-18, 1.0)),
    (S_fii, "s_fii", "fii", (2.5, 3, -4), (2.5, 3, -4), 1.5, "d", (5.0, 6, -8)),
    (S_big, "s_big", "qqq", (1, -2**40, 2**61), (1, -2**40, 2**61), 1 - 2**40 + 2**61, "q",
     (2, -2**41, 2**62)),
    (S_f3, "s_f3", "fff", (0.5, 1.5, -8.0), ((0.5, 1.5, -8.0),), -6.0, "f", ((1.0, 3.0, -16.0),)),
    (S_nested, "s_nested", "iid", (4, 5, 0.125), ((4, 5), 0.125), 9.125, "d", ((8, 10), 0.25)),
    (S_cg, "s_cg", "cg", (b"\x03", 2.5), (b"\x03", 2.5), 5.5, "g", None),
]


@pytest.mark.parametrize("cls,prefix,codes,args,expected,total,sumcode,doubled", STRUCT_CASES,
                         ids=[c[1] for c in STRUCT_CASES])
def test_struct_by_value(cls, prefix, codes, args, expected, total, sumcode, doubled, sym, ffi):
    s = ffi.invoke(sym(prefix + "_make"), cls, codes, *args)     # struct result
    assert fields(s) == expected
    assert ffi.value(sym(prefix + "_sum"), sumcode, [cls], s) == total   # struct argument
    if doubled is not None:
        twice = ffi.invoke(sym(prefix + "_twice"), cls, [cls], s)  # both
        assert fields(twice) == doubled
    assert fields(s) == expected  # passed by value: the caller's copy is unchanged


def test_struct_char_array(sym, ffi):
    s = ffi.invoke(sym("s_c3_make"), S_c3, "ccc", b"\x01", b"\x02", b"\x7f")
    assert bytes(s) == b"\x01\x02\x7f"
    assert ffi.value(sym("s_c3_sum"), "i", [S_c3], s) == 1 + 2 + 127
    t = ffi.invoke(sym("s_c3_twice"), S_c3, [S_c3], s)
    assert bytes(t) == b"\x02\x04\xfe"


def test_struct_big_result_buffer(sym, ffi):
    # a 80-byte struct result: larger than the call path's stack buffer
    class S_huge(C.Structure):
        _fields_ = [("a", C.c_double * 10)]
    s = ffi.invoke(sym("s_huge_make"), S_huge, "d", 1.5)
    assert list(s.a) == [1.5 * i for i in range(10)]
    assert ffi.value(sym("s_huge_sum"), "d", [S_huge], s) == sum(1.5 * i for i in range(10))


def test_cif_attributes():
    i, d = R.FFIType.for_code("i"), R.FFIType.for_code("d")
    cif = R.CallInterface(d, [i, d])
    assert cif.restype is d
    assert cif.argtypes == (i, d)
    assert cif.nfixed == -1
    var = R.CallInterface(i, [i, d], 1)
    assert var.nfixed == 1
    assert R.CallInterface(restype=i, argtypes=(), nfixed=0).argtypes == ()


def test_cif_errors():
    i, v = R.FFIType.for_code("i"), R.FFIType.for_code("v")
    with pytest.raises(TypeError, match="restype must be an FFIType"):
        R.CallInterface("i", [])
    with pytest.raises(TypeError, match=r"argtypes\[1\] must be an FFIType"):
        R.CallInterface(i, [i, 3])
    with pytest.raises(TypeError, match=r"argtypes\[0\] is void"):
        R.CallInterface(i, [v])
    with pytest.raises(ValueError, match="nfixed"):
        R.CallInterface(i, [i], 2)
    with pytest.raises(ValueError, match="nfixed"):
        R.CallInterface(i, [i], -2)
    with pytest.raises(TypeError):
        R.CallInterface(i, 5)


def test_variadic_float_rejected_by_libffi():
    # libffi refuses variadic arguments that C would promote (float -> double)
    i, f = R.FFIType.for_code("i"), R.FFIType.for_code("f")
    with pytest.raises(RuntimeError, match="ffi_prep_cif_var failed: FFI_BAD_ARGTYPE"):
        R.CallInterface(i, [i, f], 1)


def test_call_errors(sym):
    i = R.FFIType.for_code("i")
    cif = R.CallInterface(i, [i, i])
    res = C.c_int()
    a = C.c_int(1)
    f = sym("t_int")
    with pytest.raises(ValueError, match="takes 2 arguments, got 1"):
        cif.call(f, [C.addressof(a)], C.addressof(res), 0)
    with pytest.raises(ValueError, match="takes 2 arguments, got 3"):
        cif.call(f, [C.addressof(a)] * 3, C.addressof(res), 0)
    with pytest.raises(ValueError, match="result address is NULL"):
        cif.call(f, [C.addressof(a)] * 2, 0, 0)
    with pytest.raises(ValueError, match="function address is NULL"):
        cif.call(0, [C.addressof(a)] * 2, C.addressof(res), 0)
    with pytest.raises(TypeError):
        cif.call(f, [C.addressof(a), "x"], C.addressof(res), 0)
    with pytest.raises(TypeError):
        cif.call(f, 5, C.addressof(res), 0)
    with pytest.raises(TypeError):
        cif.call(f, [C.addressof(a)] * 2, C.addressof(res))
    cif.call(f, (C.addressof(a), C.addressof(C.c_int(3))), C.addressof(res), 0)
    assert res.value == -2


def snprintf(libc, fmt, codes, *args):
    buf = C.create_string_buffer(256)
    i = R.FFIType.for_code
    argtypes = [i("P"), i("L"), i("z")] + [i(c) for c in codes]
    cif = R.CallInterface(i("i"), argtypes, 3)
    vals = [C.c_void_p(C.addressof(buf)), C.c_ulong(256), C.c_char_p(fmt)]
    for c, a in zip(codes, args):
        vals.append({"i": C.c_int, "d": C.c_double, "z": C.c_char_p, "q": C.c_longlong,
                     "g": C.c_longdouble}[c](a))
    res = C.c_int()
    cif.call(R.dlsym(libc, "snprintf"), [C.addressof(v) for v in vals], C.addressof(res), GIL)
    assert res.value == len(buf.value)
    return buf.value


def test_variadic_snprintf(libc):
    assert snprintf(libc, b"%d|%d|%d", "iii", 1, -2, 2**31 - 1) == b"1|-2|2147483647"
    assert snprintf(libc, b"%.3f %g %e", "ddd", 3.14159, 0.5, 1e100) == \
        b"%.3f %g %e" % (3.14159, 0.5, 1e100)
    assert snprintf(libc, b"[%s] [%5s] %d", "zzi", b"abc", b"xy", 7) == b"[abc] [   xy] 7"
    # more doubles than xmm argument registers, mixed with ints and strings
    vals = [0.5 * k for k in range(10)]
    fmt = b" ".join([b"%g"] * 10) + b" %s %lld"
    assert snprintf(libc, fmt, "d" * 10 + "zq", *vals, b"end", -2**40) == \
        b" ".join(b"%g" % v for v in vals) + b" end " + str(-2**40).encode()
    assert snprintf(libc, b"%.2Lf", "g", 2.75) == b"2.75"
    assert snprintf(libc, b"no args", "") == b"no args"


def test_variadic_promotion_rejected(libc):
    i = R.FFIType.for_code
    for code in "bBhHc?f":
        with pytest.raises(RuntimeError, match="FFI_BAD_ARGTYPE"):
            R.CallInterface(i("i"), [i("P"), i(code)], 1)


def test_variadic_through_plain_cif(libc):
    # x86-64 SysV: a non-variadic cif calls a variadic function correctly
    # (libffi always passes the vector register count in %al); narrow
    # integers are extended by libffi.  CPython's ctypes relies on this.
    i = R.FFIType.for_code
    buf = C.create_string_buffer(64)
    cif = R.CallInterface(i("i"), [i(c) for c in "PLzdhdB"])
    vals = [C.c_void_p(C.addressof(buf)), C.c_ulong(64), C.c_char_p(b"%g %d %g %d"),
            C.c_double(1.5), C.c_short(-7), C.c_double(2.5), C.c_ubyte(200)]
    res = C.c_int()
    cif.call(R.dlsym(libc, "snprintf"), [C.addressof(v) for v in vals], C.addressof(res), 0)
    assert buf.value == b"1.5 -7 2.5 200"
    assert res.value == 14


def test_use_errno(sym, ffi):
    old = R.set_errno(0)
    try:
        ffi.invoke(sym("errno_set"), "v", "i", 33, flags=GIL | R.CALL_USE_ERRNO)
        assert R.get_errno() == 33
        # without CALL_USE_ERRNO the private errno is not touched
        ffi.invoke(sym("errno_set"), "v", "i", 44, flags=GIL)
        assert R.get_errno() == 33
        assert R.set_errno(55) == 33
        assert ffi.value(sym("errno_get"), "i", "", flags=R.CALL_USE_ERRNO) == 55
        assert ffi.value(sym("errno_get"), "i", "", flags=GIL | R.CALL_USE_ERRNO) == 55
        # C errno set by a call with use_errno is swapped back in afterwards
        ffi.invoke(sym("errno_set"), "v", "i", 66, flags=R.CALL_USE_ERRNO)
        assert ffi.value(sym("errno_get"), "i", "", flags=R.CALL_USE_ERRNO) == 66
    finally:
        R.set_errno(old)


def test_errno_is_thread_local(sym, ffi):
    R.set_errno(7)
    seen = []

    def other():
        seen.append(R.get_errno())
        R.set_errno(8)
        ffi.invoke(sym("errno_set"), "v", "i", 9, flags=GIL | R.CALL_USE_ERRNO)
        seen.append(R.get_errno())

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [0, 9]
    assert R.get_errno() == 7
    R.set_errno(0)


def test_set_errno_errors():
    with pytest.raises(TypeError):
        R.set_errno("x")
    with pytest.raises(OverflowError):
        R.set_errno(2**40)


def test_release_gil(libc, ffi):
    # PyGILState_Check() tells whether the calling thread holds the GIL
    check = R.dlsym(libc, "PyGILState_Check")
    assert ffi.value(check, "i", "", flags=0) == 1
    assert ffi.value(check, "i", "", flags=R.CALL_CHECK_PYERR) == 1
    assert ffi.value(check, "i", "", flags=GIL) == 0
    assert ffi.value(check, "i", "", flags=GIL | R.CALL_USE_ERRNO) == 0


def test_check_pyerr(libc, ffi):
    seterr = R.dlsym(libc, "PyErr_SetString")
    args = (id(KeyError), b"set in C")
    # with CALL_CHECK_PYERR the error set by the C function is raised
    with pytest.raises(KeyError, match="set in C"):
        ffi.invoke(seterr, "v", "Pz", *args, flags=R.CALL_CHECK_PYERR)
    # without it, call() returns with the error set: the interpreter reports that
    # (3.11 at the return of call(); 3.12 on, whose specialised calls of
    # built-ins leave the check to debug builds, at the next built-in's)
    with pytest.raises(SystemError, match="returned a result with an exception set"):
        ffi.invoke(seterr, "v", "Pz", *args, flags=0)
        len(())


def test_o_result_through_pythonapi(libc):
    # a py_object result: the C function returns a new reference, taken over
    i = R.FFIType.for_code
    cif = R.CallInterface(i("O"), [i("z")])
    res = C.c_void_p()
    arg = C.c_char_p(b"pyctypes-\xc3\xa9")
    cif.call(R.dlsym(libc, "PyUnicode_FromString"), [C.addressof(arg)], C.addressof(res),
             R.CALL_CHECK_PYERR)
    s = R.take_object(C.addressof(res))
    assert s == "pyctypes-é"
    assert sys.getrefcount(s) == 2


def test_no_leaks_in_call(sym, ffi):
    i = R.FFIType.for_code("i")
    cif = R.CallInterface(i, [i, i])
    a, b, res = C.c_int(9), C.c_int(4), C.c_int()
    args = [C.addressof(a), C.addressof(b)]
    f = sym("t_int")
    before = sys.getrefcount(cif), sys.getrefcount(args), sys.getrefcount(i)
    for _ in range(1000):
        cif.call(f, args, C.addressof(res), GIL)
    assert res.value == 5
    assert (sys.getrefcount(cif), sys.getrefcount(args), sys.getrefcount(i)) == before
