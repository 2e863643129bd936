"""PLACEHOLDER: function pointers (being written)."""
from .basics import _CData, _CDataMeta
class PyCFuncPtrType(_CDataMeta): pass
class CFuncPtr(_CData, metaclass=PyCFuncPtrType): pass
CTYPES_MAX_ARGCOUNT = 1024
FUNCFLAG_CDECL = 0x1
FUNCFLAG_PYTHONAPI = 0x4
FUNCFLAG_USE_ERRNO = 0x8
FUNCFLAG_USE_LASTERROR = 0x10
def call_function(address, arguments): raise NotImplementedError
def call_cdeclfunction(address, arguments): raise NotImplementedError
