"""Fixtures of the _rawffi tests: the compiled C test library, and a small
call helper that uses CPython's stdlib ctypes only as an oracle and as
memory for arguments and results."""

import ctypes as C
import os
import pathlib

import pytest

from pyctypes import _rawffi as R

import cbuild

HERE = os.path.dirname(os.path.abspath(__file__))
CLIB = os.path.join(HERE, "clib")

# type code -> CPython ctypes type (the oracle's memory for that code)
CTYPE = {
    "b": C.c_byte, "B": C.c_ubyte, "h": C.c_short, "H": C.c_ushort,
    "i": C.c_int, "I": C.c_uint, "l": C.c_long, "L": C.c_ulong,
    "q": C.c_longlong, "Q": C.c_ulonglong, "f": C.c_float, "d": C.c_double,
    "g": C.c_longdouble, "?": C.c_bool, "c": C.c_char, "u": C.c_wchar,
    "z": C.c_char_p, "Z": C.c_wchar_p, "P": C.c_void_p, "O": C.c_void_p,
}


@pytest.fixture(scope="session")
def testlib_path():
    """Path of tests/native/clib/testlib.c compiled as a shared library."""
    return cbuild.shared_library(pathlib.Path(CLIB, "testlib.c"), "libtestlib",
                                 libs=["-lpthread"])


@pytest.fixture(scope="session")
def testlib(testlib_path):
    """A dlopen handle of the C test library."""
    return R.dlopen(testlib_path, R.RTLD_NOW | R.RTLD_LOCAL)


@pytest.fixture(scope="session")
def sym(testlib):
    """sym(name) -> address of a symbol of the C test library."""
    return lambda name: R.dlsym(testlib, name)


@pytest.fixture(scope="session")
def libc():
    return R.dlopen(None, R.RTLD_NOW)


def ffi_of(spec):
    """The FFIType of a type code or of a CPython ctypes Structure class
    (array members expanded element by element, nested structs recursively)."""
    if isinstance(spec, str):
        return R.FFIType.for_code(spec)
    return R.FFIType.struct(struct_elements(spec))


def struct_elements(cls):
    elements = []
    for _name, ftype in cls._fields_:
        count = 1
        while issubclass(ftype, C.Array):
            count *= ftype._length_
            ftype = ftype._type_
        if issubclass(ftype, C.Structure):
            element = ffi_of(ftype)
        else:
            element = R.FFIType.for_code(ftype._type_)
        elements.extend([element] * count)
    return elements


def ctype_of(spec):
    return CTYPE[spec] if isinstance(spec, str) else spec


def invoke(function, restype, argtypes, *args, flags=R.CALL_RELEASE_GIL, nfixed=-1, cif=None):
    """Call ``function`` through a CallInterface; arguments are values (or
    ctypes instances) converted through CPython's ctypes; returns the result
    as a ctypes instance (None for void)."""
    if cif is None:
        cif = R.CallInterface(ffi_of(restype), [ffi_of(a) for a in argtypes], nfixed)
    bufs = [a if isinstance(a, (C._SimpleCData, C.Structure)) else ctype_of(t)(a)
            for t, a in zip(argtypes, args)]
    result = None if restype == "v" else ctype_of(restype)()
    cif.call(function, [C.addressof(b) for b in bufs],
             0 if result is None else C.addressof(result), flags)
    return result


def value(function, restype, argtypes, *args, **kw):
    """invoke(), returning the .value of a simple result."""
    return invoke(function, restype, argtypes, *args, **kw).value


@pytest.fixture(scope="session")
def ffi():
    """The call helpers above, for the test modules: ffi.invoke, ffi.value,
    ffi.ffi_of, ffi.CTYPE."""
    import types
    return types.SimpleNamespace(invoke=invoke, value=value, ffi_of=ffi_of,
                                 struct_elements=struct_elements, CTYPE=CTYPE)
