"""_rawffi access: load/store of every type code, byte-swapped forms, bitfields, raw memory."""
import ctypes
import gc
import random
import struct
import sys

import pytest

from pyctypes import _rawffi

import cbuild

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"

INT_CODES = "bBhHiIlLqQ"
ALL_CODES = "bBhHiIlLqQfdg?cuzZPO"

# The stdlib ctypes type of each code (the oracle for size and alignment).
CTYPES = {
    "b": ctypes.c_byte, "B": ctypes.c_ubyte, "h": ctypes.c_short, "H": ctypes.c_ushort,
    "i": ctypes.c_int, "I": ctypes.c_uint, "l": ctypes.c_long, "L": ctypes.c_ulong,
    "q": ctypes.c_longlong, "Q": ctypes.c_ulonglong, "f": ctypes.c_float, "d": ctypes.c_double,
    "g": ctypes.c_longdouble, "?": ctypes.c_bool, "c": ctypes.c_char, "u": ctypes.c_wchar,
    "z": ctypes.c_char_p, "Z": ctypes.c_wchar_p, "P": ctypes.c_void_p, "O": ctypes.py_object,
}


class Buf(_rawffi.CData):
    _rawffi_size_ = 64


class BigBuf(_rawffi.CData):
    _rawffi_size_ = 256


@pytest.fixture
def buf():
    b = Buf()
    return b, b._b_address_


def struct_letter(code):
    """A struct letter of standard size equal to the C size of an integer code."""
    size = ctypes.sizeof(CTYPES[code])
    letter = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
    return letter.upper() if code.isupper() else letter


def int_range(code):
    bits = 8 * ctypes.sizeof(CTYPES[code])
    if code.isupper():
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize("code", ALL_CODES)
def test_sizeof_alignof_code(code):
    assert _rawffi.sizeof_code(code) == ctypes.sizeof(CTYPES[code])
    assert _rawffi.alignof_code(code) == ctypes.alignment(CTYPES[code])


@pytest.mark.parametrize("bad", ["x", "v", "", "ii", "\u20ac"])
@pytest.mark.parametrize("fn", [_rawffi.sizeof_code, _rawffi.alignof_code,
                                lambda c: _rawffi.load(c, 0), lambda c: _rawffi.store(c, 0, 1)])
def test_unknown_code(fn, bad):
    with pytest.raises(ValueError, match="unknown type code " + repr(bad).replace("(", r"\(")):
        fn(bad)


@pytest.mark.parametrize("bad", [b"i", 105, None])
def test_code_not_str(bad):
    with pytest.raises(TypeError, match="type code must be a str"):
        _rawffi.sizeof_code(bad)
    with pytest.raises(TypeError, match="type code must be a str"):
        _rawffi.load(bad, 0)


# ---------------------------------------------------------------- integers


@pytest.mark.parametrize("code", INT_CODES)
@pytest.mark.parametrize("swapped", [False, True])
def test_int_round_trip_unaligned(buf, code, swapped):
    b, a = buf
    lo, hi = int_range(code)
    fmt = (SWAPPED if swapped else NATIVE) + struct_letter(code)
    size = struct.calcsize(fmt)
    rng = random.Random(code)
    values = [lo, hi, 0, 1, -1 if lo < 0 else hi - 1] + [rng.randint(lo, hi) for _ in range(20)]
    for offset in range(9):
        for v in values:
            _rawffi.memset(a, 0xAA, 64)
            assert _rawffi.store(code, a + offset, v, swapped) is None
            assert _rawffi.read(a + offset, size) == struct.pack(fmt, v)
            # neighbours untouched
            assert _rawffi.read(a, offset) == b"\xaa" * offset
            assert _rawffi.read(a + offset + size, 4) == b"\xaa" * 4
            got = _rawffi.load(code, a + offset, swapped)
            assert type(got) is int and got == v
            # and the other way round: bytes written by struct, read by load
            _rawffi.write(a + offset, struct.pack(fmt, v))
            assert _rawffi.load(code, a + offset, swapped=swapped) == v


@pytest.mark.parametrize("code", INT_CODES)
def test_int_wraps_silently(buf, code):
    _, a = buf
    lo, hi = int_range(code)
    span = hi - lo + 1
    for v in [hi + 1, lo - 1, hi + 5 * span, lo - 3 * span + 7, 2**200 + 3, -(2**200) - 3]:
        _rawffi.store(code, a + 3, v)
        assert _rawffi.load(code, a + 3) == (v - lo) % span + lo


class Idx:
    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


@pytest.mark.parametrize("code", INT_CODES)
def test_int_accepts_index_and_bool(buf, code):
    _, a = buf
    _rawffi.store(code, a, Idx(42))
    assert _rawffi.load(code, a) == 42
    _rawffi.store(code, a, True)
    assert _rawffi.load(code, a) == 1


@pytest.mark.parametrize("code", INT_CODES)
@pytest.mark.parametrize("bad, message", [
    (1.5, "'float' object cannot be interpreted as an integer"),
    (2.0, "'float' object cannot be interpreted as an integer"),
    ("3", "'str' object cannot be interpreted as an integer"),
    (None, "'NoneType' object cannot be interpreted as an integer"),
])
def test_int_rejects_non_integers(buf, code, bad, message):
    _, a = buf
    _rawffi.store(code, a, 7)
    with pytest.raises(TypeError) as e:
        _rawffi.store(code, a, bad)
    assert str(e.value) == message
    assert _rawffi.load(code, a) == 7  # unchanged


def test_int_errors_match_stdlib_ctypes():
    for bad in [1.5, "3", None]:
        with pytest.raises(TypeError) as ours:
            _rawffi.store("i", Buf()._b_address_, bad)
        with pytest.raises(TypeError) as theirs:
            ctypes.c_int(bad)
        assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- floats


@pytest.mark.parametrize("code", "fd")
@pytest.mark.parametrize("swapped", [False, True])
def test_float_round_trip_unaligned(buf, code, swapped):
    _, a = buf
    fmt = (SWAPPED if swapped else NATIVE) + code
    size = struct.calcsize(fmt)
    values = [0.0, -0.0, 1.5, -2.25, 1e-30, 3.0e38, float("inf"), float("-inf"), 1 / 3]
    if code == "d":
        values += [1e300, 5e-324, sys.float_info.max]
    for offset in range(9):
        for v in values:
            _rawffi.store(code, a + offset, v, swapped)
            assert _rawffi.read(a + offset, size) == struct.pack(fmt, v)
            got = _rawffi.load(code, a + offset, swapped)
            assert type(got) is float
            assert struct.pack(fmt, got) == struct.pack(fmt, v)
        _rawffi.store(code, a + offset, float("nan"), swapped)
        got = _rawffi.load(code, a + offset, swapped)
        assert got != got


def test_float_overflow_is_inf_like_ctypes(buf):
    _, a = buf
    for v in [1e300, -1e300, 3.4028235e38 * 1.0000001]:
        _rawffi.store("f", a + 1, v)
        assert _rawffi.load("f", a + 1) == ctypes.c_float(v).value


class Flt:
    def __float__(self):
        return 2.5


@pytest.mark.parametrize("code", "fdg")
def test_float_conversions(buf, code):
    _, a = buf
    for v, expected in [(10, 10.0), (Idx(3), 3.0), (Flt(), 2.5), (True, 1.0)]:
        assert _rawffi.store(code, a + 1, v) is None
        assert _rawffi.load(code, a + 1) == expected
    for bad in ["x", None, b"1"]:
        with pytest.raises(TypeError) as e:
            _rawffi.store(code, a + 1, bad)
        assert str(e.value) == f"must be real number, not {type(bad).__name__}"
    assert _rawffi.load(code, a + 1) == 1.0


def test_long_double_against_ctypes(buf):
    _, a = buf
    for offset in (0, 1, 3, 16):
        for v in [0.0, 1.0, -1.5, 1e300, 1 / 3, float("inf"), 2.0**-1070]:
            _rawffi.store("g", a + offset, v)
            assert _rawffi.load("g", a + offset) == v
            if offset % 16 == 0:
                assert ctypes.c_longdouble.from_address(a + offset).value == v
        if offset % 16 == 0:
            ctypes.c_longdouble.from_address(a + offset).value = 2.0 / 3
            assert _rawffi.load("g", a + offset) == 2.0 / 3


# ---------------------------------------------------------------- bool, char, wchar


def test_bool(buf):
    _, a = buf
    for v, expected in [(0, False), (1, True), (2, True), ("", False), ("x", True), (None, False),
                        ([], False), ([0], True), (0.0, False)]:
        _rawffi.memset(a, 0x55, 3)
        assert _rawffi.store("?", a + 1, v) is None
        assert _rawffi.read(a, 3) == b"\x55" + bytes([expected]) + b"\x55"
        assert _rawffi.load("?", a + 1) is expected
    _rawffi.write(a, b"\x02")
    assert _rawffi.load("?", a) is True
    assert _rawffi.load("?", a, True) is True  # 1 byte: swapping is the identity


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError


def test_bool_error_propagates(buf):
    with pytest.raises(ZeroDivisionError):
        _rawffi.store("?", buf[1], BadBool())


@pytest.mark.parametrize("swapped", [False, True])
def test_char(buf, swapped):
    _, a = buf
    for v, byte in [(b"x", b"x"), (bytearray(b"\xff"), b"\xff"), (0, b"\0"), (255, b"\xff"),
                    (65, b"A"), (True, b"\x01")]:
        assert _rawffi.store("c", a + 5, v, swapped) is None
        assert _rawffi.read(a + 5, 1) == byte
        got = _rawffi.load("c", a + 5, swapped)
        assert type(got) is bytes and got == byte
    for bad in [b"ab", b"", bytearray(), 256, -1, 2**70, "a", 1.0, None, memoryview(b"a")]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("c", a + 5, bad)
        assert str(e.value) == "one character bytes, bytearray or integer expected"
    assert _rawffi.read(a + 5, 1) == b"\x01"  # unchanged by the failed stores


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_wchar(buf, offset):
    _, a = buf
    for ch in ["a", "\xe9", "\u20ac", "\U0001f600", "\0", "\ud800"]:
        assert _rawffi.store("u", a + offset, ch) is None
        assert _rawffi.load("u", a + offset) == ch
        if ch != "\ud800":
            assert _rawffi.read(a + offset, 4) == ch.encode("utf-32-le" if NATIVE == "<" else "utf-32-be")
    for bad in ["", "ab"]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("u", a + offset, bad)
        assert str(e.value) == "one character unicode string expected"
    for bad in [b"a", 97, None]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("u", a + offset, bad)
        assert str(e.value) == f"unicode string expected instead of {type(bad).__name__} instance"


def test_wchar_out_of_range_load(buf):
    _, a = buf
    _rawffi.store("I", a, 0x110000)
    with pytest.raises(ValueError):
        _rawffi.load("u", a)


# ---------------------------------------------------------------- pointers


def test_char_p(buf):
    _, a = buf
    data = b"hello\0world"
    keep = _rawffi.store("z", a + 3, data)
    assert keep is data
    addr = _rawffi.load("P", a + 3)
    assert addr == _rawffi.buffer_address(data)
    assert _rawffi.load("z", a + 3) == b"hello"
    assert _rawffi.store("z", a + 3, None) is None
    assert _rawffi.load("z", a + 3) is None
    assert _rawffi.load("P", a + 3) is None
    assert _rawffi.store("z", a + 3, addr) is None
    assert _rawffi.load("z", a + 3) == b"hello"
    assert _rawffi.store("z", a + 3, -1) is None
    assert _rawffi.load("P", a + 3) == 2**64 - 1
    assert _rawffi.store("z", a + 3, 2**64 + 5) is None
    assert _rawffi.load("P", a + 3) == 5
    for bad in ["x", 1.0, bytearray(b"x"), memoryview(b"x")]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("z", a + 3, bad)
        assert str(e.value) == f"bytes or integer address expected instead of {type(bad).__name__} instance"


def test_wchar_p(buf):
    _, a = buf
    text = "h\xe9llo \U0001f600"
    keep = _rawffi.store("Z", a + 1, text)
    assert type(keep) is bytes
    n = _rawffi.wchar_count(text)
    assert n == len(text)
    assert len(keep) == (n + 1) * _rawffi.sizeof_code("u")
    assert _rawffi.load("P", a + 1) == _rawffi.buffer_address(keep)
    assert _rawffi.load("Z", a + 1) == text
    assert _rawffi.read_wchars(_rawffi.load("P", a + 1), n + 1) == text + "\0"
    # the keep-alive owns the string: it stays valid while keep lives
    del text
    gc.collect()
    assert _rawffi.load("Z", a + 1) == "h\xe9llo \U0001f600"
    empty = _rawffi.store("Z", a + 1, "")      # the keep-alive of "": kept while it is read
    assert empty is not None
    assert _rawffi.load("Z", a + 1) == ""
    del empty
    assert _rawffi.store("Z", a + 1, None) is None
    assert _rawffi.load("Z", a + 1) is None
    addr = _rawffi.buffer_address(keep)
    assert _rawffi.store("Z", a + 1, addr) is None
    assert _rawffi.load("Z", a + 1) == "h\xe9llo \U0001f600"
    for bad in [b"x", 1.0, object()]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("Z", a + 1, bad)
        assert str(e.value) == (
            f"unicode string or integer address expected instead of {type(bad).__name__} instance")


def test_embedded_nul_in_wchar_p(buf):
    _, a = buf
    keep = _rawffi.store("Z", a, "ab\0cd")
    assert keep is not None
    assert _rawffi.load("Z", a) == "ab"


def test_void_p(buf):
    _, a = buf
    for offset in range(9):
        for v, expected in [(0, None), (None, None), (1, 1), (2**64 - 1, 2**64 - 1), (-1, 2**64 - 1),
                            (2**64, None), (2**64 + 7, 7), (0x1234_5678_9ABC, 0x1234_5678_9ABC)]:
            assert _rawffi.store("P", a + offset, v) is None
            assert _rawffi.load("P", a + offset) == expected
            assert _rawffi.load("Q", a + offset) == (expected or 0)
    for bad in [1.0, "x", b"x", Idx(3)]:
        with pytest.raises(TypeError) as e:
            _rawffi.store("P", a, bad)
        assert str(e.value) == "cannot be converted to pointer"


def test_py_object_refcounts(buf):
    _, a = buf
    obj = object()
    other = ["other"]
    base = sys.getrefcount(obj)
    base_other = sys.getrefcount(other)
    keep = _rawffi.store("O", a + 3, obj)
    assert keep is obj
    assert sys.getrefcount(obj) == base + 1  # only `keep`
    del keep
    assert sys.getrefcount(obj) == base  # the memory holds no reference
    got = _rawffi.load("O", a + 3)
    assert got is obj
    assert sys.getrefcount(obj) == base + 1  # load returned a new reference
    del got
    assert sys.getrefcount(obj) == base
    # overwrite: no decref of the old one, no incref of the new one
    for _ in range(100):
        _rawffi.store("O", a + 3, other)
        _rawffi.store("O", a + 3, obj)
    assert sys.getrefcount(obj) == base
    assert sys.getrefcount(other) == base_other
    assert _rawffi.load("Q", a + 3) == id(obj)


def test_py_object_null(buf):
    _, a = buf
    with pytest.raises(ValueError) as e:
        _rawffi.load("O", a + 1)
    assert str(e.value) == "PyObject is NULL"


@pytest.mark.parametrize("code", "guzZPO")
def test_no_swapped_form(buf, code):
    _, a = buf
    with pytest.raises(ValueError) as e:
        _rawffi.load(code, a, True)
    assert str(e.value) == f"type code '{code}' has no byte-swapped form"
    with pytest.raises(ValueError):
        _rawffi.store(code, a, None, swapped=True)
    assert not hasattr(ctypes.c_longdouble, "__ctype_be__")  # as CPython 3.11


@pytest.mark.parametrize("code", "bB?c")
def test_one_byte_codes_swap_is_identity(buf, code):
    _, a = buf
    _rawffi.write(a, b"\x01")
    assert _rawffi.load(code, a, True) == _rawffi.load(code, a, False)


def test_store_returns_none_for_plain_values(buf):
    _, a = buf
    for code, v in [("i", 1), ("d", 1.0), ("g", 1.0), ("?", 1), ("c", b"x"), ("u", "x"), ("P", 5)]:
        assert _rawffi.store(code, a, v) is None


def test_argument_errors(buf):
    _, a = buf
    with pytest.raises(TypeError):
        _rawffi.load("i")
    with pytest.raises(TypeError):
        _rawffi.store("i", a)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        _rawffi.load("i", a, bogus=1)
    with pytest.raises(TypeError, match="multiple values for argument 'swapped'"):
        _rawffi.load("i", a, False, swapped=True)
    with pytest.raises(TypeError, match="at most 3 arguments"):
        _rawffi.load("i", a, False, 1)
    with pytest.raises(TypeError):
        _rawffi.load("i", 1.0)
    with pytest.raises(TypeError):
        _rawffi.load("i", "0")
    assert _rawffi.load(code="i", address=a, swapped=False) == 0
    assert _rawffi.load("i", Idx(a)) == 0


# ---------------------------------------------------------------- bitfields


def ref_load_bits(unit, code, offset, width):
    v = (unit >> offset) & ((1 << width) - 1)
    if code == "?":
        return bool(v)
    if code.islower() and v >> (width - 1):
        v -= 1 << width
    return v


BIT_CODES = INT_CODES + "?"


@pytest.mark.parametrize("code", BIT_CODES)
@pytest.mark.parametrize("swapped", [False, True])
def test_bitfields_against_python_reference(buf, code, swapped):
    _, a = buf
    size = _rawffi.sizeof_code(code)
    nbits = 8 * size
    order = "big" if (sys.byteorder == "little") == swapped else "little"
    rng = random.Random(f"{code}{swapped}")
    addr = a + 3  # unaligned storage unit
    for offset in range(nbits):
        for width in range(1, nbits - offset + 1):
            if code == "?" and width > 1:
                continue
            unit = rng.getrandbits(nbits)
            raw = unit.to_bytes(size, order)
            _rawffi.write(addr, raw)
            got = _rawffi.load_bits(code, addr, offset, width, swapped)
            assert got == ref_load_bits(unit, code, offset, width)
            assert type(got) is (bool if code == "?" else int)
            # store: only the field's bits change
            value = rng.getrandbits(width + 3) - (1 << (width + 2))  # also out of range: truncated
            if code == "?":
                value = rng.choice([0, 1, 2, True, False, "", "x"])
            _rawffi.store_bits(code, addr, value, offset, width, swapped)
            new = int.from_bytes(_rawffi.read(addr, size), order)
            mask = ((1 << width) - 1) << offset
            field = (1 if value else 0) if code == "?" else value & ((1 << width) - 1)
            assert new == (unit & ~mask) | (field << offset)


@pytest.mark.parametrize("code", BIT_CODES)
def test_bitfield_range_errors(buf, code):
    _, a = buf
    nbits = 8 * _rawffi.sizeof_code(code)
    for offset, width in [(0, 0), (-1, 1), (0, nbits + 1), (nbits, 1), (nbits - 1, 2), (1, nbits)]:
        with pytest.raises(ValueError) as e:
            _rawffi.load_bits(code, a, offset, width)
        assert str(e.value) == (
            f"bit field of offset {offset} and width {width} does not fit in type code '{code}'")
        with pytest.raises(ValueError):
            _rawffi.store_bits(code, a, 0, offset, width)


@pytest.mark.parametrize("code", "fdgcuzZPO")
def test_bitfield_needs_integer_code(buf, code):
    with pytest.raises(ValueError) as e:
        _rawffi.load_bits(code, buf[1], 0, 1)
    assert str(e.value) == f"bit fields need an integer type code, not '{code}'"


def test_bitfield_store_value_errors(buf):
    _, a = buf
    _rawffi.store("i", a, 0x12345678)
    for bad in [1.5, "1", None]:
        with pytest.raises(TypeError):
            _rawffi.store_bits("i", a, bad, 4, 8)
    assert _rawffi.load("i", a) == 0x12345678
    _rawffi.store_bits("i", a, Idx(0xAB), 4, 8)
    assert _rawffi.load("i", a) == 0x12345AB8


# Bitfields as the C compiler lays them out: gcc writes, load_bits reads, and back.
C_FIELDS = [
    ("signed char", "b", 3), ("unsigned char", "B", 5), ("short", "h", 9), ("unsigned short", "H", 7),
    ("int", "i", 1), ("int", "i", 17), ("unsigned int", "I", 13), ("unsigned int", "I", 32),
    ("long", "l", 33), ("unsigned long", "L", 41), ("long long", "q", 63), ("long long", "q", 5),
    ("unsigned long long", "Q", 64), ("unsigned long long", "Q", 11), ("_Bool", "?", 1),
    ("signed char", "b", 8), ("short", "h", 2), ("int", "i", 31), ("unsigned char", "B", 1),
    ("long long", "q", 40), ("_Bool", "?", 1), ("short", "h", 16),
]


def c_source(big_endian):
    attr = '__attribute__((scalar_storage_order("big-endian")))' if big_endian else ""
    fields = "\n".join(f"    {ctype} f{i}: {w};" for i, (ctype, _, w) in enumerate(C_FIELDS))
    sets = "\n".join(f"    case {i}: s->f{i} = v; break;" for i in range(len(C_FIELDS)))
    gets = "\n".join(f"    case {i}: return s->f{i};" for i in range(len(C_FIELDS)))
    return f"""
struct {attr} S {{
{fields}
}};
int size(void) {{ return sizeof(struct S); }}
void set(struct S *s, int i, long long v) {{
    switch (i) {{
{sets}
    }}
}}
long long get(struct S *s, int i) {{
    switch (i) {{
{gets}
    }}
    return 0;
}}
"""


@pytest.fixture(scope="module")
def c_bitfields():
    libs = {}
    for big in (False, True):
        lib = ctypes.CDLL(cbuild.shared_library(c_source(big), "bf", flags=["-O1"]))
        lib.set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong]
        lib.get.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.get.restype = ctypes.c_longlong
        libs[big] = lib
    return libs


def c_layout(lib, size, i, swapped):
    """(unit byte offset, bit offset, width) of field i, found by setting it to all ones in C."""
    b = BigBuf()
    a = b._b_address_
    lib.set(a, i, -1)
    code = C_FIELDS[i][1]
    usize = _rawffi.sizeof_code(code)
    raw = _rawffi.read(a, size)
    for unit in range(0, size, usize):
        bits = int.from_bytes(raw[unit:unit + usize], "big" if swapped != (sys.byteorder == "big") else "little")
        if bits:
            offset = (bits & -bits).bit_length() - 1
            width = bits.bit_length() - offset
            assert bits >> offset == (1 << width) - 1
            assert raw[:unit].count(0) == unit and raw[unit + usize:].count(0) == size - unit - usize
            return unit, offset, width
    raise AssertionError("field not found")


@pytest.mark.parametrize("swapped", [False, True])
def test_bitfields_against_c(c_bitfields, swapped):
    lib = c_bitfields[swapped]
    size = lib.size()
    assert size <= 256
    rng = random.Random(1)
    for i, (_, code, w) in enumerate(C_FIELDS):
        unit, offset, width = c_layout(lib, size, i, swapped)
        assert width == w
        signed = code.islower()
        for _ in range(50):
            b = BigBuf()
            a = b._b_address_
            _rawffi.write(a, bytes(rng.getrandbits(8) for _ in range(size)))
            if code == "?":
                v = rng.randint(0, 1)
            elif signed:
                v = rng.randint(-(1 << (w - 1)), (1 << (w - 1)) - 1)
            else:
                v = rng.randint(0, (1 << w) - 1)
            lib.set(a, i, v)
            assert _rawffi.load_bits(code, a + unit, offset, width, swapped) == v
            before = _rawffi.read(a, size)
            v2 = rng.getrandbits(w) if code != "?" else rng.randint(0, 1)
            _rawffi.store_bits(code, a + unit, v2, offset, width, swapped)
            expected = v2 if not signed or v2 < (1 << (w - 1)) else v2 - (1 << w)
            assert lib.get(a, i) % 2**64 == expected % 2**64  # get() returns long long
            # writing back the old value through C restores every byte
            lib.set(a, i, v)
            assert _rawffi.read(a, size) == before


# ---------------------------------------------------------------- raw memory


def test_read_write(buf):
    _, a = buf
    _rawffi.write(a + 1, b"abc")
    _rawffi.write(a + 4, bytearray(b"de"))
    _rawffi.write(a + 6, memoryview(b"0123456789")[::3])  # non-contiguous source
    _rawffi.write(a + 10, b"")
    assert _rawffi.read(a, 12) == b"\0abcde0369\0\0"
    assert _rawffi.read(a, 0) == b""
    with pytest.raises(ValueError, match="size must not be negative"):
        _rawffi.read(a, -1)
    with pytest.raises(TypeError):
        _rawffi.write(a, "str")
    with pytest.raises(TypeError):
        _rawffi.write(a, 5)


def test_memmove_memset(buf):
    _, a = buf
    _rawffi.write(a, b"0123456789")
    _rawffi.memmove(a + 2, a, 6)  # overlapping
    assert _rawffi.read(a, 10) == b"0101234589"
    _rawffi.memset(a + 1, ord("x"), 3)
    assert _rawffi.read(a, 10) == b"0xxx234589"
    _rawffi.memset(a, 0x141, 1)  # the byte is masked to 8 bits
    assert _rawffi.read(a, 2) == b"Ax"
    _rawffi.memset(a, -1, 1)
    assert _rawffi.read(a, 1) == b"\xff"
    _rawffi.memmove(a, a + 1, 0)
    # zero sizes never touch memory, not even at NULL
    _rawffi.memmove(0, 0, 0)
    _rawffi.memset(0, 0, 0)
    assert _rawffi.read(0, 0) == b""
    assert _rawffi.read_wchars(0, 0) == ""
    _rawffi.write_wchars(0, "abc", 0)
    _rawffi.write(0, b"")
    with pytest.raises(ValueError):
        _rawffi.memmove(a, a, -1)
    with pytest.raises(ValueError):
        _rawffi.memset(a, 0, -1)


def test_strlen_wcslen(buf):
    _, a = buf
    _rawffi.write(a + 1, b"hello\0")
    assert _rawffi.strlen(a + 1) == 5
    assert _rawffi.strlen(a + 6) == 0
    for offset in (0, 1, 2, 3):
        _rawffi.memset(a, 0, 64)
        _rawffi.write_wchars(a + offset, "w\xe9\U0001f600ide", 10)
        assert _rawffi.wcslen(a + offset) == 6
        assert _rawffi.read_wchars(a + offset, 6) == "w\xe9\U0001f600ide"


def test_read_write_wchars(buf):
    _, a = buf
    _rawffi.memset(a, 0xFF, 64)
    _rawffi.write_wchars(a + 1, "abc", 10)  # no terminator appended
    assert _rawffi.read(a + 1, 16) == "abc".encode("utf-32-le") + b"\xff" * 4
    _rawffi.write_wchars(a + 1, "xyz", 2)  # at most count
    assert _rawffi.read_wchars(a + 1, 3) == "xyc"
    assert _rawffi.read_wchars(a + 1, 0) == ""
    _rawffi.write_wchars(a + 1, "", 5)
    assert _rawffi.read_wchars(a + 1, 2) == "xy"
    with pytest.raises(ValueError):
        _rawffi.read_wchars(a, -1)
    with pytest.raises(ValueError):
        _rawffi.write_wchars(a, "x", -1)
    with pytest.raises(TypeError):
        _rawffi.write_wchars(a, b"x", 1)


def test_wchar_count():
    assert _rawffi.wchar_count("") == 0
    assert _rawffi.wchar_count("abc\U0001f600") == 4 if _rawffi.sizeof_code("u") == 4 else 5
    with pytest.raises(TypeError):
        _rawffi.wchar_count(b"abc")
