"""pyctypes._ctypes: CPython 3.11's `_ctypes` module, written in Python.

The stdlib `ctypes` package imports this module as `_ctypes` (see
pyctypes._binding).  One module per type family; this file only gathers the
public names, exactly those of CPython's `_ctypes`.
"""

from .basics import (ArgumentError, _unpickle, addressof, alignment, buffer_info, byref,
                     resize, sizeof)
from .primitive import _SimpleCData
from .structure import Structure, Union
from .array import Array
from .pointer import POINTER, _Pointer, _pointer_type_cache, pointer
from .function import (CFuncPtr, CTYPES_MAX_ARGCOUNT, FUNCFLAG_CDECL, FUNCFLAG_PYTHONAPI,
                       FUNCFLAG_USE_ERRNO, FUNCFLAG_USE_LASTERROR, call_cdeclfunction,
                       call_function)
from .library import RTLD_GLOBAL, RTLD_LOCAL, dlclose, dlopen, dlsym
from .helpers import (Py_DECREF, Py_INCREF, PyObj_FromPtr, _cast_addr, _memmove_addr,
                      _memset_addr, _string_at_addr, _wstring_at_addr, get_errno, set_errno)

from . import basics as _basics
from ._native import PURE as _PURE
if not _PURE:       # the native core executes the plans the families make from now on
    from . import fastpath as _fastpath
    _fastpath.install()

# X.__new__(T) refuses a T of another family, as CPython's C types do.
for _base in (Structure, Union, Array, _SimpleCData, _Pointer, CFuncPtr):
    _basics.own_new(_base)
del _base

__version__ = "1.1.0"
