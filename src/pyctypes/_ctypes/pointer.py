"""Pointers: the PyCPointerType metaclass, the _Pointer base class, POINTER,
pointer, the pointer type cache, and the hook behind ctypes.cast.

A pointer type's plan (StgInfo): size/align of void *, length 1 (so its
instances keep a dict of keep-alives), ``proto`` = the pointed-to type, flags
ISPOINTER, format "&" + the target's format (with the target's shape for a
pointer to an array), ffi type pointer.  getfunc/setfunc stay None: a pointer
read from memory is returned as an instance.

Keep-alives (CPython's Pointer_set_contents): setting ``contents`` keeps the
target under key "1" and what the target keeps under key "0".  ``contents``
and items are views whose ``_b_base_`` is the pointer itself.
"""

import weakref
from collections.abc import MutableMapping

from ._native import native_bases, raw
from . import basics, params, versions
from .basics import (caller_module, StgInfo, TYPEFLAG_ISPOINTER, _CData, _CDataMeta, byref, cdata_param_rule, kind_of,
                     cdata_set,
                     get_container, get_kept_objects, is_cdata, keep_ref, make_view, set_stginfo,
                     stginfo, update_native_plan, value_getter)
from .array import Array, has_index, ssize_index, type_name

_WCHAR_SIZE = raw.sizeof_code("u")


# ---------------------------------------------------------------- the metaclass

def _check_proto(proto):
    """CPython's PyCPointerType_SetProto checks."""
    if not isinstance(proto, type):
        raise TypeError("_type_ must be a type")
    if stginfo(proto) is None:
        raise TypeError("_type_ must have storage info")


def _pointer_format(proto):
    """PEP 3118 format of a pointer to proto: "&" + shape prefix + target format
    ("B" for an incomplete target)."""
    info = stginfo(proto)
    prefix = "&"
    if info.shape:
        prefix += "(%s)" % ",".join(str(n) for n in info.shape)
    return prefix + (info.format if info.format is not None else "B")


def pointer_param_rule(cls, value):
    """CPython's PyCPointerType_from_param: None, an instance of the target
    type (passed by reference), a pointer or array of (a subclass of) the
    target type, else the rule of every ctypes type."""
    if value is None:
        return params.null()
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    proto = info.proto
    if proto is None:
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(value).__name__))
    if isinstance(value, proto):
        return params.reference(value)
    if isinstance(value, (_Pointer, Array)):
        if issubclass(stginfo(type(value)).proto, proto):
            return params.as_is(value)
    return cdata_param_rule(cls, value)


class PyCPointerType(_CDataMeta):
    """metatype for the Pointer Objects"""

    def set_type(cls, ctype, /):
        """Complete a pointer type made by POINTER("name") (ctypes.SetPointerType)."""
        info = cls.__dict__.get("_stginfo_")
        if info is None:
            raise TypeError("abstract class")
        _check_proto(ctype)
        info.proto = ctype
        update_native_plan(cls, info)
        if basics.planner is not None:
            basics.planner.rules_changed()     # pointer_param_rule decided from the old target
        type.__setattr__(cls, "_type_", ctype)

    from_param = params.from_param_of(pointer_param_rule)


def _make_pointer_type(cls, name, bases, namespace):
    if _CData in cls.__bases__:
        return                      # the abstract base _Pointer itself
    info = StgInfo(size=raw.sizeof_code("P"), align=raw.alignof_code("P"), length=1,
                   ffi_type=raw.FFIType.for_code("P"), flags=TYPEFLAG_ISPOINTER,
                   kind="pointer")
    if "_type_" in cls.__dict__:         # only the class's own _type_ counts
        proto = cls.__dict__["_type_"]
        _check_proto(proto)
        info.proto = proto
        info.format = _pointer_format(proto)
    set_stginfo(cls, info)


basics.TYPE_DATA[PyCPointerType] = _make_pointer_type


# ---------------------------------------------------------------- the instances

def _target(self):
    """The address the pointer holds; ValueError for NULL."""
    address = raw.load("P", self._b_address_)
    if not address:
        raise ValueError("NULL pointer access")
    return address


def _item_getter(info):
    """The value getter of the pointer type's target (None: items are views),
    cached in the plan for the current _type_ (set_type may change it)."""
    extra = info.extra
    if extra is None or extra[0] is not info.proto:
        extra = info.extra = (info.proto, value_getter(info.proto))
    return extra[1]


def _get_item(self, i):
    """Item i of the memory pointed to (CPython's Pointer_item)."""
    address = _target(self)
    info = type(self)._stginfo_
    proto = info.proto
    address += i * stginfo(proto).size
    getter = _item_getter(info)
    if getter is not None:
        return getter(address)
    return make_view(proto, address, self, i)


def _set_contents(self, value):
    """Point to value, keeping it (key "1") and what it keeps (key "0") alive."""
    if not is_cdata(value):
        proto = type(self)._stginfo_.proto
        raise TypeError("expected %s instead of %s" % (type_name(proto), type_name(type(value))))
    raw.store("P", self._b_address_, value._b_address_)
    keep_ref(self, 1, value)
    keep_ref(self, 0, get_kept_objects(value))


def _slice_bounds(index):
    """start, step, length of a pointer slice: no length to clip against, so
    stop is required, and start too when stepping backwards (Pointer_subscript)."""
    if index.step is None:
        step = 1
    else:
        step = ssize_index(index.step, ValueError)
        if step == 0:
            raise ValueError("slice step cannot be zero")
    if index.start is None:
        if step < 0:
            raise ValueError("slice start is required for step < 0")
        start = 0
    else:
        start = ssize_index(index.start, ValueError)
    if index.stop is None:
        raise ValueError("slice stop is required")
    stop = ssize_index(index.stop, ValueError)
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        return start, step, 0
    # C integer division truncates towards zero: p[0:0:2] has one item, as in CPython
    distance = stop - start - 1 if step > 0 else stop - start + 1
    quotient = abs(distance) // abs(step)
    if (distance < 0) != (step < 0):
        quotient = -quotient
    return start, step, quotient + 1


def _get_slice(self, index):
    start, step, length = _slice_bounds(index)
    proto = type(self)._stginfo_.proto
    kind = stginfo(proto).code
    if length <= 0:
        return {"c": b"", "u": ""}.get(kind, [])
    if kind == "c":
        address = _target(self)
        if step == 1:
            return raw.read(address + start, length)
        return bytes(raw.load("B", address + start + k * step) for k in range(length))
    if kind == "u":
        address = _target(self)
        if step == 1:
            return raw.read_wchars(address + start * _WCHAR_SIZE, length)
        return "".join(raw.read_wchars(address + (start + k * step) * _WCHAR_SIZE, 1)
                       for k in range(length))
    return [_get_item(self, start + k * step) for k in range(length)]


def _check_instantiable(cls, *args, **kwargs):
    # CPython's Pointer_new: only a pointer type with a target makes instances
    info = stginfo(cls)
    if info is None or info.proto is None:
        raise TypeError("Cannot create instance: has no _type_")


class _Pointer(_CData, *native_bases("PointerBase"), metaclass=PyCPointerType):
    """Base class of pointer types: make them with POINTER(ctypes_type)."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        _check_instantiable(cls)
        return raw.new_instance(cls)

    def __init__(self, *args, **kwargs):
        # CPython's Pointer_init: at most one positional value; keywords ignored
        if len(args) > 1:
            raise TypeError("POINTER expected at most 1 argument, got %d" % len(args))
        if args:
            _set_contents(self, args[0])

    @property
    def contents(self):
        """the object this pointer points to (read-write)"""
        address = _target(self)
        return make_view(type(self)._stginfo_.proto, address, self, 0)

    @contents.setter
    def contents(self, value):
        _set_contents(self, value)

    @contents.deleter
    def contents(self):
        raise TypeError("Pointer does not support item deletion")

    def __bool__(self):
        return bool(raw.load("P", self._b_address_))

    def __getitem__(self, index):
        if has_index(index):
            return _get_item(self, ssize_index(index))
        if isinstance(index, slice):
            return _get_slice(self, index)
        raise TypeError("Pointer indices must be integer")

    def __setitem__(self, index, value):
        # no slice assignment: CPython's pointers only have sq_ass_item
        if not has_index(index):
            raise TypeError("sequence index must be integer, not '%s'" % type(index).__name__)
        i = ssize_index(index)
        address = _target(self)
        iteminfo = stginfo(type(self)._stginfo_.proto)
        address += i * iteminfo.size
        if iteminfo.setfunc is not None and not is_cdata(value):
            keep_ref(self, i, iteminfo.setfunc(address, value))    # as _PyCData_set
        else:
            cdata_set(self, type(self)._stginfo_.proto, value, i, address, iteminfo.size)

    def __delitem__(self, index):
        if not has_index(index):
            raise TypeError("sequence index must be integer, not '%s'" % type(index).__name__)
        ssize_index(index)
        raise TypeError("Pointer does not support item deletion")


_Pointer.__module__ = "_ctypes"
PyCPointerType.__module__ = "_ctypes"


# ---------------------------------------------------------------- POINTER and pointer

class _PointerTypeCache(MutableMapping):
    """CPython 3.11's ``_pointer_type_cache`` (target type -> pointer type;
    id(pointer type) -> the incomplete pointer type POINTER("name") made; the
    stdlib adds None -> c_void_p), without keeping the target types alive.

    3.11's dict keeps every type given to POINTER alive for good.  Here, as in
    CPython 3.14 (``__pointer_type__``), the pointer type to T is kept on T
    itself, so T and its pointer type are collected together; keys that cannot
    hold it (None, ints, static types) stay in a plain dict.  A deliberate
    difference from 3.11 (README)."""

    _ATTR = "_rawffi_pointer_type_"

    def __init__(self):
        self._types = weakref.WeakSet()    # the types holding an entry
        self._others = {}

    def _on_type(self, key):
        return (isinstance(key, type) and key.__flags__ & _HEAPTYPE
                and not key.__flags__ & _IMMUTABLETYPE)

    def __getitem__(self, key):
        if self._on_type(key):
            try:
                return key.__dict__[self._ATTR]
            except KeyError:
                raise KeyError(key) from None
        return self._others[key]

    def __setitem__(self, key, value):
        if self._on_type(key):
            type.__setattr__(key, self._ATTR, value)
            self._types.add(key)
        else:
            self._others[key] = value

    def __delitem__(self, key):
        if self._on_type(key):
            if self._ATTR not in key.__dict__:
                raise KeyError(key)
            type.__delattr__(key, self._ATTR)
            self._types.discard(key)
        else:
            del self._others[key]

    def __iter__(self):
        yield from [t for t in self._types if self._ATTR in t.__dict__]
        yield from list(self._others)

    def __len__(self):
        return sum(1 for _ in self)

    def clear(self):
        for t in list(self._types):
            if self._ATTR in t.__dict__:
                type.__delattr__(t, self._ATTR)
        self._types.clear()
        self._others.clear()

    def __repr__(self):
        return "{%s}" % ", ".join("%r: %r" % item for item in self.items())


_HEAPTYPE = 1 << 9      # Py_TPFLAGS_HEAPTYPE: a type whose dict may be given an attribute
_IMMUTABLETYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: ... unless sealed (_ctypes' own classes)
_pointer_type_cache = _PointerTypeCache()
_others = _pointer_type_cache._others
_ATTR = _PointerTypeCache._ATTR


def _cached_pointer_type(key, _attr=_PointerTypeCache._ATTR):
    """_pointer_type_cache.get(key), without the mapping's method calls (POINTER
    and pointer() ask on every call): the attribute through the type attribute
    cache, not taken from a base class."""
    found = getattr(key, _attr, None)
    if found is None:
        return _others.get(key)
    if getattr(found, "_type_", None) is key or key.__dict__.get(_attr) is found:
        return found
    return None


def POINTER(cls):
    """The pointer type to cls, made once and cached.  POINTER("name") makes an
    incomplete pointer type to be completed by SetPointerType."""
    found = getattr(cls, _ATTR, None)       # _cached_pointer_type, inline
    if found is not None and getattr(found, "_type_", None) is cls:
        return found
    found = _cached_pointer_type(cls)
    if found is not None:
        return found
    if type(cls) is str:
        # CPython 3.11 formats the name from cls as a UTF-8 C string: it must
        # encode, and it ends at the first NUL
        name = cls.encode("utf-8").partition(b"\0")[0].decode("utf-8")
        result = PyCPointerType("LP_%s" % name, (_Pointer,), {"__module__": caller_module()})
        key = id(result)
    elif isinstance(cls, type):
        result = PyCPointerType("LP_%s" % type_name(cls), (_Pointer,),
                                {"_type_": cls, "__module__": caller_module()})
        key = cls
    else:
        raise TypeError("must be a ctypes type")
    _pointer_type_cache[key] = result
    return result


def pointer(obj):
    """A new pointer instance pointing to obj."""
    typ = _cached_pointer_type(type(obj))
    if typ is None:
        typ = POINTER(type(obj))
    return typ(obj)


# ---------------------------------------------------------------- ctypes.cast

# The simple types that are pointers as far as cast() is concerned
# (c_void_p, c_char_p, c_wchar_p, py_object and their Windows cousins).
_POINTER_LIKE_CODES = frozenset("sPzUZXO")


def _is_pointer_type(ctype):
    """CPython's cast_check_pointertype."""
    if kind_of(ctype) in ("pointer", "funcptr"):
        return True
    info = stginfo(ctype)
    return info is not None and isinstance(info.proto, str) and info.proto in _POINTER_LIKE_CODES


def _cast(address, src, ctype):
    """ctypes.cast(obj, ctype): a new ctype instance holding address, sharing
    src's keep-alives and keeping src itself alive (CPython's cast())."""
    if not _is_pointer_type(ctype):
        if versions.CAST_ERROR_NAMES_CTYPES_ONLY and not isinstance(ctype, _CDataMeta):
            raise TypeError("cast() argument 2 must be a pointer type")
        name = type_name(ctype if isinstance(ctype, type) else type(ctype))
        raise TypeError("cast() argument 2 must be a pointer type, not %s" % name)
    result = ctype()
    if is_cdata(src):
        get_container(src)
        # only a root object has its own keep-alives to share; they must be a dict
        if src._b_base_ is None and src._b_objects_ is None:
            src._b_objects_ = {}
        shared = src._b_objects_
        if shared is not None:
            result._b_objects_ = shared
            if type(shared) is dict:
                shared[id(src)] = src
    raw.store("P", result._b_address_, address)
    return result


raw.set_cast_hook(_cast)
