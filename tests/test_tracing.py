"""Tracing foreign calls (`python -m pyctypes run --trace`, `pyctypes.trace`) and
the crash report of a foreign call that dies of a signal, in both modes.

Each program runs in a child process under `python -m pyctypes run`; the
trace is compared line by line with what C received, with addresses and times
normalised (they change from run to run).
"""

import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

import pyctypes

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(pyctypes.__file__)))
MODES = {"native": {}, "pure": {"PYCTYPES_PURE": "1"}}

PROGRAM = """\
import ctypes, ctypes.util, sys, threading
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc_errno = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libm = ctypes.CDLL(ctypes.util.find_library("m"))
lib = ctypes.CDLL(sys.argv[1])
libc.strlen.argtypes = [ctypes.c_char_p]
libc.strlen.restype = ctypes.c_size_t
libm.cos.argtypes = [ctypes.c_double]
libm.cos.restype = ctypes.c_double

class POINT(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int)]

lib.point_sum.argtypes = [POINT]
lib.point_sum.restype = ctypes.c_long
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))

def by_value(a, b):
    return a[0] - b[0]

def in_thread():
    libc.strlen(b"xyz")

libc.abs(-5)
libm.cos(0.0)
libc.strlen(b"hello")
lib.point_sum(POINT(3, 4))
p = POINT(1, 2)
lib.point_sum(p)
libc.memset.restype = None
libc.memset(ctypes.byref(p), 0, ctypes.sizeof(p))
tt = ctypes.c_long(86400)
tm = (ctypes.c_int * 16)()
libc.gmtime_r(ctypes.byref(tt), tm)
numbers = (ctypes.c_int * 2)(7, 5)
libc.qsort(numbers, 2, ctypes.sizeof(ctypes.c_int), CMP(by_value))
libc_errno.open(b"/nonexistent/file", 0)
worker = threading.Thread(target=in_thread, name="second")
worker.start(); worker.join()
try:
    libc.strlen(3)
except ctypes.ArgumentError:
    pass
"""


def _refused_by_c_char_p():
    """The ArgumentError's text for c_char_p refusing an int, from CPython's
    from_param (3.13 names the type), as the trace shows it (shortened)."""
    import ctypes
    from pyctypes._ctypes.tracing import _short
    try:
        ctypes.c_char_p.from_param(3)
    except TypeError as exc:
        return _short("argument 1: TypeError: %s" % exc)
    raise AssertionError("c_char_p.from_param(3) accepted")


def line_of(statement):
    return next(i for i, line in enumerate(PROGRAM.splitlines(), 1) if statement in line)


EXPECTED = """\
[MainThread] libc.so.6:abs(-5) = 5 <T> at prog.py:{abs}
[MainThread] libm.so.6:cos(0.0) = 1.0 <T> at prog.py:{cos}
[MainThread] libc.so.6:strlen(0xA -> b'hello') = 5 <T> at prog.py:{strlen}
[MainThread] libfuncs.so:point_sum(<struct POINT by value {{x=3, y=4}}>) = 3004 <T> at prog.py:{sum1}
[MainThread] libfuncs.so:point_sum(<struct POINT by value {{x=1, y=2}}>) = 1002 <T> at prog.py:{sum2}
[MainThread] libc.so.6:memset(0xA -> &<struct POINT at 0xA {{x=1, y=2}}>, 0, 8) = None <T> at prog.py:{memset}
[MainThread] libc.so.6:gmtime_r(0xA -> &<c_long at 0xA>, 0xA -> <c_int[16] at 0xA>) = A <T> at prog.py:{gmtime}
[MainThread] libc.so.6:qsort(0xA -> <c_int[2] at 0xA>, 2, 4, 0xA -> <callback by_value>) ...
[MainThread]   callback by_value(<LP_c_int to 0xA>, <LP_c_int to 0xA>) = 2 <T>
[MainThread] ... libc.so.6:qsort resumed = 0 <T> at prog.py:{qsort}
[MainThread] libc.so.6:open(0xA -> b'/nonexistent/file', 0) = -1 errno=2 <T> at prog.py:{open}
[second] libc.so.6:strlen(0xA -> b'xyz') = 3 <T> at prog.py:{thread}
[MainThread] libc.so.6:strlen(...) raised ArgumentError: {refused} at prog.py:{bad}
""".format(refused=_refused_by_c_char_p(), abs=line_of("libc.abs(-5)"), cos=line_of("libm.cos(0.0)"), strlen=line_of('strlen(b"hello")'),
           sum1=line_of("point_sum(POINT(3, 4))"), sum2=line_of("point_sum(p)"), memset=line_of("libc.memset(ctypes.byref(p)"),
           gmtime=line_of("gmtime_r("), qsort=line_of("libc.qsort("), open=line_of("libc_errno.open("),
           thread=line_of('strlen(b"xyz")'), bad=line_of("libc.strlen(3)"))


def normalise(text):
    text = re.sub(r"0x[0-9a-f]+", "0xA", text)
    text = re.sub(r"<[0-9.]+(us|ms)>", "<T>", text)
    # gmtime_r returns its second argument, as an int (no restype)
    return re.sub(r"(gmtime_r\(.*\)) = -?\d+", r"\1 = A", text)


def run(tmp_path, source, args, mode, *extra, crashes=False):
    prog = tmp_path / "prog.py"
    prog.write_text(source)
    env = {**os.environ, **MODES[mode]}
    if mode == "native":
        env.pop("PYCTYPES_PURE", None)
    # the pyctypes these tests import, whatever the child's working directory
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SOURCE_ROOT, env.get("PYTHONPATH")]))
    if crashes and "ASAN_OPTIONS" in env:
        # Under the sanitizer run (tests/sanitizers) the child dies on purpose:
        # ASan must leave SIGSEGV to the handlers under test.
        env["ASAN_OPTIONS"] += ":handle_segv=0"
    return subprocess.run([sys.executable, "-m", "pyctypes", "run", *extra, str(prog), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


@pytest.mark.parametrize("mode", MODES)
def test_trace_lines(tmp_path, clib_path, mode):
    out = tmp_path / "trace.txt"
    done = run(tmp_path, PROGRAM, [clib_path], mode, "--trace", "--trace-file", str(out))
    assert done.returncode == 0, done.stderr
    assert normalise(out.read_text()).splitlines() == EXPECTED.splitlines()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pattern, names", [
    ("str*", {"libc.so.6:strlen"}),
    ("libm*:*,abs", {"libm.so.6:cos", "libc.so.6:abs"}),
    ("point_sum", {"libfuncs.so:point_sum"}),
])
def test_trace_filter(tmp_path, clib_path, mode, pattern, names):
    out = tmp_path / "trace.txt"
    done = run(tmp_path, PROGRAM, [clib_path], mode, "--trace=" + pattern, "--trace-file", str(out))
    assert done.returncode == 0, done.stderr
    lines = normalise(out.read_text()).splitlines()
    assert lines == [line for line in EXPECTED.splitlines()
                     if re.match(r"\[\w+\] (\.\.\. )?([\w.]+:\w+)", line)
                     and re.match(r"\[\w+\] (\.\.\. )?([\w.]+:\w+)", line).group(2) in names]


@pytest.mark.parametrize("mode", MODES)
def test_trace_summary(tmp_path, clib_path, mode):
    out = tmp_path / "trace.txt"
    done = run(tmp_path, PROGRAM, [clib_path], mode, "--trace-summary", "--trace-file", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    table = text[text.index("function "):].splitlines()
    assert table[0].split() == ["function", "calls", "total", "ms", "mean", "us", "errors"]
    rows = {cells[0]: (int(cells[1]), int(cells[4])) for cells in (line.split() for line in table[1:])}
    assert rows == {"libc.so.6:abs": (1, 0), "libm.so.6:cos": (1, 0), "libc.so.6:strlen": (3, 1),
                    "libc.so.6:memset": (1, 0),
                    "libfuncs.so:point_sum": (2, 0), "libc.so.6:gmtime_r": (1, 0),
                    "libc.so.6:qsort": (1, 0), "libc.so.6:open": (1, 0)}
    for line in table[1:]:
        cells = line.split()
        assert float(cells[2]) >= 0 and float(cells[3]) >= 0


@pytest.mark.parametrize("mode", MODES)
def test_trace_api(tmp_path, mode):
    """pyctypes.trace() as a context manager, inside a program; nothing is traced
    outside it, and the fast paths come back after it."""
    source = textwrap.dedent("""\
        import ctypes, ctypes.util, io, pyctypes
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.labs.argtypes = [ctypes.c_long]
        libc.labs(-1)
        buffer = io.StringIO()
        with pyctypes.trace(file=buffer):
            libc.labs(-2)
        libc.labs(-3)
        print(buffer.getvalue(), end="")
        """)
    done = run(tmp_path, source, [], mode)
    assert done.returncode == 0, done.stderr
    assert normalise(done.stdout).splitlines() == ["[MainThread] libc.so.6:labs(-2) = 2 <T> at prog.py:7"]


def test_tracing_off_is_native(tmp_path):
    """After a trace stops, calls run natively again (no Python frame for the call)."""
    source = textwrap.dedent("""\
        import ctypes, ctypes.util, io, sys, pyctypes
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.labs.argtypes = [ctypes.c_long]
        libc.labs(-1)
        frames = []
        def profile(frame, event, arg):
            if event == "call":
                frames.append(frame.f_code.co_name)
        def calls(n):
            frames.clear(); sys.setprofile(profile); libc.labs(n); sys.setprofile(None)
            return [f for f in frames if f not in ("profile",)]
        with pyctypes.trace(file=io.StringIO()):
            inside = calls(-2)
        print(bool(inside), calls(-3))
        """)
    done = run(tmp_path, source, [], "native")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "[]"]


# ---------------------------------------------------------------- the crash report

CRASHES = {
    "bad pointer": ("""\
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.strlen.argtypes = [ctypes.c_void_p]
libc.strlen(0x10)
""", ["pyctypes: Segmentation fault in a foreign call: libc.so.6:strlen(pointer 0x10)",
      "  argument 1: pointer 0x10 (from a Python int)", "  fault address: 0x10"], (4, "<module>")),
    "the C caller of a callback": ("""\
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
GET = ctypes.CFUNCTYPE(ctypes.c_void_p)
def bad():
    return 0x18
lib.deref_cb_result(GET(bad))
""", ["pyctypes: Segmentation fault in a foreign call: libfuncs.so:deref_cb_result(pointer 0xA)",
      "  argument 1: pointer 0xA (from a Python CFunctionType)", "  fault address: 0x18"], (6, "<module>")),
    "a call inside a callback": ("""\
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.strlen.argtypes = [ctypes.c_void_p]
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
def compare(a, b):
    return libc.strlen(0x20)
numbers = (ctypes.c_int * 2)(1, 2)
libc.qsort(numbers, 2, 4, CMP(compare))
""", ["pyctypes: Segmentation fault in a foreign call: libc.so.6:strlen(pointer 0x20)",
      "  fault address: 0x20",
      "  in a callback called by: libc.so.6:qsort(pointer 0xA, 2, 4, pointer 0xA)"], (6, "compare")),
    "past the end of a buffer": ("""\
import ctypes, ctypes.util, mmap
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
pages = mmap.mmap(-1, 2 * mmap.PAGESIZE)
base = ctypes.addressof(ctypes.c_char.from_buffer(pages))
assert libc.mprotect(base + mmap.PAGESIZE, mmap.PAGESIZE, 0) == 0     # a guard page
tail = (ctypes.c_char * 16).from_buffer(pages, mmap.PAGESIZE - 16)
libc.memset(tail, 0, 64)
""", ["  the fault address is at offset 16 of the buffer of argument 1 (c_char_Array_16, 16 bytes at 0xA), "
      "past its end"], (8, "<module>")),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CRASHES)
def test_crash_report(tmp_path, clib_path, mode, name):
    source, expected, (line, function) = CRASHES[name]
    done = run(tmp_path, source, [clib_path], mode, crashes=True)
    assert done.returncode == -signal.SIGSEGV, done.stderr        # still a crash
    report = re.sub(r"0x(?!10\b|18\b|20\b)[0-9a-f]+", "0xA", done.stderr)
    lines = report.splitlines()
    for text in expected:
        assert text in lines, report
    # then faulthandler's Python stack, with the line that made the call
    assert "Fatal Python error: Segmentation fault" in lines, report
    assert f'  File "{tmp_path / "prog.py"}", line {line} in {function}' in lines, report


def test_no_crash_report(tmp_path, clib_path):
    source, _, _ = CRASHES["bad pointer"]
    done = run(tmp_path, source, [clib_path], "native", "--no-crash-report", crashes=True)
    assert done.returncode == -signal.SIGSEGV
    assert "pyctypes:" not in done.stderr


def test_crash_report_chains_to_a_previous_handler(tmp_path):
    """A handler installed before (faulthandler's, writing to stdout here)
    still runs after the report; enable_crash_report says False when it is on
    already."""
    source = textwrap.dedent("""\
        import ctypes, ctypes.util, faulthandler, sys, pyctypes
        faulthandler.enable(file=sys.stdout)
        print(pyctypes.enable_crash_report(), pyctypes.enable_crash_report(), flush=True)
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.strlen.argtypes = [ctypes.c_void_p]
        libc.strlen(0x10)
        """)
    done = run(tmp_path, source, [], "native", "--no-crash-report", crashes=True)
    assert done.returncode == -signal.SIGSEGV
    assert done.stdout.startswith("True False\nFatal Python error: Segmentation fault")
    assert "libc.so.6:strlen(pointer 0x10)" in done.stderr
