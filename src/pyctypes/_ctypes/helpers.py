"""The helpers stdlib ctypes reaches through addresses (memmove, memset,
string_at, wstring_at, cast), ctypes' private errno, and the reference
count functions of `_ctypes`: all provided by the native core."""

from ._native import raw

_memmove_addr = raw.memmove_addr
_memset_addr = raw.memset_addr
_string_at_addr = raw.string_at_addr
_wstring_at_addr = raw.wstring_at_addr
_cast_addr = raw.cast_addr

get_errno = raw.get_errno
set_errno = raw.set_errno
Py_INCREF = raw.Py_INCREF
Py_DECREF = raw.Py_DECREF
PyObj_FromPtr = raw.PyObj_FromPtr


# ---------------------------------------------------------------- the stdlib package, adjusted

def adjust_stdlib(ctypes_module):
    """What pyctypes changes in the stdlib ctypes package once it is loaded on
    pyctypes (each a deliberate difference from CPython 3.11, listed in the
    README); the package's file itself runs unchanged.

    - ctypes.memmove / ctypes.memset: a NULL address with a size above 0 raises
      ValueError (C's functions, and CPython with them, crash).  They call the
      native core's checked functions through PYFUNCTYPE, so that the error can
      be raised; the native functions release the GIL for large blocks.
    - CFUNCTYPE's cache (``_c_functype_cache``) holds its function types weakly:
      a strong cache keeps every restype and argtype alive for good (CPython
      3.14 made the pointer type cache weak for the same reason).
    """
    import weakref
    m = ctypes_module
    m.memmove = m.PYFUNCTYPE(m.c_void_p, m.c_void_p, m.c_void_p, m.c_size_t)(raw.checked_memmove_addr)
    m.memset = m.PYFUNCTYPE(m.c_void_p, m.c_void_p, m.c_int, m.c_size_t)(raw.checked_memset_addr)
    cache = m.__dict__.get("_c_functype_cache")
    if type(cache) is dict:
        m._c_functype_cache = weakref.WeakValueDictionary(cache)
