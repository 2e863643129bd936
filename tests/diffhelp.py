"""Differential tests: the same code on pyctypes (`P`, ``from pyctypes import
ctypes``) and on CPython's own `_ctypes` (`C`, the stdlib ``ctypes``), side by
side in one process, with comparable outcomes.

    same(lambda m: m.c_int * -1)                  # m is P, then C: equal outcomes
    same(libs, lambda m, lib: lib.ret_int(3))     # libs = {C: C.CDLL(..), P: P.CDLL(..)}

An outcome is ``("ok", result)`` or ``("raise", exception class name,
message)``: exception classes are compared by name, since each side has its
own (ArgumentError).  Results are compared through a normaliser, because the
two implementations' instances and classes are distinct objects; which
normaliser a test file uses decides what "the same" means there (see
`normaliser` and its leaf rules below).  Every module under tests/ can
``import diffhelp`` (pytest puts tests/, the directory of the top conftest.py,
on sys.path).
"""

import math
import os
import re
import struct
import subprocess
import sys

import ctypes as C
from pyctypes import ctypes as P

__all__ = ["C", "P", "outcome", "same", "run_script", "normaliser", "by_value", "by_bytes",
           "by_type_name", "by_type_name_and_address", "structure_values", "by_bits",
           "unraisable_report"]


def outcome(fn, *args, norm=None, messages=True, reraise=(), **kwargs):
    """What fn(*args, **kwargs) does: ("ok", norm(result)) or ("raise",
    exception class name, norm(message)); with messages=False, ("raise", name)
    only.  norm runs inside the try: an exception it raises is part of the
    outcome.  Exceptions of the classes in `reraise` propagate."""
    try:
        result = fn(*args, **kwargs)
        return ("ok", result if norm is None else norm(result))
    except reraise:
        raise
    except Exception as exc:            # noqa: BLE001 - the outcome is compared
        if not messages:
            return ("raise", type(exc).__name__)
        text = str(exc)
        return ("raise", type(exc).__name__, text if norm is None else norm(text))


def same(libs, fn=None, *, norm=None):
    """same(fn): fn(module) has the same outcome on pyctypes and on CPython;
    same(libs, fn): fn(module, libs[module]) has, with libs = {C: .., P: ..}
    (a library loaded by each side).  pyctypes runs first.  Returns the
    (equal) outcome."""
    if fn is None:
        fn, libs = libs, None

    def on(m):
        return outcome(fn, m, norm=norm) if libs is None else outcome(fn, m, libs[m], norm=norm)
    mine, theirs = on(P), on(C)
    assert mine == theirs
    return mine


def run_script(script, ct):
    """Run `script` in a new interpreter, after ``import ctypes as ct`` bound to
    pyctypes (ct is P: pyctypes.install() first) or to CPython's _ctypes (ct is
    C); the CompletedProcess, output as text."""
    import pyctypes
    prelude = "import pyctypes; pyctypes.install(); " if ct is P else ""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pyctypes.__file__)))
    return subprocess.run([sys.executable, "-c", prelude + "import ctypes as ct\n" + script],
                          capture_output=True, text=True, env=env, timeout=60)


# ---------------------------------------------------------------- normalisers

def normaliser(leaf, *, tagged_sequences=False, id_keys=False):
    """norm(value): lists and tuples item by item (as the same type, or with
    tagged_sequences as (type name, [items])), dicts value by value (with
    id_keys, a key that is not a string -- an id() in a keep-alive dict --
    becomes "id"), anything else through leaf(value)."""
    def norm(value):
        if isinstance(value, (list, tuple)):
            if tagged_sequences:
                return type(value).__name__, [norm(v) for v in value]
            return type(value)(norm(v) for v in value)
        if isinstance(value, dict):
            return {("id" if id_keys and not isinstance(k, str) else k): norm(v)
                    for k, v in value.items()}
        return leaf(value)
    return norm


def _is_cdata(value):
    """A ctypes instance of either implementation (not a class)."""
    return isinstance(value, (C._SimpleCData.__mro__[1], P._SimpleCData.__mro__[1]))


def by_value(value):
    """ctypes instances by class name, and by value for instances of the
    fundamental simple types (direct subclasses of _SimpleCData); other
    instances' memory is an address or a reference (pointers, arrays of
    pointers): not compared.  Used by the pointer and array tests."""
    if _is_cdata(value):
        simple = type(value).__bases__[0].__name__ == "_SimpleCData"
        return ("cdata", type(value).__name__, value.value if simple else None)
    return value


_DATA_FAMILIES = (C._SimpleCData, C.Structure, C.Union, C.Array, C._Pointer,
                  P._SimpleCData, P.Structure, P.Union, P.Array, P._Pointer)


def by_bytes(value):
    """Data instances (simple, structure, union, array, pointer) by class name
    and their bytes.  Used by the fast-path access tests, which compare what
    the native stores wrote."""
    if isinstance(value, _DATA_FAMILIES):
        return ("cdata", type(value).__name__, bytes(memoryview(value).cast("B")))
    return value


def by_type_name(value):
    """Classes by name, ctypes instances by their class's name only (a call's
    result object; its value is compared by the test where it matters).  Used
    by the function tests."""
    if isinstance(value, type):
        return ("type", value.__name__)
    if _is_cdata(value):
        return ("instance", type(value).__name__)
    return value


def by_type_name_and_address(value):
    """As by_type_name, and an integer above 2**40 is "<address>" (pointers
    passed through and returned differ between the two processes' heaps).
    Used by the fast-path call tests."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 1 << 40:
        return "<address>"
    return by_type_name(value)


def structure_values(value):
    """Simple instances by class name and value, other instances by class name
    and bytes, field descriptors by repr, classes by name, and class reprs in
    texts by class name (which module first made LP_c_int differs by process).
    Used by the structure tests."""
    if isinstance(value, str):
        return re.sub(r"<class '[\w.]*?(\w+)'>", r"<class '\1'>", value)
    if type(value).__name__ == "CField":
        return ("field", repr(value))
    if isinstance(value, type):
        return ("type", value.__name__)
    if isinstance(value, (C._SimpleCData, P._SimpleCData)):
        return ("simple", type(value).__name__, value.value)
    if _is_cdata(value):
        return ("cdata", type(value).__name__, bytes(memoryview(value).cast("B")))
    return value


def by_bits(value, _depth=0):
    """The strictest form, of the reliability tests: floats by their bits
    (NaN == NaN), ctypes instances by class name and bytes (char and wchar_t
    pointers by the value they point to, pointers and function pointers by
    whether they are NULL), dicts as sorted items, any other object by its
    class name."""
    if _depth > 20:
        return "<deep>"
    if isinstance(value, float):
        if math.isnan(value):
            return ("float", "nan")
        return ("float", struct.pack("<d", value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(by_bits(v, _depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, by_bits(v, _depth + 1)) for k, v in value.items())))
    if isinstance(value, (C._Pointer, P._Pointer, C._CFuncPtr, P._CFuncPtr)):
        return ("pointer", type(value).__name__, bool(value))      # bytes: an address
    if _is_cdata(value):
        name = type(value).__name__
        if getattr(type(value), "_type_", None) in ("z", "Z"):     # bytes are an address
            return ("cdata", name, by_bits(value.value, _depth + 1))
        try:
            data = bytes(memoryview(value).cast("B"))
        except Exception as exc:           # noqa: BLE001 - kept as part of the outcome
            data = ("no buffer", type(exc).__name__)
        return ("cdata", name, data)
    if isinstance(value, type):
        return ("type", value.__name__)
    if isinstance(value, (int, str, bytes, bool, type(None))):
        return value
    return ("object", type(value).__name__)


def unraisable_report(message, callback):
    """(err_msg, object) that sys.unraisablehook gets for an error of a
    callback, on the running version (the tests check both CPython and
    pyctypes against it): "Exception ignored <message>" and the callback,
    or from 3.13 the callback named in the message and no object."""
    from pyctypes._ctypes import versions
    if versions.UNRAISABLE_MESSAGE_NAMES_OBJECT:
        return "Exception ignored %s %r" % (message, callback), None
    return "Exception ignored " + message, callback
