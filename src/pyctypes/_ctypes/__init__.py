"""pyctypes._ctypes: the running CPython's `_ctypes` module (3.11, 3.12 or
3.13), written in Python.

The stdlib `ctypes` package imports this module as `_ctypes` (see
pyctypes._binding).  One module per type family; this file only gathers the
public names, exactly those of the running CPython's `_ctypes` (what differs
between versions is chosen in versions.py).
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

from . import versions as _versions
if _versions.HAS_SIZEOF_TIME_T:
    import sysconfig as _sysconfig
    # sizeof(time_t) as the interpreter was built with it (its pyconfig.h)
    SIZEOF_TIME_T = _sysconfig.get_config_var("SIZEOF_TIME_T")
    del _sysconfig

from . import basics as _basics
from ._native import PURE as _PURE, raw as _raw
from .structure import CField as _CField
if not _PURE:       # the native core executes the plans the families make from now on
    from . import fastpath as _fastpath
    _fastpath.install()

# X.__new__(T) refuses a T of another family, as CPython's C types do.
for _base in (Structure, Union, Array, _SimpleCData, _Pointer, CFuncPtr):
    _basics.own_new(_base)
del _base


def _seal():
    """The classes CPython writes in C are immutable (Structure.x = 1 raises),
    and _CData and CField say they cannot be instantiated: the six base
    classes, their metaclasses and ours between those and type, from now on."""
    bases = (Structure, Union, Array, _SimpleCData, _Pointer, CFuncPtr)
    ours = [c for b in bases for c in type(b).__mro__
            if c.__module__ == "_ctypes" or c.__module__.startswith(__name__ + ".")]
    for cls in dict.fromkeys([*bases, *ours]):
        _raw.seal(cls, False)
    _raw.seal(_basics._CData, True)
    _raw.seal(_CField, True)


_seal()
del _seal, _raw, _CField

__version__ = "1.1.0"
