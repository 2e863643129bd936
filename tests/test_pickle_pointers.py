"""Pickling ctypes instances that hold pointers (issue 18, crash 2).

A pickle of a pointer copies an address without what it points to: unpickled
later or elsewhere, it dangles (a py_object's PyObject* is a dangling
reference).  CPython's __reduce__ refuses every instance whose type has the
"is/has pointer" flag with ValueError; every family is compared here with
CPython's _ctypes side by side.  Where CPython 3.11 pickles a pointer anyway
(subclasses of the pointer simple types, a structure subclass adding fields to
a base holding pointers) pyctypes refuses: those cases assert the difference.
"""

import ctypes as C
import pickle

import pytest

from pyctypes import ctypes as P

REFUSED = ("raise", "ValueError", "ctypes objects containing pointers cannot be pickled")


def outcome(fn):
    try:
        fn()
        return ("ok",)
    except Exception as exc:            # noqa: BLE001 - the outcome is compared
        return ("raise", type(exc).__name__, str(exc))


def families(ct):
    """name -> a function making an instance, for one binding."""
    class ObjS(ct.Structure):
        _fields_ = [("i", ct.c_int), ("p", ct.py_object)]

    class IntS(ct.Structure):
        _fields_ = [("i", ct.c_int), ("d", ct.c_double)]

    class Nested(ct.Structure):
        _fields_ = [("i", ct.c_int), ("inner", ObjS)]

    class NoFields(ObjS):
        pass

    class PtrU(ct.Union):
        _fields_ = [("p", ct.c_char_p), ("i", ct.c_long)]

    class IntU(ct.Union):
        _fields_ = [("d", ct.c_double), ("i", ct.c_int)]

    class WithArray(ct.Structure):
        _fields_ = [("a", ct.c_void_p * 2)]

    class WithFunc(ct.Structure):
        _fields_ = [("f", ct.CFUNCTYPE(ct.c_int))]

    class WithWchar(ct.Union):
        _fields_ = [("s", ct.c_wchar_p)]

    class WithPointer(ct.Structure):
        _fields_ = [("p", ct.POINTER(ct.c_int))]

    Func = ct.CFUNCTYPE(ct.c_int, ct.c_int)
    return {
        "py_object": lambda: ct.py_object(object()),
        "py_object empty": lambda: ct.py_object(),
        "c_char_p": lambda: ct.c_char_p(b"spam"),
        "c_wchar_p": lambda: ct.c_wchar_p("spam"),
        "c_void_p": lambda: ct.c_void_p(42),
        "pointer": lambda: ct.pointer(ct.c_int(42)),
        "function pointer": lambda: Func(lambda x: x),
        "function pointer, no address": lambda: Func(),
        "structure with py_object": lambda: ObjS(1, "x"),
        "structure nesting one": lambda: Nested(),
        "structure subclass without fields": lambda: NoFields(),
        "structure with a pointer array": lambda: WithArray(),
        "structure with a function pointer": lambda: WithFunc(),
        "structure with a pointer": lambda: WithPointer(),
        "union with c_char_p": lambda: PtrU(),
        "union with c_wchar_p": lambda: WithWchar(),
        "array of py_object": lambda: (ct.py_object * 2)(),
        "array of c_char_p": lambda: (ct.c_char_p * 2)(),
        "array of pointers": lambda: (ct.POINTER(ct.c_int) * 2)(),
        "array of structures with py_object": lambda: (ObjS * 2)(),
        "array of arrays of c_void_p": lambda: ((ct.c_void_p * 2) * 2)(),
        "empty array of c_void_p": lambda: (ct.c_void_p * 0)(),
        # pickled by both
        "c_int": lambda: ct.c_int(42),
        "c_char": lambda: ct.c_char(b"x"),
        "c_wchar": lambda: ct.c_wchar("x"),
        "c_double": lambda: ct.c_double(1.5),
        "structure of numbers": lambda: IntS(1, 2.5),
        "union of numbers": lambda: IntU(),
        "array of ints": lambda: (ct.c_int * 3)(1, 2, 3),
    }


NAMES = sorted(families(C))


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("name", NAMES)
def test_pickling_as_cpython(name, protocol):
    """dumps() refuses exactly what CPython refuses, with its text; the local
    classes of `families` are not importable, so what is not refused fails on
    the class lookup on both (PicklingError / AttributeError), after
    __reduce__ accepted it."""
    made_c, made_p = families(C)[name], families(P)[name]
    expected = outcome(lambda: pickle.dumps(made_c(), protocol))
    got = outcome(lambda: pickle.dumps(made_p(), protocol))
    assert got[:2] == expected[:2]
    if expected == REFUSED:
        assert got == REFUSED


@pytest.mark.parametrize("name", NAMES)
def test_reduce_as_cpython(name):
    """__reduce__ itself: refused with CPython's ValueError, or a tuple that
    rebuilds an equal instance (same bytes)."""
    expected = outcome(lambda: families(C)[name]().__reduce__())
    got = outcome(lambda: families(P)[name]().__reduce__())
    assert got == expected
    if got == ("ok",):
        obj = families(P)[name]()
        func, args = obj.__reduce__()[:2]
        copy = func(*args)
        assert type(copy) is type(obj)
        assert bytes(memoryview(copy).cast("B")) == bytes(memoryview(obj).cast("B"))


# module-level classes so that what pickles can be unpickled
class CPoint(C.Structure):
    _fields_ = [("x", C.c_int), ("y", C.c_double)]


class PPoint(P.Structure):
    _fields_ = [("x", P.c_int), ("y", P.c_double)]


def test_round_trip_of_what_pickles():
    for ct, Point in ((C, CPoint), (P, PPoint)):
        p = Point(3, 4.5)
        p.note = "kept"
        q = pickle.loads(pickle.dumps(p))
        assert (q.x, q.y, q.note) == (3, 4.5, "kept")
        assert pickle.loads(pickle.dumps(ct.c_int(7))).value == 7


# ---------------------------------------------------------------- deliberate differences

def differences(ct):
    class MyObject(ct.py_object):
        pass

    class MyCharP(ct.c_char_p):
        pass

    class MyWcharP(ct.c_wchar_p):
        pass

    class MyVoidP(ct.c_void_p):
        pass

    class Base(ct.Structure):
        _fields_ = [("p", ct.py_object)]

    class Derived(Base):
        _fields_ = [("i", ct.c_int)]

    class HoldsSubclass(ct.Structure):
        _fields_ = [("p", MyObject)]

    return {
        "py_object subclass": lambda: MyObject("x"),
        "c_char_p subclass": lambda: MyCharP(b"x"),
        "c_wchar_p subclass": lambda: MyWcharP("x"),
        "c_void_p subclass": lambda: MyVoidP(1),
        "structure subclass adding fields": lambda: Derived(),
        "structure with a py_object subclass field": lambda: HoldsSubclass(),
        "array of a py_object subclass": lambda: (MyObject * 1)(),
    }


@pytest.mark.parametrize("name", sorted(differences(C)))
def test_pointer_subclasses_refused_where_cpython_pickles(name):
    """CPython 3.11 flags only the direct children of _SimpleCData and does not
    pass the flag from a structure base to a subclass with fields: it pickles
    these raw addresses.  pyctypes refuses them (docs/differences.md: deliberate
    differences)."""
    assert outcome(lambda: differences(C)[name]().__reduce__()) == ("ok",)
    assert outcome(lambda: differences(P)[name]().__reduce__()) == REFUSED
