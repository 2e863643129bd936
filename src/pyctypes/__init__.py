"""pyctypes: ctypes for CPython, with `_ctypes` written in Python over a small C++ core.

Two ways to bind the standard library's `ctypes` package to pyctypes:

* globally: ``pyctypes.install()`` before anything imports ``ctypes`` (or run a
  program with ``python -m pyctypes run script.py`` / ``python -m pyctypes -m mod``);
* side by side: ``from pyctypes import ctypes`` gives a separately loaded copy of
  the stdlib package bound to pyctypes, while plain ``import ctypes`` stays
  CPython's.
"""

__version__ = "0.1.0"

__all__ = ["install", "installed", "ctypes"]


def install():
    """Make every later ``import ctypes`` in this process run on pyctypes."""
    from ._binding import install as _install
    _install()


def installed():
    """True if the process-wide ``_ctypes`` is pyctypes'."""
    from ._binding import installed as _installed
    return _installed()


def __getattr__(name):
    # `from pyctypes import ctypes`: the side-by-side copy, loaded on first use.
    if name == "ctypes":
        from ._binding import side_by_side
        return side_by_side()
    raise AttributeError(f"module 'pyctypes' has no attribute {name!r}")
