"""FFIType: simple types per type code, struct types and their layout."""

import ctypes as C

import pytest

from pyctypes import _rawffi as R

# type code -> (size, alignment, FFI_TYPE_* kind) on x86-64 Linux, from C
FFI_TYPE = dict(VOID=0, FLOAT=2, DOUBLE=3, LONGDOUBLE=4, UINT8=5, SINT8=6, UINT16=7,
                SINT16=8, UINT32=9, SINT32=10, UINT64=11, SINT64=12, STRUCT=13, POINTER=14)
EXPECTED = {
    "b": (1, 1, "SINT8"), "B": (1, 1, "UINT8"), "h": (2, 2, "SINT16"), "H": (2, 2, "UINT16"),
    "i": (4, 4, "SINT32"), "I": (4, 4, "UINT32"), "l": (8, 8, "SINT64"), "L": (8, 8, "UINT64"),
    "q": (8, 8, "SINT64"), "Q": (8, 8, "UINT64"), "f": (4, 4, "FLOAT"), "d": (8, 8, "DOUBLE"),
    "g": (16, 16, "LONGDOUBLE"), "?": (1, 1, "UINT8"), "c": (1, 1, "SINT8"),
    "u": (4, 4, "SINT32"), "z": (8, 8, "POINTER"), "Z": (8, 8, "POINTER"),
    "P": (8, 8, "POINTER"), "O": (8, 8, "POINTER"), "v": (1, 1, "VOID"),
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_simple_types(code):
    t = R.FFIType.for_code(code)
    size, align, kind = EXPECTED[code]
    assert (t.size, t.alignment, t.kind) == (size, align, FFI_TYPE[kind])
    assert t.code == code
    assert t.offsets is None and t.elements is None


@pytest.mark.parametrize("code", sorted(set(EXPECTED) - {"v", "O"}))
def test_simple_types_match_ctypes(code, ffi):
    t = R.FFIType.for_code(code)
    ct = ffi.CTYPE[code]
    assert (t.size, t.alignment) == (C.sizeof(ct), C.alignment(ct))


def test_for_code_shared():
    assert R.FFIType.for_code("i") is R.FFIType.for_code("i")
    assert R.FFIType.for_code("l") is not R.FFIType.for_code("q")


@pytest.mark.parametrize("bad", ["x", "", "ii", "é", "\U0001F600"])
def test_for_code_unknown(bad):
    with pytest.raises((ValueError, TypeError)):
        R.FFIType.for_code(bad)


def test_for_code_not_str():
    with pytest.raises(TypeError):
        R.FFIType.for_code(105)
    with pytest.raises(ValueError, match="unknown type code 'x'"):
        R.FFIType.for_code("x")


def test_not_instantiable():
    with pytest.raises(TypeError):
        R.FFIType()


def test_struct_layout():
    c, h, d, g = (R.FFIType.for_code(x) for x in "chdg")
    s = R.FFIType.struct([c, h, d])
    assert (s.size, s.alignment, s.offsets) == (16, 8, (0, 2, 8))
    assert s.kind == FFI_TYPE["STRUCT"]
    assert s.code is None
    assert s.elements == (c, h, d)
    s2 = R.FFIType.struct([c, g])
    assert (s2.size, s2.alignment, s2.offsets) == (32, 16, (0, 16))
    nested = R.FFIType.struct([c, s, c])
    assert (nested.size, nested.alignment, nested.offsets) == (32, 8, (0, 8, 24))
    one = R.FFIType.struct([c])
    assert (one.size, one.alignment, one.offsets) == (1, 1, (0,))


def test_struct_accepts_any_sequence():
    i = R.FFIType.for_code("i")
    s = R.FFIType.struct(x for x in (i, i, i))
    assert (s.size, s.offsets, s.elements) == (12, (0, 4, 8), (i, i, i))


def test_struct_errors():
    with pytest.raises(ValueError, match="empty"):
        R.FFIType.struct([])
    with pytest.raises(TypeError, match="element 1 must be an FFIType"):
        R.FFIType.struct([R.FFIType.for_code("i"), "i"])
    with pytest.raises(TypeError, match="void"):
        R.FFIType.struct([R.FFIType.for_code("v")])
    with pytest.raises(TypeError):
        R.FFIType.struct(5)


def test_struct_keeps_elements_alive():
    import gc
    inner = R.FFIType.struct([R.FFIType.for_code("d"), R.FFIType.for_code("b")])
    outer = R.FFIType.struct([inner, R.FFIType.for_code("b")])
    del inner
    gc.collect()
    assert (outer.size, outer.offsets) == (24, (0, 16))
    assert outer.elements[0].size == 16


# CPython ctypes structures mirroring the C test library's, and their C layouts
class S_cs(C.Structure): _fields_ = [("a", C.c_char), ("b", C.c_short)]
class S_ii(C.Structure): _fields_ = [("a", C.c_int), ("b", C.c_int)]
class S_ff(C.Structure): _fields_ = [("a", C.c_float), ("b", C.c_float)]
class S_dd(C.Structure): _fields_ = [("a", C.c_double), ("b", C.c_double)]
class S_id(C.Structure): _fields_ = [("a", C.c_int), ("b", C.c_double)]
class S_fii(C.Structure): _fields_ = [("a", C.c_float), ("b", C.c_int), ("c", C.c_int)]
class S_big(C.Structure): _fields_ = [("a", C.c_longlong), ("b", C.c_longlong), ("c", C.c_longlong)]
class S_c3(C.Structure): _fields_ = [("a", C.c_char * 3)]
class S_f3(C.Structure): _fields_ = [("a", C.c_float * 3)]
class S_nested(C.Structure): _fields_ = [("in_", S_ii), ("d", C.c_double)]
class S_cg(C.Structure): _fields_ = [("c", C.c_char), ("g", C.c_longdouble)]

STRUCTS = [S_cs, S_ii, S_ff, S_dd, S_id, S_fii, S_big, S_c3, S_f3, S_nested, S_cg]


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda c: c.__name__)
def test_struct_layout_matches_c(cls, sym, ffi):
    t = ffi.ffi_of(cls)
    layout = sym("layout_" + cls.__name__)
    size, align, first, last = (ffi.value(layout, "L", "i", k) for k in range(4))
    assert (t.size, t.alignment) == (size, align)
    # offsets of the first and last field's first element
    elements_before_last = len(ffi.struct_elements(cls)) - _count(cls._fields_[-1][1])
    assert t.offsets[0] == first
    assert t.offsets[elements_before_last] == last


def _count(ftype):
    n = 1
    while issubclass(ftype, C.Array):
        n *= ftype._length_
        ftype = ftype._type_
    return n
