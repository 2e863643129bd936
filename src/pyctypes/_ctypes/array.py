"""Arrays: the PyCArrayType metaclass, the Array base class, and `T * n`.

An array type's plan (StgInfo) is made once, when the class is created:
size = itemsize * length, the item type as ``proto``, the PEP 3118 format of
the innermost element with the shape of all dimensions, and an ``_ArrayPlan``
in ``extra`` holding what item access needs (item size, the item's value
getter and setter, whether the items are characters).  Item reads and writes
follow CPython's Array_item / Array_ass_item (PyCData_get / PyCData_set):
the element index is the keep-alive index, items that are not fundamental
simple values are views with the array as ``_b_base_``.

Char arrays (items of type code 'c') get ``value`` and ``raw``, wchar arrays
('u') get ``value``; their slices are bytes / str (CPython's CharArray_getsets,
WCharArray_getsets and Array_subscript).
"""

import operator
import sys
import types
import weakref

from ._native import native_bases, raw
from . import basics
from .basics import (caller_module, StgInfo, _CData, _CDataMeta, TYPEFLAG_HASBITFIELD, TYPEFLAG_HASPOINTER,
                     TYPEFLAG_HASUNION, TYPEFLAG_ISPOINTER, cdata_set, is_cdata, keep_ref,
                     make_view, set_stginfo, stginfo, type_name, value_getter)

SSIZE_MAX = sys.maxsize
SSIZE_MIN = -sys.maxsize - 1
_WCHAR_SIZE = raw.sizeof_code("u")


# ---------------------------------------------------------------- helpers shared with pointer.py

def ssize_index(value, overflow=IndexError):
    """CPython's PyNumber_AsSsize_t(value, overflow)."""
    i = value if type(value) is int else operator.index(value)
    if not SSIZE_MIN <= i <= SSIZE_MAX:
        raise overflow("cannot fit '%s' into an index-sized integer" % type(value).__name__)
    return i


def has_index(value):
    """CPython's PyIndex_Check."""
    return type(value) is int or hasattr(type(value), "__index__")


# ---------------------------------------------------------------- the plan

class _ArrayPlan:
    """What item access needs, computed once per array type."""

    __slots__ = ("itemtype", "itemsize", "getter", "setter", "kind")

    def __init__(self, itemtype, iteminfo):
        self.itemtype = itemtype
        self.itemsize = iteminfo.size
        self.getter = value_getter(itemtype)       # None: items are returned as views
        self.setter = iteminfo.setfunc              # Python values of simple item types
        # 'c' / 'u': slices give bytes / str (CPython compares the item's getfunc)
        self.kind = iteminfo.code if iteminfo.code in ("c", "u") else None


_ffi_type_slot = StgInfo.__dict__["ffi_type"]


class _ArrayStgInfo(StgInfo):
    """StgInfo of an array type: the ffi_type (a struct of `length` items, as
    CPython expands array members of structures) is built on first use."""

    __slots__ = ()

    @property
    def ffi_type(self):
        ffi_type = _ffi_type_slot.__get__(self)
        if ffi_type is None and self.proto is not None:
            item = stginfo(self.proto).ffi_type
            ffi_type = raw.FFIType.struct([item] * self.length)
            _ffi_type_slot.__set__(self, ffi_type)
        return ffi_type

    @ffi_type.setter
    def ffi_type(self, value):
        _ffi_type_slot.__set__(self, value)


# Flags an array takes over from its item type (CPython: a pointer item makes
# the array HASPOINTER; unions and bitfields matter when passed by value).
_INHERITED_FLAGS = ((TYPEFLAG_ISPOINTER | TYPEFLAG_HASPOINTER, TYPEFLAG_HASPOINTER),
                    (TYPEFLAG_HASUNION, TYPEFLAG_HASUNION),
                    (TYPEFLAG_HASBITFIELD, TYPEFLAG_HASBITFIELD))


def _array_stginfo(cls):
    """Check _length_ and _type_ (CPython's PyCArrayType_new) and make the plan."""
    try:
        length = cls._length_
    except AttributeError:
        raise AttributeError("class must define a '_length_' attribute") from None
    if not isinstance(length, int):
        raise TypeError("The '_length_' attribute must be an integer")
    if length < 0:
        raise ValueError("The '_length_' attribute must not be negative")
    if length > SSIZE_MAX:
        raise OverflowError("The '_length_' attribute is too large")
    try:
        itemtype = cls._type_
    except AttributeError:
        raise AttributeError("class must define a '_type_' attribute") from None
    iteminfo = stginfo(itemtype)
    if iteminfo is None:
        raise TypeError("_type_ must have storage info")
    if iteminfo.format is None:
        # CPython 3.11 fails here without setting an exception
        raise SystemError("%r returned NULL without setting an exception" % type(cls))
    itemsize = iteminfo.size
    if itemsize and length > SSIZE_MAX // itemsize:
        raise OverflowError("array too large")
    flags = 0
    for item_flags, flag in _INHERITED_FLAGS:
        if iteminfo.flags & item_flags:
            flags |= flag
    info = _ArrayStgInfo(size=itemsize * length, align=iteminfo.align, length=int(length),
                         proto=itemtype, flags=flags, format=iteminfo.format,
                         shape=(int(length),) + tuple(iteminfo.shape), kind="array")
    info.extra = _ArrayPlan(itemtype, iteminfo)
    return info


# ---------------------------------------------------------------- char and wchar arrays

def _char_raw_get(self):
    return raw.read(self._b_address_, self._b_size_)


def _char_raw_set(self, value):
    try:
        data = memoryview(value)
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'"
                        % type(value).__name__) from None
    if data.nbytes > self._b_size_:
        raise ValueError("byte string too long")
    raw.write(self._b_address_, data)


def _char_raw_del(self):
    raise AttributeError("cannot delete attribute")


def _char_value_get(self):
    data = raw.read(self._b_address_, self._b_size_)
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def _char_value_set(self, value):
    if not isinstance(value, bytes):
        raise TypeError("bytes expected instead of %s instance" % type(value).__name__)
    size = self._b_size_
    if len(value) > size:
        raise ValueError("byte string too long")
    raw.write(self._b_address_, value if len(value) == size else value + b"\0")


def _cannot_delete(self):
    raise TypeError("can't delete attribute")


def _wchar_value_get(self):
    text = raw.read_wchars(self._b_address_, self._b_size_ // _WCHAR_SIZE)
    end = text.find("\0")
    return text if end < 0 else text[:end]


def _wchar_value_set(self, value):
    if not isinstance(value, str):
        raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
    size = self._b_size_ // _WCHAR_SIZE
    if raw.wchar_count(value) > size:
        raise ValueError("string too long")
    raw.write_wchars(self._b_address_, value + "\0", size)    # the NUL only if it fits


# the properties CPython adds to char / wchar array types
_STRING_PROPERTIES = {
    "c": {"raw": property(_char_raw_get, _char_raw_set, _char_raw_del, "value"),
          "value": property(_char_value_get, _char_value_set, _cannot_delete, "string value")},
    "u": {"value": property(_wchar_value_get, _wchar_value_set, _cannot_delete, "string value")},
}


# ---------------------------------------------------------------- the metaclass

class PyCArrayType(_CDataMeta):
    """metatype for the Array Objects"""


def _make_array_type(cls, name, bases, namespace):
    if _CData in cls.__bases__:
        return                      # the abstract base Array itself
    info = _array_stginfo(cls)
    set_stginfo(cls, info)
    for attr, prop in _STRING_PROPERTIES.get(info.extra.kind, {}).items():
        type.__setattr__(cls, attr, prop)


basics.TYPE_DATA[PyCArrayType] = _make_array_type


# ---------------------------------------------------------------- the instances

def _get_item(self, i):
    """Item i (0 <= i < length) as a Python value or a view (CPython's Array_item)."""
    info = type(self)._stginfo_
    if not 0 <= i < info.length:
        raise IndexError("invalid index")
    plan = info.extra
    address = self._b_address_ + i * plan.itemsize
    if plan.getter is not None:
        return plan.getter(address)
    return make_view(plan.itemtype, address, self, i)


def _set_item(self, i, value):
    """Store value as item i, keeping what it needs alive under key i (Array_ass_item)."""
    info = type(self)._stginfo_
    if not 0 <= i < info.length:
        raise IndexError("invalid index")
    plan = info.extra
    address = self._b_address_ + i * plan.itemsize
    if plan.setter is not None and not is_cdata(value):
        # what _PyCData_set does first for a Python value and a simple item type
        keep_ref(self, i, plan.setter(address, value))
    else:
        cdata_set(self, plan.itemtype, value, i, address, plan.itemsize)


def _get_slice(self, index):
    """A slice: bytes for char arrays, str for wchar arrays, else a list."""
    info = type(self)._stginfo_
    plan = info.extra
    span = range(info.length)[index]
    if plan.kind == "c":
        if span.step == 1:
            return raw.read(self._b_address_ + span.start, len(span))
        return raw.read(self._b_address_, info.length)[index]
    if plan.kind == "u":
        if span.step == 1:
            return raw.read_wchars(self._b_address_ + span.start * _WCHAR_SIZE, len(span))
        # only the items of the slice are decoded (another item may not be a character)
        return "".join(raw.read_wchars(self._b_address_ + i * _WCHAR_SIZE, 1) for i in span)
    return [_get_item(self, i) for i in span]


class Array(_CData, *native_bases("ArrayBase"), metaclass=PyCArrayType):
    """Abstract base class for arrays: make array types with `ctypes_type * length`
    or by subclassing with _type_ and _length_."""

    __slots__ = ()

    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, *args, **kwargs):
        # CPython's Array_init: item i = args[i]; keyword arguments are ignored
        for i, value in enumerate(args):
            _set_item(self, i, value)

    def __len__(self):
        return type(self)._stginfo_.length

    def __getitem__(self, index):
        if has_index(index):
            i = ssize_index(index)
            return _get_item(self, i + len(self) if i < 0 else i)
        if isinstance(index, slice):
            return _get_slice(self, index)
        raise TypeError("indices must be integers")

    def __setitem__(self, index, value):
        if has_index(index):
            i = ssize_index(index)
            _set_item(self, i + len(self) if i < 0 else i, value)
        elif isinstance(index, slice):
            span = range(len(self))[index]
            try:
                # PySequence_Length, as CPython: a mapping (a dict) has no
                # sequence length, whatever len() says
                size = raw.sequence_length(value)
            except Exception:       # CPython replaces the error of PySequence_Length
                size = -1
            if size != len(span):
                raise ValueError("Can only assign sequence of same size")
            for n, i in enumerate(span):
                _set_item(self, i, value[n])
        else:
            raise TypeError("indices must be integer")

    def __delitem__(self, index):
        raise TypeError("Array does not support item deletion")


Array.__module__ = "_ctypes"
PyCArrayType.__module__ = "_ctypes"


# ---------------------------------------------------------------- T * n

# (itemtype, length) -> weak reference to the array type (CPython keeps weak
# proxies in its cache, so unused array types can go away)
_array_cache = {}


def array_type(itemtype, length):
    """The array type of `length` items of `itemtype`, made once and cached
    (CPython's PyCArrayType_from_ctype)."""
    if not SSIZE_MIN <= length <= SSIZE_MAX:
        raise OverflowError("cannot fit 'int' into an index-sized integer")
    key = (itemtype, length)
    ref = _array_cache.get(key)
    if ref is not None:
        cls = ref()
        if cls is not None:
            return cls
    if not isinstance(itemtype, type):
        raise TypeError("Expected a type object")
    cls = PyCArrayType("%s_Array_%d" % (type_name(itemtype), length), (Array,),
                       {"_length_": length, "_type_": itemtype, "__module__": caller_module()})

    def forget(ref, key=key):
        if _array_cache.get(key) is ref:
            del _array_cache[key]

    _array_cache[key] = weakref.ref(cls, forget)
    return cls


basics.array_type = array_type       # `T * n` (basics._CDataMeta.__mul__)
