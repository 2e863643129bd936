"""PLACEHOLDER: pointers (being written)."""
from .basics import _CData, _CDataMeta
class PyCPointerType(_CDataMeta): pass
class _Pointer(_CData, metaclass=PyCPointerType): pass
_pointer_type_cache = {}
def POINTER(tp): raise NotImplementedError
def pointer(obj): raise NotImplementedError
