"""pyctypes against CPython's _ctypes and cffi (ABI mode), in one process.

    python benchmarks/bench.py [--repeat N] [--json out.json] [--plot out.png] [--only substr]

Each operation is timed for each implementation in turn, interleaved, `repeat`
times; the report gives the median time per operation and the ratios
pyctypes/CPython and pyctypes/cffi.  Machines here are noisy: trust ratios of
medians from one run, not absolute times across runs.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import timeit

HERE = pathlib.Path(__file__).resolve().parent


def build_benchlib():
    out = pathlib.Path(tempfile.gettempdir()) / "pyctypes-bench" / "libbench.so"
    src = HERE / "benchlib.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return str(out)


# Set-up shared by both ctypes implementations; `ct` is the ctypes package.
CTYPES_SETUP = """
libc = ct.CDLL(None)
lib = ct.CDLL(LIBBENCH)
libm = ct.CDLL("libm.so.6")
labs = libc.labs; labs.argtypes = [ct.c_long]; labs.restype = ct.c_long
cos = libm.cos; cos.argtypes = [ct.c_double]; cos.restype = ct.c_double
strlen = libc.strlen; strlen.argtypes = [ct.c_char_p]; strlen.restype = ct.c_size_t
zero_args = lib.zero_args; zero_args.argtypes = []; zero_args.restype = ct.c_int
six_ints = lib.six_ints; six_ints.argtypes = [ct.c_int] * 6; six_ints.restype = ct.c_int
class vec3(ct.Structure):
    _fields_ = [("x", ct.c_double), ("y", ct.c_double), ("z", ct.c_double)]
vec3_norm1 = lib.vec3_norm1; vec3_norm1.argtypes = [ct.POINTER(vec3)]; vec3_norm1.restype = ct.c_double
vec3_make = lib.vec3_make; vec3_make.argtypes = [ct.c_double] * 3; vec3_make.restype = vec3
read_int = lib.read_int; read_int.argtypes = [ct.POINTER(ct.c_int)]; read_int.restype = ct.c_int
v = vec3(1.0, 2.0, 3.0)
pv = ct.pointer(v)
x = ct.c_int(5)
px = ct.pointer(x)
data = b"hello, world"
cp = ct.c_char_p(data)
arr = (ct.c_int * 1000)(*range(1000))
src4k = ct.create_string_buffer(4096)
dst4k = ct.create_string_buffer(4096)
CMP = ct.CFUNCTYPE(ct.c_int, ct.POINTER(ct.c_int), ct.POINTER(ct.c_int))
def _cmp(a, b):
    return a[0] - b[0]
cmp = CMP(_cmp)
qsort = libc.qsort; qsort.argtypes = [ct.c_void_p, ct.c_size_t, ct.c_size_t, CMP]; qsort.restype = None
import random
_shuffled = list(range(1000)); random.Random(1).shuffle(_shuffled)
qarr = (ct.c_int * 1000)()
def qsort_1000():
    qarr[:] = _shuffled
    qsort(qarr, 1000, 4, cmp)
"""

CFFI_SETUP = """
import cffi
ffi = cffi.FFI()
ffi.cdef('''
long labs(long); double cos(double); size_t strlen(const char *);
int zero_args(void); int six_ints(int, int, int, int, int, int);
typedef struct { double x, y, z; } vec3;
double vec3_norm1(const vec3 *); vec3 vec3_make(double, double, double);
int read_int(const int *);
void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
void *memmove(void *, const void *, size_t);
''')
libc = ffi.dlopen(None)
lib = ffi.dlopen(LIBBENCH)
libm = ffi.dlopen("libm.so.6")
labs = libc.labs; cos = libm.cos; strlen = libc.strlen
zero_args = lib.zero_args; six_ints = lib.six_ints
vec3_norm1 = lib.vec3_norm1; vec3_make = lib.vec3_make; read_int = lib.read_int
pv = ffi.new("vec3 *", [1.0, 2.0, 3.0])
px = ffi.new("int *", 5)
data = b"hello, world"
"""

# name -> (group, ctypes statement, cffi statement or None)
OPERATIONS = [
    ("labs(long)", "call", "labs(-5)", "labs(-5)"),
    ("cos(double)", "call", "cos(1.0)", "cos(1.0)"),
    ("strlen(bytes)", "call", "strlen(data)", "strlen(data)"),
    ("f() 0 args", "call", "zero_args()", "zero_args()"),
    ("f(6 ints)", "call", "six_ints(1, 2, 3, 4, 5, 6)", "six_ints(1, 2, 3, 4, 5, 6)"),
    ("f(struct *)", "call", "vec3_norm1(pv)", "vec3_norm1(pv)"),
    ("struct f() by value", "call", "vec3_make(1.0, 2.0, 3.0)", "vec3_make(1.0, 2.0, 3.0)"),
    ("f(byref(x))", "call", "read_int(ct.byref(x))", "read_int(px)"),
    ("strlen(c_char_p)", "call", "strlen(cp)", None),
    ("c_int(5)", "construct", "ct.c_int(5)", None),
    ("vec3(1, 2, 3)", "construct", "vec3(1.0, 2.0, 3.0)", None),
    ("c_char_p(b)", "construct", "ct.c_char_p(data)", None),
    ("create_string_buffer(4096)", "construct", "ct.create_string_buffer(4096)", None),
    ("struct field read", "access", "v.y", None),
    ("struct field write", "access", "v.y = 2.5", None),
    ("array[i] read", "access", "arr[17]", None),
    ("array[i] write", "access", "arr[17] = 3", None),
    ("for over 1000 items", "iterate", "for _ in arr: pass", None),
    ("p[0]", "access", "px[0]", None),
    ("p.contents", "access", "px.contents", None),
    ("byref(x)", "access", "ct.byref(x)", None),
    ("x.value", "access", "x.value", None),
    ("qsort 1000 (callback)", "callback", "qsort_1000()", None),
    ("memmove 4 KiB", "memory", "ct.memmove(dst4k, src4k, 4096)", None),
    ("memset 4 KiB", "memory", "ct.memset(dst4k, 0, 4096)", None),
    ("string_at", "memory", "ct.string_at(cp, 12)", None),
]


def time_stmt(stmt, namespace, budget=0.02):
    """Seconds per execution of stmt, timing a loop that runs about `budget` seconds."""
    timer = timeit.Timer(stmt, globals=namespace)
    number, elapsed = 1, timer.timeit(1)
    while elapsed < budget:
        number *= 4 if elapsed < budget / 8 else 2
        elapsed = timer.timeit(number)
    return elapsed / number


def make_namespaces(libbench):
    import ctypes
    from pyctypes import ctypes as pctypes
    spaces = {}
    for name, module in (("cpython", ctypes), ("pyctypes", pctypes)):
        ns = {"ct": module, "LIBBENCH": libbench}
        exec(CTYPES_SETUP, ns)
        spaces[name] = ns
    try:
        ns = {"LIBBENCH": libbench}
        exec(CFFI_SETUP, ns)
        spaces["cffi"] = ns
    except ImportError:
        print("cffi is not installed: its column stays empty (pip install '.[bench]')", file=sys.stderr)
    return spaces


def run(repeat, only):
    spaces = make_namespaces(build_benchlib())
    results = {}
    for name, group, ct_stmt, cffi_stmt in OPERATIONS:
        if only and only not in name:
            continue
        stmts = {"cpython": ct_stmt, "pyctypes": ct_stmt}
        if cffi_stmt is not None and "cffi" in spaces:
            stmts["cffi"] = cffi_stmt
        samples = {impl: [] for impl in stmts}
        for _ in range(repeat):
            for impl, stmt in stmts.items():
                try:
                    samples[impl].append(time_stmt(stmt, spaces[impl]))
                except Exception as exc:        # a broken operation is reported, not fatal
                    samples[impl] = ["%s: %s" % (type(exc).__name__, exc)]
                    break
        results[name] = {"group": group}
        for impl, values in samples.items():
            if values and isinstance(values[0], str):
                results[name][impl] = values[0]
            else:
                results[name][impl] = statistics.median(values)
    return results


def ratio(a, b):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return a / b
    return None


def report(results):
    lines = ["| operation | CPython ns | pyctypes ns | cffi ns | pyctypes/CPython | pyctypes/cffi |",
             "|---|---:|---:|---:|---:|---:|"]

    def ns(value):
        if isinstance(value, float):
            return "%.0f" % (value * 1e9)
        return "error" if value else ""

    for name, row in results.items():
        r1 = ratio(row.get("pyctypes"), row.get("cpython"))
        r2 = ratio(row.get("pyctypes"), row.get("cffi"))
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            name, ns(row.get("cpython")), ns(row.get("pyctypes")), ns(row.get("cffi")),
            "%.2f" % r1 if r1 else "", "%.2f" % r2 if r2 else ""))
    errors = [(n, impl, v) for n, row in results.items() for impl, v in row.items()
              if impl != "group" and isinstance(v, str)]
    for name, impl, message in errors:
        lines.append("\n%s on %s failed: %s" % (name, impl, message))
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [n for n, row in results.items() if ratio(row.get("pyctypes"), row.get("cpython"))]
    r_cpy = [ratio(results[n]["pyctypes"], results[n]["cpython"]) for n in names]
    r_cffi = [ratio(results[n].get("pyctypes"), results[n].get("cffi")) or 0 for n in names]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(names) + 1.5))
    ys = range(len(names))
    ax.barh([y + 0.2 for y in ys], r_cpy, height=0.4, label="pyctypes / CPython _ctypes")
    ax.barh([y - 0.2 for y in ys], r_cffi, height=0.4, label="pyctypes / cffi")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("time ratio (lower is faster; < 1 beats the other)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json")
    parser.add_argument("--plot")
    parser.add_argument("--only", default="")
    parser.add_argument("--crash-report", action="store_true",
                        help="with pyctypes' crash report on, as under python -m pyctypes run")
    args = parser.parse_args(argv)
    if args.crash_report:
        import pyctypes
        pyctypes.enable_crash_report()
    results = run(args.repeat, args.only)
    mode = "PYCTYPES_PURE=1" if os.environ.get("PYCTYPES_PURE", "") not in ("", "0") else "default"
    print("pyctypes mode: %s%s, %d repeats, medians\n"
          % (mode, ", crash report on" if args.crash_report else "", args.repeat))
    print(report(results))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
