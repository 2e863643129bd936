"""Keep-alive safety: memory handed out stays valid as long as ctypes says it
does.  Each test runs on pyctypes and on CPython's ctypes (the same promise),
and checks liveness with weak references and gc, not with luck."""

import array
import gc
import weakref

import ctypes as C

import pytest

from pyctypes import ctypes as P

BOTH = pytest.mark.parametrize("ct", [C, P], ids=["cpython", "pyctypes"])


class Buffer(bytearray):
    """A bytearray that can be weakly referenced."""


@BOTH
def test_from_buffer_keeps_its_source_alive(ct):
    source = Buffer(b"\x01\x02\x03\x04" * 4)
    alive = weakref.ref(source)
    view = (ct.c_int * 4).from_buffer(source)
    del source
    gc.collect()
    assert alive() is not None
    assert list(view) == [0x04030201] * 4
    view[1] = 7
    assert bytes(alive()[4:8]) == b"\x07\x00\x00\x00"
    del view
    gc.collect()
    assert alive() is None


@BOTH
@pytest.mark.parametrize("change", ["append", "extend", "del", "clear", "slice", "iadd",
                                    "pop"])
def test_from_buffer_stops_bytearray_resizing(ct, change):
    source = bytearray(16)
    view = ct.c_int.from_buffer(source, 4)
    ops = {
        "append": lambda: source.append(1),
        "extend": lambda: source.extend(b"xx"),
        "del": lambda: source.__delitem__(slice(0, 2)),
        "clear": lambda: source.clear(),
        "slice": lambda: source.__setitem__(slice(0, 2), b"abc"),
        "iadd": lambda: source.__iadd__(b"xy"),
        "pop": lambda: source.pop(),
    }
    with pytest.raises(BufferError):
        ops[change]()
    assert len(source) == 16
    view.value = 0x11223344
    assert source[4:8] == b"\x44\x33\x22\x11"
    source[0:2] = b"ab"                             # same size: allowed
    del view
    gc.collect()
    ops[change]()                                   # released with the view


@BOTH
def test_from_buffer_of_array_and_mmap(ct):
    import mmap
    arr = array.array("i", [1, 2, 3])
    view = (ct.c_int * 3).from_buffer(arr)
    with pytest.raises(BufferError):
        arr.append(4)
    del arr
    gc.collect()
    assert list(view) == [1, 2, 3]
    m = mmap.mmap(-1, 16)
    v2 = ct.c_int.from_buffer(m)
    with pytest.raises(BufferError):
        m.close()
    del v2
    gc.collect()
    m.close()


@BOTH
def test_from_buffer_view_of_a_view(ct):
    """from_buffer of a ctypes instance: the view keeps the instance alive."""
    outer = (ct.c_ubyte * 8)(*range(8))
    alive = weakref.ref(outer)
    inner = ct.c_uint16.from_buffer(outer, 2)
    del outer
    gc.collect()
    assert alive() is not None
    assert inner.value == 0x0302


@BOTH
@pytest.mark.parametrize("kind", ["struct", "array", "union", "array_item", "nested"])
def test_field_keeps_its_parent_alive(ct, kind):
    class Inner(ct.Structure):
        _fields_ = [("a", ct.c_int), ("b", ct.c_double)]

    class U(ct.Union):
        _fields_ = [("i", ct.c_int), ("s", Inner)]

    class Outer(ct.Structure):
        _fields_ = [("head", ct.c_int), ("inner", Inner), ("arr", ct.c_int * 4), ("u", U),
                    ("grid", (Inner * 2) * 2)]

    parent = Outer(1, Inner(2, 3.5), (ct.c_int * 4)(4, 5, 6, 7), U(i=8))
    parent.grid[1][1].a = 9
    alive = weakref.ref(parent)
    part = {
        "struct": lambda: parent.inner,
        "array": lambda: parent.arr,
        "union": lambda: parent.u,
        "array_item": lambda: parent.grid[1],
        "nested": lambda: parent.grid[1][1],
    }[kind]()
    del parent
    for _ in range(3):
        gc.collect()
        junk = [bytearray(64) for _ in range(1000)]   # reuse freed memory if it was freed
        del junk
    assert alive() is not None
    expected = {
        "struct": lambda p: (p.a, p.b) == (2, 3.5),
        "array": lambda p: list(p) == [4, 5, 6, 7],
        "union": lambda p: p.i == 8,
        "array_item": lambda p: p[1].a == 9,
        "nested": lambda p: p.a == 9,
    }[kind]
    assert expected(part)
    root = part
    while root._b_base_ is not None:
        root = root._b_base_
    assert root is alive()
    del part, root
    gc.collect()
    assert alive() is None


@BOTH
def test_pointer_keeps_its_target_alive(ct):
    target = ct.c_int(42)
    alive = weakref.ref(target)
    ptr = ct.pointer(target)
    del target
    gc.collect()
    assert alive() is not None and ptr.contents.value == 42 and ptr[0] == 42
    p2 = ct.POINTER(ct.c_int)()
    t2 = ct.c_int(43)
    a2 = weakref.ref(t2)
    p2.contents = t2
    del t2
    gc.collect()
    assert a2() is not None and p2[0] == 43


@BOTH
def test_char_p_field_keeps_its_bytes_alive(ct):
    class S(ct.Structure):
        _fields_ = [("name", ct.c_char_p), ("wname", ct.c_wchar_p)]
    s = S()
    s.name = b"hello" + bytes([33])                 # not interned: a new object
    s.wname = "wide" + chr(33)
    gc.collect()
    junk = [bytes(8) * i for i in range(200)]
    del junk
    assert s.name == b"hello!" and s.wname == "wide!"


@BOTH
def test_callback_kept_by_its_function_object(ct, rel_lib):
    """A callback stored as the argument of a function object (or in a
    structure field) survives gc.collect() and is still callable from C."""
    proto = ct.CFUNCTYPE(ct.c_int, ct.c_int)
    calls = []

    def triple(x):
        calls.append(x)
        return 3 * x

    cb = proto(triple)
    alive = weakref.ref(cb)
    holder = {"cb": cb}
    del cb
    gc.collect()
    lib = ct.CDLL(rel_lib)
    call = lib.call_int_cb
    call.argtypes = [proto, ct.c_int]
    assert call(holder["cb"], 5) == 15

    class S(ct.Structure):
        _fields_ = [("f", proto)]
    s = S()
    s.f = holder.pop("cb")
    gc.collect()
    # the structure keeps what the callback keeps (its closure), as CPython's
    # KeepRef does, not the function object itself
    assert alive() is None
    assert call(s.f, 7) == 21
    assert calls == [5, 7]


@BOTH
def test_callback_closure_freed_with_its_last_reference(ct):
    proto = ct.CFUNCTYPE(ct.c_int)
    cb = proto(lambda: 1)
    alive = weakref.ref(cb)
    del cb
    gc.collect()
    assert alive() is None


@BOTH
def test_cast_keeps_its_source_alive(ct):
    buf = ct.create_string_buffer(b"cast source")
    alive = weakref.ref(buf)
    p = ct.cast(buf, ct.POINTER(ct.c_char))
    del buf
    gc.collect()
    assert alive() is not None
    assert p[0:4] == b"cast"


@BOTH
def test_byref_keeps_its_object_alive(ct):
    x = ct.c_int(5)
    alive = weakref.ref(x)
    ref = ct.byref(x)
    del x
    gc.collect()
    assert alive() is not None and ref._obj.value == 5
