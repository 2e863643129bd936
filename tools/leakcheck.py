"""Leak check: each operation of the speed benchmark (benchmarks/bench.py
OPERATIONS) and each error path below, repeated N times, must not grow the
process: RSS, bytes in use by malloc (native allocations: the C++ core),
tracemalloc's traced bytes (Python allocations), the number of objects the
gc tracks, and the reference counts of the objects involved (every object of
the operation's namespace, by sys.getrefcount) stay where they were.

    python3 tools/leakcheck.py [-n N] [--impl pyctypes|cpython] [--only substr]
                               [--json out.json] [--no-tracemalloc]

tracemalloc slows every allocation down, so its figure comes from a second,
shorter pass of n/10 repetitions; the other figures from the main pass.

PYTHONPATH=src for the source tree; PYCTYPES_PURE=1 for the pure mode.  The
README's figures are from -n 1000000.  The exit status is 1 if an operation
grew.  tests/reliability/test_rel_leaks.py runs it with a small N.
"""

import argparse
import ctypes as _host_ctypes
import gc
import json
import os
import pathlib
import sys
import time
import tracemalloc
import types

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402  (benchmarks/bench.py: OPERATIONS, CTYPES_SETUP)

# Set-up of the error paths, after bench.CTYPES_SETUP (same namespace).
ERROR_SETUP = """
def _raising_cmp(a, b):
    raise ValueError("raised in a callback")
raising_cmp = CMP(_raising_cmp)
small = (ct.c_int * 4)(4, 3, 2, 1)
def qsort_raising():
    qsort(small, 4, 4, raising_cmp)
BADRET = ct.CFUNCTYPE(ct.c_int, ct.c_int)
bad_result_cb = BADRET(lambda x: "not an int")
def _errcheck(result, func, args):
    raise OSError(result, "from errcheck")
labs_checked = libc.labs; labs_checked = ct.CFUNCTYPE(ct.c_long, ct.c_long)(
    ct.cast(labs, ct.c_void_p).value)
labs_checked.errcheck = _errcheck
ro = bytes(8)
short = bytearray(2)
null_p = ct.POINTER(ct.c_int)()
"""

# name -> statement that must raise (each an error path of the Python level
# or the native core: conversions, bounds, NULL, errcheck); the callback
# errors are reported to sys.unraisablehook, not raised (UNRAISABLE)
ERROR_PATHS = [
    ("labs('x') ArgumentError", "labs('x')"),
    ("cos(None) ArgumentError", "cos(None)"),
    ("strlen(5) ArgumentError", "strlen(5)"),
    ("six_ints(1, 2) arg count", "six_ints(1, 2)"),
    ("vec3_norm1(x) wrong pointer", "vec3_norm1(x)"),
    ("read_int(byref(v)) wrong byref", "read_int(ct.byref(v))"),
    ("c_int('x')", "ct.c_int('x')"),
    ("c_char_p(1.5)", "ct.c_char_p(1.5)"),
    ("vec3('a')", "vec3('a')"),
    ("vec3(1, 2, 3, 4) too many", "vec3(1, 2, 3, 4)"),
    ("field store wrong type", "v.y = 'x'"),
    ("x.value = 1.5", "x.value = 1.5"),
    ("arr[1000] IndexError", "arr[1000]"),
    ("arr[17] = 'x'", "arr[17] = 'x'"),
    ("arr[0:3] = (1, 2) size", "arr[0:3] = (1, 2)"),
    ("px[0] = 'x'", "px[0] = 'x'"),
    ("px.contents = 5 not ctypes", "px.contents = 5"),
    ("NULL pointer [0]", "null_p[0]"),
    ("from_buffer(bytes) read-only", "ct.c_int.from_buffer(ro)"),
    ("from_buffer too small", "ct.c_int.from_buffer(short)"),
    ("cast(1.5, c_void_p)", "ct.cast(1.5, ct.c_void_p)"),
    ("string_at(cp, 'x')", "ct.string_at(cp, 'x')"),
    ("resize below the size", "ct.resize(x, 1)"),
    ("qsort, callback raising", "qsort_raising()"),
    ("callback result of a wrong type", "bad_result_cb(1)"),
    ("errcheck raising", "labs_checked(-5)"),
]

# Operations that are a loop themselves run n // divisor times, so that each
# operation does about n units of work (qsort 1000 makes ~10**4 callback
# calls, iterating visits 1000 items): 10**6 qsorts would take hours.
DIVISOR = {"for over 1000 items": 1000, "qsort 1000 (callback)": 1000}

# The tracemalloc pass repeats each operation n // TRACED_SHARE times.
TRACED_SHARE = 10

UNRAISABLE = {"qsort, callback raising", "callback result of a wrong type"}

LOOP = """
def _run(_n):
    for _ in range(_n):
        try:
            {stmt}
        except Exception:
            pass
"""


class _Mallinfo2(_host_ctypes.Structure):
    _fields_ = [(name, _host_ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


def _malloc_in_use():
    """Bytes malloc has handed out and not had back (glibc's mallinfo2)."""
    libc = _host_ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        return 0
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _involved(ns):
    """The objects of the operation's namespace (what its statements touch)."""
    return {name: value for name, value in ns.items()
            if not name.startswith("__") and not isinstance(value, types.ModuleType)}


def _refcounts(objects):
    return {name: sys.getrefcount(value) for name, value in objects.items()}


def measure(ns, stmt, n, use_tracemalloc=True, must_raise=None):
    """Repeat stmt n times in ns (after a warm-up); return the growth."""
    exec(LOOP.format(stmt=stmt), ns)
    run = ns.pop("_run")
    if must_raise is not None:
        try:
            exec(stmt, ns)
            raised = False
        except Exception:               # noqa: BLE001 - whether it raised is the point
            raised = True
        if raised != must_raise:
            raise AssertionError("%r %s" % (stmt, "did not raise" if must_raise else "raised"))
    run(max(min(n, 1000), n // 20))                 # warm-up: caches, free lists, arenas
    objects = _involved(ns)
    gc.collect()
    before = dict(rss=_rss(), malloc=_malloc_in_use(), gc_objects=len(gc.get_objects()),
                  traced=tracemalloc.get_traced_memory()[0] if use_tracemalloc else 0,
                  refs=_refcounts(objects))
    start = time.perf_counter()
    run(n)
    elapsed = time.perf_counter() - start
    gc.collect()
    after = dict(rss=_rss(), malloc=_malloc_in_use(), gc_objects=len(gc.get_objects()),
                 traced=tracemalloc.get_traced_memory()[0] if use_tracemalloc else 0,
                 refs=_refcounts(objects))
    refs = {name: after["refs"][name] - count for name, count in before["refs"].items()
            if after["refs"][name] != count}
    return dict(n=n, seconds=elapsed,
                rss=after["rss"] - before["rss"], malloc=after["malloc"] - before["malloc"],
                traced=after["traced"] - before["traced"],
                gc_objects=after["gc_objects"] - before["gc_objects"], refs=refs)


def grew(result):
    """Growth that is a leak, not noise: any reference count change, tracked
    objects that stayed, or more than 64 bytes per 1000 repetitions (at
    least 256 KiB) of malloc'd, traced or resident memory.  A leak of one
    byte per repetition shows at any n from 10**4 on (malloc counts bytes)."""
    slack = max(256 * 1024, result["n"] * 64 // 1000)
    traced_slack = max(64 * 1024, result.get("traced_n", 0) * 64 // 1000)
    return bool(result["refs"] or result["gc_objects"] > 50 or result["malloc"] > slack
                or result["traced"] > traced_slack or result["rss"] > 4 * slack)


def namespaces(impl):
    import ctypes
    module = ctypes
    if impl == "pyctypes":
        from pyctypes import ctypes as module
    ns = {"ct": module, "LIBBENCH": bench.build_benchlib()}
    exec(bench.CTYPES_SETUP, ns)
    exec(ERROR_SETUP, ns)
    return ns


def _print(line):
    print(line, flush=True)


def run_all(n, impl="pyctypes", only=None, use_tracemalloc=True, report=_print):
    """Every operation and error path; returns {name: result} (result["leak"]
    says whether it grew)."""
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda info: None          # callback errors are expected here
    results = {}
    try:
        cases = [(name, stmt, False) for name, _, stmt, _ in bench.OPERATIONS]
        cases += [(name, stmt, None if name in UNRAISABLE else True)
                  for name, stmt in ERROR_PATHS]
        for name, stmt, must_raise in cases:
            if only and only not in name:
                continue
            reps = max(1, n // DIVISOR.get(name, 1))
            result = measure(namespaces(impl), stmt, reps, False, must_raise)
            if use_tracemalloc:
                # tracemalloc slows every allocation down: its pass is shorter
                tracemalloc.start()
                try:
                    traced = measure(namespaces(impl), stmt, max(1, reps // TRACED_SHARE),
                                     True, must_raise)
                finally:
                    tracemalloc.stop()
                result["traced"], result["traced_n"] = traced["traced"], traced["n"]
                result["refs"] = result["refs"] or traced["refs"]
            result["error_path"] = must_raise is not False
            result["leak"] = grew(result)
            results[name] = result
            report("%-36s n=%-8d %7.2fs  rss %+9d  malloc %+9d  traced %+8d  gc %+4d  refs %s%s" % (
                name, result["n"], result["seconds"], result["rss"], result["malloc"], result["traced"],
                result["gc_objects"], result["refs"] or "=", "  LEAK" if result["leak"] else ""))
    finally:
        sys.unraisablehook = old_hook
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="repetitions per operation")
    parser.add_argument("--impl", choices=["pyctypes", "cpython"], default="pyctypes")
    parser.add_argument("--only", help="only operations whose name contains this")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="faster: RSS, malloc, gc and reference counts only")
    args = parser.parse_args(argv)
    mode = "pure" if os.environ.get("PYCTYPES_PURE", "") not in ("", "0") else "native"
    print("leakcheck: %s (%s mode), n=%d per operation; growth in bytes after the warm-up"
          % (args.impl, mode, args.n))
    results = run_all(args.n, args.impl, args.only, not args.no_tracemalloc)
    leaks = [name for name, r in results.items() if r["leak"]]
    print("%d operations, %d error paths: %s" % (
        sum(not r["error_path"] for r in results.values()),
        sum(r["error_path"] for r in results.values()),
        "no growth" if not leaks else "GROWTH in " + ", ".join(leaks)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(impl=args.impl, mode=mode,
                           n=args.n, results=results), f, indent=1)
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
