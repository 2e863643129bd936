"""Simple types on pyctypes against CPython's _ctypes, side by side."""

import ctypes as C
import functools
import pickle
import sys

import pytest
from hypothesis import given, settings, strategies as st

from pyctypes import ctypes as P

import diffhelp

# the exception's class only: messages are not compared here
outcome = functools.partial(diffhelp.outcome, messages=False)

SIMPLE_NAMES = ["c_byte", "c_ubyte", "c_short", "c_ushort", "c_int", "c_uint", "c_long",
                "c_ulong", "c_longlong", "c_ulonglong", "c_float", "c_double", "c_longdouble",
                "c_bool", "c_char", "c_wchar", "c_char_p", "c_wchar_p", "c_void_p", "c_size_t",
                "c_ssize_t", "c_int8", "c_uint8", "c_int16", "c_uint16", "c_int32", "c_uint32",
                "c_int64", "c_uint64", "py_object"]
INT_NAMES = ["c_byte", "c_ubyte", "c_short", "c_ushort", "c_int", "c_uint", "c_long", "c_ulong",
             "c_longlong", "c_ulonglong"]


def test_bound_to_pyctypes():
    assert sys.modules["pyctypes.ctypes"] is P
    assert P.c_int is not C.c_int
    assert type(P.c_int).__module__ == "_ctypes"
    assert type(P.c_int).__name__ == "PyCSimpleType"
    assert P._SimpleCData.__module__ == "_ctypes"


@pytest.mark.parametrize("name", SIMPLE_NAMES)
def test_size_alignment_format(name):
    c, p = getattr(C, name), getattr(P, name)
    assert P.sizeof(p) == C.sizeof(c)
    assert P.alignment(p) == C.alignment(c)
    import _ctypes
    import pyctypes._ctypes
    assert pyctypes._ctypes.buffer_info(p) == _ctypes.buffer_info(c)
    assert p._type_ == c._type_


@pytest.mark.parametrize("name", INT_NAMES)
@given(value=st.integers(min_value=-2**70, max_value=2**70))
@settings(max_examples=40, deadline=None)
def test_integers_wrap_like_cpython(name, value):
    assert getattr(P, name)(value).value == getattr(C, name)(value).value


@pytest.mark.parametrize("name", ["c_float", "c_double", "c_longdouble"])
@given(value=st.floats(allow_nan=False) | st.integers(min_value=-2**60, max_value=2**60))
@settings(max_examples=40, deadline=None)
def test_floats_like_cpython(name, value):
    assert outcome(lambda: getattr(P, name)(value).value) == outcome(lambda: getattr(C, name)(value).value)


BAD_VALUES = [1.5, "a", b"a", b"ab", None, [], 256, -1, "ab", 2**64, object()]


@pytest.mark.parametrize("name", [n for n in SIMPLE_NAMES if n != "py_object"])
@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: type(v).__name__ + "-" + (repr(v) if type(v) is not object else "x"))
def test_construction_outcome_like_cpython(name, value):
    # A char*/wchar_t* made from an integer is an address: reading it back would
    # read wild memory (on CPython too), so only the construction is compared.
    reads_back = not (name in ("c_char_p", "c_wchar_p") and isinstance(value, int))

    def make(mod):
        obj = getattr(mod, name)(value)
        return obj.value if reads_back else None
    assert outcome(make, P) == outcome(make, C)


@pytest.mark.parametrize("name", [n for n in SIMPLE_NAMES if n != "py_object"])
def test_repr_default_and_bool(name):
    c, p = getattr(C, name)(), getattr(P, name)()
    assert repr(p) == repr(c)
    assert bool(p) == bool(c)


def test_subclass_is_not_converted():
    class MyInt(P.c_int):
        pass
    x = MyInt(3)
    assert x.__ctypes_from_outparam__() is x
    assert repr(x).startswith("<MyInt object at 0x")
    assert P.c_int(3).__ctypes_from_outparam__() == 3


def test_init_rules():
    with pytest.raises(TypeError):
        P.c_int(1, 2)
    assert P.c_int(value=7).value == C.c_int(value=7).value == 0
    with pytest.raises(TypeError, match="can't delete attribute"):
        del P.c_int().value


def test_type_code_errors():
    for bad, exc in [(5, TypeError), ("ii", ValueError), ("y", AttributeError), ("X", ValueError)]:
        with pytest.raises(exc):
            class T(P._SimpleCData):
                _type_ = bad
    with pytest.raises(AttributeError, match="class must define a '_type_' attribute"):
        class U(P._SimpleCData):
            pass
    with pytest.raises(TypeError, match="abstract class"):
        P._SimpleCData()


@pytest.mark.parametrize("name, value", [("c_int", 42), ("c_double", 1.5), ("c_char", b"a"),
                                         ("c_char", 200), ("c_float", 2), ("c_ubyte", 300)])
def test_from_param_repr(name, value):
    assert repr(getattr(P, name).from_param(value)) == repr(getattr(C, name).from_param(value))


@pytest.mark.parametrize("name", ["c_int", "c_char_p", "c_wchar_p", "c_void_p", "c_double"])
@pytest.mark.parametrize("value", [None, 5, 1.5, "s", b"b", [1]], ids=repr)
def test_from_param_outcome(name, value):
    def conv(mod):
        r = getattr(mod, name).from_param(value)
        return type(r).__name__
    assert outcome(conv, P) == outcome(conv, C)


def test_keepalive_shapes():
    assert P.c_char_p(b"abc")._objects == b"abc"
    assert P.c_int(5)._objects is None
    assert P.c_void_p(5)._objects is None
    assert P.py_object(3)._objects == 3
    assert P.c_wchar_p("xy").value == "xy"


def test_py_object_refcount():
    obj = object()
    before = sys.getrefcount(obj)
    holder = P.py_object(obj)
    assert holder.value is obj
    holder.value = None
    del holder
    assert sys.getrefcount(obj) == before


def test_swapped_twins():
    for name in ["c_short", "c_int", "c_long", "c_longlong", "c_float", "c_double"]:
        p, c = getattr(P, name), getattr(C, name)
        be = p.__ctype_be__
        assert be.__name__ == c.__ctype_be__.__name__
        assert p.__ctype_le__ is p
        x = be(1)
        assert bytes(x) == bytes(c.__ctype_be__(1))
        assert x.value == 1


def _twin_facts(ct):
    """What a program can see of the twins of a fundamental type and of a subclass
    (made on first use by pyctypes, eagerly by CPython)."""
    class MyShort(ct.c_short):
        x = 1

        def f(self):
            return 2

    be = MyShort.__ctype_be__
    return {
        "name": be.__name__, "qualname": be.__qualname__,
        "bases": [b.__name__ for b in be.__bases__],
        "namespace": (be.x, be(7).f()),
        "identity": (MyShort.__ctype_be__ is be, MyShort(1).__ctype_be__ is be,
                     be.__ctype_be__ is be, be.__ctype_le__ is MyShort,
                     MyShort.__ctype_le__ is MyShort, ct.c_short.__ctype_be__ is not be),
        "bytes": bytes(be(0x102)), "value": be(0x102).value,
        # a twin of a subclass is itself a subclass: its values stay instances
        "field": type(ct.BigEndianStructure.__class__("S", (ct.BigEndianStructure,), {
            "_fields_": [("a", ct.c_short), ("b", MyShort)]})().b).__name__,
        "none": [hasattr(getattr(ct, n), "__ctype_be__")
                 for n in ("c_char", "c_char_p", "c_longdouble", "c_void_p")],
    }


def test_swapped_twin_of_a_subclass():
    assert _twin_facts(P) == _twin_facts(C)


def test_c_bool_is_its_own_other_endian_type():
    # one byte has no byte order: c_bool (and a subclass) names itself, as
    # c_char and c_byte do, so it may be a field of a Big/LittleEndianStructure
    # (CPython 3.11-3.13 have no such attribute and refuse it: docs/differences.md)
    class MyBool(P.c_bool):
        pass
    for t in (P.c_bool, MyBool):
        assert t.__ctype_be__ is t and t.__ctype_le__ is t
    assert not hasattr(C.c_bool, "__ctype_be__")


@pytest.mark.parametrize("name", ["c_int", "c_double", "c_char", "c_bool", "c_longdouble"])
def test_pickle_roundtrip(name):
    x = getattr(P, name)()
    y = pickle.loads(pickle.dumps(x))
    assert bytes(y) == bytes(x) and type(y) is type(x)


@pytest.mark.parametrize("name", ["c_char_p", "c_wchar_p", "c_void_p"])
def test_pointers_refuse_pickling(name):
    with pytest.raises(ValueError, match="ctypes objects containing pointers cannot be pickled"):
        pickle.dumps(getattr(P, name)())


def test_memoryview_format():
    for name in ["c_int", "c_double", "c_char", "c_bool", "c_long"]:
        assert memoryview(getattr(P, name)()).format == memoryview(getattr(C, name)()).format
        assert memoryview(getattr(P, name)()).itemsize == memoryview(getattr(C, name)()).itemsize
