"""What differs between CPython 3.11, 3.12 and 3.13, against the running
version's CPython `_ctypes` (differential: `same`).  tests/versions runs this
file on each supported version, in both modes."""

import os
import pathlib
import re
import sys
import types

import _ctypes as C_ctypes
import pytest

import pyctypes
from pyctypes import _ctypes as P_ctypes
from pyctypes._ctypes import versions

from diffhelp import C, P, outcome, same

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "pyctypes"
DISALLOW_INSTANTIATION, IMMUTABLETYPE = 1 << 7, 1 << 8


def test_version_policy_is_in_one_place():
    # the families read versions.py's flags; nothing else in _ctypes asks
    # which version it is
    readers = sorted(p.name for p in (SRC / "_ctypes").glob("*.py")
                     if "version_info" in p.read_text() and p.name != "versions.py")
    assert readers == []
    assert sys.version_info[:2] in pyctypes.SUPPORTED_VERSIONS


def test_public_names_are_the_versions():
    # every name of the version's _ctypes, and no other public one (the
    # package's own modules aside)
    theirs = {n for n in dir(C_ctypes) if not n.startswith("__")}
    ours = {n for n in dir(P_ctypes) if not isinstance(getattr(P_ctypes, n), types.ModuleType)}
    assert theirs <= ours
    assert {n for n in ours if not n.startswith("_")} == {n for n in theirs if not n.startswith("_")}


def test_sizeof_time_t():
    assert getattr(P_ctypes, "SIZEOF_TIME_T", None) == getattr(C_ctypes, "SIZEOF_TIME_T", None)
    same(lambda m: (m.sizeof(m.c_time_t), m.c_time_t.__name__) if hasattr(m, "c_time_t") else None)


class Marker:
    pass


class AsParameter:
    def __init__(self, value):
        self._as_parameter_ = value


@pytest.mark.parametrize("typename", ["c_int", "c_char", "c_wchar", "c_double", "c_longdouble",
                                      "c_bool", "c_uint8", "c_char_p", "c_wchar_p", "c_void_p",
                                      "py_object"])
@pytest.mark.parametrize("value", ["x", b"abc", 10, 2.5, Marker(), AsParameter(1.5),
                                   AsParameter("zz"), None],
                         ids=["str", "bytes", "int", "float", "object", "as_parameter-float",
                              "as_parameter-str", "None"])
def test_from_param_errors(typename, value):
    # 3.12 keeps the setter's error, 3.13 names c_char_p/c_wchar_p/c_void_p
    same(lambda m: type(getattr(m, typename).from_param(value)).__name__)


@pytest.mark.parametrize("argtype", ["c_int", "c_char", "c_wchar", "c_char_p", "c_void_p"])
def test_argument_errors_of_calls(argtype):
    def run(m):
        f = m.CFUNCTYPE(m.c_int, getattr(m, argtype))(lambda x: 0)
        return [outcome(f, v) for v in ("str", b"abc", 10, 2.5, Marker())]
    same(run)


def test_argument_errors_keep_the_subclass_rules():
    def run(m):
        class MyP(m.c_char_p):
            pass

        class MyV(m.c_void_p):
            pass
        return [outcome(MyP.from_param, 10), outcome(MyV.from_param, 2.5)]
    same(run)


FORMAT_CASES = [
    [("a", "c_char"), ("b", "c_int")],
    [("a", "c_int"), ("b", "c_char")],
    [("a", "c_char"), ("b", "c_double"), ("c", "c_char")],
    [("a", "c_char"), ("b", "c_longdouble")],
    [("a", "c_char"), ("b", "c_int * 3"), ("c", "c_short")],
    [("a", "c_short"), ("b", "c_void_p")],
    [],
]


def _side_by_side_names(value):
    """Class names in a result or message, the side-by-side copy's as the stdlib's."""
    return str(value).replace("pyctypes.ctypes", "ctypes")


@pytest.mark.parametrize("pack", [None, 1, 2, 4])
@pytest.mark.parametrize("fields", FORMAT_CASES, ids=str)
@pytest.mark.parametrize("base", ["Structure", "BigEndianStructure", "Union"])
def test_pep3118_formats(fields, pack, base):
    # 3.12 names the padding, packed structures included
    def run(m):
        ns = {"_fields_": [(n, eval(t, vars(m))) for n, t in fields]}
        if pack is not None:
            ns["_pack_"] = pack
        S = type(getattr(m, base))("S", (getattr(m, base),), ns)
        return memoryview(S()).format, memoryview((S * 2)()).format
    same(run, norm=_side_by_side_names)


def test_pep3118_formats_of_subclasses_and_nesting():
    def run(m):
        class B(m.Structure):
            _fields_ = [("a", m.c_char)]

        class D(B):
            _fields_ = [("b", m.c_int)]

        class A(m.Structure):
            _anonymous_ = ("u",)
            _fields_ = [("x", m.c_char), ("u", D), ("y", D * 2)]
        return [memoryview(t()).format for t in (B, D, A)]
    same(run)


@pytest.mark.parametrize("align", [None, 0, 1, 2, 3, 8, 16, -1, "x", 2 ** 40, 1.5, True])
@pytest.mark.parametrize("base", ["Structure", "Union", "BigEndianStructure", "LittleEndianUnion"])
def test_align(align, base):
    # _align_ is 3.13's; before, an attribute like any other
    def run(m):
        ns = {"_fields_": [("a", m.c_char), ("b", m.c_short)]}
        if align is not None:
            ns["_align_"] = align
        S = type(getattr(m, base))("S", (getattr(m, base),), ns)

        class Outer(m.Structure):
            _fields_ = [("c", m.c_char), ("s", S), ("d", m.c_char)]
        return (m.sizeof(S), m.alignment(S), m.sizeof(Outer), Outer.s.offset, Outer.d.offset,
                memoryview(Outer()).format if "Union" not in base else None)
    same(run)


def test_align_inherited_and_packed():
    def run(m):
        class B(m.Structure):
            _align_ = 8
            _fields_ = [("a", m.c_char)]

        class D(B):
            _fields_ = [("b", m.c_char)]

        class Late(m.Structure):
            _align_ = 4
        Late._fields_ = [("a", m.c_char)]

        class Packed(m.Structure):
            _pack_ = 1
            _fields_ = [("a", m.c_char), ("b", B), ("c", m.c_char)]
        return [(m.sizeof(t), m.alignment(t)) for t in (B, D, Late, Packed)] + [Packed.c.offset]
    same(run)


@pytest.mark.parametrize("family", ["Structure", "Union", "Array", "_Pointer", "_SimpleCData",
                                    "CFuncPtr"])
def test_metaclass_init(family):
    # 3.13 makes the type data in the metaclass's __init__
    def run(m):
        base = getattr(m, family)
        meta = type(base)
        ns = {"Structure": {"_fields_": [("a", m.c_int)]}, "Union": {"_fields_": [("a", m.c_int)]},
              "Array": {"_type_": m.c_int, "_length_": 2}, "_Pointer": {"_type_": m.c_int},
              "_SimpleCData": {"_type_": "i"}, "CFuncPtr": {"_flags_": m._FUNCFLAG_CDECL}}[family]
        made_by_new = meta.__new__(meta, "N", (base,), dict(ns))
        whole = meta("W", (base,), dict(ns))
        return [outcome(made_by_new), outcome(m.sizeof, made_by_new),
                outcome(meta.__init__, whole, "W", (base,), dict(ns)), m.sizeof(whole)]
    same(run, norm=lambda v: re.sub(r" at 0x[0-9a-f]+", "", repr(v)))


def test_metaclass_init_order():
    def run(m):
        seen = []

        class Meta(type(m.Structure)):
            def __init__(cls, *args, **kwargs):
                seen.append(outcome(m.sizeof, cls))
                super().__init__(*args, **kwargs)
                seen.append(outcome(m.sizeof, cls))

        class S(m.Structure, metaclass=Meta):
            _fields_ = [("a", m.c_int)]
        return seen
    same(run)


def test_metaclass_base_and_dicts():
    def run(m):
        names = [c.__name__ for c in type(m.Structure).__mro__]
        common = "CType_Type" in names
        return (common, sorted(k for k in type(m.Structure).__dict__
                               if k in ("__new__", "__init__", "__setattr__", "__delattr__")),
                (m.c_int * 3).__name__, outcome(lambda: m.c_int * -1))
    same(run)


@pytest.mark.parametrize("target", ["5", "'x'", "int", "m.c_int", "m.Structure", "None",
                                    "m.c_int * 2"])
def test_cast_errors(target):
    same(lambda m: m.cast(3, eval(target)))


def test_immutable_classes():
    # CPython writes these classes in C: immutable on every version
    def run(m):
        class X(m.Structure):
            _fields_ = [("x", m.c_int)]
        classes = [m.Structure, m.Union, m.Array, m._Pointer, m._SimpleCData, m.CFuncPtr,
                   m.Structure.__base__, type(X.x)]
        classes += [type(c) for c in classes[:6]]
        flags = [bool(c.__flags__ & IMMUTABLETYPE) for c in classes]
        disallow = [bool(c.__flags__ & DISALLOW_INSTANTIATION) for c in classes]

        def assign():
            m.Structure.anything = 1
        return flags, disallow, outcome(assign), outcome(type(X.x)), outcome(m.Structure.__base__)
    same(run)
    # their subclasses are not
    class Y(P.Structure):
        pass
    Y.anything = 1


def test_carg_object_type():
    same(lambda m: (type(m.byref(m.c_int())).__module__, type(m.byref(m.c_int())).__name__,
                    type(m.c_int.from_param(3)).__qualname__))


@pytest.mark.parametrize("size", [-2, -5, 0])
def test_string_at_sizes(size):
    same(lambda m: m.string_at(m.create_string_buffer(b"abc"), size))
    same(lambda m: m.wstring_at(m.create_unicode_buffer("abc"), size))


def test_path_like_library_names():
    same(lambda m: m.CDLL(pathlib.Path(os.devnull).parent / "nonexistent.so"))


def test_old_structure_semantics():
    def run(m):
        class B(m.Structure):
            _fields_ = [("a", m.c_int)]

        class D(B):
            _use_broken_old_ctypes_structure_semantics_ = True
            _fields_ = [("b", m.c_int)]
        return m.sizeof(D), D.b.offset
    same(run)


def test_big_endian_union_in_big_endian_structure():
    def run(m):
        class U(m.BigEndianUnion):
            _fields_ = [("a", m.c_int32), ("b", m.c_int16)]

        class S(m.BigEndianStructure):
            _fields_ = [("x", m.c_char), ("u", U)]
        s = S(b"x", U(0x01020304))
        return m.sizeof(S), S.u.offset, bytes(s)
    ours, theirs = outcome(run, P), outcome(run, C)
    if theirs[0] == "raise":        # before 3.13 (pyctypes takes it: README)
        assert ours[0] == "ok"
    else:
        assert ours == theirs


def test_set_pointer_type_warns_as_the_version_does():
    import warnings

    def run(m):
        lp = m.POINTER("incomplete_%s" % m.__name__.replace(".", "_"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            class T(m.Structure):
                _fields_ = [("a", m.c_int)]
            m.SetPointerType(lp, T)
        return [w.category.__name__ for w in caught], lp._type_.__name__
    same(run)


@pytest.mark.parametrize("pure", ["0", "1"])
def test_libc_tour_prints_what_cpython_prints(pure):
    # the README's main job, on the running version
    import subprocess
    script = str(SRC.parents[1] / "examples" / "libc_tour.py")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pyctypes.__file__)),
               PYCTYPES_PURE=pure)
    env.pop("PYCTYPES_INSTALL", None)

    def output(*command):
        proc = subprocess.run([sys.executable, *command], env=env, capture_output=True,
                              text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr
    ours, theirs = output("-m", "pyctypes", "run", script), output(script)
    # the first line names the _ctypes that runs; every other line is the same
    assert ours[1].splitlines()[0] == "ctypes runs on pyctypes._ctypes"
    assert theirs[1].splitlines()[0] == "ctypes runs on _ctypes"
    assert ours[1].splitlines()[1:] == theirs[1].splitlines()[1:]
    assert ours[0] == theirs[0] == 0 and ours[2] == theirs[2]
