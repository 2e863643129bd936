"""What is running: pyctypes' version and mode, the libffi it calls through, the
interpreter, and the stdlib ctypes package it binds (`python -m pyctypes
--version`, `python -m pyctypes info`).

libffi 3.4 has no call that reports its version at run time (`ffi_get_version`
came with 3.5): the version pkg-config gave when `_rawffi` was compiled is kept
in the module (`_rawffi.libffi_build_version`), and the file the dynamic loader
actually mapped is found with dladdr on `ffi_call` as `_rawffi` resolves it.
"""

import os
import platform
import sys
import sysconfig


def _libffi_loaded(ct, rawffi):
    """(path, run-time version or None) of the libffi `_rawffi` calls, found
    through the module's own symbol lookup; path None if it is not a separate
    shared library (linked in statically)."""
    module = ct.CDLL(rawffi.__file__)
    try:
        ffi_call = module.ffi_call
    except AttributeError:
        return None, None

    class Dl_info(ct.Structure):
        _fields_ = [("dli_fname", ct.c_char_p), ("dli_fbase", ct.c_void_p),
                    ("dli_sname", ct.c_char_p), ("dli_saddr", ct.c_void_p)]

    dladdr = ct.CDLL(None).dladdr
    dladdr.argtypes = [ct.c_void_p, ct.POINTER(Dl_info)]
    dladdr.restype = ct.c_int
    info = Dl_info()
    if not dladdr(ct.cast(ffi_call, ct.c_void_p), ct.byref(info)) or not info.dli_fname:
        return None, None
    path = os.fsdecode(info.dli_fname)
    version = None
    get_version = getattr(module, "ffi_get_version", None)     # libffi >= 3.5
    if get_version is not None:
        get_version.argtypes = []
        get_version.restype = ct.c_char_p
        version = get_version().decode()
    return path, version


def facts():
    """The facts, as an ordered dict of short strings."""
    import pyctypes
    from pyctypes import _rawffi
    from pyctypes._ctypes import _native
    from pyctypes import ctypes as ct     # the stdlib package, bound to pyctypes

    path, runtime = _libffi_loaded(ct, _rawffi)
    if path is None:
        loaded = "linked into the native core"
    else:
        real = os.path.realpath(path)
        loaded = path if real == path else f"{path} -> {real}"
    out = {
        "pyctypes": pyctypes.__version__,
        "mode": "PURE (PYCTYPES_PURE=1: no native fast path)" if _native.PURE else "native",
        "libffi": (f"{runtime} (run time; built against {_rawffi.libffi_build_version})"
                   if runtime else f"{_rawffi.libffi_build_version} (the headers built against; "
                   "libffi before 3.5 reports no version at run time)"),
        "libffi loaded": loaded,
        "interpreter": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "platform": sysconfig.get_platform(),
        "stdlib ctypes": os.path.dirname(ct.__file__),
        "pyctypes path": os.path.dirname(pyctypes.__file__),
        "native core": _rawffi.__file__,
    }
    return out


def version_line(f=None):
    f = facts() if f is None else f
    libffi = f["libffi"].split(" ")[0]
    return (f"pyctypes {f['pyctypes']} ({f['mode'].split(' ')[0]} mode) on {f['interpreter']}, "
            f"libffi {libffi} ({f['libffi loaded'].split(' ')[0]}), "
            f"stdlib ctypes {f['stdlib ctypes']}")


def report(f=None):
    f = facts() if f is None else f
    width = max(map(len, f))
    return "\n".join(f"{key:<{width}}  {value}" for key, value in f.items())
