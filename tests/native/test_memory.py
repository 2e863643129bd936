"""_rawffi memory: the CData type, its native slots, views, resize, buffer protocol."""
import copy
import ctypes
import gc
import pickle
import sys
import weakref

import pytest

from pyctypes import _rawffi
from pyctypes._rawffi import CData


class Buf(CData):
    _rawffi_size_ = 64


def sized(n, **attrs):
    return type(f"Sized{n}", (CData,), {"_rawffi_size_": n, **attrs})


# ---------------------------------------------------------------- the type


def test_type_basics():
    # Exported as _rawffi.CData, named in module _ctypes (see memory.cpp).
    assert CData.__name__ == "_CDataBase"
    assert CData.__module__ == "_ctypes"
    assert repr(CData) == "<class '_ctypes._CDataBase'>"
    assert type(CData) is type
    assert "__dict__" not in CData.__dict__ and CData.__dictoffset__ == 0
    assert CData.__weakrefoffset__ == 0


def test_abstract_class():
    with pytest.raises(TypeError) as e:
        CData()
    assert str(e.value) == "abstract class"

    class NoSize(CData):
        pass

    with pytest.raises(TypeError) as e:
        NoSize()
    assert str(e.value) == "abstract class"
    with pytest.raises(TypeError, match="abstract class"):
        _rawffi.at_address(NoSize, 0)


def test_bad_size_attribute():
    with pytest.raises(TypeError) as e:
        sized("8")()
    assert str(e.value) == "_rawffi_size_ must be an int, not str"
    with pytest.raises(TypeError):
        sized(8.0)()
    with pytest.raises(ValueError) as e:
        sized(-1)()
    assert str(e.value) == "_rawffi_size_ must not be negative"
    with pytest.raises(OverflowError):
        sized(2**70)()


def test_size_looked_up_through_mro():
    class A(CData):
        _rawffi_size_ = 12

    class B(A):
        pass

    class C(B):
        _rawffi_size_ = 40

    assert B()._b_size_ == 12
    assert C()._b_size_ == 40
    B._rawffi_size_ = 24  # changes are seen (type attribute cache invalidated)
    assert B()._b_size_ == 24


@pytest.mark.parametrize("size", [0, 1, 3, 8, 15, 16, 17, 24, 31, 32, 33, 64, 100, 1000, 1 << 20])
def test_owned_block_zeroed_and_aligned(size):
    cls = sized(size)
    objs = [cls() for _ in range(20)]
    for o in objs:
        assert o._b_size_ == size
        assert o._b_needsfree_ == 1
        assert o._b_base_ is None
        assert o._objects is None
        assert o._b_objects_ is None
        assert o._b_index_ == 0
        assert o._b_length_ == 0
        assert o._b_address_ % 16 == 0
        assert _rawffi.read(o._b_address_, size) == bytes(size)
    # small blocks live inside the object
    for o in objs:
        inside = id(o) <= o._b_address_ < id(o) + object.__sizeof__(o) + 200
        assert inside == (size <= 16)
    # blocks are distinct
    assert len({o._b_address_ for o in objs}) == len(objs)


def test_python_metaclass_subclass():
    class Meta(type):
        def __new__(mcls, name, bases, ns):
            ns.setdefault("_rawffi_size_", 8)
            return super().__new__(mcls, name, bases, ns)

    class X(CData, metaclass=Meta):
        pass

    class Y(X):
        _rawffi_size_ = 32

    assert type(X) is Meta and type(Y) is Meta
    x, y = X(), Y()
    assert x._b_size_ == 8 and y._b_size_ == 32
    assert isinstance(x, CData)


def test_new_ignores_arguments():
    class X(CData):
        _rawffi_size_ = 8

    assert X(1, 2, k=3)._b_size_ == 8

    class Y(CData):
        _rawffi_size_ = 8

        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)  # must not reach object.__init__'s check
            self.args = args, kw

    y = Y(1, 2, k=3)
    assert y.args == ((1, 2), {"k": 3})


def test_instance_dict_and_slots():
    class WithDict(CData):
        _rawffi_size_ = 4

    w = WithDict()
    w.extra = 1
    assert w.__dict__ == {"extra": 1}

    class Slotted(CData):
        __slots__ = ()
        _rawffi_size_ = 4

    s = Slotted()
    assert not hasattr(s, "__dict__")
    with pytest.raises(AttributeError):
        s.extra = 1

    class Slotted2(CData):
        __slots__ = ("a",)
        _rawffi_size_ = 4

    s2 = Slotted2()
    s2.a = 5
    assert s2.a == 5 and not hasattr(s2, "__dict__")


def test_copy_and_pickle_do_not_crash():
    class S(CData):
        __slots__ = ()
        _rawffi_size_ = 8

    for obj in (S(), Buf()):
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError):
                pickle.dumps(obj, proto)
        with pytest.raises(TypeError):
            copy.copy(obj)
        with pytest.raises(TypeError):
            copy.deepcopy(obj)


# ---------------------------------------------------------------- native slots


def test_getset_read_only():
    b = Buf()
    for name in ("_b_base_", "_b_needsfree_", "_objects", "_b_address_", "_b_size_"):
        with pytest.raises(AttributeError):
            setattr(b, name, 1)


def test_objects_slot():
    b = Buf()
    keep = {"1": b"x"}
    b._b_objects_ = keep
    assert b._objects is keep and b._b_objects_ is keep
    b._b_objects_ = None
    assert b._objects is None
    b._b_objects_ = [1]
    del b._b_objects_
    assert b._objects is None
    # the slot holds a strong reference
    obj = Buf()
    r = weakref.ref(obj)
    b._b_objects_ = obj
    del obj
    gc.collect()
    assert r() is not None
    b._b_objects_ = None
    assert r() is None


def test_index_and_length_slots():
    b = Buf()
    b._b_index_ = 7
    b._b_length_ = -3
    assert (b._b_index_, b._b_length_) == (7, -3)
    b._b_index_ = True
    assert b._b_index_ == 1
    with pytest.raises(TypeError):
        b._b_index_ = 1.5
    with pytest.raises(TypeError):
        b._b_length_ = "3"
    with pytest.raises(OverflowError):
        b._b_length_ = 2**70
    with pytest.raises(AttributeError):
        del b._b_index_
    assert (b._b_index_, b._b_length_) == (1, -3)


def test_gc_collects_cycles_through_objects():
    b = Buf()
    r = weakref.ref(b)
    b._b_objects_ = {"self": b}
    del b
    gc.collect()
    assert r() is None

    base = Buf()
    v = _rawffi.view(Buf, base._b_address_, base)
    base._b_objects_ = [v]
    rb, rv = weakref.ref(base), weakref.ref(v)
    del base, v
    gc.collect()
    assert rb() is None and rv() is None


def test_gc_traverse_reports_referents():
    b = Buf()
    keep = ["k"]
    b._b_objects_ = keep
    v = _rawffi.view(Buf, b._b_address_, b)
    assert keep in gc.get_referents(b)
    assert b in gc.get_referents(v)


# ---------------------------------------------------------------- at_address / view


def test_at_address():
    b = Buf()
    a = b._b_address_
    _rawffi.store("i", a + 8, 1234)
    Int = sized(4)
    v = _rawffi.at_address(Int, a + 8)
    assert type(v) is Int
    assert v._b_address_ == a + 8
    assert v._b_size_ == 4
    assert v._b_needsfree_ == 0
    assert v._b_base_ is None
    assert v._objects is None
    assert v._b_index_ == 0
    assert _rawffi.load("i", v._b_address_) == 1234
    _rawffi.store("i", v._b_address_, 99)
    assert _rawffi.load("i", a + 8) == 99
    assert _rawffi.at_address(Int, 0)._b_address_ == 0
    assert _rawffi.at_address(cls=Int, address=a)._b_address_ == a


def test_at_address_does_not_call_init():
    calls = []

    class X(CData):
        _rawffi_size_ = 4

        def __init__(self, *args):
            calls.append(args)

    X()
    assert calls == [()]
    _rawffi.at_address(X, 0)
    _rawffi.view(X, 0, Buf())
    assert calls == [()]


@pytest.mark.parametrize("bad", [int, object, 5, "x"])
def test_at_address_needs_cdata_class(bad):
    with pytest.raises(TypeError, match="must be a CData subclass"):
        _rawffi.at_address(bad, 0)
    with pytest.raises(TypeError, match="must be a CData subclass"):
        _rawffi.view(bad, 0, Buf())


def test_at_address_bad_address():
    with pytest.raises(TypeError):
        _rawffi.at_address(Buf, 1.0)
    with pytest.raises(TypeError):
        _rawffi.at_address(Buf, None)
    with pytest.raises(OverflowError):
        _rawffi.at_address(Buf, 2**64)
    assert _rawffi.at_address(Buf, -1)._b_address_ == 2**64 - 1


def test_view_keeps_base_alive():
    base = Buf()
    r = weakref.ref(base)
    refs = sys.getrefcount(base)
    a = base._b_address_
    v = _rawffi.view(sized(8), a + 16, base, 3)
    assert sys.getrefcount(base) == refs + 1
    assert v._b_base_ is base
    assert v._b_index_ == 3
    assert v._b_needsfree_ == 0
    assert v._b_address_ == a + 16
    assert v._b_size_ == 8
    assert _rawffi.view(Buf, a, base)._b_index_ == 0
    assert _rawffi.view(Buf, a, base=base, index=5)._b_index_ == 5
    del base
    gc.collect()
    assert r() is not None
    _rawffi.store("q", v._b_address_, -5)
    assert _rawffi.load("q", a + 16) == -5
    del v
    gc.collect()
    assert r() is None


def test_view_base_must_be_cdata():
    with pytest.raises(TypeError, match="argument 'base' must be a CData instance, not bytes"):
        _rawffi.view(Buf, 0, b"x")
    with pytest.raises(TypeError):
        _rawffi.view(Buf, 0)


def test_view_of_view_chain():
    base = Buf()
    v1 = _rawffi.view(sized(32), base._b_address_ + 32, base)
    v2 = _rawffi.view(sized(4), v1._b_address_ + 4, v1, 1)
    assert v2._b_base_ is v1 and v1._b_base_ is base
    r = weakref.ref(base)
    del base, v1
    gc.collect()
    assert r() is not None
    del v2
    gc.collect()
    assert r() is None


# ---------------------------------------------------------------- resize


@pytest.mark.parametrize("start, sizes", [
    (4, [8, 16, 17, 64, 1000, 12, 2000]),
    (16, [3, 16, 40]),
    (0, [0, 1, 16, 100, 0, 50]),
    (64, [128, 8, 256]),
])
def test_resize_keeps_content_and_zeroes(start, sizes):
    o = sized(start)()
    content = bytearray(start)
    for i in range(start):
        content[i] = (i * 7 + 1) & 0xFF or 1
    _rawffi.write(o._b_address_, bytes(content))
    for size in sizes:
        old = o._b_size_
        _rawffi.resize(o, size)
        assert o._b_size_ == size
        assert o._b_needsfree_ == 1
        assert o._b_address_ % 16 == 0
        keep = min(old, size)
        data = _rawffi.read(o._b_address_, size)
        assert data[:keep] == bytes(content[:keep])
        assert data[keep:] == bytes(size - keep)
        content = bytearray(data)
        # fill the new part so that a later shrink-then-grow must zero it again
        for i in range(keep, size):
            content[i] = 0xEE
        _rawffi.write(o._b_address_, bytes(content))


def test_resize_then_views_see_new_block():
    o = sized(8)()
    _rawffi.resize(o, 100)
    _rawffi.store("i", o._b_address_ + 96, 5)
    v = _rawffi.at_address(sized(4), o._b_address_ + 96)
    assert _rawffi.load("i", v._b_address_) == 5


def test_resize_errors():
    base = Buf()
    v = _rawffi.view(sized(8), base._b_address_, base)
    with pytest.raises(ValueError) as e:
        _rawffi.resize(v, 16)
    assert str(e.value) == "Memory cannot be resized because this object doesn't own it"
    with pytest.raises(ValueError):
        _rawffi.resize(_rawffi.at_address(Buf, base._b_address_), 128)
    with pytest.raises(ValueError, match="size must not be negative"):
        _rawffi.resize(base, -1)
    with pytest.raises(TypeError):
        _rawffi.resize(b"x", 10)
    with pytest.raises(TypeError):
        _rawffi.resize(base, 1.0)
    assert base._b_size_ == 64


def test_resize_refused_while_exported():
    o = sized(8)()
    m = memoryview(o)
    with pytest.raises(BufferError):
        _rawffi.resize(o, 100)
    m2 = memoryview(o)
    m.release()
    with pytest.raises(BufferError):
        _rawffi.resize(o, 100)
    m2.release()
    _rawffi.resize(o, 100)
    assert o._b_size_ == 100
    with memoryview(o) as m3:
        assert m3.nbytes == 100


# ---------------------------------------------------------------- buffer protocol


def test_buffer_default_format():
    b = Buf()
    m = memoryview(b)
    assert (m.format, m.itemsize, m.ndim, m.shape, m.strides, m.readonly, m.nbytes) == (
        "B", 1, 0, (), (), False, 64)
    assert m.obj is b
    assert bytes(b) == bytes(64)
    assert len(bytes(sized(0)())) == 0


def test_buffer_is_writable_and_shared():
    b = Buf()
    m = memoryview(b).cast("B")
    m[3] = 7
    assert _rawffi.load("B", b._b_address_ + 3) == 7
    _rawffi.store("B", b._b_address_ + 4, 9)
    assert m[4] == 9
    assert _rawffi.buffer_address(b) == b._b_address_
    assert _rawffi.buffer_address(m) == b._b_address_


@pytest.mark.parametrize("spec, size, shape, strides", [
    (("<i", 4, ()), 4, (), ()),
    ((">d", 8, ()), 8, (), ()),
    (("<i", 4, (4,)), 16, (4,), (4,)),
    (("<h", 2, (2, 3)), 12, (2, 3), (6, 2)),
    (("<q", 8, (2, 1, 3)), 48, (2, 1, 3), (24, 24, 8)),
    (("T{<i:a:<h:b:}", 8, ()), 8, (), ()),
    (("T{<i:a:<h:b:}", 8, (3,)), 24, (3,), (8,)),
    (("<i", 4, (0,)), 0, (0,), (4,)),
    (("<i", 4, (2,)), 100, (2,), (4,)),  # block larger than the shape (resized arrays)
])
def test_buffer_format_and_shape(spec, size, shape, strides):
    cls = sized(size, _rawffi_pep3118_=spec)
    o = cls()
    m = memoryview(o)
    assert m.format == spec[0]
    assert m.itemsize == spec[1]
    assert m.ndim == len(shape)
    assert m.shape == shape
    assert m.strides == strides
    assert m.nbytes == size
    assert not m.readonly
    assert m.c_contiguous


def test_buffer_native_format_usable():
    Arr = sized(24, _rawffi_pep3118_=("i", 4, (2, 3)))
    o = Arr()
    m = memoryview(o)
    m[1, 2] = -7
    assert _rawffi.load("i", o._b_address_ + 20) == -7
    assert m.tolist() == [[0, 0, 0], [0, 0, -7]]
    Int = sized(4, _rawffi_pep3118_=("<i", 4, ()))
    assert memoryview(Int()).format == "<i"


def test_buffer_format_kept_alive_by_export():
    fmt = "".join(["<", "i"])  # a fresh, non-interned string
    cls = sized(4, _rawffi_pep3118_=(fmt, 4, ()))
    o = cls()
    m = memoryview(o)
    r = sys.getrefcount(fmt)
    cls._rawffi_pep3118_ = ("B", 1, ())
    del fmt
    gc.collect()
    assert m.format == "<i"
    assert memoryview(o).format == "B"
    assert r >= 2
    m.release()


def test_buffer_exports_balanced():
    cls = sized(16, _rawffi_pep3118_=("<i", 4, (4,)))
    o = cls()
    views = [memoryview(o) for _ in range(10)]
    for v in views:
        v.release()
    _rawffi.resize(o, 32)  # export count back to zero
    assert sys.getrefcount(o) == 2


@pytest.mark.parametrize("spec, exc", [
    ("<i", TypeError),
    (("<i", 4), TypeError),
    (("<i", 4, (1,), 0), TypeError),
    ((b"<i", 4, ()), TypeError),
    (("<i", "4", ()), TypeError),
    (("<i", -1, ()), ValueError),
    (("<i", 4, [1]), TypeError),
    (("<i", 4, (-1,)), ValueError),
    (("<i", 4, (1.0,)), TypeError),
    (("<i", 4, (5,)), BufferError),      # 20 bytes > 16
    (("<i", 4, (2**62, 2**62)), BufferError),
    (("<i", 4, (0, 2**62, 2**62)), BufferError),
    (("<i", 4, (1,) * 65), BufferError),
])
def test_buffer_bad_spec(spec, exc):
    o = sized(16, _rawffi_pep3118_=spec)()
    with pytest.raises(exc):
        memoryview(o)
    _rawffi.resize(o, 20)  # no export leaked


class Py_buffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p), ("obj", ctypes.py_object), ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p), ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)), ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


PyObject_GetBuffer = ctypes.pythonapi.PyObject_GetBuffer
PyObject_GetBuffer.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int]
PyBuffer_Release = ctypes.pythonapi.PyBuffer_Release
PyBuffer_Release.argtypes = [ctypes.POINTER(Py_buffer)]

PyBUF_SIMPLE, PyBUF_WRITABLE, PyBUF_FORMAT, PyBUF_ND = 0, 1, 4, 8
PyBUF_STRIDES = 0x10 | PyBUF_ND
PyBUF_F_CONTIGUOUS = 0x40 | PyBUF_STRIDES
PyBUF_FULL = PyBUF_STRIDES | 0x100 | PyBUF_WRITABLE | PyBUF_FORMAT


def get_buffer(obj, flags):
    view = Py_buffer()
    if PyObject_GetBuffer(obj, ctypes.byref(view), flags) != 0:
        raise AssertionError("unreachable: ctypes raises")
    try:
        fmt = view.format
        shape = [view.shape[i] for i in range(view.ndim)] if view.shape else None
        strides = [view.strides[i] for i in range(view.ndim)] if view.strides else None
        return dict(buf=view.buf, len=view.len, itemsize=view.itemsize, readonly=view.readonly,
                    ndim=view.ndim, format=fmt, shape=shape, strides=strides,
                    suboffsets=view.suboffsets)
    finally:
        PyBuffer_Release(ctypes.byref(view))


def test_buffer_flags():
    Arr = sized(24, _rawffi_pep3118_=("<i", 4, (2, 3)))
    o = Arr()
    a = o._b_address_
    simple = get_buffer(o, PyBUF_SIMPLE)
    assert simple == dict(buf=a, len=24, itemsize=4, readonly=0, ndim=1, format=None, shape=None,
                          strides=None, suboffsets=None)
    assert get_buffer(o, PyBUF_WRITABLE)["readonly"] == 0
    assert get_buffer(o, PyBUF_FORMAT)["format"] == b"<i"
    assert get_buffer(o, PyBUF_FORMAT)["shape"] is None
    nd = get_buffer(o, PyBUF_ND)
    assert (nd["ndim"], nd["shape"], nd["strides"], nd["format"]) == (2, [2, 3], None, None)
    st = get_buffer(o, PyBUF_STRIDES)
    assert (st["shape"], st["strides"]) == ([2, 3], [12, 4])
    full = get_buffer(o, PyBUF_FULL)
    assert full == dict(buf=a, len=24, itemsize=4, readonly=0, ndim=2, format=b"<i", shape=[2, 3],
                        strides=[12, 4], suboffsets=None)
    with pytest.raises(BufferError):
        get_buffer(o, PyBUF_F_CONTIGUOUS)
    # one-dimensional or scalar buffers are Fortran contiguous too
    assert get_buffer(sized(8, _rawffi_pep3118_=("<i", 4, (2,)))(), PyBUF_F_CONTIGUOUS)["shape"] == [2]
    assert get_buffer(Buf(), PyBUF_F_CONTIGUOUS)["ndim"] == 0
    _rawffi.resize(o, 32)  # all released


def test_buffer_address():
    data = b"abc"
    ba = bytearray(b"xyz")
    assert _rawffi.buffer_address(data) == ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    assert _rawffi.buffer_address(ba) == ctypes.addressof(ctypes.c_char.from_buffer(ba))
    assert _rawffi.buffer_address(memoryview(ba)[1:]) == _rawffi.buffer_address(ba) + 1
    with pytest.raises(TypeError):
        _rawffi.buffer_address("str")
    with pytest.raises(TypeError):
        _rawffi.buffer_address(5)
    # contiguity as PyBuffer_IsContiguous says (from_buffer's message): an
    # empty strided view is contiguous, a non-empty one is not
    with pytest.raises(TypeError, match="^underlying buffer is not C contiguous$"):
        _rawffi.buffer_address(memoryview(b"abcdef")[::2])
    with pytest.raises(TypeError, match="^underlying buffer is not C contiguous$"):
        _rawffi.buffer_address(memoryview(ba)[::2])
    assert _rawffi.buffer_address(memoryview(ba)[1:1:2]) == _rawffi.buffer_address(ba) + 1
    assert _rawffi.buffer_address(memoryview(ba)[2:3:2]) == _rawffi.buffer_address(ba) + 2
    assert isinstance(_rawffi.buffer_address(memoryview(bytearray())[::2]), int)
    ba.append(1)  # no export leaked: bytearray can resize again


# ---------------------------------------------------------------- lifetime


def test_no_leaks_on_create_and_free():
    objs = [sized(n) for n in (4, 16, 17, 1000)]
    base = Buf()
    refs = sys.getrefcount(base)
    for _ in range(3):
        for cls in objs:
            for _ in range(200):
                o = cls()
                _rawffi.resize(o, 2000)
                v = _rawffi.view(cls, o._b_address_, base)
                o._b_objects_ = {"0": v}
                del o, v
    gc.collect()
    assert sys.getrefcount(base) == refs
