"""Pointers, POINTER, pointer and cast on pyctypes against CPython's _ctypes."""

import ctypes as C
import functools
import gc

import _ctypes
import pytest

import pyctypes._ctypes
from pyctypes import ctypes as P

import cbuild
import diffhelp
from diffhelp import by_value, normaliser, outcome

# instances by class name, simple values by value; ids as keys of keep-alive dicts
norm = normaliser(by_value, id_keys=True)
same = functools.partial(diffhelp.same, norm=norm)


def public_keys(cls):
    """The class dict's keys without pyctypes' plan attributes."""
    return [k for k in cls.__dict__ if k not in ("_stginfo_", "_rawffi_size_", "_rawffi_pep3118_", "_rawffi_plan_", "_rawffi_pointer_type_")]


def kind(obj):
    """A comparable description of a from_param result."""
    if obj is None:
        return None
    return type(obj).__name__


# ---------------------------------------------------------------- types

def test_types_and_cache():
    LP = P.POINTER(P.c_int)
    assert type(LP).__name__ == "PyCPointerType" and type(LP).__module__ == "_ctypes"
    assert P._Pointer.__module__ == "_ctypes"
    assert LP.__name__ == "LP_c_int" and LP._type_ is P.c_int
    Item = type("Item", (P.c_int,), {})
    assert P.POINTER(Item).__module__ == __name__       # the calling module, as CPython
    assert P.POINTER(P.c_int) is LP and P._pointer_type_cache[P.c_int] is LP
    assert P.POINTER(None) is P.c_void_p
    assert public_keys(LP) == public_keys(C.POINTER(C.c_int))
    assert P.POINTER(P.c_int * 3).__name__ == "LP_c_int_Array_3"
    assert P.sizeof(LP) == 8 and P.alignment(LP) == 8


def test_type_errors():
    same(lambda m: m.POINTER(3))
    same(lambda m: m.POINTER(int))
    same(lambda m: m.POINTER([]))
    same(lambda m: m._Pointer())
    same(lambda m: type(m._Pointer)("X", (m._Pointer,), {"_type_": 5}))
    same(lambda m: type(m._Pointer)("X", (m._Pointer,), {"_type_": None}))
    same(lambda m: type(m._Pointer)("X", (m._Pointer,), {"_type_": int}))
    same(lambda m: type(m._Pointer)("X", (m._Pointer,), {})())
    same(lambda m: type("X", (m.POINTER(m.c_int),), {})())
    same(lambda m: m.pointer(5))
    same(lambda m: m.pointer(m.c_int))
    same(lambda m: m._Pointer.from_param(3))
    same(lambda m: m._Pointer.set_type(m.c_int))


def test_buffer_info():
    for make in (lambda m: m.POINTER(m.c_int), lambda m: m.POINTER(m.c_int * 3),
                 lambda m: m.POINTER((m.c_int * 3) * 2), lambda m: m.POINTER(m.c_char_p),
                 lambda m: m.POINTER(m.POINTER(m.c_double)), lambda m: m.POINTER(m.c_int * 0),
                 lambda m: m.POINTER(type("S", (m.Structure,), {}))):
        assert pyctypes._ctypes.buffer_info(make(P)) == _ctypes.buffer_info(make(C))
        m1, m2 = memoryview(make(P)()), memoryview(make(C)())
        assert (m1.format, m1.shape, m1.itemsize) == (m2.format, m2.shape, m2.itemsize)


# ---------------------------------------------------------------- instances

def test_null_pointer():
    def run(m):
        p = m.POINTER(m.c_int)()
        return bool(p), p._objects, p._b_base_
    same(run)
    same(lambda m: m.POINTER(m.c_int)().contents)
    same(lambda m: m.POINTER(m.c_int)()[0])
    # CPython returns a list holding NULLs here (and crashes later); we raise
    with pytest.raises(ValueError, match="NULL pointer access"):
        P.POINTER(P.c_int)()[0:2]
    same(lambda m: m.POINTER(m.c_char)()[0:0])
    same(lambda m: m.POINTER(m.c_int)().__setitem__(0, 1))


def test_contents_and_keepalive():
    def run(m):
        i = m.c_int(42)
        p = m.pointer(i)
        c = p.contents
        return (p._objects, c.value, c._b_base_ is p, c is i, c._objects, p.contents is c,
                m.addressof(c) == m.addressof(i), bool(p))
    same(run)

    def chain(m):
        s = m.c_char_p(b"abc")
        p = m.pointer(s)
        pp = m.pointer(p)
        return p._objects, sorted(pp._objects), pp._objects["0"] is p._objects
    same(chain)


def test_target_kept_alive():
    p = P.pointer(P.c_int(987654))
    junk = [P.c_int(-1) for _ in range(100)]     # reuse freed memory, if any was freed
    gc.collect()
    assert junk and p.contents.value == 987654 and p[0] == 987654


def test_contents_set():
    def run(m):
        p = m.POINTER(m.c_int)()
        a, b = m.c_int(1), m.c_int(2)
        p.contents = a
        p.contents = b
        p[0] = 5
        return p._objects, b.value, a.value
    same(run)
    same(lambda m: setattr(m.POINTER(m.c_int)(), "contents", 5))
    same(lambda m: m.POINTER(m.c_int)(5))
    same(lambda m: m.POINTER(m.c_int)(m.c_int(1), m.c_int(2)))
    same(lambda m: m.POINTER(m.c_int)(m.c_long(7)).contents.value)
    same(lambda m: delattr(m.pointer(m.c_int()), "contents"))


def test_items_and_slices():
    def run(m):
        a = (m.c_int * 6)(10, 11, 12, 13, 14, 15)
        p = m.cast(m.byref(a, 8), m.POINTER(m.c_int))
        p[1] = 99
        return (p[0], p[-1], p[-2], p[0:3], p[:3], p[3:0:-1], p[0:0:2], p[2:2:-2], p[-2:2],
                p[0:4:3], a[:])
    same(run)
    for s in [slice(0, None), slice(None, 2, -1), slice(0, 2, 0), slice("a", 2),
              slice(0, 2**70), slice(0, 2, 2**70)]:
        same(lambda m: m.pointer(m.c_int())[s])
    for index in ["a", 1.0, 2**70]:
        same(lambda m: m.pointer(m.c_int())[index])

    def set_slice(m):
        m.pointer(m.c_int())[0:1] = [1]
    same(set_slice)

    def set_str(m):
        m.pointer(m.c_int())["a"] = 1
    same(set_str)

    def set_big(m):
        m.pointer(m.c_int())[2**70] = 1
    same(set_big)

    def delete(m):
        del m.pointer(m.c_int())[0]
    same(delete)


def test_char_and_wchar_pointer_slices():
    def run(m):
        cp = m.cast(m.c_char_p(b"hello"), m.POINTER(m.c_char))
        wp = m.cast(m.c_wchar_p("hello"), m.POINTER(m.c_wchar))
        return cp[0:5], cp[4:0:-1], cp[0:5:2], cp[0], cp[3:1], wp[0:5], wp[4:0:-1], wp[0:5:2], wp[0]
    same(run)


def test_struct_target_views():
    def run(m):
        class S(m.Structure):
            _fields_ = [("a", m.c_int), ("b", m.c_int)]
        arr = (S * 2)(S(1, 2), S(3, 4))
        p = m.cast(arr, m.POINTER(S))
        v = p[1]
        v.a = 30
        return v._b_base_ is p, v.a, arr[1].a, p.contents.b, p[1]._objects
    same(run)


def test_pointer_to_pointer_items():
    def run(m):
        x = m.c_int(5)
        pp = m.pointer(m.pointer(x))
        inner = pp[0]
        pp[0] = m.pointer(m.c_int(6))
        return type(inner).__name__, inner.contents.value, pp[0][0], sorted(pp._objects)
    same(run)


def test_assign_none_to_pointer_items():
    def run(m):
        a = (m.POINTER(m.c_int) * 2)()
        a[0] = m.pointer(m.c_int(1))
        a[0] = None
        return bool(a[0])
    same(run)


# ---------------------------------------------------------------- from_param

def test_from_param():
    LP = {m: m.POINTER(m.c_int) for m in (P, C)}
    same(lambda m: LP[m].from_param(None))
    same(lambda m: kind(LP[m].from_param(m.c_int())))
    same(lambda m: kind(LP[m].from_param(LP[m]())))
    same(lambda m: kind(LP[m].from_param((m.c_int * 3)())))
    same(lambda m: kind(LP[m].from_param(m.byref(m.c_int()))))
    same(lambda m: LP[m].from_param(m.byref(m.c_long())))
    same(lambda m: LP[m].from_param(3))
    same(lambda m: LP[m].from_param(m.c_long()))
    same(lambda m: LP[m].from_param(m.pointer(m.c_long())))
    same(lambda m: LP[m].from_param((m.c_long * 2)()))

    def subclass(m):
        class MyInt(m.c_int):
            pass
        return kind(LP[m].from_param(MyInt())), kind(LP[m].from_param(m.pointer(MyInt())))
    same(subclass)

    def as_parameter(m):
        class Wrap:
            _as_parameter_ = m.pointer(m.c_int(3))
        return kind(LP[m].from_param(Wrap()))
    same(as_parameter)


# ---------------------------------------------------------------- incomplete types

def test_incomplete_pointer_type():
    def run(m):
        lp = m.POINTER("cell")
        out = [lp.__name__, m._pointer_type_cache[id(lp)] is lp,
               _ctypes.buffer_info(lp) if m is C else pyctypes._ctypes.buffer_info(lp)]
        out.append(outcome(lp))

        class cell(m.Structure):
            _fields_ = [("name", m.c_char_p), ("next", lp)]
        m.SetPointerType(lp, cell)
        out += [lp._type_ is cell, m.POINTER(cell) is lp, id(lp) in m._pointer_type_cache]
        c1, c2 = cell(), cell()
        c1.name, c2.name = b"foo", b"bar"
        c1.next, c2.next = m.pointer(c2), m.pointer(c1)
        p = c1
        names = []
        for _ in range(4):
            names.append(p.name)
            p = p.next[0]
        out.append(names)
        out.append(outcome(m.SetPointerType, lp, cell))
        return out
    same(run)
    same(lambda m: m.POINTER(m.c_int).set_type(5))
    same(lambda m: m.POINTER(m.c_int).set_type(int))


# ---------------------------------------------------------------- cast

def test_cast_keeps_source():
    def run(m):
        a = (m.c_int * 3)(1, 2, 3)
        p = m.cast(a, m.POINTER(m.c_int))
        return (p[0:3], list(p._objects.values())[0] is a, p._objects is a._objects,
                list(a._objects) == [id(a)])
    same(run)

    def simple(m):
        v = m.c_void_p(1234)
        q = m.cast(v, m.POINTER(m.c_int))
        s = m.c_char_p(b"xyz")
        r = m.cast(s, m.c_void_p)
        return list(q._objects) == [id(v)], r._objects, m.cast(r, m.c_char_p).value
    same(simple)

    def view(m):
        class S(m.Structure):
            _fields_ = [("a", m.c_int * 2)]
        s = S()
        return m.cast(s.a, m.POINTER(m.c_int))._objects
    same(view)

    def null(m):
        return bool(m.cast(None, m.POINTER(m.c_int))), m.cast(0, m.c_void_p).value
    same(null)


def test_cast_target_types():
    same(lambda m: m.cast(3, m.c_int))
    same(lambda m: m.cast(3, 5))
    same(lambda m: m.cast(3, m.c_int * 3))
    same(lambda m: m.cast(3, m.c_char_p).__class__.__name__)
    same(lambda m: m.cast(3, m.c_wchar_p).__class__.__name__)
    same(lambda m: m.cast(3, m.py_object).__class__.__name__)
    same(lambda m: m.cast(m.c_void_p(), m.CFUNCTYPE(m.c_int)).__class__.__name__)


def test_cast_to_structure_pointer_and_back():
    def run(m):
        class S(m.Structure):
            _fields_ = [("x", m.c_int), ("y", m.c_int)]
        s = S(5, 6)
        p = m.cast(m.pointer(s), m.POINTER(m.c_int))
        q = m.cast(p, m.POINTER(S))
        return p[0], p[1], q.contents.y, m.cast(m.addressof(s), m.POINTER(S)).contents.x
    same(run)


# ---------------------------------------------------------------- against C

C_SOURCE = r"""
int value = 17;
int *ptr = &value;
int **pptr = &ptr;
const char *word = "ctypes";
"""


@pytest.fixture(scope="module")
def clib():
    return cbuild.shared_library(C_SOURCE, "libp", flags=())


def test_pointers_in_c_memory(clib):
    mine, theirs = P.CDLL(clib), C.CDLL(clib)
    pp_mine = P.POINTER(P.POINTER(P.c_int)).in_dll(mine, "pptr")
    pp_theirs = C.POINTER(C.POINTER(C.c_int)).in_dll(theirs, "pptr")
    assert pp_mine.contents.contents.value == pp_theirs.contents.contents.value == 17
    pp_mine[0][0] = 18
    assert P.c_int.in_dll(mine, "value").value == C.c_int.in_dll(theirs, "value").value == 18
    w = P.POINTER(P.c_char).in_dll(mine, "word")
    assert w[0:6] == b"ctypes"
    assert P.c_char_p.in_dll(mine, "word").value == b"ctypes"
    assert P.addressof(pp_mine.contents.contents) == P.addressof(P.c_int.in_dll(mine, "value"))
