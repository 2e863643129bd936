"""PLACEHOLDER: Structure and Union (being written)."""
from .basics import _CData, _CDataMeta
class PyCStructType(_CDataMeta): pass
class UnionType(_CDataMeta): pass
class Structure(_CData, metaclass=PyCStructType): pass
class Union(_CData, metaclass=UnionType): pass
