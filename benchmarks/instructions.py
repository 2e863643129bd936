"""Instructions per operation (valgrind's callgrind), pyctypes against CPython's _ctypes.

    python benchmarks/instructions.py [--only substr] [--impl pyctypes] [-n N]

Time on a shared 2-core machine moves by 10-15% between runs; instruction
counts do not.  For each operation of bench.py, two interpreters run under
callgrind with the same set-up and warm-up: one then runs the operation N
times, the other an empty statement N times; the difference over N is the
operation's count.  Needs valgrind (apt-get install valgrind).
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

CHILD = r"""
import sys
impl, stmt, warm, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if impl == "cpython":
    import ctypes as ct
else:
    from pyctypes import ctypes as ct
ns = {"ct": ct, "LIBBENCH": sys.argv[5]}
exec(sys.argv[6], ns)
exec("def _op(n):\n    for _ in range(n):\n        " + stmt.replace("\n", "\n        ")
     + "\ndef _empty(n):\n    for _ in range(n):\n        pass\n", ns)
ns["_op"](warm)
import gc
gc.collect()
gc.disable()        # a collection falling in one run and not the other would count
ns["_op" if n else "_empty"](abs(n) or warm)
"""


def collected(impl, stmt, n, warm, libbench, env):
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.path.join(tmp, "out"),
             sys.executable, "-c", CHILD, impl, stmt, str(warm), str(n), libbench,
             bench.CTYPES_SETUP],
            capture_output=True, text=True, env=env, cwd=tmp)
    match = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if proc.returncode or not match:
        raise RuntimeError("callgrind run failed:\n" + proc.stderr[-2000:])
    return int(match.group(1))


def per_operation(impl, stmt, n, libbench, env):
    """Instructions of one execution of stmt: (N runs - N empty loops) / N."""
    warm = 20
    return (collected(impl, stmt, n, warm, libbench, env)
            - collected(impl, stmt, 0, warm, libbench, env)) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--impl", choices=["both", "pyctypes", "cpython"], default="both")
    parser.add_argument("-n", type=int, default=20000)
    args = parser.parse_args(argv)
    libbench = bench.build_benchlib()
    env = dict(os.environ, PYTHONHASHSEED="0")     # the same dict layouts in every run
    impls = ["cpython", "pyctypes"] if args.impl == "both" else [args.impl]
    mode = "PYCTYPES_PURE=1" if env.get("PYCTYPES_PURE", "") not in ("", "0") else "default"
    print("pyctypes mode: %s; instructions per operation (callgrind), N = %d\n" % (mode, args.n))
    print("| operation | " + " | ".join(impls) + (" | pyctypes/CPython |" if len(impls) == 2 else " |"))
    print("|---|" + "---:|" * (len(impls) + (len(impls) == 2)))
    for name, _group, stmt, _cffi in bench.OPERATIONS:
        if args.only and args.only not in name:
            continue
        n = max(1, args.n // 400) if "1000" in name else args.n
        counts = [per_operation(impl, stmt, n, libbench, env) for impl in impls]
        cells = ["%.0f" % c for c in counts]
        if len(impls) == 2:
            cells.append("%.2f" % (counts[1] / counts[0]) if counts[0] > 0 else "")
        print("| %s | %s |" % (name, " | ".join(cells)), flush=True)


if __name__ == "__main__":
    main()
