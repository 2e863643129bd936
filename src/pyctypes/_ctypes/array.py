"""PLACEHOLDER: arrays (being written)."""
from .basics import _CData, _CDataMeta
class PyCArrayType(_CDataMeta): pass
class Array(_CData, metaclass=PyCArrayType): pass
def array_type(itemtype, length): raise NotImplementedError
