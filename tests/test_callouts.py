"""Call-outs that drop every reference they can reach (issue 18, crash 1).

Wherever the native core calls into Python (a callback, a converter, from_param,
errcheck, a restype callable, __index__, _as_parameter_, a field or item
setter), the Python code may drop the last reference to whatever it can reach:
the function object, its argtypes, the structure type, the buffer being
converted.  What the core uses after the call must be owned across it.

Each scenario is one script, run in a child process twice: on CPython's ctypes
and on pyctypes (in this process's mode: PYCTYPES_PURE is inherited), so that
a segfault is a failed test and not a dead pytest.  Both must exit cleanly and
print the same lines; where CPython itself crashes (CPYTHON_CRASHES) pyctypes
is compared with CPython running the scenario undisturbed.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import pyctypes

PRELUDE = """\
import gc, sys
if sys.argv[1] == "pyctypes":
    from pyctypes import ctypes as ct
else:
    import ctypes as ct
lib = ct.CDLL(sys.argv[2])
"""


def run(tmp_path, body, which, lib):
    script = tmp_path / f"scenario_{which}.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pyctypes.__file__)))
    proc = subprocess.run([sys.executable, str(script), which, lib], capture_output=True,
                          text=True, env=env, timeout=120)
    return proc


DISTURBANCE = "holder.clear(); gc.collect()"

# Scenarios where CPython 3.11 itself uses what the call-out freed (and may
# crash): pyctypes is compared with CPython running the scenario undisturbed.
CPYTHON_CRASHES = {
    # CPython calls the class to make the argument, then uses the freed thunk
    "argument class's __init__ drops it",
}


def same_as_cpython(tmp_path, clib_path, body, cpython_crashes=False):
    """Run body on both; both must live, and print the same lines."""
    expected = run(tmp_path, body.replace(DISTURBANCE, "gc.collect()") if cpython_crashes else body,
                   "ctypes", clib_path)
    got = run(tmp_path, body, "pyctypes", clib_path)
    assert expected.returncode == 0, f"CPython failed:\n{expected.stderr}"
    assert got.returncode == 0, f"pyctypes died ({got.returncode}):\n{got.stderr[-3000:]}"
    assert got.stdout == expected.stdout
    assert expected.stdout.strip(), "the scenario printed nothing"
    return expected, got


# ---------------------------------------------------------------- callbacks

CALLBACKS = {
    # PyOpenGL's GLUT timer: the callback removes its own function object from
    # the only list holding it, while it runs.
    "int result": """
        CB = ct.CFUNCTYPE(ct.c_int, ct.c_int)
        holder = []
        def cb(x):
            holder.clear(); gc.collect()
            return x * 2
        holder.append(CB(cb))
        lib.store_cb(holder[0])
        print(lib.call_stored_cb(20))
        print(len(holder))
    """,
    "double result, two arguments": """
        CB = ct.CFUNCTYPE(ct.c_double, ct.c_double, ct.c_double)
        holder = [CB(lambda a, b: (holder.clear(), gc.collect(), a * b)[2])]
        f = lib.call_double_cb
        f.restype = ct.c_double
        f.argtypes = [ct.c_void_p, ct.c_double, ct.c_double]
        print(f(ct.cast(holder[0], ct.c_void_p).value, 1.5, 4.0))
    """,
    # a structure argument (an instance made per call, reused across calls):
    # the function object and the structure type both go
    "structure argument, type dropped": """
        ns = {}
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        ns["Point"] = Point
        CB = ct.CFUNCTYPE(ct.c_long, Point)
        del Point
        seen = []
        def cb(p):
            holder.clear(); ns.clear(); gc.collect()
            seen.append((p.x, p.y))
            return p.x * 10 + p.y
        holder = [CB(cb)]
        del CB
        f = lib.call_point_cb
        f.restype = ct.c_long
        f.argtypes = [ct.c_void_p, ct.c_int, ct.c_int]
        print(f(ct.cast(holder[0], ct.c_void_p).value, 3, 4))
        print(seen)
    """,
    "pointer argument": """
        CB = ct.CFUNCTYPE(ct.c_int, ct.POINTER(ct.c_int))
        def cb(p):
            holder.clear(); gc.collect()
            p[0] = p[0] * 3
            return 1
        holder = [CB(cb)]
        f = lib.call_ptr_cb
        f.argtypes = [ct.c_void_p, ct.c_int]
        print(f(ct.cast(holder[0], ct.c_void_p).value, 7))
    """,
    # the error paths after the call: an exception, a result that does not convert
    "raises after dropping itself": """
        CB = ct.CFUNCTYPE(ct.c_int, ct.c_int)
        def cb(x):
            holder.clear(); gc.collect()
            raise ZeroDivisionError("from the callback")
        holder = [CB(cb)]
        lib.store_cb(holder[0])
        reports = []
        sys.unraisablehook = lambda u: reports.append(type(u.exc_value).__name__)
        lib.call_stored_cb(5)       # the result is garbage on CPython 3.11, 0 on pyctypes
        print(reports)
    """,
    "bad result after dropping itself": """
        CB = ct.CFUNCTYPE(ct.c_int, ct.c_int)
        def cb(x):
            holder.clear(); gc.collect()
            return "not an int"
        holder = [CB(cb)]
        lib.store_cb(holder[0])
        reports = []
        sys.unraisablehook = lambda u: reports.append(type(u.exc_value).__name__)
        lib.call_stored_cb(5)       # the result is garbage on CPython 3.11, 0 on pyctypes
        print(reports)
    """,
    "void callback with a c_char_p argument": """
        CB = ct.CFUNCTYPE(ct.c_char_p, ct.c_char_p)
        kept = ct.c_char_p(b"kept")
        def cb(s):
            holder.clear(); gc.collect()
            print(s)
            return ct.cast(kept, ct.c_void_p).value
        holder = [CB(cb)]
        f = lib.call_charp_cb
        f.restype = ct.c_char_p
        f.argtypes = [ct.c_void_p, ct.c_char_p]
        print(f(ct.cast(holder[0], ct.c_void_p).value, b"hello"))
    """,
    # the callback is the last holder of a closure over many spare instances
    "called many times, the last call drops it": """
        class S(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
        CB = ct.CFUNCTYPE(ct.c_long, S)
        total = []
        def cb(s):
            total.append(s.x + s.y)
            if len(total) == 5:
                holder.clear(); gc.collect()
            return s.x
        holder = [CB(cb)]
        f = lib.call_point_cb
        f.restype = ct.c_long
        f.argtypes = [ct.c_void_p, ct.c_int, ct.c_int]
        address = ct.cast(holder[0], ct.c_void_p).value
        print([f(address, i, 1) for i in range(5)], total)
    """,
    # the result converts through __index__, which drops the function object
    "result's __index__ drops it": """
        CB = ct.CFUNCTYPE(ct.c_int, ct.c_int)
        class Result:
            def __init__(self, v):
                self.v = v
            def __index__(self):
                holder.clear(); gc.collect()
                return self.v
        holder = [CB(lambda x: Result(x * 3))]
        lib.store_cb(holder[0])
        print(lib.call_stored_cb(14))
    """,
    # the argument is made by calling its class, whose __init__ drops the
    # function object before the callable runs
    "argument class's __init__ drops it": """
        class Point(ct.Structure):
            _fields_ = [("x", ct.c_int), ("y", ct.c_int)]
            def __init__(self, *args):
                holder.clear(); gc.collect()
                super().__init__(*args)
        CB = ct.CFUNCTYPE(ct.c_long, Point)
        holder = [CB(lambda p: p.x * 100 + p.y)]
        f = lib.call_point_cb
        f.restype = ct.c_long
        f.argtypes = [ct.c_void_p, ct.c_int, ct.c_int]
        print(f(ct.cast(holder[0], ct.c_void_p).value, 6, 7))
    """,
}


@pytest.mark.parametrize("name", sorted(CALLBACKS))
def test_callback_drops_its_function(tmp_path, clib_path, name):
    if name in CPYTHON_CRASHES:
        assert DISTURBANCE in CALLBACKS[name]
    same_as_cpython(tmp_path, clib_path, CALLBACKS[name], name in CPYTHON_CRASHES)


# ---------------------------------------------------------------- foreign calls

CALLS = {
    # from_param drops the function object and replaces its argtypes while
    # the call converts its arguments (CPython reads the old converters after
    # the first from_param: the disturbance happens on the last argument)
    "from_param drops the function and its argtypes": """
        ns = {}
        class Arg:
            @classmethod
            def from_param(cls, value):
                f = ns.pop("f", None)
                if f is not None:
                    f.argtypes = None
                    del f
                gc.collect()
                return ct.c_long(value)
        f = lib.many_longs
        f.restype = ct.c_long
        f.argtypes = [ct.c_long] * 9 + [Arg]
        ns["f"] = f
        g = f
        del f
        print(g(*range(1, 11)))
    """,
    # a converter returns the only reference to the buffer it made
    "from_param returns the only reference to a buffer": """
        class Text:
            @classmethod
            def from_param(cls, value):
                gc.collect()
                return ct.create_string_buffer(value * 3)
        f = lib.my_strlen
        f.restype = ct.c_size_t
        f.argtypes = [Text]
        print(f(b"abcd"))
    """,
    "_as_parameter_ property drops what it can": """
        class Wrapped:
            def __init__(self, ns):
                self.ns = ns
            @property
            def _as_parameter_(self):
                buf = self.ns.pop("buf")
                self.ns.clear()
                gc.collect()
                return buf
        ns = {"buf": ct.create_string_buffer(b"seven77")}
        f = lib.my_strlen
        f.restype = ct.c_size_t
        print(f(Wrapped(ns)))
    """,
    "errcheck drops the function object": """
        ns = {}
        def check(result, func, args):
            ns.clear(); gc.collect()
            return (result, len(args))
        f = lib.point_sum
        P = type("P", (ct.Structure,), {"_fields_": [("x", ct.c_int), ("y", ct.c_int)]})
        f.argtypes = [P]
        f.restype = ct.c_long
        f.errcheck = check
        ns["f"] = f
        del f
        print(ns["f"](P(2, 5)))
    """,
    "restype callable drops the function object": """
        ns = {}
        def restype(value):
            ns.clear(); gc.collect()
            return value * 100
        f = lib.deref_int
        f.argtypes = [ct.POINTER(ct.c_int)]
        f.restype = restype
        ns["f"] = f
        del f
        print(ns["f"](ct.byref(ct.c_int(7))))
    """,
    "__index__ of an argument drops the function object": """
        ns = {}
        class Seven:
            def __index__(self):
                ns.clear(); gc.collect()
                return 7
        f = lib.mixed
        f.restype = ct.c_double
        f.argtypes = [ct.c_byte, ct.c_short, ct.c_int, ct.c_long, ct.c_float, ct.c_double,
                      ct.c_longlong, ct.c_ubyte, ct.c_longdouble]
        ns["f"] = f
        del f
        print(ns["f"](1, Seven(), 3, Seven(), 1.5, 2.5, Seven(), Seven(), 0.25))
    """,
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_foreign_call_callouts(tmp_path, clib_path, name):
    same_as_cpython(tmp_path, clib_path, CALLS[name])


# ---------------------------------------------------------------- fields, items, pointers

SLOTS = {
    "field set: __index__ drops the structure type": """
        ns = {}
        class S(ct.Structure):
            _fields_ = [("a", ct.c_int), ("b", ct.c_short)]
        ns["S"] = S
        s = S()
        del S
        class Idx:
            def __index__(self):
                ns.clear(); gc.collect()
                return 1234
        s.a = Idx()
        s.b = Idx()
        print(s.a, s.b, type(s).__name__)
    """,
    "structure __init__: values drop the type": """
        ns = {}
        class S(ct.Structure):
            _fields_ = [("a", ct.c_int), ("b", ct.c_long), ("c", ct.c_ubyte)]
        ns["S"] = S
        class Idx:
            def __init__(self, v):
                self.v = v
            def __index__(self):
                ns.clear(); gc.collect()
                return self.v
        s = ns["S"](Idx(1), Idx(2), Idx(3))
        print(s.a, s.b, s.c)
    """,
    "array index and value drop the array type": """
        ns = {}
        T = ct.c_int * 4
        ns["T"] = T
        a = T(1, 2, 3, 4)
        del T
        class Idx:
            def __init__(self, v):
                self.v = v
            def __index__(self):
                ns.clear(); gc.collect()
                return self.v
        a[Idx(1)] = Idx(20)
        a[Idx(-1)] = 40
        print(a[Idx(1)], a[Idx(3)], list(a))
        a[1:3] = [Idx(5), Idx(6)]
        print(list(a))
    """,
    "pointer index drops the pointer type": """
        ns = {}
        PT = ct.POINTER(ct.c_long)
        arr = (ct.c_long * 3)(1, 2, 3)
        p = ct.cast(arr, PT)
        class Idx:
            def __init__(self, v):
                self.v = v
            def __index__(self):
                ns.clear(); gc.collect()
                return self.v
        p[Idx(2)] = Idx(30)
        print(p[Idx(2)], p[Idx(0)], list(arr))
    """,
    "simple value: __index__ drops the instance's holders": """
        ns = {}
        class MyInt(ct.c_int):
            pass
        x = MyInt()
        ns["x"] = x
        ns["T"] = MyInt
        del MyInt
        class Idx:
            def __index__(self):
                ns.clear(); gc.collect()
                return 99
        x.value = Idx()
        print(x.value)
    """,
}


@pytest.mark.parametrize("name", sorted(SLOTS))
def test_slot_callouts(tmp_path, clib_path, name):
    same_as_cpython(tmp_path, clib_path, SLOTS[name])
