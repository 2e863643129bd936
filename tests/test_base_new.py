"""X.__new__(T) of the ctypes base classes with a class T of another family
(issue 18, crash 3), side by side with CPython's _ctypes.

CPython's Structure, Union, Array, _SimpleCData, _Pointer and CFuncPtr are C
types: their __new__ refuses a T that is not a subtype ("X.__new__(T): T is not
a subtype of X").  Made anyway, a py_object built by CFuncPtr.__new__ holds an
address, not an object, and its next read dereferences it.
"""

import ctypes as C
import os
import subprocess
import sys

import pytest

import pyctypes
from pyctypes import ctypes as P


def outcome(fn):
    try:
        return ("ok", type(fn()).__name__)
    except Exception as exc:            # noqa: BLE001 - the outcome is compared
        return ("raise", type(exc).__name__, str(exc))


def world(ct):
    class S(ct.Structure):
        _fields_ = [("i", ct.c_int)]

    class U(ct.Union):
        _fields_ = [("i", ct.c_int)]

    class Plain:
        pass

    Func = ct.CFUNCTYPE(ct.c_int)
    bases = {
        "Structure": ct.Structure, "Union": ct.Union, "Array": ct.Array,
        "_SimpleCData": ct.c_int.__mro__[1], "_Pointer": ct.POINTER(ct.c_int).__mro__[1],
        "CFuncPtr": Func.__mro__[1],
    }
    targets = {
        "py_object": ct.py_object, "c_int": ct.c_int, "c_char_p": ct.c_char_p, "S": S, "U": U,
        "array": ct.c_int * 2, "pointer": ct.POINTER(ct.c_int), "function": Func,
        "Plain": Plain, "int": int, **{"base " + k: v for k, v in bases.items()},
    }
    return bases, targets


BASES, TARGETS = (sorted(d) for d in world(C))


@pytest.mark.parametrize("args", [(), (1,), (0, 0)], ids=["no args", "one", "two"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("base", BASES)
def test_new_takes_only_subtypes(base, target, args):
    (cb, ct_), (pb, pt) = world(C), world(P)
    expected = outcome(lambda: cb[base].__new__(ct_[target], *args))
    got = outcome(lambda: pb[base].__new__(pt[target], *args))
    assert got == expected


@pytest.mark.parametrize("base", BASES)
def test_new_argument_errors(base):
    cb, pb = world(C)[0][base], world(P)[0][base]
    assert outcome(lambda: pb.__new__()) == outcome(lambda: cb.__new__())
    assert outcome(lambda: pb.__new__(1)) == outcome(lambda: cb.__new__(1))
    assert outcome(lambda: pb.__new__("x", 1)) == outcome(lambda: cb.__new__("x", 1))


def test_subtypes_still_made():
    """What the check lets through is made as before: subclasses of the base,
    a Python __new__ calling super().__new__, pickling's typ.__new__(typ)."""
    import pickle
    for ct in (C, P):
        class S(ct.Structure):
            _fields_ = [("i", ct.c_int)]

        class Tagged(ct.Structure):
            _fields_ = [("i", ct.c_int)]

            def __new__(cls, *args, **kwargs):
                obj = super().__new__(cls, *args, **kwargs)
                obj.tag = "made"
                return obj

        assert type(ct.c_int.__new__(ct.c_long)) is ct.c_long
        assert type(ct.Structure.__new__(S)) is S
        assert (Tagged(5).i, Tagged(5).tag) == (5, "made")
        assert ct.POINTER(ct.c_int).__new__(ct.POINTER(ct.c_long)).__class__.__name__ == "LP_c_long"
        assert ct.sizeof(ct.c_int.__mro__[1].__new__(ct.c_double)) == ct.sizeof(ct.c_double)
        assert pickle.loads(pickle.dumps(ct.c_int(3))).value == 3


def test_base_names_as_cpython():
    """The bases' C names (in texts) are CPython's; their Python names stay."""
    for name in ("Structure", "Union", "Array"):
        assert getattr(P, name).__name__ == name == getattr(C, name).__name__
        assert repr(getattr(P, name)) == repr(getattr(C, name))


SCRIPT = """
import sys
if sys.argv[1] == "pyctypes":
    from pyctypes import ctypes as ct
else:
    import ctypes as ct
Func = ct.CFUNCTYPE(ct.c_int)
FuncBase = Func.__mro__[1]
for target in (ct.py_object, ct.c_char_p, ct.c_wchar_p):
    for base in (FuncBase, ct.Structure, ct.Union, ct.Array):
        try:
            obj = base.__new__(target, 12345)
        except TypeError as exc:
            print("refused", exc)
            continue
        print("made", obj.value)            # reads the stored address
"""


def test_refused_before_any_read(tmp_path):
    """The issue's crash: the object, if made, would be read; in a child
    process so that a crash fails this test only."""
    script = tmp_path / "new_then_read.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pyctypes.__file__)))
    runs = [subprocess.run([sys.executable, str(script), which], capture_output=True, text=True,
                           env=env, timeout=120) for which in ("ctypes", "pyctypes")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[1].returncode == 0, runs[1].stderr[-2000:]
    assert runs[1].stdout == runs[0].stdout
    assert runs[0].stdout.count("refused") == 12
