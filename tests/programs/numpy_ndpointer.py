"""numpy arrays passed to C functions through numpy.ctypeslib: ndpointer argtypes and friends.

    python numpy_ndpointer.py                    on CPython's _ctypes
    python -m pyctypes run numpy_ndpointer.py    on pyctypes

Compiles a small C library with the system compiler (CC, default gcc), loads
it with numpy.ctypeslib.load_library and calls it with numpy arrays declared
by `ndpointer` in `argtypes`: in-place updates, a 2-D matrix product, an
array of structures (a structured dtype and its as_ctypes_type twin), arrays
that ndpointer must refuse (dtype, ndim, flags), and the other ways numpy and
ctypes share memory (ndarray.ctypes.data_as, as_array on a ctypes pointer,
as_ctypes).  The last line printed is `RESULT {json}`; exit status 0 when
every check passes.
"""

import ctypes
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from numpy.ctypeslib import as_array, as_ctypes, as_ctypes_type, load_library, ndpointer

C_SOURCE = r"""
#include <stddef.h>
#include <stdint.h>

typedef struct { int32_t id; double x, y; } point;

void scale(double *a, size_t n, double k) { for (size_t i = 0; i < n; i++) a[i] *= k; }

int64_t sum_i32(const int32_t *a, size_t n) {
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += a[i];
    return s;
}

/* c[n][m] = a[n][k] @ b[k][m], row-major */
void matmul(const double *a, const double *b, double *c, int n, int k, int m) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int t = 0; t < k; t++) s += a[i * k + t] * b[t * m + j];
            c[i * m + j] = s;
        }
}

/* moves every point by (dx, dy); returns the sum of the ids */
int32_t move_points(point *p, size_t n, double dx, double dy) {
    int32_t ids = 0;
    for (size_t i = 0; i < n; i++) { p[i].x += dx; p[i].y += dy; ids += p[i].id; }
    return ids;
}

double *first_of(double *a) { return a; }
"""


def build_library(directory):
    cc = os.environ.get("CC", "gcc")
    source = os.path.join(directory, "ndlib.c")
    with open(source, "w") as f:
        f.write(C_SOURCE)
    target = os.path.join(directory, "libndlib.so")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", target, source], check=True)
    return load_library("libndlib", directory)


class Checks(dict):
    """name -> bool; a group of checks that raises records the failure under its name."""

    def __setitem__(self, name, value):
        super().__setitem__(name, bool(value))

    def group(self, name, function, *args):
        try:
            function(self, *args)
        except Exception as exc:
            self[f"{name} (raised {type(exc).__name__}: {exc})"] = False


def check_calls(checks, lib):
    f64_2d = ndpointer(dtype=np.float64, ndim=2, flags="C_CONTIGUOUS")
    i32_1d = ndpointer(dtype=np.int32, ndim=1)

    lib.scale.argtypes = [ndpointer(np.float64, flags="C_CONTIGUOUS,WRITEABLE"), ctypes.c_size_t,
                          ctypes.c_double]
    lib.scale.restype = None
    a = np.arange(6, dtype=np.float64)
    lib.scale(a, a.size, 2.5)
    checks["scale in place"] = a.tolist() == [0.0, 2.5, 5.0, 7.5, 10.0, 12.5]

    lib.sum_i32.argtypes = [i32_1d, ctypes.c_size_t]
    lib.sum_i32.restype = ctypes.c_int64
    values = np.array([2**31 - 1, 2**31 - 1, -5, 7], dtype=np.int32)
    checks["sum of int32 to int64"] = lib.sum_i32(values, values.size) == 2 * (2**31 - 1) + 2

    lib.matmul.argtypes = [f64_2d, f64_2d, f64_2d] + [ctypes.c_int] * 3
    lib.matmul.restype = None
    m1 = np.arange(6, dtype=np.float64).reshape(2, 3)
    m2 = np.arange(12, dtype=np.float64).reshape(3, 4) / 4
    out = np.zeros((2, 4))
    lib.matmul(m1, m2, out, 2, 3, 4)
    checks["matmul 2-D"] = np.array_equal(out, m1 @ m2)


def check_refusals(checks, lib):
    # Arrays ndpointer must refuse: the call raises ctypes.ArgumentError naming the argument.
    refused = {
        "wrong dtype": (np.arange(6, dtype=np.float32), lib.scale, (6, 1.0)),
        "wrong ndim": (np.zeros((2, 3)), lib.sum_i32, (6,)),
        "not contiguous": (np.zeros(12)[::2], lib.scale, (6, 1.0)),
        "read-only": (np.frombuffer(b"\0" * 48, dtype=np.float64), lib.scale, (6, 1.0)),
        "a list": ([1.0, 2.0], lib.scale, (2, 1.0)),
    }
    for name, (array, function, rest) in refused.items():
        try:
            function(array, *rest)
        except ctypes.ArgumentError as exc:
            checks[f"refuses {name}"] = str(exc).startswith("argument 1: TypeError:")
        else:
            checks[f"refuses {name}"] = False
    checks["ndpointer class cached"] = ndpointer(np.float64, 1, flags="C") is ndpointer(
        np.float64, 1, flags="C_CONTIGUOUS")
    # from_param gives the array's ndarray.ctypes object; the call passes its _as_parameter_.
    a = np.zeros(3)
    param = ndpointer(dtype=np.float64, ndim=1).from_param(a)
    checks["from_param is ndarray.ctypes"] = (type(param._as_parameter_) is ctypes.c_void_p
                                              and param._as_parameter_.value == a.ctypes.data)


def check_structures(checks, lib):
    point_dtype = np.dtype([("id", np.int32), ("x", np.float64), ("y", np.float64)], align=True)
    Point = as_ctypes_type(point_dtype)
    checks["as_ctypes_type structure"] = (issubclass(Point, ctypes.Structure)
                                          and ctypes.sizeof(Point) == point_dtype.itemsize == 24
                                          and [f[0] for f in Point._fields_ if f[0]] == ["id", "x", "y"])
    lib.move_points.argtypes = [ndpointer(point_dtype, ndim=1), ctypes.c_size_t,
                                ctypes.c_double, ctypes.c_double]
    lib.move_points.restype = ctypes.c_int32
    points = np.zeros(3, dtype=point_dtype)
    points["id"] = [1, 20, 300]
    points["x"] = [0.5, 1.5, 2.5]
    ids = lib.move_points(points, points.size, 1.0, -2.0)
    checks["array of structures"] = (ids == 321 and points["x"].tolist() == [1.5, 2.5, 3.5]
                                     and points["y"].tolist() == [-2.0] * 3)
    c_points = (Point * 3).from_buffer(points)
    checks["structures seen from ctypes"] = [(p.id, p.x) for p in c_points] == \
        [(1, 1.5), (20, 2.5), (300, 3.5)]


def check_shared_memory(checks, lib):
    # ndarray.ctypes, as_array, as_ctypes: the same memory on both sides.
    b = np.linspace(0.0, 1.0, 5)
    ptr = b.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    ptr[2] = 42.0
    checks["data_as pointer writes the array"] = b[2] == 42.0
    checks["ndarray.ctypes shape/strides"] = (list(b.ctypes.shape) == [5]
                                              and list(b.ctypes.strides) == [8]
                                              and b.ctypes.data == b.__array_interface__["data"][0])
    lib.first_of.argtypes = [ndpointer(dtype=np.float64, ndim=1, flags="C_CONTIGUOUS")]
    lib.first_of.restype = ctypes.POINTER(ctypes.c_double)
    view = as_array(lib.first_of(b), shape=(5,))
    view[4] = -1.0
    checks["as_array on a returned pointer"] = b[4] == -1.0 and view.base is not None
    c_array = as_ctypes(np.array([[1, 2], [3, 4]], dtype=np.int16))
    checks["as_ctypes 2-D"] = (type(c_array)._type_._type_ is ctypes.c_short
                               and [list(row) for row in c_array] == [[1, 2], [3, 4]])
    back = as_array(c_array)
    checks["as_array of a ctypes array"] = back.dtype == np.int16 and back.tolist() == [[1, 2], [3, 4]]


def check_dtypes(checks, lib):
    checks["dtype of ctypes types"] = (np.dtype(ctypes.c_uint16) == np.uint16
                                       and np.dtype(ctypes.c_double * 3) == np.dtype((np.float64, 3)))


GROUPS = (check_calls, check_refusals, check_structures, check_shared_memory, check_dtypes)


def run_checks(lib):
    checks = Checks()
    for group in GROUPS:
        checks.group(group.__name__, group, lib)
    return checks


def main():
    with tempfile.TemporaryDirectory(prefix="ndpointer-") as directory:
        lib = build_library(directory)
        checks = run_checks(lib)
    import _ctypes
    failed = sorted(name for name, ok in checks.items() if not ok)
    ok = bool(checks) and not failed
    result = {"ok": ok, "passed": sum(checks.values()), "checks": len(checks), "failed": failed,
              "results": checks,
              "ctypes_module": _ctypes.__name__, "numpy": np.__version__}
    print(f"numpy ndpointer: {result['passed']}/{len(checks)} checks passed ({_ctypes.__name__})")
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
