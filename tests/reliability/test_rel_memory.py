"""Raw memory functions under bad sizes, offsets and types, side by side with
CPython's _ctypes: from_buffer, from_buffer_copy, from_address, cast, resize,
memmove, memset, string_at, wstring_at, byref with an offset.  Sizes are kept
within the memory the test owns where CPython itself would not check them
(a memmove of too many bytes is a crash on both: the test does not ask)."""

import array
import mmap

from hypothesis import given, strategies as st

from reldiff import check, guarded, rel_settings
from relvalues import Index, boundary_ints, build, value_specs

TARGETS = ["c_int", "c_char", "c_double", "c_byte_4", "c_int_0", "struct", "c_char_p",
           "c_int_big"]


def target_type(name, ct):
    table = {
        "c_byte_4": lambda: ct.c_byte * 4,
        "c_int_0": lambda: ct.c_int * 0,
        "c_int_big": lambda: ct.c_int * (2 ** 60),
        "struct": lambda: type("S", (ct.Structure,), {"_fields_": [("a", ct.c_short),
                                                                   ("b", ct.c_int)]}),
    }
    return table[name]() if name in table else getattr(ct, name)


SOURCES = st.one_of(
    st.tuples(st.just("bytearray"), st.integers(0, 12)),
    st.tuples(st.just("bytes"), st.integers(0, 12)),
    st.tuples(st.just("memoryview_ro"), st.integers(0, 12)),
    st.tuples(st.just("memoryview_strided"), st.integers(0, 12)),
    st.tuples(st.just("memoryview_cast"), st.sampled_from(["i", "d", "B"])),
    st.tuples(st.just("array"), st.sampled_from(["b", "i", "d"])),
    st.tuples(st.just("cdata"), st.sampled_from(["c_int", "c_double", "c_char_p"])),
    st.tuples(st.just("cbuffer"), st.integers(0, 12)),
    st.tuples(st.just("mmap"), st.integers(1, 12)),
    st.tuples(st.just("other"), value_specs()),
)


def make_source(spec, ct):
    kind, arg = spec
    pattern = bytes((i * 5 + 3) % 256 for i in range(16))
    if kind == "bytearray":
        return bytearray(pattern[:arg])
    if kind == "bytes":
        return pattern[:arg]
    if kind == "memoryview_ro":
        return memoryview(pattern[:arg])
    if kind == "memoryview_strided":
        return memoryview(bytearray(pattern[:arg]))[::2]
    if kind == "memoryview_cast":
        return memoryview(bytearray(16)).cast(arg)
    if kind == "array":
        return array.array(arg, [1, 2, 3])
    if kind == "cdata":
        return getattr(ct, arg)()
    if kind == "cbuffer":
        return ct.create_string_buffer(pattern[:arg], arg)
    if kind == "mmap":
        m = mmap.mmap(-1, arg)
        m.write(pattern[:arg])
        return m
    return build(arg, ct)


def view_of(obj, ct):
    """Bytes of a view; a view of an address-holding type by its type only."""
    if type(obj).__name__ == "c_char_p" or ct.sizeof(obj) > 64:
        return type(obj).__name__, ct.sizeof(obj)
    return type(obj).__name__, bytes(obj)


OFFSETS = st.one_of(st.integers(-3, 16), boundary_ints(),
                    st.sampled_from([("index", 2), ("index", -1), ("other", "1"),
                                     ("other", 1.0), ("other", None)]))


def make_offset(spec):
    if isinstance(spec, tuple):
        return Index(spec[1]) if spec[0] == "index" else spec[1]
    return spec


@guarded
@rel_settings()
@given(target=st.sampled_from(TARGETS), source=SOURCES,
       offset=st.one_of(st.none(), OFFSETS), copy=st.booleans())
def test_from_buffer(target, source, offset, copy):
    def op(ct):
        cls = target_type(target, ct)
        src = make_source(source, ct)
        args = (src,) if offset is None else (src, make_offset(offset))
        obj = (cls.from_buffer_copy if copy else cls.from_buffer)(*args)
        if source[0] == "other":            # a ctypes object may hold an address
            return type(obj).__name__, ct.sizeof(obj)
        out = [view_of(obj, ct)]
        if not copy and ct.sizeof(obj) and type(obj).__name__ != "c_char_p" \
                and ct.sizeof(obj) <= 64:
            ct.memset(obj, 0x5A, ct.sizeof(obj))        # the view writes into its source
            out.append(bytes(memoryview(src).cast("B")) if not isinstance(src, mmap.mmap)
                       else src[:])
        return out
    check(op)


@guarded
@rel_settings()
@given(target=st.sampled_from(TARGETS), address=st.one_of(
    st.integers(0, 12), st.sampled_from([("other", "1"), ("other", 1.5), ("other", None),
                                         ("other", b"\x00"), ("index", 4)])))
def test_from_address(target, address):
    """Valid addresses inside a buffer of the test, or values of wrong types."""
    def op(ct):
        cls = target_type(target, ct)
        buf = ct.create_string_buffer(bytes(range(1, 65)), 64)
        if isinstance(address, int):
            if ct.sizeof(cls) + address > 64:
                return "beyond the buffer"
            obj = cls.from_address(ct.addressof(buf) + address)
        elif address[0] == "index":
            obj = cls.from_address(Index(ct.addressof(buf) + address[1]))
        else:
            obj = cls.from_address(address[1])
        return view_of(obj, ct)
    check(op)


CAST_TYPES = st.one_of(
    st.sampled_from(["c_void_p", "c_char_p", "c_wchar_p", "LP_c_int", "LP_struct", "c_int",
                     "c_int_4", "cfunc", "c_size_t", "py_object"]),
    st.tuples(st.just("other"), value_specs()))


def cast_type(spec, ct):
    if isinstance(spec, tuple):
        return build(spec[1], ct)
    table = {
        "LP_c_int": lambda: ct.POINTER(ct.c_int),
        "LP_struct": lambda: ct.POINTER(target_type("struct", ct)),
        "c_int_4": lambda: ct.c_int * 4,
        "cfunc": lambda: ct.CFUNCTYPE(ct.c_int),
    }
    return table[spec]() if spec in table else getattr(ct, spec)


@guarded
@rel_settings()
@given(obj=st.one_of(value_specs(), st.tuples(st.just("address"), st.integers(0, 2 ** 64))),
       typ=CAST_TYPES)
def test_cast(obj, typ):
    """cast(obj, typ): what is accepted and refused; the result's type, and
    its address where the test knows it (an integer given)."""
    def op(ct):
        value = obj[1] if obj[0] == "address" else build(obj, ct)
        result = ct.cast(value, cast_type(typ, ct))
        address = ct.cast(ct.pointer(result), ct.POINTER(ct.c_void_p))[0]
        return type(result).__name__, address if obj[0] in ("address", "int", "bool") else None
    check(op)


@guarded
@rel_settings()
@given(target=st.sampled_from(["c_int", "c_byte_4", "struct", "c_int_0", "c_char_p"]),
       size=st.one_of(st.integers(-4, 40), boundary_ints(),
                      st.sampled_from([("index", 16), ("other", "8"), ("other", 8.0)])),
       target_is=st.sampled_from(["instance", "view", "type", "other"]))
def test_resize(target, size, target_is):
    def op(ct):
        cls = target_type(target, ct)
        if target_is == "type":
            obj = cls
        elif target_is == "view":
            outer = (cls * 2)()
            obj = outer[0]
        elif target_is == "other":
            obj = bytearray(8)
        else:
            obj = cls()
        n = make_offset(size)
        if isinstance(n, int) and n > 1 << 20:
            # a too-large size is a MemoryError on one machine and a success on
            # another: only the type checks before the allocation are compared
            return "too large to ask"
        ct.resize(obj, n)
        return ct.sizeof(obj), len(bytes(memoryview(obj).cast("B"))), \
            bytes(memoryview(obj).cast("B")) if target != "c_char_p" else None
    check(op)


def pointer_arg(spec, ct, buf):
    """A memmove/memset/string_at argument: the test's buffer in one of the
    forms ctypes accepts, or a hostile value (never a bare integer, which
    would be an address)."""
    kind = spec[0]
    forms = {
        "buffer": lambda: buf,
        "byref": lambda: ct.byref(buf),
        "byref_offset": lambda: ct.byref(buf, spec[1] % 8),
        "address": lambda: ct.addressof(buf),
        "void_p": lambda: ct.c_void_p(ct.addressof(buf)),
        "char_p": lambda: ct.cast(buf, ct.c_char_p),
        "pointer": lambda: ct.pointer(buf),
    }
    if kind in forms:
        return forms[kind]()
    value = build(spec, ct)
    if isinstance(value, int) and value != 0:
        return "integer address"
    return value


def is_null(value, ct):
    try:
        return not ct.cast(value, ct.c_void_p).value
    except Exception:                       # noqa: BLE001 - not a pointer: refused later
        return False


FORMS = ("buffer", "byref", "byref_offset", "address", "void_p", "char_p", "pointer")
POINTER_ARGS = st.one_of(
    st.sampled_from([("buffer",), ("byref",), ("address",), ("void_p",), ("char_p",),
                     ("pointer",)]),
    st.tuples(st.just("byref_offset"), st.integers(0, 7)),
    value_specs())


@guarded
@rel_settings()
@given(dst=POINTER_ARGS, src=POINTER_ARGS,
       count=st.one_of(st.integers(0, 8), st.sampled_from([("index", 3), ("other", "3"),
                                                           ("other", 2.0), ("other", None)])))
def test_memmove_memset(dst, src, count):
    def op(ct):
        dbuf = ct.create_string_buffer(b"destination.....", 16)
        sbuf = ct.create_string_buffer(b"SOURCE-BYTES!!!!", 16)
        d, s = pointer_arg(dst, ct, dbuf), pointer_arg(src, ct, sbuf)
        if "integer address" in (d, s):
            return "an integer address"
        n = make_offset(count)
        if isinstance(n, (int, Index)) and not (dst[0] in FORMS and src[0] in FORMS):
            n = 0                   # never read or write a Python object's memory
        results = []
        ct.memmove(d, s, n)
        results.append(bytes(dbuf))
        ct.memset(d, 0x41 if isinstance(s, (bytes, ct.Array)) else 0x42, n)
        results.append(bytes(dbuf))
        return results
    check(op)


@guarded
@rel_settings()
@given(addr=POINTER_ARGS, size=st.one_of(st.integers(-1, 16), st.sampled_from(
    [("index", 3), ("other", "3"), ("other", 2.0), ("other", None), ("default", None)])),
       wide=st.booleans())
def test_string_at(addr, size, wide):
    def op(ct):
        buf = ct.create_unicode_buffer("wide text", 16) if wide else \
            ct.create_string_buffer(b"narrow text", 16)
        a = pointer_arg(addr, ct, buf)
        if a == "integer address":
            return a
        if a is None or a == 0 or is_null(a, ct):
            # CPython gives uninitialised bytes or crashes, pyctypes raises
            # ValueError: test_rel_findings.py, D1
            return "NULL"
        func = ct.wstring_at if wide else ct.string_at
        default = isinstance(size, tuple) and size[0] == "default"
        n = -1 if default else make_offset(size)
        if isinstance(n, Index):
            n = Index(min(n.value, 4) if addr[0] in FORMS else 0)
        if isinstance(n, int) and n > 4:
            n = 4
        if isinstance(n, int) and n > 0 and addr[0] not in FORMS:
            n = 0                   # never read past a Python object's memory
        if n == -1 and addr[0] not in FORMS and not (
                isinstance(a, str) or (not wide and isinstance(a, bytes))):
            # a read up to a terminator the object may not hold (a bytes has one
            # NUL byte, not a NUL wchar_t): past its memory (ASan's run sees it)
            n = 0
        return func(a) if default and n == -1 else func(a, n)
    check(op)


@guarded
@rel_settings()
@given(target=st.sampled_from(TARGETS), offset=OFFSETS, spec=value_specs())
def test_byref_and_addressof(target, offset, spec):
    def op(ct):
        obj = target_type(target, ct)() if target != "c_int_big" else ct.c_int()
        ref = ct.byref(obj, make_offset(offset))
        out = [type(ref).__name__]
        for func in (ct.byref, ct.addressof):
            try:
                func(build(spec, ct))
                out.append("accepted")
            except Exception as exc:            # noqa: BLE001 - compared by type
                out.append(type(exc).__name__)
        return out
    check(op)
