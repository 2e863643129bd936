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
