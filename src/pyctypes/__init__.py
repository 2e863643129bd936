"""pyctypes: ctypes for CPython, with `_ctypes` written in Python over a small C++ core.

Two ways to bind the standard library's `ctypes` package to pyctypes:

* globally: ``pyctypes.install()`` before anything imports ``ctypes`` (or run a
  program with ``python -m pyctypes run script.py`` / ``python -m pyctypes -m mod``);
* side by side: ``from pyctypes import ctypes`` gives a separately loaded copy of
  the stdlib package bound to pyctypes, while plain ``import ctypes`` stays
  CPython's.
"""

import sys as _sys

__version__ = "0.1.0"

# The CPython versions whose `_ctypes` pyctypes is (pyproject.toml's
# requires-python says the same; _ctypes/versions.py holds what differs).
SUPPORTED_VERSIONS = ((3, 11), (3, 12), (3, 13))

if _sys.version_info[:2] not in SUPPORTED_VERSIONS:
    raise ImportError(
        "pyctypes supports CPython %s; this is Python %d.%d"
        % (", ".join("%d.%d" % v for v in SUPPORTED_VERSIONS), *_sys.version_info[:2]))

__all__ = ["install", "installed", "ctypes", "trace", "enable_crash_report"]


def install():
    """Make every later ``import ctypes`` in this process run on pyctypes."""
    from ._binding import install as _install
    _install()


def installed():
    """True if the process-wide ``_ctypes`` is pyctypes'."""
    from ._binding import installed as _installed
    return _installed()


def trace(pattern=None, file=None, summary=False):
    """A tracer of foreign calls: a line per call and per callback (see
    ``pyctypes._ctypes.tracing``).  Use it as ``with pyctypes.trace(): ...``,
    or ``t = pyctypes.trace().start()`` ... ``t.stop()``.

    pattern: comma-separated globs of function names (``"str*,qsort"``), or of
    ``library:name`` when a glob holds a colon; file: a path or a text file
    (default stderr); summary: at stop, a table of calls, time and errors per
    function."""
    from ._ctypes.tracing import Tracer
    return Tracer(pattern, file, summary)


def enable_crash_report():
    """When a foreign call dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT,
    write the function, its arguments as C received them and where the fault
    address lies among their buffers to stderr, then the Python stacks of all
    threads (faulthandler, enabled here if it is not); the process still ends
    by the signal.  On by default under ``python -m pyctypes run``.  Returns
    False if it was on already."""
    import faulthandler
    from ._rawffi import enable_crash_report as _enable
    if not faulthandler.is_enabled():
        faulthandler.enable(all_threads=True)
    return _enable()


def __getattr__(name):
    # `from pyctypes import ctypes`: the side-by-side copy, loaded on first use.
    if name == "ctypes":
        from ._binding import side_by_side
        return side_by_side()
    raise AttributeError(f"module 'pyctypes' has no attribute {name!r}")
