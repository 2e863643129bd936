"""Start-up: what programs pay before their first foreign call, CPython's _ctypes against pyctypes.

    python benchmarks/startup.py [--repeat N] [--only NAME] [--instructions]

Each case runs in fresh interpreters, alternately on CPython's ctypes and on
pyctypes (``import pyctypes; pyctypes.install()`` first, inside the timed
part); the time is measured inside the child around the case, and the table
gives medians and the ratio.  With --instructions, each case also runs once
per side under valgrind's callgrind, and again without the case: the
difference is the case's instruction count (noise-free; needs valgrind).

Real bindings need their packages (the ``bench`` extra): pyglet's GL and X
modules, PySDL2 with pysdl2-dll (a game/media binding: ~1,000 functions bound
at import), libclang (a compiler binding: its functions bound on first use).
A case whose package is missing is reported as such, never skipped silently.
"""

import argparse
import os
import statistics
import subprocess
import sys

# name -> (setup, case): setup runs before the clock starts (both sides); it
# must not import ctypes (pyctypes is installed after it).
CASES = {
    "import ctypes": ("", "import ctypes"),
    "100 structures of 10 fields": ("", """\
import ctypes
for i in range(100):
    type("S%d" % i, (ctypes.Structure,), {"_fields_": [("f%d" % j, ctypes.c_int) for j in range(10)]})
"""),
    "200 functions bound (argtypes, restype)": ("", """\
import ctypes
libc = ctypes.CDLL("libc.so.6")
for i in range(200):
    f = libc["labs"]
    f.argtypes = [ctypes.c_long]
    f.restype = ctypes.c_long
"""),
    "pyglet.gl": ("", "import pyglet\npyglet.options['shadow_window'] = False\nimport pyglet.gl"),
    "pyglet.libs.x11.xlib": ("", "import pyglet.libs.x11.xlib"),
    "sdl2 (PySDL2)": ("import warnings\nwarnings.simplefilter('ignore')\n", "import sdl2"),
    "clang.cindex (libclang)": ("", "import clang.cindex\nclang.cindex.Index.create()"),
}

CHILD = r"""
import sys, time
impl, setup, case = sys.argv[1], sys.argv[2], sys.argv[3]
if case == "-":
    case = ""
exec(setup, {})
if "ctypes" in sys.modules:
    sys.exit("the setup imported ctypes")
start = time.perf_counter()
if impl == "pyctypes":
    import pyctypes
    pyctypes.install()
exec(case, {})
print(time.perf_counter() - start)
"""


def child(impl, setup, case, valgrind=False):
    cmd = [sys.executable, "-c", CHILD, impl, setup, case or "-"]
    if valgrind:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd
    env = dict(os.environ, PYTHONHASHSEED="0")
    # as installed packages are: compiled once (the warm-up run writes the .pyc files)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    if valgrind:
        for line in done.stderr.splitlines():
            if "Collected" in line:
                return int(line.split()[-1])
        raise RuntimeError("no instruction count from callgrind")
    return float(done.stdout.strip().splitlines()[-1])


def measure(name, repeat, instructions):
    setup, case = CASES[name]
    row = {"case": name}
    try:
        times = {"cpython": [], "pyctypes": []}
        child("cpython", setup, case)       # warm the file caches (and .pyc files)
        child("pyctypes", setup, case)
        for _ in range(repeat):
            for impl in times:
                times[impl].append(child(impl, setup, case))
        for impl, values in times.items():
            row[impl + " ms"] = statistics.median(values) * 1e3
        row["ratio"] = row["pyctypes ms"] / row["cpython ms"]
        if instructions:
            without = child("cpython", setup, "", valgrind=True)     # the interpreter and setup
            for impl in ("cpython", "pyctypes"):
                row[impl + " Minstr"] = (child(impl, setup, case, valgrind=True) - without) / 1e6
            row["instr ratio"] = row["pyctypes Minstr"] / row["cpython Minstr"]
    except RuntimeError as exc:
        row["error"] = str(exc)
    return row


def report(rows, instructions):
    head = ["case", "CPython ms", "pyctypes ms", "pyctypes/CPython"]
    if instructions:
        head += ["CPython Minstr", "pyctypes Minstr", "instr ratio"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for row in rows:
        if "error" in row:
            lines.append("| %s | not measured: %s |" % (row["case"], row["error"]))
            continue
        cells = [row["case"], "%.2f" % row["cpython ms"], "%.2f" % row["pyctypes ms"], "%.2f" % row["ratio"]]
        if instructions:
            cells += ["%.2f" % row["cpython Minstr"], "%.2f" % row["pyctypes Minstr"],
                      "%.2f" % row["instr ratio"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--only", default="")
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args(argv)
    rows = [measure(name, args.repeat, args.instructions) for name in CASES if args.only in name]
    print("start-up, fresh interpreters, medians of %d\n" % args.repeat)
    print(report(rows, args.instructions))


if __name__ == "__main__":
    main()
