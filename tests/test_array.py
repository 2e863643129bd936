"""Arrays on pyctypes against CPython's _ctypes, side by side, and against C."""

import ctypes as C
import functools
import gc
import pickle
import subprocess
import sys
import weakref

import _ctypes
import pytest
from hypothesis import given, settings, strategies as st

import pyctypes._ctypes
from pyctypes import ctypes as P
from pyctypes._ctypes._native import raw

import cbuild
import diffhelp
from diffhelp import by_value, normaliser, outcome

# instances by class name, simple values by value; ids as keys of keep-alive dicts
norm = normaliser(by_value, id_keys=True)
same = functools.partial(diffhelp.same, norm=norm)


def public_keys(cls):
    """The class dict's keys without pyctypes' plan attributes."""
    return [k for k in cls.__dict__ if k not in ("_stginfo_", "_rawffi_size_", "_rawffi_pep3118_", "_rawffi_plan_", "_rawffi_pointer_type_")]


ITEM_NAMES = ["c_byte", "c_ubyte", "c_short", "c_int", "c_uint", "c_long", "c_longlong",
              "c_float", "c_double", "c_longdouble", "c_bool", "c_char", "c_wchar", "c_char_p",
              "c_wchar_p", "c_void_p"]


# ---------------------------------------------------------------- types

def test_metaclass_and_names():
    A = P.c_int * 5
    assert type(A).__name__ == "PyCArrayType" and type(A).__module__ == "_ctypes"
    assert A.__name__ == "c_int_Array_5" and A.__qualname__ == "c_int_Array_5"
    assert A.__module__ == __name__          # the module asking for the type, as CPython
    assert P.Array.__module__ == "_ctypes"
    assert A._length_ == 5 and A._type_ is P.c_int
    assert issubclass(A, P.Array)
    assert repr(P.Array[int]) == repr(C.Array[int]) == "_ctypes.Array[int]"
    assert public_keys(A) == public_keys(C.c_int * 5)
    assert public_keys(P.c_char * 2) == public_keys(C.c_char * 2)
    assert public_keys(P.c_wchar * 2) == public_keys(C.c_wchar * 2)


def test_cache():
    assert P.c_int * 3 is P.c_int * 3
    assert 3 * P.c_int is P.c_int * 3
    assert P.c_int * 3 is not P.c_int * 4
    assert (P.c_int * 3) * 2 is (P.c_int * 3) * 2


def test_cache_is_weak():
    class Item(P.c_int):
        pass
    ref = weakref.ref(Item * 7)
    gc.collect()
    assert ref() is None
    assert (Item * 7)._length_ == 7


@pytest.mark.parametrize("name", ITEM_NAMES)
@pytest.mark.parametrize("length", [0, 1, 3, 17])
def test_size_align_format(name, length):
    c, p = getattr(C, name) * length, getattr(P, name) * length
    assert P.sizeof(p) == C.sizeof(c)
    assert P.alignment(p) == C.alignment(c)
    assert pyctypes._ctypes.buffer_info(p) == _ctypes.buffer_info(c)
    assert pyctypes._ctypes.buffer_info(p * 2) == _ctypes.buffer_info(c * 2)
    assert len(p()) == length


def test_memoryview_nested():
    for mod in (P, C):
        m = memoryview(((mod.c_short * 3) * 2)())
        assert (m.format, m.shape, m.itemsize, m.ndim) == ("<h", (2, 3), 2, 2)
        m = memoryview((mod.POINTER(mod.c_int) * 2)())
        assert (m.format, m.shape, m.itemsize) == ("&<i", (2,), 8)


BAD_CLASSES = [
    {},
    {"_length_": 3},
    {"_type_": "c_int"},
    {"_length_": -1, "_type_": "c_int"},
    {"_length_": 3.0, "_type_": "c_int"},
    {"_length_": "3", "_type_": "c_int"},
    {"_length_": 2**70, "_type_": "c_int"},
    {"_length_": 2**62, "_type_": "c_int"},
    {"_length_": 3, "_type_": int},
    {"_length_": 3, "_type_": None},
    {"_length_": True, "_type_": "c_int"},
]


@pytest.mark.parametrize("attrs", BAD_CLASSES, ids=repr)
def test_subclass_checks(attrs):
    def make(mod):
        ns = {k: getattr(mod, v) if isinstance(v, str) and v.startswith("c_") else v
              for k, v in attrs.items()}
        cls = type(mod.Array)("X", (mod.Array,), ns)
        return (cls.__name__, mod.sizeof(cls), len(cls()))
    same(make)


def test_multiply_errors():
    same(lambda m: m.c_int * -1)
    same(lambda m: m.c_int * 2**70)
    same(lambda m: m.c_int * 2**62)
    same(lambda m: m.sizeof(m.c_int * 0))


def test_abstract_base():
    same(lambda m: m.Array())


def test_subclass_of_array_type():
    def make(mod):
        class A(mod.c_int * 3):
            pass

        class B(A):
            _length_ = 5
        b = B(1, 2, 3, 4, 5)
        return (mod.sizeof(A), mod.sizeof(B), b[:], A(7)[:], type(b[0]).__name__)
    same(make)


# ---------------------------------------------------------------- items and slices

def test_init_and_items():
    def run(m):
        a = (m.c_int * 5)(1, 2, 3)
        return a[:], a[0], a[-1], a[4], list(a), len(a), 3 in a
    same(run)
    same(lambda m: (m.c_int * 2)(1, 2, 3))
    same(lambda m: (m.c_int * 2)("a"))
    same(lambda m: (m.c_int * 2)(x=1)[:])


@pytest.mark.parametrize("index", [5, -6, 2**70, -2**70, "x", 1.0, None, True])
def test_bad_indices(index):
    def get(m):
        return (m.c_int * 5)()[index]

    def put(m):
        (m.c_int * 5)()[index] = 1

    def delete(m):
        del (m.c_int * 5)()[index]
    same(get)
    same(put)
    same(delete)


SLICES = [slice(None), slice(1, 3), slice(None, None, -1), slice(1, None, 2), slice(-2, None),
          slice(4, 0, -2), slice(10, 20), slice(-100, 100), slice(3, 1), slice(0, 5, 3),
          slice(None, None, 0), slice("a", 2), slice(2**70, -2**70, -1)]


@pytest.mark.parametrize("s", SLICES, ids=repr)
@pytest.mark.parametrize("name", ["c_int", "c_char", "c_wchar", "c_double", "c_char_p"])
def test_slices(s, name):
    values = {"c_int": [1, 2, 3, 4, 5], "c_char": b"abcde", "c_wchar": "abcde",
              "c_double": [0.5, 1.5, 2.5, 3.5, 4.5], "c_char_p": [b"a", b"b", None, b"d", b""]}

    def run(m):
        a = (getattr(m, name) * 5)(*values[name])
        return a[s]
    same(run)


@pytest.mark.parametrize("s", SLICES, ids=repr)
def test_slice_assignment(s):
    def run(m):
        a = (m.c_int * 5)(1, 2, 3, 4, 5)
        n = len(range(5)[s])
        a[s] = list(range(100, 100 + n))
        return a[:]
    same(run)

    def wrong_size(m):
        a = (m.c_int * 5)()
        a[s] = [1] * (len(range(5)[s]) + 1)
    same(wrong_size)


@pytest.mark.parametrize("step", [sys.maxsize, -sys.maxsize - 1, sys.maxsize - 1])
def test_slice_assignment_huge_step(step):
    """One item with a step near the ends of Py_ssize_t (CPython's
    test_step_overflow): the native loop must not step past the last item
    (a signed overflow; the sanitizer run checks it with UBSan)."""
    def run(m):
        a = (m.c_int * 5)()
        a[3::step] = (7,)
        c = (m.c_char * 5)()
        c[3::step] = b"A"
        w = (m.c_wchar * 5)()
        w[3::step] = "X"
        return a[:], a[3::step], c.raw, c[3::step], w[:], w[3::step]
    same(run)


def test_slice_assignment_sources():
    def run(m):
        a = (m.c_char * 5)()
        a[1:4] = b"xyz"
        b = (m.c_int * 3)()
        b[:] = (m.c_int * 3)(4, 5, 6)
        return a.raw, b[:]
    same(run)
    same(lambda m: (m.c_int * 3)().__setitem__(slice(0, 2), 5))
    same(lambda m: (m.c_int * 3)().__setitem__(slice(0, 2), ["a", "b"]))


@given(st.lists(st.integers(min_value=-2**31, max_value=2**31 - 1), max_size=12),
       st.integers(-15, 15), st.integers(-15, 15), st.sampled_from([None, 1, 2, -1, -3]))
@settings(max_examples=100, deadline=None)
def test_slices_property(values, start, stop, step):
    s = slice(start, stop, step)
    a, b = (P.c_int * len(values))(*values), (C.c_int * len(values))(*values)
    assert a[s] == b[s] == values[s]


def test_nested_items_are_views():
    a = ((P.c_int * 3) * 2)()
    row = a[1]
    assert type(row) is P.c_int * 3
    assert row._b_base_ is a and row._b_needsfree_ == 0
    row[2] = 9
    assert a[1][2] == 9 and a[1][:] == [0, 0, 9]
    assert P.addressof(row) == P.addressof(a) + 12


def test_structure_items():
    def run(m):
        class S(m.Structure):
            _fields_ = [("x", m.c_int), ("y", m.c_double)]
        a = (S * 2)()
        a[1] = S(3, 4.5)
        a[0].x = 7
        return a[0].x, a[1].x, a[1].y, a[0]._b_base_ is a, [s.x for s in a]
    same(run)


def test_simple_subclass_items_are_instances():
    def run(m):
        class MyInt(m.c_int):
            pass
        a = (MyInt * 2)(1, 2)
        return type(a[0]).__name__, a[1].value, a[0]._b_base_ is a
    same(run)


# ---------------------------------------------------------------- char and wchar arrays

def test_char_array_value_raw():
    def run(m):
        buf = m.create_string_buffer(b"hello", 10)
        out = [buf.value, buf.raw, buf[:], buf[::2], buf[3]]
        buf.value = b"hi"
        out += [buf.value, buf.raw]
        buf.raw = b"xyz"
        out += [buf.value, buf.raw]
        buf.raw = bytearray(b"0123456789")
        out += [buf.value, buf.raw]
        buf.value = b"0123456789"
        out += [buf.value]
        return out
    same(run)
    same(lambda m: setattr(m.create_string_buffer(3), "value", b"abcd"))
    same(lambda m: setattr(m.create_string_buffer(3), "value", "abc"))
    same(lambda m: setattr(m.create_string_buffer(3), "raw", b"abcd"))
    same(lambda m: setattr(m.create_string_buffer(3), "raw", "ab"))
    same(lambda m: delattr(m.create_string_buffer(3), "raw"))
    same(lambda m: delattr(m.create_string_buffer(3), "value"))
    same(lambda m: (m.c_char * 3)(b"a", b"b", b"c").value)


def test_wchar_array_value():
    def run(m):
        buf = m.create_unicode_buffer("hello", 10)
        out = [buf.value, buf[:], buf[::2], buf[3], len(buf)]
        buf.value = "hi\u20ac\U0001f600"
        out += [buf.value, buf[:]]
        buf.value = "0123456789"
        out += [buf.value, hasattr(buf, "raw")]
        return out
    same(run)
    same(lambda m: setattr(m.create_unicode_buffer(3), "value", "abcd"))
    same(lambda m: setattr(m.create_unicode_buffer(3), "value", b"ab"))
    same(lambda m: delattr(m.create_unicode_buffer(3), "value"))


def test_non_char_arrays_have_no_value():
    same(lambda m: (m.c_byte * 3)().value)


# ---------------------------------------------------------------- keep-alives

def test_objects_shapes():
    def run(m):
        a = (m.c_char_p * 3)()
        a[1] = b"abc"
        b = (m.c_int * 3)(1, 2, 3)
        c = ((m.c_char_p * 2) * 2)()
        c[1][0] = b"x"
        d = (m.POINTER(m.c_int) * 2)()
        x = m.c_int(5)
        d[1] = m.pointer(x)
        return (a._objects, b._objects, c._objects, repr(d._objects["1"]),
                d[1].contents.value)
    mine, theirs = outcome(run, P), outcome(run, C)
    assert mine[1][:4] == theirs[1][:4]
    assert list(mine[1][3]) == list(theirs[1][3])


def test_pointer_array_keeps_target_alive():
    a = (P.POINTER(P.c_int) * 2)()
    a[0] = P.pointer(P.c_int(1234))
    gc.collect()
    assert a[0].contents.value == 1234
    assert "0" in a._objects


class Triple(P.c_int * 3):
    pass


def test_pickle():
    a = Triple(1, 2, 3)
    b = pickle.loads(pickle.dumps(a))
    assert b[:] == [1, 2, 3] and type(b) is Triple
    same(lambda m: pickle.dumps((m.c_char_p * 2)()))
    same(lambda m: pickle.dumps((m.POINTER(m.c_int) * 2)()))


# ---------------------------------------------------------------- from_param and conversions

def test_from_param():
    same(lambda m: type((m.c_int * 3).from_param((m.c_int * 3)())).__name__)
    same(lambda m: (m.c_int * 3).from_param((m.c_int * 4)()))
    same(lambda m: (m.c_int * 3).from_param(3))
    same(lambda m: (m.c_int * 3).from_param(m.byref(m.c_long())))
    same(lambda m: type((m.c_int * 3).from_param(m.byref(m.c_int()))).__name__)
    same(lambda m: (m.c_int * 3).from_param(m.pointer(m.c_int())))


def test_array_into_pointer_field():
    def run(m):
        class S(m.Structure):
            _fields_ = [("p", m.POINTER(m.c_int))]
        a = (m.c_int * 3)(1, 2, 3)
        s = S()
        s.p = a
        return s.p[2], type(s._objects["0"]).__name__, s._objects["0"][1] is a
    same(run)
    same(lambda m: setattr(type("S", (m.Structure,), {"_fields_": [("p", m.POINTER(m.c_int))]})(),
                           "p", (m.c_long * 3)()))


def test_from_buffer_and_copy():
    def run(m):
        src = bytearray(range(16))
        a = (m.c_ubyte * 8).from_buffer(src, 4)
        a[0] = 99
        b = (m.c_ubyte * 4).from_buffer_copy(bytes(range(10)), 2)
        return src[4], a[:], b[:]
    same(run)
    same(lambda m: (m.c_int * 8).from_buffer(bytearray(16)))
    same(lambda m: (m.c_int * 2).from_buffer(b"12345678"))


# ---------------------------------------------------------------- against C

C_SOURCE = r"""
int grid[2][3] = {{1, 2, 3}, {4, 5, 6}};
double reals[4] = {0.5, -1.25, 3e100, 0.0};
char text[8] = "hello";
int *first = &grid[1][0];
struct pt { short x; int y; } pts[2] = {{1, 2}, {-3, 40000}};
"""


@pytest.fixture(scope="module")
def clib():
    return cbuild.shared_library(C_SOURCE, "liba", flags=())


def test_arrays_in_c_memory(clib):
    handle = raw.dlopen(clib, raw.RTLD_NOW)
    grid = ((P.c_int * 3) * 2).from_address(raw.dlsym(handle, "grid"))
    assert [row[:] for row in grid] == [[1, 2, 3], [4, 5, 6]]
    grid[0][1] = -7
    assert raw.load("i", raw.dlsym(handle, "grid") + 4) == -7
    reals = (P.c_double * 4).from_address(raw.dlsym(handle, "reals"))
    assert reals[:] == [0.5, -1.25, 3e100, 0.0]
    text = (P.c_char * 8).from_address(raw.dlsym(handle, "text"))
    assert text.value == b"hello" and text.raw == b"hello\0\0\0"
    first = P.POINTER(P.c_int).from_address(raw.dlsym(handle, "first"))
    assert first[0:3] == [4, 5, 6] and first[-1] == 3

    class Pt(P.Structure):
        _fields_ = [("x", P.c_short), ("y", P.c_int)]
    pts = (Pt * 2).from_address(raw.dlsym(handle, "pts"))
    assert [(p.x, p.y) for p in pts] == [(1, 2), (-3, 40000)]


def test_in_dll_like_cpython(clib):
    mine, theirs = P.CDLL(clib), C.CDLL(clib)
    a = ((P.c_int * 3) * 2).in_dll(mine, "grid")
    b = ((C.c_int * 3) * 2).in_dll(theirs, "grid")
    assert [r[:] for r in a] == [r[:] for r in b]


def test_pure_mode_runs_the_same():
    code = ("from pyctypes import ctypes as P\n"
            "a = ((P.c_int * 3) * 2)()\n"
            "a[1][2] = 5\n"
            "print(a[1][:], P.create_string_buffer(b'ab').raw)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "PYCTYPES_PURE": "1"}, check=True)
    assert out.stdout == "[0, 0, 5] b'ab\\x00'\n"
