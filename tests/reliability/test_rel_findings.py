"""One test per finding of the reliability tests (FINDINGS.md), reduced to
its smallest input.  A finding fixed in pyctypes is a plain regression test;
one still open is xfail(strict=True), so that its fix turns the run red
until the marker goes."""

import ctypes as C

import pytest

from pyctypes import ctypes as P

from diffhelp import outcome


class Index:
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


@pytest.mark.parametrize("length", [Index(2), Index(0), -2 ** 64, 2 ** 64])
def test_f1_array_length_through_index(length):
    """F1 (fixed): `c_int * n` takes any __index__ object, as CPython's
    sq_repeat does, and a length beyond Py_ssize_t is an OverflowError."""
    def make(ct):
        return lambda: ct.sizeof(ct.c_int * length)
    assert outcome(make(P)) == outcome(make(C))
    assert outcome(lambda: P.sizeof(Index(3) * P.c_int)) == ("ok", 12)
    assert outcome(lambda: P.c_int * Index(2 ** 64)) == outcome(lambda: C.c_int * Index(2 ** 64))


@pytest.mark.parametrize("call", [
    lambda ct: ct.c_int.from_buffer(bytearray(4), 2 ** 64),
    lambda ct: ct.c_int.from_buffer(bytearray(4), -2 ** 64),
    lambda ct: ct.c_int.from_buffer_copy(bytearray(4), 2 ** 63),
    lambda ct: ct.resize(ct.c_int(), 2 ** 64),
    lambda ct: ct.resize(ct.c_int(), -2 ** 64),
])
def test_f4_ssize_arguments_overflow(call):
    """F4 (fixed): offsets and sizes CPython parses as Py_ssize_t raise
    OverflowError past its range (pyctypes said ValueError)."""
    assert outcome(lambda: call(P)) == outcome(lambda: call(C)) == (
        "raise", "OverflowError", "Python int too large to convert to C ssize_t")


@pytest.mark.parametrize("call", [
    lambda ct: ct.c_int.from_buffer(memoryview(bytearray(0))[::2]),
    lambda ct: ct.c_int.from_buffer_copy(memoryview(bytearray(0))[::2]),
    lambda ct: ct.c_char.from_buffer_copy(memoryview(bytearray(4))[::2]),
    lambda ct: ct.resize(5, 2 ** 64),
    lambda ct: ct.resize(5, "x"),
])
def test_f5_buffer_and_resize_check_order(call):
    """F5 (fixed): an empty strided buffer is contiguous for from_buffer
    (PyBuffer_IsContiguous) but refused by from_buffer_copy before its size
    check (a PyBUF_SIMPLE request); resize parses its size first."""
    assert outcome(lambda: call(P)) == outcome(lambda: call(C))


@pytest.mark.parametrize("call", [
    lambda ct: (ct.c_char * 0).from_buffer(memoryview(bytearray(0))[::2]),
    lambda ct: (ct.c_char * 0).from_buffer(memoryview(bytearray(4))[4::2]),
    lambda ct: (ct.c_char * 1).from_buffer(memoryview(bytearray(4))[1:2:2]),
    lambda ct: (ct.c_char * 0).from_buffer(memoryview(bytearray(4))[::2]),
    lambda ct: (ct.c_char * 0).from_buffer(memoryview(bytearray(4))[::2], 1),
])
def test_f5b_zero_size_view_of_empty_strided_buffer(call):
    """F5b (fixed): raw.buffer_address asks for a full buffer and checks
    contiguity as PyBuffer_IsContiguous does, so that an empty (or one-item)
    strided view works for from_buffer (a simple request refused it)."""
    def make(ct):
        return lambda: bytes(call(ct))
    assert outcome(make(P)) == outcome(make(C))
    assert outcome(lambda: type(call(P)).__name__) == outcome(lambda: type(call(C)).__name__)


def test_f2_wchar_slice_decodes_only_its_items():
    """F2 (fixed): a wchar array or pointer slice with a step decodes only
    the items of the slice (pyctypes decoded the whole array, and failed on
    an item outside the slice that is not a character)."""
    def make(ct):
        def run():
            w = (ct.c_wchar * 3)()
            # w[0] is not a character; w[2] is a lone surrogate (kept as is)
            ct.memmove(w, b"\xff\xff\xff\x7f\x41\x00\x00\x00\x00\xd8\x00\x00", 12)
            p = ct.cast(w, ct.POINTER(ct.c_wchar))
            return (w[1::1], w[1:0:-1], w[0:0:-1], w[2:0:-1], w[1::2],
                    p[1:3], p[1:0:-1], p[2:0:-1], p[1:3:2])
        return run
    assert outcome(make(P)) == outcome(make(C)) == (
        "ok", ("A\ud800", "A", "", "\ud800A", "A", "A\ud800", "A", "\ud800A", "A"))
    for key in (slice(None, None, 2), slice(None, None, -1)):     # w[0] is in the slice
        def read(ct, key=key):
            w = (ct.c_wchar * 2)()
            ct.memmove(w, b"\xff\xff\xff\x7f\x41\x00\x00\x00", 8)
            return w[key]
        assert outcome(lambda: read(P)) == outcome(lambda: read(C))
        assert outcome(lambda: read(P))[:2] == ("raise", "ValueError")


@pytest.mark.parametrize("name", ["a\x00b", "\x00", "\xe9\x00x", "", "\ud800", "a\x00\ud800"])
def test_f3_pointer_of_a_name_with_nul(name):
    """F3 (fixed): POINTER(name) formats the type's name from the UTF-8 C
    string of name, as CPython 3.11 does: the name ends at the first NUL
    ("LP_a" for "a\\x00b"), and a name that does not encode is a
    UnicodeEncodeError (pyctypes passed the NUL on to type(), which refuses it)."""
    def make(ct):
        def run():
            tp = ct.POINTER(name)
            return tp.__name__, tp.__qualname__, tp.__module__
        return run
    assert outcome(make(P)) == outcome(make(C))


class _AsParameter:
    _as_parameter_ = "x\x00y"


def _wcslen(ct, argtypes=None):
    func = ct.CDLL(None).wcslen
    if argtypes is not None:
        func.argtypes = [getattr(ct, name) for name in argtypes]
    return func


@pytest.mark.parametrize("call", [
    lambda ct: _wcslen(ct)("a\x00b"),
    lambda ct: _wcslen(ct)("\x00"),
    lambda ct: _wcslen(ct)(_AsParameter()),
    lambda ct: _wcslen(ct, ["c_wchar_p"])("ab", "c\x00d"),        # extra argument: ConvParam
    lambda ct: _wcslen(ct, ["c_int"])(1, "c\x00d"),
    lambda ct: ct.CFUNCTYPE(ct.c_size_t)(("wcslen", ct.CDLL(None)))("a\x00b"),
    # where CPython takes the NUL (Z_set): c_wchar_p, its from_param, argtypes
    lambda ct: _wcslen(ct, ["c_wchar_p"])("a\x00b"),
    lambda ct: _wcslen(ct, ["c_void_p"])("a\x00b"),
    lambda ct: _wcslen(ct)(ct.c_wchar_p("a\x00b")),
    lambda ct: ct.c_wchar_p("a\x00b").value,
    lambda ct: _wcslen(ct)("ab"),
])
def test_f6_str_argument_with_nul_refused(call):
    """F6 (fixed): a str argument converted without an argtype (ConvParam:
    PyUnicode_AsWideCharString without a size) refuses an embedded NUL with
    "argument N: ValueError: embedded null character"; c_wchar_p and its
    from_param take it (the C string ends there), as on CPython."""
    assert outcome(lambda: call(P)) == outcome(lambda: call(C))
    assert outcome(lambda: _wcslen(P)("a\x00b")) == (
        "raise", "ArgumentError", "argument 1: ValueError: embedded null character")


@pytest.mark.parametrize("call", [
    lambda ct: ct.c_int.from_buffer_copy(memoryview(bytearray(0))[::2], 2 ** 64),
    lambda ct: ct.c_int.from_buffer_copy("text"),
    lambda ct: ct.c_int.from_buffer_copy(bytearray(8), 2 ** 64),
])
def test_f7_from_buffer_copy_parses_its_buffer_first(call):
    """F7 (fixed): from_buffer_copy takes its buffer ("y*") before its
    offset, with the "y*" message for a non-buffer."""
    assert outcome(lambda: call(P)) == outcome(lambda: call(C))


@pytest.mark.parametrize("field", ["c_int", "c_bool", "c_ulonglong"])
@pytest.mark.parametrize("value", [
    lambda ct: ct.c_wchar("a"), lambda ct: ct.c_long(2), lambda ct: ct.c_uint(1),
    lambda ct: ct.c_char(b"a"), lambda ct: ct.c_double(1), lambda ct: ct.pointer(ct.c_int(1)),
    lambda ct: (ct.c_int * 2)(), lambda ct: ct.c_int8(1),
])
def test_f8_bitfield_store_of_another_instance_message(field, value):
    """F8 (fixed): a bit field store of an instance of another ctypes type is
    CPython's "incompatible types, X instance instead of Y instance" (the
    setter took it as an integer), by attribute and by the constructor; the
    record is left as it was."""
    def make(ct, by_init):
        class S(ct.Structure):
            _fields_ = [("b", getattr(ct, field), 3)]
        def run():
            if by_init:
                return bytes(S(value(ct)))
            s = S(1)
            try:
                s.b = value(ct)
            finally:
                assert s.b == 1
        return run
    for by_init in (False, True):
        assert outcome(make(P, by_init)) == outcome(make(C, by_init))
        assert outcome(make(P, by_init))[:2] == ("raise", "TypeError")


# ---- where CPython 3.11 crashes or returns garbage, pyctypes raises (D1-D4)

def test_d1_string_at_null_raises():
    for func in (P.string_at, P.wstring_at):
        for size in (-1, 5):
            assert outcome(lambda: func(0, size))[:2] == ("raise", "ValueError")
    # reading no bytes is no access: b'' / '', as CPython (issue 18)
    assert (P.string_at(0, 0), P.wstring_at(None, 0)) == (C.string_at(0, 0), C.wstring_at(None, 0))


def test_d6_memset_memmove_null_raise():
    for call in (lambda: P.memset(None, 0, 4), lambda: P.memmove(0, b"ab", 2),
                 lambda: P.memmove(P.create_string_buffer(2), None, 2)):
        assert outcome(call)[:2] == ("raise", "ValueError")


@pytest.mark.parametrize("item", ["c_char", "c_wchar", "c_int"])
@pytest.mark.parametrize("key", [slice(0, 2), slice(None, 1), slice(0, 4, 2), slice(3, 0, -1)])
def test_d2_null_pointer_slice_raises(item, key):
    null = P.POINTER(getattr(P, item))()
    assert outcome(lambda: null[key]) == ("raise", "ValueError", "NULL pointer access")


def test_d4_bitfield_store_of_its_own_type_raises():
    class S(P.Structure):
        _fields_ = [("b", P.c_int, 3)]
    s = S()
    assert outcome(lambda: setattr(s, "b", P.c_int(-25)))[:2] == ("raise", "TypeError")
    assert bytes(s) == bytes(4)


def test_d5_py_object_restype_null_raises(rel_lib):
    func = P.CDLL(rel_lib).rret_c_void_p
    func.argtypes = [P.c_void_p]
    func.restype = P.py_object
    assert outcome(lambda: func(None)) == ("raise", "ValueError", "PyObject is NULL")


# ---- open findings (strict xfail: the fix turns the run red until the marker goes)

@pytest.mark.parametrize("base", [
    lambda ct: ct.c_int, lambda ct: ct.py_object, lambda ct: ct.c_int * 2,
    lambda ct: ct.POINTER(ct.c_int), lambda ct: ct._CFuncPtr,
])
def test_f9_module_of_a_class_made_by_type(base):
    """F9 (fixed; found by test_rel_pickle.py): a class made by calling
    type() (or the metaclass) without __module__ in its namespace takes the
    caller's module, as on CPython (whose metaclasses are C), not the
    family's module that calls type.__new__ (every ctypes metaclass's
    __new__ now supplies the caller's), so an instance of it pickles."""
    def make(ct):
        extra = {"_flags_": 1, "_restype_": ct.c_int, "_argtypes_": ()} \
            if base(ct) is ct._CFuncPtr else {}
        return lambda: type("X", (base(ct),), extra).__module__
    assert outcome(make(P)) == outcome(make(C)) == ("ok", __name__)


def test_f9_pickle_of_a_class_made_by_type():
    """F9's pickling side: registered where pickle looks (its __module__), an
    instance of a class made by type() pickles on both once __module__ is set;
    only the default __module__ differs (see the xfail above)."""
    import pickle
    import sys
    import types
    for ct, name in ((C, "relf9_C"), (P, "relf9_P")):
        module = sys.modules.setdefault(name, types.ModuleType(name))
        X = type("X", (ct.c_int,), {"__module__": name})
        module.X = X
        assert pickle.loads(pickle.dumps(X(3))).value == 3
