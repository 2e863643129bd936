"""dlopen, dlsym and dlclose as CPython's `_ctypes` offers them (callproc.c,
py_dl_open/py_dl_sym/py_dl_close), over the native core's dl* functions.

CDLL (stdlib ctypes) calls dlopen(name, mode) and keeps the handle in
``_handle``; function pointers and ``in_dll`` find their symbols with dlsym
through that handle.
"""

import operator
import sys

from ._native import raw

RTLD_LOCAL = raw.RTLD_LOCAL
RTLD_GLOBAL = raw.RTLD_GLOBAL


def handle_address(handle, function=None):
    """A handle (an int) as a void * the way CPython's _parse_voidp reads it:
    NULL is refused ("argument 1 (unspecified)", CPython's SystemError)."""
    address = operator.index(handle) if not isinstance(handle, int) else handle
    if address == 0:
        prefix = "%s() " % function if function else ""
        raise SystemError(prefix + "argument 1 (unspecified)")
    if not -(1 << 63) <= address < (1 << 64):
        raise OverflowError("Python int too large to convert to C unsigned long")
    return address & ((1 << 64) - 1)


def dlopen(name, mode=RTLD_LOCAL):
    """dlopen(name, flag={RTLD_GLOBAL|RTLD_LOCAL}) open a shared library"""
    mode = operator.index(mode)
    # CPython always adds RTLD_NOW (symbols resolved at load time).
    mode |= raw.RTLD_NOW
    sys.audit("ctypes.dlopen", name)
    return raw.dlopen(name, mode)


def dlsym(handle, name):
    """find symbol in shared library"""
    handle = handle_address(handle, "dlsym")
    if not isinstance(name, str):
        raise TypeError("dlsym() argument 2 must be str, not %s" % type(name).__name__)
    if "\0" in name:
        raise ValueError("embedded null character")
    sys.audit("ctypes.dlsym/handle", handle, name)
    return raw.dlsym(handle, name)


def dlclose(handle):
    """dlclose a library"""
    raw.dlclose(handle_address(handle, "dlclose"))

