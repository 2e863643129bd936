"""Function pointers and foreign calls on pyctypes, side by side with CPython's
_ctypes, against the C functions of tests/clib/funcs.c."""

import ctypes as C
import functools
import math
import sys

import pytest
from hypothesis import given, settings, strategies as st

from pyctypes import ctypes as P

import diffhelp
from diffhelp import by_type_name, normaliser

norm = normaliser(by_type_name)
outcome = functools.partial(diffhelp.outcome, norm=norm)
same = functools.partial(diffhelp.same, norm=norm)


@pytest.fixture
def libs(clib_path):
    """The C test library loaded by CPython's ctypes and by pyctypes (fresh
    function objects for every test)."""
    return {C: C.CDLL(clib_path), P: P.CDLL(clib_path)}


@pytest.fixture(scope="module")
def shared_libs(clib_path):
    """As libs, shared by the examples of a property test."""
    return {C: C.CDLL(clib_path), P: P.CDLL(clib_path)}


# ---------------------------------------------------------------- types and construction

def test_names_and_plan():
    import _ctypes
    import pyctypes._ctypes as ours
    proto = P.CFUNCTYPE(P.c_int, P.c_char)
    assert type(proto).__name__ == "PyCFuncPtrType" and type(proto).__module__ == "_ctypes"
    assert ours.CFuncPtr.__name__ == "CFuncPtr" and ours.CFuncPtr.__module__ == "_ctypes"
    assert proto.__mro__[1] is ours.CFuncPtr
    assert proto.__mro__[2] is ours._SimpleCData.__mro__[1]       # _ctypes._CData
    assert (proto._flags_, proto._argtypes_, proto._restype_) == (1, (P.c_char,), P.c_int)
    assert P.sizeof(proto) == P.alignment(proto) == C.sizeof(C.c_void_p)
    assert ours.buffer_info(proto) == _ctypes.buffer_info(C.CFUNCTYPE(C.c_int)) == ("X{}", 0, ())
    for name in ("FUNCFLAG_CDECL", "FUNCFLAG_PYTHONAPI", "FUNCFLAG_USE_ERRNO",
                 "FUNCFLAG_USE_LASTERROR", "CTYPES_MAX_ARGCOUNT", "RTLD_GLOBAL", "RTLD_LOCAL"):
        assert getattr(ours, name) == getattr(_ctypes, name)
    assert sorted(k for k in vars(ours.CFuncPtr) if not k.startswith("_")) == \
        sorted(k for k in vars(_ctypes.CFuncPtr) if not k.startswith("_"))


@pytest.mark.parametrize("body", [
    "class X(base): pass",
    "class X(base):\n    _flags_ = 'x'",
    "class X(base):\n    _flags_ = 1\n    _argtypes_ = 5",
    "class X(base):\n    _flags_ = 1\n    _argtypes_ = (ct.c_int, 1)",
    "class X(base):\n    _flags_ = 1\n    _restype_ = 5",
    "class X(base):\n    _flags_ = 1\n    _argtypes_ = (ct.c_int,) * 1025",
])
def test_type_creation_errors(body):
    def make(ct):
        namespace = {"base": ct.CFUNCTYPE(ct.c_int, ct.c_int), "ct": ct}
        exec(body, namespace)
        return namespace["X"]._flags_
    expected = outcome(make, C)
    assert expected[0] == "raise"
    assert outcome(make, P) == expected


def test_subclass_keeps_only_own_plan():
    def make(ct):
        class X(ct.CFUNCTYPE(ct.c_int, ct.c_int)):
            _flags_ = ct._FUNCFLAG_CDECL
        return X(lambda x: x)
    assert outcome(make, P) == outcome(make, C)


@pytest.mark.parametrize("args", [
    (), (0,), (1234,), (-1,), (2**64 - 1,), (2**64,), (-2**63 - 1,), ("abc",), (1.5,), (None,),
    (13, "name"), (13, "name", 42, "iid"), (lambda: 1, 2),
])
def test_construction_forms(args):
    def make(ct):
        f = ct.CFUNCTYPE(ct.c_int)(*args)
        address = ct.c_void_p.from_buffer(f).value
        return (address, bool(f), f._objects, repr(f).split(" at ")[0])
    assert outcome(make, P) == outcome(make, C)


def test_abstract_base():
    import _ctypes
    import pyctypes._ctypes as ours
    for call in [lambda m: m.CFuncPtr(), lambda m: m.CFuncPtr(5),
                 lambda m: m.CFuncPtr(lambda: 1), lambda m: m.CFuncPtr(13, "name", 42, "iid")]:
        assert outcome(call, ours) == outcome(call, _ctypes)


def test_repr_and_bool():
    f = P.CFUNCTYPE(P.c_int)()
    assert repr(f) == "<CFunctionType object at %#x>" % id(f)
    assert not f
    assert P.CFUNCTYPE(P.c_int)(1234)
    for ct in (C, P):
        assert outcome(hash, ct.CFUNCTYPE(ct.c_int)()) == ("raise", "TypeError", "unhashable type")


@pytest.mark.parametrize("spec", [
    ("ret_int",), ("ret_int", "LIB", 3), ("nonexistent_function", "LIB"), (b"ret_int", "LIB"),
    (5, "LIB"), ("ret_int", 5), ("ret_int\0garbage", "LIB"), (),
])
def test_from_dll(libs, spec):
    def make(ct, lib):
        s = tuple(lib if item == "LIB" else item for item in spec)
        f = ct.CFUNCTYPE(ct.c_int, ct.c_int)(s)
        return f(7), f._objects == {"0": lib}
    same(libs, make)


def test_missing_symbol_message(libs, clib_path):
    def get(ct, lib):
        return lib.no_such_function
    result = same(libs, get)
    assert result[:2] == ("raise", "AttributeError")
    assert "undefined symbol: no_such_function" in result[2]


def test_handle_must_be_int():
    class Fake:
        _handle = "x"

    def make(ct):
        return ct.CFUNCTYPE(ct.c_int)(("abs", Fake()))
    assert outcome(make, P) == outcome(make, C)


# ---------------------------------------------------------------- argtypes, restype, errcheck

def test_attributes(libs):
    def run(ct, lib):
        f = lib.ret_int
        seen = [f.argtypes, f.restype, f.errcheck]
        f.argtypes = [ct.c_int]
        seen.append(f.argtypes)
        f.restype = ct.c_char
        seen += [f.restype, f(65)]
        del f.restype
        seen += [f.restype, f(65)]
        f.restype = None
        seen.append(f(65))
        del f.argtypes
        seen.append(f.argtypes)
        f.argtypes = None
        f.restype = ct.c_int
        f.errcheck = lambda result, func, args: (result, func is f, args)
        seen.append(f(3))
        del f.errcheck
        seen += [f.errcheck, f(4)]
        return seen
    same(libs, run)


@pytest.mark.parametrize("name,value", [
    ("argtypes", [1]), ("argtypes", 5), ("argtypes", "ab"), ("argtypes", [C.c_int] * 1025),
    ("restype", 5), ("restype", "x"), ("errcheck", 5), ("errcheck", None),
])
def test_attribute_errors(libs, name, value):
    def run(ct, lib):
        v = value
        if isinstance(v, list) and v and v[0] is C.c_int:
            v = [ct.c_int] * len(v)
        setattr(lib.ret_long, name, v)
    result = same(libs, run)
    assert result[0] == "raise"


def test_type_and_instance_attributes():
    def run(ct):
        proto = ct.CFUNCTYPE(ct.c_long, ct.c_int)
        f = proto()
        seen = [f.argtypes, f.restype]
        f.argtypes = (ct.c_char_p,)
        f.restype = None
        seen += [f.argtypes, f.restype, proto._argtypes_, proto._restype_]
        del f.argtypes, f.restype
        seen += [f.argtypes, f.restype]
        return seen
    assert outcome(run, P) == outcome(run, C)


# ---------------------------------------------------------------- calls with argtypes

SCALARS = [
    ("ret_schar", "c_byte", st.integers(-128, 127)),
    ("ret_uchar", "c_ubyte", st.integers(0, 255)),
    ("ret_short", "c_short", st.integers(-2**15, 2**15 - 1)),
    ("ret_ushort", "c_ushort", st.integers(0, 2**16 - 1)),
    ("ret_int", "c_int", st.integers(-2**31, 2**31 - 1)),
    ("ret_uint", "c_uint", st.integers(0, 2**32 - 1)),
    ("ret_long", "c_long", st.integers(-2**63, 2**63 - 1)),
    ("ret_ulong", "c_ulong", st.integers(0, 2**64 - 1)),
    ("ret_longlong", "c_longlong", st.integers(-2**63, 2**63 - 1)),
    ("ret_ulonglong", "c_ulonglong", st.integers(0, 2**64 - 1)),
    ("ret_size_t", "c_size_t", st.integers(0, 2**64 - 1)),
    ("ret_float", "c_float", st.floats(width=32, allow_nan=False)),
    ("ret_double", "c_double", st.floats(allow_nan=False)),
    ("ret_longdouble", "c_longdouble", st.floats(allow_nan=False)),
    ("ret_bool", "c_bool", st.booleans()),
    ("ret_char", "c_char", st.binary(min_size=1, max_size=1)),
    ("ret_wchar", "c_wchar", st.characters(blacklist_categories=("Cs",))),
    ("ret_charp", "c_char_p", st.none() | st.binary().map(lambda b: b.replace(b"\0", b""))),
    ("ret_wcharp", "c_wchar_p", st.none() | st.text().map(lambda s: s.replace("\0", ""))),
    ("ret_voidp", "c_void_p", st.none() | st.integers(1, 2**64 - 1)),
]


@pytest.mark.parametrize("func,typename,values", SCALARS, ids=[s[0] for s in SCALARS])
@given(data=st.data())
@settings(max_examples=25, deadline=None)
def test_scalar_round_trip(shared_libs, func, typename, values, data):
    value = data.draw(values)

    def run(ct, lib):
        f = lib[func]
        f.argtypes = [getattr(ct, typename)]
        f.restype = getattr(ct, typename)
        return f(value)
    result = same(shared_libs, run)
    assert result[0] == "ok"


@given(values=st.tuples(st.integers(-128, 127), st.integers(-2**15, 2**15 - 1),
                        st.integers(-2**31, 2**31 - 1), st.integers(-2**40, 2**40),
                        st.floats(-1e6, 1e6, width=32), st.floats(-1e6, 1e6),
                        st.integers(-2**40, 2**40), st.integers(0, 255), st.floats(-1e6, 1e6)))
@settings(max_examples=30, deadline=None)
def test_mixed_arguments(shared_libs, values):
    def run(ct, lib):
        f = lib["mixed"]
        f.argtypes = [ct.c_byte, ct.c_short, ct.c_int, ct.c_long, ct.c_float, ct.c_double,
                      ct.c_longlong, ct.c_ubyte, ct.c_longdouble]
        f.restype = ct.c_double
        return f(*values)
    same(shared_libs, run)


def test_stack_arguments(libs):
    def run(ct, lib):
        f, g = lib.many_longs, lib.many_doubles
        f.argtypes = [ct.c_long] * 10
        f.restype = ct.c_long
        g.argtypes = [ct.c_double] * 10
        g.restype = ct.c_double
        return f(*range(1, 11)), g(*[x / 4 for x in range(10)])
    assert same(libs, run) == ("ok", (385, sum((i + 1) * i / 4 for i in range(10))))


def test_argument_count(libs):
    def run(ct, lib):
        f = lib.ret_int
        f.argtypes = [ct.c_int, ct.c_int]
        return f(1, 2, 3), outcome(f, 1)
    same(libs, run)

    def run_stdcall_like(ct):
        class Proto(ct._CFuncPtr):
            _flags_ = 0
            _argtypes_ = (ct.c_int,)
            _restype_ = ct.c_int
        f = Proto(lambda x: x)
        return outcome(f, 1, 2), outcome(f), f(5)
    assert outcome(run_stdcall_like, P) == outcome(run_stdcall_like, C)


# ---------------------------------------------------------------- calls without argtypes (ConvParam)

@pytest.mark.parametrize("arg", [
    0, -5, 2**31, 2**32 + 5, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1, True,
])
def test_int_conversion(libs, arg):
    same(libs, lambda ct, lib: lib.ret_int(arg))


@pytest.mark.parametrize("arg", [1.5, object(), [1], b"x".decode, 3j])
def test_unconvertible(libs, arg):
    result = same(libs, lambda ct, lib: lib.ret_int(arg))
    assert result == ("raise", "ArgumentError",
                      "argument 1: TypeError: Don't know how to convert parameter 1")


def test_bytes_str_none(libs):
    def run(ct, lib):
        return (lib.my_strlen(b"hello"), lib.my_wcslen("h\xe9llo\U0001f600"), lib.is_null(None),
                lib.my_strlen(None) & 0xFFFFFFFF)
    same(libs, run)


def test_cdata_arguments(libs):
    def run(ct, lib):
        lib.ret_double.restype = ct.c_double
        lib.ret_longlong.restype = ct.c_longlong
        arr = (ct.c_int * 4)(5, 6, 7, 8)
        x = ct.c_int(42)
        out = (ct.c_int * 3)()
        lib.fill_ints(out, 3, 100)
        return (lib.ret_double(ct.c_double(2.5)), lib.ret_longlong(ct.c_longlong(-2**40)),
                lib.deref_int(arr), lib.deref_int(ct.byref(x)), lib.deref_int(ct.pointer(x)),
                lib.my_strlen(ct.c_char_p(b"four")), lib.my_strlen(ct.create_string_buffer(b"ab")),
                list(out))
    same(libs, run)


def test_as_parameter(libs):
    def run(ct, lib):
        class Wrapper:
            def __init__(self, value):
                self._as_parameter_ = value

        class Failing:
            @property
            def _as_parameter_(self):
                raise KeyError("boom")
        f = lib.ret_int
        f.argtypes = None
        return (f(Wrapper(7)), f(Wrapper(Wrapper(8))), lib.is_null(Wrapper(None)),
                lib.my_strlen(Wrapper(b"abc")), outcome(f, Failing()),
                outcome(f, Wrapper(1.5)))
    same(libs, run)


def test_from_param_errors(libs):
    def run(ct, lib):
        class Custom:
            @classmethod
            def from_param(cls, value):
                if value < 0:
                    raise ValueError("negative: %d" % value)
                return value * 2
        f = lib.ret_int
        f.argtypes = [ct.c_int, Custom]
        return f(1, 5), outcome(f, 1, -3), outcome(f, "x", 1), outcome(f, 1, 2**70)
    same(libs, run)


def test_variadic(libs):
    def run(ct, lib):
        lib.sum_longs.argtypes = [ct.c_int]
        lib.sum_longs.restype = ct.c_long
        lib.sum_doubles.argtypes = [ct.c_int]
        lib.sum_doubles.restype = ct.c_double
        return (lib.sum_longs(3, ct.c_long(2**40), ct.c_long(-5), ct.c_long(7)),
                lib.sum_doubles(4, ct.c_double(0.5), ct.c_double(1.25), ct.c_double(-3.0),
                                ct.c_double(1e10)))
    assert same(libs, run) == ("ok", (2**40 + 2, 0.5 + 1.25 - 3.0 + 1e10))


def test_too_many_arguments():
    def run(ct):
        proto = ct.CFUNCTYPE(ct.c_int, *(ct.c_int,) * 1024)
        cb = proto(lambda *args: len(args))
        return cb(*(1,) * 1024), outcome(cb, *(1,) * 1025)
    assert outcome(run, P) == outcome(run, C)


# ---------------------------------------------------------------- results

def test_restype_kinds(libs):
    def run(ct, lib):
        class MyInt(ct.c_int):
            pass

        class Checked(ct.c_int):
            @classmethod
            def _check_retval_(cls, value):
                return ("checked", value.value)
        f = lib.ret_int
        f.argtypes = [ct.c_int]
        seen = []
        for restype in (None, ct.c_int, ct.c_void_p, ct.c_ubyte, ct.c_bool, ct.c_char,
                        lambda v: ("called", v), Checked, float):
            f.restype = restype
            seen.append(f(300))
        f.restype = MyInt
        r = f(300)
        seen += [type(r).__name__, r.value]
        g = lib.get_numbers
        g.restype = ct.POINTER(ct.c_int)
        p = g()
        seen += [type(p).__name__, p[0], p[3]]
        return seen
    same(libs, run)


def test_default_restype_of_bare_type(libs):
    def run(ct, lib):
        class Bare(ct._CFuncPtr):
            _flags_ = ct._FUNCFLAG_CDECL
        f = Bare(ct.cast(lib.ret_long, ct.c_void_p).value)
        return f(7), f.restype, f.argtypes
    same(libs, run)


def test_char_p_result_points_into_argument(libs):
    def run(ct, lib):
        f = lib.my_strchr
        f.restype = ct.c_char_p
        f.argtypes = [ct.c_char_p, ct.c_int]
        return f(b"abcdef", ord("d")), f(b"abcdef", ord("x"))
    assert same(libs, run) == ("ok", (b"def", None))


def test_errcheck_protocol(libs):
    def run(ct, lib):
        f = lib.ret_int
        f.argtypes = [ct.c_int]
        f.restype = ct.c_int
        calls = []

        def check(result, func, args):
            calls.append((result, func is f, args))
            if result < 0:
                raise OSError("negative")
            return args

        f.errcheck = check
        return f(5), outcome(f, -1), calls
    same(libs, run)


def test_py_object_results():
    def run(ct):
        f = ct.pythonapi.PyLong_FromLong
        f.restype = ct.py_object
        f.argtypes = [ct.c_long]
        obj = f(12345678)
        g = ct.pythonapi.PyTuple_New
        g.restype = ct.py_object
        g.argtypes = [ct.c_ssize_t]
        return obj, sys.getrefcount(obj), g(0)
    assert outcome(run, P) == outcome(run, C)


def test_pythonapi_error_is_raised():
    def run(ct):
        f = ct.pythonapi.PyLong_AsLong
        f.argtypes = [ct.py_object]
        f.restype = ct.c_long
        return f(2**80)
    result = outcome(run, P)
    assert result == outcome(run, C)
    assert result[:2] == ("raise", "OverflowError")


def test_use_errno(clib_path):
    def run(ct):
        lib = ct.CDLL(clib_path, use_errno=True)
        old = ct.set_errno(0)
        lib.fail_with_errno(17)
        after_call = ct.get_errno()
        ct.set_errno(33)
        seen_by_c = lib.read_errno()
        ct.set_errno(old)
        plain = ct.CDLL(clib_path)
        plain.fail_with_errno(19)
        return after_call, seen_by_c, ct.get_errno() == old
    assert outcome(run, P) == outcome(run, C) == ("ok", (17, 33, True))


def test_null_function_pointer_raises():
    f = P.CFUNCTYPE(P.c_int)()
    with pytest.raises(ValueError):
        f()


def test_returned_function_pointers(libs):
    def run(ct, lib):
        lib.get_op.restype = ct.CFUNCTYPE(ct.c_int, ct.c_int, ct.c_int)
        lib.get_op.argtypes = [ct.c_char]
        add, mul = lib.get_op(b"+"), lib.get_op(b"*")
        return add(3, 4), mul(3, 4), type(add).__name__, add._objects
    assert same(libs, run)[1][:2] == (7, 12)


def test_call_function(libs):
    import _ctypes
    import pyctypes._ctypes as ours

    def run(ct, lib):
        m = _ctypes if ct is C else ours
        address = ct.cast(lib.ret_int, ct.c_void_p).value
        return (m.call_function(address, (-7,)), m.call_cdeclfunction(address, (9,)),
                outcome(m.call_function, address, [1]), outcome(m.call_function, 0, ()))
    same(libs, run)


# ---------------------------------------------------------------- paramflags

@pytest.mark.parametrize("paramflags", [
    5, [(1, "x")], ((1,), (1,)), ((1, 2),), ((2, "x"),), ((8, "x"),), ((4, "x"),),
    ((1, "x", 5, 6),), ((1.5, "x"),), ((1, None),), None,
])
def test_paramflags_validation(libs, paramflags):
    same(libs, lambda ct, lib: ct.CFUNCTYPE(ct.c_int, ct.c_int)(("ret_int", lib), paramflags)(3))


@pytest.mark.parametrize("flags,args,kwds", [
    (((1, "x", -7),), (), {}), (((1, "x", -7),), (-3,), {}), (((1, "x", -7),), (), {"x": 4}),
    (((1, "x", -7),), (), {"y": 4}), (((1, "x", -7),), (1, 2), {}), (((1, "x"),), (), {}),
    (((1,),), (), {}), (((3, "x"),), (-5,), {}), (((5, "x", -9),), (), {}),
    (((5, "x", -9),), (1,), {}), (((5, "x"),), (), {}), (((0, "x"),), (6,), {}),
])
def test_paramflags_in(libs, flags, args, kwds):
    same(libs, lambda ct, lib: ct.CFUNCTYPE(ct.c_int, ct.c_int)(("ret_int", lib), flags)(
        *args, **kwds))


def test_paramflags_out(libs):
    def run(ct, lib):
        proto = ct.CFUNCTYPE(ct.c_int, ct.c_int, ct.c_int, ct.POINTER(ct.c_int),
                             ct.POINTER(ct.c_int))
        divmod_ = proto(("divmod_int", lib), ((1, "a"), (1, "b", 3), (2, "q"), (2, "r")))
        seen = [divmod_(17), divmod_(17, 5), divmod_(b=4, a=-9), outcome(divmod_, 1, 2, 3)]
        q = ct.c_int(99)
        given = proto(("divmod_int", lib), ((1, "a"), (1, "b"), (2, "q", q), (2, "r")))
        seen += [given(20, 6), q.value]
        errchecked = proto(("divmod_int", lib), ((1, "a"), (1, "b"), (2, "q"), (2, "r")))
        errchecked.errcheck = lambda result, func, args: (result, [type(a).__name__ for a in args])
        seen.append(errchecked(7, 2))
        errchecked.errcheck = lambda result, func, args: args
        seen.append(errchecked(7, 2))
        return seen
    assert same(libs, run)[1][:3] == [(5, 2), (3, 2), (-2, -1)]


def test_paramflags_out_kinds(libs):
    def run(ct, lib):
        seen = []
        for argtype in (ct.c_void_p, ct.c_int * 2, ct.POINTER(ct.c_int), ct.c_char_p):
            f = ct.CFUNCTYPE(ct.c_int, argtype)(("is_null", lib), ((2, "x"),))
            seen.append(outcome(f))
        inout = ct.CFUNCTYPE(ct.c_int, ct.c_int, ct.POINTER(ct.c_int))(
            ("deref_int", lib), ((1, "a"), (3, "p")))
        seen.append(outcome(inout))
        return [(r[0], r[1] if r[0] == "raise" else type(r[1]).__name__) for r in seen]
    same(libs, run)


# ---------------------------------------------------------------- structures by value

def _struct_types(ct):
    class Point(ct.Structure):
        _fields_ = [("x", ct.c_int), ("y", ct.c_int)]

    class Big(ct.Structure):
        _fields_ = [(n, ct.c_long) for n in "abcd"]

    class Mix(ct.Structure):
        _fields_ = [("c", ct.c_char), ("d", ct.c_double), ("s", ct.c_short)]

    class FPair(ct.Structure):
        _fields_ = [("a", ct.c_float), ("b", ct.c_float)]

    class DPair(ct.Structure):
        _fields_ = [("a", ct.c_double), ("b", ct.c_long)]

    class Tiny(ct.Structure):
        _fields_ = [("a", ct.c_char), ("b", ct.c_char), ("c", ct.c_char)]
    return Point, Big, Mix, FPair, DPair, Tiny


def test_structures_by_value(libs):
    def run(ct, lib):
        Point, Big, Mix, FPair, DPair, Tiny = _struct_types(ct)
        lib.add_points.argtypes = [Point, Point]
        lib.add_points.restype = Point
        r = lib.add_points(Point(1, 2), Point(30, 40))
        lib.point_sum.restype = ct.c_long
        s = lib.point_sum(Point(3, 4))           # no argtypes: by value too
        lib.big_twice.argtypes = [Big]
        lib.big_twice.restype = Big
        b = lib.big_twice(Big(1, -2, 3, 2**40))
        lib.mix_next.argtypes = [Mix]
        lib.mix_next.restype = Mix
        m = lib.mix_next(Mix(b"a", 2.0, 7))
        lib.fpair_swap.argtypes = [FPair]
        lib.fpair_swap.restype = FPair
        f = lib.fpair_swap(FPair(1.5, -2.25))
        lib.dpair_make.argtypes = [ct.c_double, ct.c_long]
        lib.dpair_make.restype = DPair
        d = lib.dpair_make(0.5, -9)
        lib.tiny_make.argtypes = [ct.c_char] * 3
        lib.tiny_make.restype = Tiny
        t = lib.tiny_make(b"x", b"y", b"z")
        return ((r.x, r.y), s, (b.a, b.b, b.c, b.d), (m.c, m.d, m.s), (f.a, f.b), (d.a, d.b),
                (t.a, t.b, t.c))
    assert same(libs, run) == ("ok", ((31, 42), 3004, (2, -4, 6, 2**41), (b"b", 3.5, 8),
                                      (-2.25, 1.5), (0.5, -9), (b"x", b"y", b"z")))


def test_keepalive_of_converted_arguments(libs):
    def run(ct, lib):
        trace = []

        class Tracked(ct.Structure):
            _fields_ = [("a", ct.c_void_p)]

            def __del__(self):
                trace.append("freed")

            @classmethod
            def from_param(cls, value):
                trace.append("converted")
                return cls()
        lib.point_sum.argtypes = [Tracked]
        lib.point_sum.restype = ct.c_long
        lib.point_sum(1)
        trace.append("returned")
        return trace
    assert same(libs, run) == ("ok", ["converted", "freed", "returned"])


def test_floats_as_parameters(libs):
    def run(ct, lib):
        f = lib.ret_double
        f.restype = ct.c_double
        return outcome(f, 1.5), f(ct.c_double(math.pi))
    same(libs, run)


def test_variadic_arguments_through_libc():
    """Extra arguments beyond argtypes go through ffi_prep_cif_var, which
    refuses types C promotes (float, short): CPython's RuntimeError."""
    def run(ct):
        snprintf = ct.CDLL(None).snprintf
        snprintf.argtypes = [ct.c_char_p, ct.c_size_t, ct.c_char_p]
        buf = ct.create_string_buffer(50)
        seen = []
        for fmt, extra in ((b"%f", ct.c_float(1.5)), (b"%d", ct.c_short(3)),
                           (b"%f", ct.c_double(2.5)), (b"%d", 7), (b"%s", b"xy"),
                           (b"%ls", "wide"), (b"%p", None)):
            seen.append((outcome(snprintf, buf, 50, fmt, extra), buf.value))
        return seen
    assert outcome(run, P) == outcome(run, C)
