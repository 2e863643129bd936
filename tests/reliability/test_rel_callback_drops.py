"""Callbacks that drop the last references they can reach while they run,
called from C, side by side with CPython's _ctypes (issue 18, crash 1).

A generated CFUNCTYPE signature (results: void, int, long long, double,
void *; arguments: int, double, char *, int *, a structure by value) is
called from C by ``rcall_<signature>`` of rellib.c, one to three times.  At a
generated call and moment (in the ``__init__`` of its structure argument's
class, which CPython calls to make the argument; before the callback reads its
arguments; after it computed its result; in its result's
``__index__``/``__float__``; or before it raises) the Python callable drops a generated set of what it can reach:

- ``self``: its own function object, from the only list holding it (C got
  its address, so the call does not hold it);
- ``proto``: its prototype class (``CFUNCTYPE(...)``);
- ``argtypes``: the argtypes of the C function calling it (set to None while
  that call runs);
- ``struct_type``: the structure type of its structure argument;
- ``buffer``: the buffers passed by pointer (``int *``, ``char *``) and the
  structure passed by value, which reach the call only through an
  ``_as_parameter_`` property (the call's converted argument is their last
  owner after the drop).

The callable may keep its arguments for reading after the calls.  Each case
runs in the forked child of ``guarded`` (a crash is a failure naming the
input); results, what the callable saw, the int buffers after the calls and
the unraisable reports equal CPython's.  CPython's side runs in a forked
child: where CPython 3.11 itself crashes, pyctypes (which must live) is
compared with CPython running the same calls without the drop, up to the call
that drops (as tests/test_callouts.py does).
"""

import gc
import sys
import weakref

from hypothesis import given, strategies as st

import ctypes as C
from pyctypes import ctypes as P

import reldiff
from reldiff import check, guarded, outcome, outcome_forked, rel_settings

RESTYPES = ["v", "i", "q", "d", "P"]
ARGTYPES = ["i", "d", "s", "p", "t"]
DROPS = ["self", "proto", "argtypes", "struct_type", "buffer"]
MOMENTS = ["init", "start", "middle", "result", "raise"]


def scenario(ct, lib_path, restype, args, ncalls, drop_at, moment, drops, keep,
             upto_drop=False):
    """Run the calls on one side; what was observed (plain data)."""
    lib = ct.CDLL(lib_path)
    ns = {}
    state = {"call": -1}

    def init(self, *values):
        # CPython makes a structure argument by calling its class: the
        # moment "init" drops there, before the callable runs
        if not values and moment == "init" and state["call"] == drop_at:
            drop()
        ct.Structure.__init__(self, *values)
    Point = type("Point", (ct.Structure,), {"_fields_": [("x", ct.c_int), ("y", ct.c_int)],
                                            "__init__": init})
    ns["Point"] = Point
    simple = {"i": ct.c_int, "q": ct.c_longlong, "d": ct.c_double, "P": ct.c_void_p,
              "s": ct.c_char_p, "p": ct.POINTER(ct.c_int), "v": None}
    argtypes = [Point if a == "t" else simple[a] for a in args]
    ns["CB"] = ct.CFUNCTYPE(simple[restype], *argtypes)
    del Point
    caller = getattr(lib, "_".join(["rcall", restype] + list(args)))
    caller.argtypes = [ct.c_void_p] + argtypes
    caller.restype = simple[restype]
    ns["caller"] = caller
    del caller, argtypes

    ints = {}           # the int buffers (read after the calls while not dropped)

    def fresh(k, a):
        if a == "p":
            value = ct.c_int(10 + k)
            if "buffer" not in drops:
                ints[k] = value
            return ct.pointer(value)
        if a == "s":
            return ct.create_string_buffer(b"text%d" % k)
        return ns["Point"](3 + k, 4) if "Point" in ns else None

    class Wrapped:
        def __init__(self, key, k, a):
            self.key, self.k, self.a = key, k, a

        @property
        def _as_parameter_(self):
            # after the drop, later calls get a new buffer
            return ns[self.key] if self.key in ns else fresh(self.k, self.a)

    passed = []
    for k, a in enumerate(args):
        if a in ("i", "d"):
            passed.append(7 + k if a == "i" else 1.5 + k)
        elif "buffer" in drops:
            ns["buf%d" % k] = fresh(k, a)
            passed.append(Wrapped("buf%d" % k, k, a))
        else:
            passed.append(fresh(k, a))

    seen, kept, reports, results = [], [], [], []

    def drop():
        if "self" in drops:
            holder.clear()
        if "proto" in drops:
            ns.pop("CB", None)
        if "struct_type" in drops:
            ns.pop("Point", None)
        if "argtypes" in drops and "caller" in ns:
            ns["caller"].argtypes = None
        if "buffer" in drops:
            for key in [key for key in ns if key.startswith("buf")]:
                del ns[key]
        gc.collect()
        # whether the drop freed the function object (its prototype class is
        # not observed: CPython 3.11's CFUNCTYPE cache keeps it, docs/differences.md)
        freed.append(watched() is None)

    def read(values):
        out = []
        for a, v in zip(args, values):
            if a == "p":
                out.append(v[0] if v else None)
                if v:
                    v[0] = v[0] * 3 + 1
            elif a == "t":
                out.append((v.x, v.y))
                v.x = 99
            else:
                out.append(v)
        return out

    class Result:
        def __init__(self, value):
            self.value = value

        def __index__(self):
            drop()
            return self.value

        def __float__(self):
            drop()
            return float(self.value)

    def py(*values):
        dropping = state["call"] == drop_at
        if dropping and moment == "start":
            drop()
        got = read(values)
        seen.append(got)
        if keep:
            kept.append(values)
        total = sum(len(g) if isinstance(g, bytes) else g[0] * 10 + g[1]
                    if isinstance(g, tuple) else int(g) if g is not None else 0 for g in got)
        if dropping and moment in ("middle", "raise"):
            drop()
            if moment == "raise":
                raise ValueError("raised after the drop")
        value = total + 1000 * state["call"]
        if restype == "d":
            value += 0.25
        if dropping and moment == "result" and restype != "v":
            return Result(value)
        return None if restype == "v" else value

    holder = [ns["CB"](py)]
    freed, watched = [], weakref.ref(holder[0])

    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: reports.append(
        (state["call"], u.exc_type.__name__, (u.err_msg or "").split(":")[0]))
    try:
        for k in range(ncalls):
            state["call"] = k
            if not holder:
                results.append("the callback is gone")
                break
            # a c_void_p instance: passed whole when the argtypes are gone
            address = ct.c_void_p(ct.cast(holder[0], ct.c_void_p).value)
            count = len(reports)
            try:
                result = ns["caller"](address, *passed)
            except Exception as exc:            # noqa: BLE001 - compared
                result = ("raised", type(exc).__name__)
            if len(reports) > count:
                result = "reported"         # the result slot is not compared then
            results.append(result)
            if upto_drop and k == drop_at:
                break
    finally:
        sys.unraisablehook = old_hook
    del py, passed
    gc.collect()
    if upto_drop:
        return results, seen, reports       # not `freed`: compared with a run without drops
    return (results, seen, reports, freed, len(holder), {k: v.value for k, v in ints.items()},
            [[(v.x, v.y) if hasattr(v, "x") else type(v).__name__ for v in values]
             for values in kept])


@guarded
@rel_settings()
@given(restype=st.sampled_from(RESTYPES),
       args=st.lists(st.sampled_from(ARGTYPES), max_size=3),
       ncalls=st.integers(1, 3), drop_at=st.integers(0, 2),
       moment=st.sampled_from(MOMENTS),
       drops=st.lists(st.sampled_from(DROPS), unique=True, max_size=len(DROPS)),
       keep=st.booleans())
def test_callback_drops_references(rel_lib, restype, args, ncalls, drop_at, moment,
                                   drops, keep):
    args = tuple(args)
    drop_at = min(drop_at, ncalls - 1)
    drops = tuple(sorted(drops))
    case = (restype, args, ncalls, drop_at, moment, drops, keep)

    def run(ct, drops=drops, upto_drop=False):
        return scenario(ct, rel_lib, restype, args, ncalls, drop_at, moment, drops, keep,
                        upto_drop)

    reldiff.note_case(case)
    c_out = outcome_forked(run, C)
    if c_out is None or c_out[1] == "SystemError":
        # CPython 3.11 uses what the callable freed: pyctypes must live, and
        # see what CPython sees undisturbed, up to the call that drops
        reldiff.STATS["cpython_crashed"] += 1
        expect = outcome(lambda ct: run(ct, (), True), C)
        check(lambda ct: run(ct, drops, True), expect=expect, case=case)
        outcome(run, P)          # the whole run lives on
        return
    check(run, expect=c_out, case=case)
