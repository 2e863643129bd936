"""dlopen/dlsym/dlclose and the library classes of stdlib ctypes on pyctypes,
side by side with CPython's _ctypes."""

import ctypes as C
import os
import sys

import _ctypes
import pytest

import pyctypes._ctypes as ours
from pyctypes import ctypes as P

from diffhelp import outcome, run_script


def test_constants():
    assert (ours.RTLD_LOCAL, ours.RTLD_GLOBAL) == (_ctypes.RTLD_LOCAL, _ctypes.RTLD_GLOBAL)
    assert ours.dlopen.__doc__ == _ctypes.dlopen.__doc__
    assert ours.dlsym.__doc__ == _ctypes.dlsym.__doc__


def test_dlopen_dlsym_dlclose(clib_path):
    handle = ours.dlopen(clib_path, ours.RTLD_GLOBAL)
    address = ours.dlsym(handle, "ret_int")
    assert address == _ctypes.dlsym(handle, "ret_int")
    assert P.CFUNCTYPE(P.c_int, P.c_int)(address)(-17) == -17
    assert ours.dlsym(handle, "global_counter") == C.addressof(
        C.c_int.in_dll(C.CDLL(clib_path), "global_counter"))
    ours.dlclose(handle)
    assert isinstance(ours.dlopen(None), int)
    assert ours.dlopen(None) == _ctypes.dlopen(None)


@pytest.mark.parametrize("call", [
    lambda m: m.dlopen("/nonexistent/libnothing.so"),
    lambda m: m.dlopen("libnothing-at-all.so", m.RTLD_LOCAL),
    lambda m: m.dlopen("x\0y"),
    lambda m: m.dlopen(5),
    lambda m: m.dlopen(None, "x"),
    lambda m: m.dlsym(m.dlopen(None), "no_such_symbol_anywhere"),
    lambda m: m.dlsym(m.dlopen(None), "x\0y"),
    lambda m: m.dlsym(m.dlopen(None), b"abs"),
    lambda m: m.dlsym(0, "abs"),
    lambda m: m.dlclose(0),
])
def test_errors(call):
    assert outcome(call, ours) == outcome(call, _ctypes)


def test_paths_and_pathlike(clib_path):
    import pathlib
    assert ours.dlopen(pathlib.Path(clib_path)) == _ctypes.dlopen(clib_path)
    assert ours.dlopen(os.fsencode(clib_path)) == _ctypes.dlopen(clib_path)


def test_audit_events(clib_path):
    script = f"""
import sys
events = []
sys.addaudithook(lambda e, a: events.append((e, a)) if e.startswith("ctypes.") else None)
lib = ct.CDLL({clib_path!r})
f = lib.ret_int
g = ct.CFUNCTYPE(ct.c_int)((b"ret_int", lib))
import _ctypes
_ctypes.dlsym(lib._handle, "ret_long")
_ctypes.call_function(_ctypes.dlsym(lib._handle, "ret_int"), (1,))
print([(e, [type(x).__name__ if x is lib or type(x) is int else x for x in a])
       for e, a in events])
"""
    assert stdout_of(script, P) == stdout_of(script, C)


def stdout_of(script, ct):
    proc = run_script(script, ct)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cdll_classes(clib_path):
    def run(ct):
        lib = ct.CDLL(clib_path)
        f = lib.ret_int
        seen = [f.__name__, lib.ret_int is f, lib["ret_int"] is f, f(9),
                type(lib._FuncPtr).__name__, lib._FuncPtr._flags_, lib._FuncPtr._restype_.__name__,
                ct.CDLL(clib_path, use_errno=True)._FuncPtr._flags_,
                ct.PyDLL(clib_path)._FuncPtr._flags_,
                ct.CDLL(clib_path, mode=ct.RTLD_GLOBAL)._handle == lib._handle]
        seen.append(outcome(getattr, lib, "no_such_function"))
        seen.append(outcome(ct.CDLL, "/nonexistent/libnothing.so"))
        seen.append(ct.c_int.in_dll(lib, "global_counter").value)
        seen.append(outcome(ct.c_int.in_dll, lib, "no_such_variable"))
        return seen
    assert outcome(run, P) == outcome(run, C)


def test_library_loader(clib_path):
    def run(ct):
        loader = ct.LibraryLoader(ct.CDLL)
        return loader.LoadLibrary(clib_path).ret_long(7), ct.cdll.LoadLibrary(clib_path)._name
    assert outcome(run, P) == outcome(run, C)


def test_function_keeps_library_alive(clib_path):
    f = P.CDLL(clib_path).ret_int
    import gc
    gc.collect()
    assert type(f._objects["0"]).__name__ == "CDLL"
    assert f(5) == 5


def test_pythonapi_and_libc():
    assert P.pythonapi._handle == C.pythonapi._handle
    f = P.pythonapi.Py_GetVersion
    f.restype = P.c_char_p
    assert f() == sys.version.encode()
    libc = P.CDLL(None)
    assert libc.strlen(b"twelve chars") == 12
