"""Binding CPython's stdlib `ctypes` package to pyctypes' `_ctypes`.

The stdlib package is never copied: it is imported from the running
interpreter's library with `_ctypes` resolved to `pyctypes._ctypes`.
"""

import os
import sys
import threading

# The stdlib ctypes package and the submodules a side-by-side copy carries.
_STDLIB_MODULES = ("ctypes", "ctypes._endian", "ctypes.util", "ctypes.wintypes")
_SIDE_PREFIX = "pyctypes.ctypes"
_lock = threading.RLock()
# Set by install(): the processes the program starts bind themselves too
# (pyctypes-autoinstall.pth, pyctypes/_autoinstall.py).
INSTALL_ENV_VAR = "PYCTYPES_INSTALL"


def _our_ctypes_module():
    from . import _ctypes
    return _ctypes


def installed():
    return sys.modules.get("_ctypes") is _our_ctypes_module()


def install():
    """Bind `_ctypes` to pyctypes for every later `import ctypes` of this process,
    and of the Python processes it starts (PYCTYPES_INSTALL=1 in the environment).

    Raises RuntimeError if `ctypes` was already imported on CPython's `_ctypes`:
    mixing the two would give objects of two incompatible implementations.
    """
    ours = _our_ctypes_module()
    with _lock:
        if sys.modules.get("_ctypes") is not ours:
            loaded = sys.modules.get("ctypes")
            if loaded is not None and getattr(loaded, "_SimpleCData", None) is not ours._SimpleCData:
                raise RuntimeError(
                    "pyctypes.install() called after 'ctypes' was imported on CPython's _ctypes; "
                    "call it before anything imports ctypes (or use 'python -m pyctypes run')")
            sys.modules["_ctypes"] = ours
            loaded = sys.modules.get("ctypes")
            if loaded is not None:
                _adjust(loaded)
            elif not any(isinstance(f, _StdlibCtypesFinder) for f in sys.meta_path):
                sys.meta_path.insert(0, _StdlibCtypesFinder())
        os.environ[INSTALL_ENV_VAR] = "1"


def _adjust(ctypes_module):
    """pyctypes' adjustments of a stdlib ctypes package loaded on pyctypes, once."""
    if not ctypes_module.__dict__.get("_pyctypes_adjusted_"):
        from ._ctypes.helpers import adjust_stdlib
        adjust_stdlib(ctypes_module)
        ctypes_module._pyctypes_adjusted_ = True


class _StdlibCtypesFinder:
    """Finds the stdlib `ctypes` package as the path finder does, and adjusts it
    (_adjust) right after it has run, when it ran on pyctypes' `_ctypes`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "ctypes":
            return None
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _AdjustingLoader(spec.loader)
        return spec

    def invalidate_caches(self):
        pass


class _AdjustingLoader:
    """A loader that runs its inner loader, then _adjust (everything else is the
    inner loader's)."""

    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        if installed():
            _adjust(module)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _is_stdlib_ctypes_name(name):
    return name in ("ctypes", "_ctypes") or name.startswith("ctypes.")


def side_by_side():
    """The stdlib `ctypes` package loaded a second time, bound to pyctypes.

    Its modules live in sys.modules as `pyctypes.ctypes`, `pyctypes.ctypes.util`, ...
    while `ctypes` (if imported) stays whatever it was.
    """
    try:
        return _load_side_by_side()
    except AttributeError as exc:
        # `from pyctypes import ctypes` reports an AttributeError raised while
        # loading as a bare "cannot import name 'ctypes'": keep it as the cause.
        raise ImportError(f"loading the stdlib ctypes package on pyctypes failed: "
                          f"{type(exc).__name__}: {exc}") from exc


def _load_side_by_side():
    with _lock:
        existing = sys.modules.get(_SIDE_PREFIX)
        if existing is not None:
            return existing
        ours = _our_ctypes_module()
        if installed():
            # Process-wide binding: the plain package already runs on pyctypes.
            import ctypes
            for name in _STDLIB_MODULES:
                __import__(name)
                sys.modules[_SIDE_PREFIX + name[len("ctypes"):]] = sys.modules[name]
            return ctypes
        saved = {n: m for n, m in sys.modules.items() if _is_stdlib_ctypes_name(n)}
        for n in saved:
            del sys.modules[n]
        fresh = {}
        try:
            sys.modules["_ctypes"] = ours
            for name in _STDLIB_MODULES:
                __import__(name)
            _adjust(sys.modules["ctypes"])
            fresh = {n: m for n, m in sys.modules.items()
                     if _is_stdlib_ctypes_name(n) and n != "_ctypes"}
        finally:
            for n in [n for n in sys.modules if _is_stdlib_ctypes_name(n)]:
                del sys.modules[n]
            sys.modules.update(saved)
        for name, module in fresh.items():
            side_name = _SIDE_PREFIX + name[len("ctypes"):]
            sys.modules[side_name] = module
            _rename_classes(module, name, side_name)
        return fresh["ctypes"]


def _rename_classes(module, name, side_name):
    """Give the copy's classes their side-by-side module name, so that pickle and
    repr find them as pyctypes.ctypes.X rather than CPython's ctypes.X."""
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__module__ == name:
            value.__module__ = side_name
