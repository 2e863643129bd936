"""Tracing foreign calls: one line per call and per callback, as ltrace does.

While a Tracer is on, every call of a function pointer and every callback runs
the Python level's executors (in native mode the core diverts them there:
raw.divert_calls), which report here: ``conversion.callproc`` for calls,
``invoke`` in ``conversion.make_callback`` for callbacks.  Off, the cost is a
global read in those two places, and nothing in the native paths.

A line says, for a call::

    [MainThread] libc.so.6:strlen(0x7f3a5c0 -> b'hello') = 5 <2.1us> at prog.py:12

the thread, the library and function (the address for a bare function
pointer), the arguments as C received them (pointers as addresses, with what
they point to when pyctypes knows it), the result, errno for use_errno
functions, the time in the foreign function, and the caller's file:line.
Callbacks are indented under the call that made them; a call with callbacks
inside is opened with ``...`` and closed by ``... NAME resumed``.
"""

import fnmatch
import os
import sys
import threading
import time

from ._native import PURE, raw

# The Tracer that is on, or None.  Read by conversion.callproc and the
# callbacks' invoke on every call.
tracer = None

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_CTYPES = os.path.dirname(os.path.abspath(sys.modules["os"].__file__)) + os.sep + "ctypes" + os.sep
_SHORT = 60     # characters of a value's repr shown
_POINTER_KIND = raw.FFIType.for_code("P").kind


def _short(text):
    return text if len(text) <= _SHORT else text[:_SHORT - 3] + "..."


def _caller():
    """file:line of the first frame outside pyctypes and the stdlib ctypes package."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or filename.startswith(_STDLIB_CTYPES)):
            return "%s:%d" % (os.path.basename(filename), frame.f_lineno)
        frame = frame.f_back
    return "?"


def function_label(who, address):
    """library:name of a function pointer made from a library, or of the
    symbol the dynamic linker finds at its address, else the address."""
    label = getattr(who, "_fp_label_", None) if who is not None else None
    if label is not None:
        return label
    found = raw.dladdr(address) if address else None
    if found is not None and found[1] is not None:
        return "%s:%s" % (os.path.basename(found[0]), found[1])
    return "0x%x" % (address or 0)


def _describe_object(obj):
    """What a Python argument passed as a pointer points to, or None."""
    if obj is None:
        return None
    if isinstance(obj, bytes):
        return _short(repr(obj))
    if isinstance(obj, str):
        return _short(repr(obj))
    if isinstance(obj, raw.CArgObject):
        inner = obj._obj
        inner_text = _describe_object(inner) if inner is not obj else None
        return "&" + inner_text if inner_text and obj._tag == "P" else inner_text
    if not isinstance(obj, raw.CData):
        return None
    tp = type(obj)
    info = getattr(tp, "_stginfo_", None)
    kind = getattr(info, "kind", None)
    where = " at 0x%x" % obj._b_address_
    if kind in ("struct", "union"):
        return "<%s %s%s%s>" % (kind, tp.__name__, where, _fields_text(obj))
    if kind == "array":
        return "<%s[%d]%s>" % (getattr(tp._type_, "__name__", "?"), tp._length_, where)
    if kind == "funcptr":
        callable_ = getattr(getattr(obj, "_fp_state_", None), "callable", None)
        if callable_ is not None:
            return "<callback %s>" % getattr(callable_, "__qualname__", repr(callable_))
        label = getattr(obj, "_fp_label_", None)
        return "<function %s>" % label if label else None
    if kind == "simple" and tp._type_ in ("z", "Z"):
        return _short(repr(obj.value))
    if kind == "pointer":
        target = raw.load("P", obj._b_address_)
        return "<%s to %s>" % (tp.__name__, "NULL" if target is None else "0x%x" % target)
    return "<%s%s>" % (tp.__name__, where)


def _fields_text(obj):
    """ {a=1, b=2} for a structure of a few fields, else nothing."""
    fields = getattr(type(obj), "_fields_", None) or ()
    if not 0 < len(fields) <= 8:
        return ""
    try:
        return " {%s}" % ", ".join("%s=%s" % (f[0], _short(repr(getattr(obj, f[0])))) for f in fields)
    except Exception:       # noqa: BLE001 - a field that cannot be read is not shown
        return ""


def _format_argument(ffi_type, address, obj):
    """One argument as C received it (its FFIType, where its value is), and
    what the Python object says about it."""
    code = ffi_type.code
    if code is None:
        if isinstance(obj, raw.CData):
            return "<%s %s by value%s>" % (getattr(type(obj)._stginfo_, "kind", "struct"),
                                          type(obj).__name__, _fields_text(obj))
        return "<%d bytes by value>" % ffi_type.size
    if ffi_type.kind == _POINTER_KIND:
        value = raw.load("P", address)
        if value is None:
            return "NULL"
        what = _describe_object(obj)
        return "0x%x -> %s" % (value, what) if what else "0x%x" % value
    return repr(raw.load(code, address))


class _Call:
    """One traced call or callback in progress on a thread."""

    __slots__ = ("name", "depth", "text", "opened", "start", "elapsed", "caller", "use_errno",
                 "errno")

    def __init__(self, name, depth, caller):
        self.name = name
        self.depth = depth
        self.caller = caller
        self.text = name + "(...)"
        self.opened = False
        self.start = 0
        self.elapsed = None
        self.use_errno = False
        self.errno = None       # read after the call of a use_errno function


class Tracer:
    """Writes a line per foreign call (and callback) to file; with summary,
    a table per function when it stops.  pattern: comma-separated globs, each
    matched against the function name, or against "library:name" if it holds
    a colon; callbacks are traced inside traced calls (all of them without a
    pattern)."""

    def __init__(self, pattern=None, file=None, summary=False):
        self.patterns = [p.strip() for p in pattern.split(",") if p.strip()] if pattern else None
        self._own_file = isinstance(file, (str, os.PathLike))
        self.file = open(file, "w", encoding="utf-8") if self._own_file else (file or sys.stderr)
        self.summary = summary
        self.stats = {}                  # name -> [calls, total ns, errors]
        self._local = threading.local()
        self._lock = threading.Lock()
        self._previous = None

    # ------------------------------------------------------------ on and off
    def start(self):
        global tracer
        if tracer is not None:
            raise RuntimeError("a trace is already on")
        tracer = self
        if not PURE:
            self._previous = raw.divert_calls(True)
        return self

    def stop(self):
        global tracer
        if tracer is not self:
            return
        tracer = None
        if not PURE:
            raw.divert_calls(self._previous)
        if self.summary:
            self.write_summary()
        if self._own_file:
            self.file.close()
        else:
            self.file.flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ lines
    def _stack(self):
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _write(self, depth, text):
        line = "[%s] %s%s\n" % (threading.current_thread().name, "  " * depth, text)
        with self._lock:
            self.file.write(line)

    def _open_outer(self, stack):
        """A nested line is coming: the calls around it are written first, open."""
        for call in stack:
            if not call.opened:
                call.opened = True
                self._write(call.depth, call.text + " ...")

    def _selected(self, name):
        if self.patterns is None:
            return True
        function = name.rsplit(":", 1)[-1]
        return any(fnmatch.fnmatchcase(name if ":" in p else function, p) for p in self.patterns)

    # ------------------------------------------------------------ calls (conversion.callproc)
    def begin(self, who, address):
        """A call starts: its record, or None when the pattern leaves it out."""
        name = function_label(who, address)
        if not self._selected(name):
            return None
        stack = self._stack()
        self._open_outer(stack)
        call = _Call(name, len(stack), _caller())
        stack.append(call)
        return call

    def converted(self, call, ffi_types, addresses, args, flags):
        """The arguments as C receives them; the clock starts."""
        parts = [_format_argument(t, a, args[i] if i < len(args) else None)
                 for i, (t, a) in enumerate(zip(ffi_types, addresses))]
        call.text = "%s(%s)" % (call.name, ", ".join(parts))
        call.use_errno = bool(flags & raw.CALL_USE_ERRNO)
        call.start = time.perf_counter_ns()

    def called(self, call):
        call.elapsed = time.perf_counter_ns() - call.start
        if call.use_errno:
            call.errno = raw.get_errno()

    def returned(self, call, value):
        self._end(call, "= " + (_describe_object(value) if isinstance(value, raw.CData) else _short(repr(value))),
                  False)

    def failed(self, call, exc):
        self._end(call, "raised %s: %s" % (type(exc).__name__, _short(str(exc))), True)

    def _end(self, call, outcome, error):
        stack = self._stack()
        if stack and stack[-1] is call:
            stack.pop()
        if call.errno is not None:
            outcome += " errno=%d" % call.errno
        if call.elapsed is not None:
            outcome += " <%s>" % _duration(call.elapsed)
        where = "" if call.caller is None else " at " + call.caller
        if call.opened:
            self._write(call.depth, "... %s resumed %s%s" % (call.name, outcome, where))
        else:
            self._write(call.depth, "%s %s%s" % (call.text, outcome, where))
        if self.summary and call.caller is not None:
            with self._lock:
                entry = self.stats.setdefault(call.name, [0, 0, 0])
                entry[0] += 1
                entry[1] += call.elapsed or 0
                entry[2] += error

    # ------------------------------------------------------------ callbacks (invoke)
    def callback_begin(self, callable_, arglist):
        stack = self._stack()
        if self.patterns is not None and not stack:
            return None
        self._open_outer(stack)
        name = "callback " + (getattr(callable_, "__qualname__", None) or repr(callable_))
        call = _Call(name, len(stack), None)
        call.text = "%s(%s)" % (name, ", ".join(_short(_describe_object(a) or repr(a)) for a in arglist))
        stack.append(call)
        call.start = time.perf_counter_ns()
        return call

    def callback_end(self, call, result=None, exc=None):
        self.called(call)
        if exc is not None:
            self.failed(call, exc)
        else:
            self.returned(call, result)

    # ------------------------------------------------------------ summary
    def write_summary(self):
        rows = sorted(self.stats.items(), key=lambda item: -item[1][1])
        lines = ["%-40s %8s %12s %10s %7s" % ("function", "calls", "total ms", "mean us", "errors")]
        for name, (calls, total, errors) in rows:
            lines.append("%-40s %8d %12.3f %10.2f %7d"
                         % (name, calls, total / 1e6, total / 1e3 / calls if calls else 0.0, errors))
        with self._lock:
            self.file.write("\n".join(lines) + "\n")


def _duration(ns):
    if ns < 10_000:
        return "%.1fus" % (ns / 1e3)
    if ns < 10_000_000:
        return "%.0fus" % (ns / 1e3)
    return "%.1fms" % (ns / 1e6)
