"""`import ctypes` on pyctypes against CPython's, with -X importtime.

    python benchmarks/importtime.py [--repeat N]

    python benchmarks/importtime.py --program "import pyglet.gl" [--repeat N]

Each run is a fresh interpreter; the report gives medians of the cumulative
times of the top-level imports: CPython's `import ctypes`, and pyctypes'
`import pyctypes; pyctypes.install(); import ctypes` (pyctypes, its binding,
pyctypes._ctypes and the stdlib ctypes package running on it), with the self
time of each module of pyctypes.  Bytecode caches are written on the first
run (PYTHONDONTWRITEBYTECODE is unset for the children), as an installed
package has them.

--program times a program's own start-up instead (wall time of the statement
after interpreter start, pyctypes' install() included), e.g. a library whose
import binds hundreds of functions and structures.
"""

import argparse
import collections
import os
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
OURS = ("pyctypes", "pyctypes._binding", "pyctypes._ctypes", "ctypes")


def importtime(code, env):
    """{module: (self us, cumulative us, depth)} of one fresh interpreter."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                         capture_output=True, text=True, check=True).stderr
    rows = {}
    for line in err.splitlines():
        m = LINE.match(line)
        if m:
            rows[m.group(4)] = (int(m.group(1)), int(m.group(2)), len(m.group(3)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--program", help="a statement whose start-up to time instead")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.program:
        return program_startup(args.program, args.repeat, env)
    cpython, pyctypes, selves = [], [], collections.defaultdict(list)
    for _ in range(args.repeat):
        rows = importtime("import ctypes", env)
        cpython.append(rows["ctypes"][1])
        rows = importtime("import pyctypes; pyctypes.install(); import ctypes", env)
        pyctypes.append(sum(rows[name][1] for name in OURS if name in rows and rows[name][2] == 1))
        for name, (own, _, _) in rows.items():
            if name.startswith(("pyctypes", "ctypes")):
                selves[name].append(own)
    c, p = statistics.median(cpython) / 1000, statistics.median(pyctypes) / 1000
    print("import ctypes, medians of %d fresh interpreters:" % args.repeat)
    print("  CPython's _ctypes: %.2f ms" % c)
    print("  pyctypes:          %.2f ms  (%.2f x CPython)" % (p, p / c))
    print("self time of each module on pyctypes:")
    for name, values in selves.items():
        print("  %-30s %6.2f ms" % (name, statistics.median(values) / 1000))


def program_startup(statement, repeat, env):
    timed = ("import time\nstart = time.perf_counter()\n%s%s\n"
             "print(time.perf_counter() - start)")
    ours = timed % ("import pyctypes; pyctypes.install()\n", statement)
    theirs = timed % ("", statement)
    cpython, pyctypes = [], []
    for _ in range(repeat + 1):         # the first run writes the bytecode caches
        for code, into in ((theirs, cpython), (ours, pyctypes)):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True).stdout
            into.append(float(out.split()[-1]))
    c, p = statistics.median(cpython[1:]) * 1e3, statistics.median(pyctypes[1:]) * 1e3
    print("%s, medians of %d fresh interpreters:" % (statement, repeat))
    print("  CPython's _ctypes: %.1f ms" % c)
    print("  pyctypes:          %.1f ms  (%.2f x CPython)" % (p, p / c))


if __name__ == "__main__":
    main()
