"""PLACEHOLDER: simple types (being written)."""
from .basics import _CData, _CDataMeta
class PyCSimpleType(_CDataMeta): pass
class _SimpleCData(_CData, metaclass=PyCSimpleType): pass
