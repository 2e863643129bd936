"""Leaks: tools/leakcheck.py with a small N (CI-sized) — every benchmark
operation and error path leaves reference counts, gc-tracked objects, malloc
and tracemalloc where they were.  The figures of tests/reliability/README.md come from the tool
itself at N = 10**6.

The measurement runs in a fresh interpreter: in the test process, after
thousands of tests, the allocator's arenas are returned and taken again
around the first operation measured (resident memory +1 MiB with malloc'd
memory unchanged), which is the process's history, not the operation's."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import leakcheck  # noqa: E402

N = int(os.environ.get("PYCTYPES_LEAKCHECK_N", "2000"))


CHILD = """
import json, sys
sys.path.insert(0, {tools!r})
import leakcheck
lines = []
results = leakcheck.run_all({n}, "pyctypes", report=lines.append)
print("\\n".join(lines), file=sys.stderr)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def results():
    child = subprocess.run([sys.executable, "-c", CHILD.format(tools=str(ROOT / "tools"), n=N)],
                           capture_output=True, text=True, timeout=900)
    print(child.stderr)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_every_operation_and_error_path_ran(results):
    names = {name for name, *_ in leakcheck.bench.OPERATIONS} | \
        {name for name, _ in leakcheck.ERROR_PATHS}
    assert set(results) == names


@pytest.mark.parametrize("name", [op[0] for op in leakcheck.bench.OPERATIONS] +
                         [name for name, _ in leakcheck.ERROR_PATHS])
def test_no_growth(results, name):
    result = results[name]
    assert not result["refs"], "reference counts changed: %r" % (result["refs"],)
    assert result["gc_objects"] <= 50, result
    assert not leakcheck.grew(result), result


def test_the_check_sees_a_leak():
    """The measure itself: a statement that keeps what it makes is caught by
    its reference count, gc and malloc figures."""
    keep = []
    ns = {"keep": keep, "payload": b"x"}
    result = leakcheck.measure(ns, "keep.append([payload])", 20_000, False)
    assert result["refs"]["payload"] == 20_000
    assert result["gc_objects"] >= 20_000
    assert leakcheck.grew(result)
    native = {"ct": __import__("ctypes")}
    exec("libc = ct.CDLL(None); libc.malloc.restype = ct.c_void_p", native)
    result = leakcheck.measure(native, "libc.malloc(100)", 20_000, False)
    assert result["malloc"] >= 20_000 * 100
    assert leakcheck.grew(result)
