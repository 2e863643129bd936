"""Programs recognise ctypes classes by their bases: the class before object is
in module _ctypes on CPython (numpy's npy_ctypes_check relies on it)."""

import ctypes as C

import pytest

from pyctypes import ctypes as P


def kinds(ct):
    class S(ct.Structure):
        _fields_ = [("a", ct.c_int)]

    class U(ct.Union):
        _fields_ = [("a", ct.c_int)]
    return {"simple": ct.c_uint16, "structure": S, "union": U, "array": ct.c_int * 3,
            "pointer": ct.POINTER(ct.c_int), "function": ct.CFUNCTYPE(ct.c_int)}


@pytest.mark.parametrize("kind", ["simple", "structure", "union", "array", "pointer", "function"])
def test_last_base_is_in_module_ctypes(kind):
    for ct in (C, P):
        cls = kinds(ct)[kind]
        assert cls.__mro__[-1] is object
        assert "_ctypes" in cls.__mro__[-2].__module__


def test_numpy_sees_pyctypes_types():
    import numpy as np
    # (Array and Structure types are told apart by numpy through issubclass of
    # the process's _ctypes classes, so side by side only simple types map; the
    # programs harness runs numpy's own tests with ctypes bound to pyctypes.)
    assert np.dtype(P.c_uint16) == np.dtype(C.c_uint16) == np.uint16
    assert np.dtype(P.c_double) == np.float64
