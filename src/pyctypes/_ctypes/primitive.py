"""Simple types: _SimpleCData and its metaclass PyCSimpleType.

Each `_type_` code has one row in CODES: how a value is read from memory
(getter), written to memory (setter, returning what must be kept alive), and
whether the code has a byte-swapped variant.  A simple type's plan (StgInfo)
takes its getfunc/setfunc from the row; fields, array items, pointer targets,
function results and callback arguments all read and write through them.
"""

from ._native import PURE, bind_native, native_bases, raw
from .basics import (TYPEFLAG_ISPOINTER, CArgObject, StgInfo, _CData, _CDataMeta, is_cdata,
                     is_simple_subclass, keep_ref, set_stginfo, stginfo)

# Every code CPython's PyCSimpleType accepts; 'X' (BSTR) is Windows-only and
# refused with ValueError as CPython does on other platforms.
SIMPLE_TYPE_CHARS = "cbBhHiIlLdfuzZqQPXOv?g"
_INTEGER_CODES = "bBhHiIlLqQ"
_SWAPPABLE = "hHiIlLqQfd"      # codes with __ctype_be__/__ctype_le__ (cfield.c)
# PEP 3118 format letters differ from the type code for C long ('l' is 8 bytes here).
_FORMAT_LETTER = {"l": "q" if raw.sizeof_code("l") == 8 else "l",
                  "L": "Q" if raw.sizeof_code("L") == 8 else "L"}


# ---------------------------------------------------------------- setters with CPython's checks

def _plain_setter(code, swapped):
    def setter(address, value):
        return raw.store(code, address, value, swapped)
    return setter


def _float_setter(code, swapped):
    def setter(address, value):
        if not isinstance(value, (int, float)) and not hasattr(type(value), "__float__") \
                and not hasattr(type(value), "__index__"):
            raise TypeError("must be real number, not %s" % type(value).__name__)
        return raw.store(code, address, value, swapped)
    return setter


def _char_setter(code, swapped):
    def setter(address, value):
        if isinstance(value, (bytes, bytearray)) and len(value) == 1:
            value = value[0]
        elif not (type(value) is int or isinstance(value, int)) or not 0 <= value < 256:
            raise TypeError("one character bytes, bytearray or integer expected")
        return raw.store(code, address, value)
    return setter


def _wchar_setter(code, swapped):
    def setter(address, value):
        if not isinstance(value, str):
            raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
        if len(value) != 1:
            raise TypeError("one character unicode string expected")
        return raw.store(code, address, value)
    return setter


def _char_p_setter(code, swapped):
    def setter(address, value):
        if value is not None and not isinstance(value, (bytes, int)):
            raise TypeError("bytes or integer address expected instead of %s instance"
                            % type(value).__name__)
        return raw.store(code, address, value)
    return setter


def _wchar_p_setter(code, swapped):
    def setter(address, value):
        if value is not None and not isinstance(value, (str, int)):
            raise TypeError("unicode string or integer address expected instead of %s instance"
                            % type(value).__name__)
        return raw.store(code, address, value)
    return setter


def _void_p_setter(code, swapped):
    def setter(address, value):
        if value is not None and not isinstance(value, int):
            raise TypeError("cannot be converted to pointer")
        return raw.store(code, address, value)
    return setter


def _bool_setter(code, swapped):
    def setter(address, value):
        return raw.store(code, address, bool(value))
    return setter


_SETTER_KIND = dict.fromkeys(_INTEGER_CODES, _plain_setter)
_SETTER_KIND.update({
    "f": _float_setter, "d": _float_setter, "g": _float_setter,
    "?": _bool_setter, "c": _char_setter, "u": _wchar_setter,
    "z": _char_p_setter, "Z": _wchar_p_setter, "P": _void_p_setter,
    "O": _plain_setter, "v": _plain_setter,
})


def getfunc_for(code, swapped=False):
    """address -> value for a type code (a field, item, result or .value read)."""
    if code == "v":
        code = "h"      # VARIANT_BOOL: a short; reads as a bool
        return lambda address: bool(raw.load(code, address, swapped))
    if swapped:
        return lambda address: raw.load(code, address, True)
    return lambda address: raw.load(code, address)


def setfunc_for(code, swapped=False):
    """(address, value) -> keep-alive, with CPython's type checks for the code."""
    if code == "v":
        return lambda address, value: raw.store("h", address, -1 if value else 0, swapped)
    return _SETTER_KIND[code](code, swapped)


def _ffi_code(code):
    return "h" if code == "v" else code


# ---------------------------------------------------------------- from_param per type

_MISSING = object()


def _simple_from_param(cls, value):
    """CPython's PyCSimpleType_from_param: an instance as is, else the value
    converted into a CArgObject; failing that, _as_parameter_."""
    if isinstance(value, cls):
        return value
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    code = info.code
    arg = CArgObject(code, raw.FFIType.for_code(_ffi_code(code)), None)
    try:
        arg._obj = setfunc_for(code)(arg._address, value)
        return arg
    except Exception:
        # CPython clears whatever the conversion raised (an __index__ or
        # __float__ that raises included): "wrong type" unless _as_parameter_
        as_parameter = getattr(value, "_as_parameter_", _MISSING)
        if as_parameter is _MISSING:
            raise TypeError("wrong type") from None
    return cls.from_param(as_parameter)


def _pointer_arg(tag, value):
    """A CArgObject of tag z/Z/P holding a pointer value."""
    arg = CArgObject(tag, raw.FFIType.for_code("P"), None)
    arg._obj = raw.store(tag, arg._address, value)
    return arg


def _item_is(obj, code):
    """True if obj is an array of / pointer to a simple type of this code."""
    from .array import Array
    from .pointer import _Pointer
    if isinstance(obj, (Array, _Pointer)):
        item = stginfo(type(obj)).proto
        item_info = stginfo(item)
        return item_info is not None and item_info.code == code
    return False


def _string_pointer_from_param(tag, text_type, char_code):
    """from_param of c_char_p (tag 'z', bytes, items 'c') and c_wchar_p (tag 'Z',
    str, items 'u'): None, the text type, an instance, an array of / pointer to
    the character type, byref() of a character, or _as_parameter_."""
    def from_param(cls, value):
        if value is None:
            return None
        if isinstance(value, text_type):
            return _pointer_arg(tag, value)
        if isinstance(value, cls) or _item_is(value, char_code):
            return value
        if isinstance(value, CArgObject):       # byref(c_char(...)) / byref(c_wchar(...))
            info = stginfo(type(value._obj))
            if info is not None and info.code == char_code:
                return value
        as_parameter = getattr(value, "_as_parameter_", _MISSING)
        if as_parameter is not _MISSING:
            return cls.from_param(as_parameter)
        raise TypeError("wrong type")
    return from_param


_c_char_p_from_param = _string_pointer_from_param("z", bytes, "c")
_c_wchar_p_from_param = _string_pointer_from_param("Z", str, "u")


def _c_void_p_from_param(cls, value):
    from .array import Array
    from .pointer import _Pointer
    from .function import CFuncPtr
    if value is None:
        return None
    if isinstance(value, int):
        return _pointer_arg("P", value)
    if isinstance(value, bytes):
        return _pointer_arg("z", value)
    if isinstance(value, str):
        return _pointer_arg("Z", value)
    if isinstance(value, cls) or isinstance(value, (Array, _Pointer)):
        return value
    if isinstance(value, CArgObject) and value._tag == "P":      # byref(...)
        return value
    if isinstance(value, CFuncPtr):
        arg = CArgObject("P", raw.FFIType.for_code("P"), value)
        raw.store("P", arg._address, raw.load("P", value._b_address_))
        return arg
    info = stginfo(type(value)) if is_cdata(value) else None
    if info is not None and info.code in ("z", "Z"):            # c_char_p, c_wchar_p
        arg = CArgObject("Z", raw.FFIType.for_code("P"), value)
        raw.store("P", arg._address, raw.load("P", value._b_address_))
        return arg
    as_parameter = getattr(value, "_as_parameter_", _MISSING)
    if as_parameter is not _MISSING:
        return cls.from_param(as_parameter)
    raise TypeError("wrong type")


_POINTER_FROM_PARAM = {"z": _c_char_p_from_param, "Z": _c_wchar_p_from_param,
                       "P": _c_void_p_from_param}


# ---------------------------------------------------------------- the metaclass

def _check_type_code(cls):
    try:
        code = cls._type_
    except AttributeError:
        raise AttributeError("class must define a '_type_' attribute") from None
    if not isinstance(code, str):
        raise TypeError("class must define a '_type_' string attribute")
    if len(code) != 1:
        raise ValueError("class must define a '_type_' attribute which must be a string of length 1")
    if code not in SIMPLE_TYPE_CHARS:
        raise AttributeError("class must define a '_type_' attribute which must be\n"
                             "a single character string containing one of '%s'." % SIMPLE_TYPE_CHARS)
    if code == "X":
        raise ValueError("_type_ 'X' not supported")
    return code


def simple_stginfo(code, swapped=False):
    """The plan of a simple type of this code."""
    size = raw.sizeof_code(_ffi_code(code))
    letter = _FORMAT_LETTER.get(code, code)
    info = StgInfo(size=size, align=raw.alignof_code(_ffi_code(code)), length=0, proto=code,
                   code=code, getfunc=getfunc_for(code, swapped),
                   setfunc=setfunc_for(code, swapped),
                   ffi_type=raw.FFIType.for_code(_ffi_code(code)),
                   flags=TYPEFLAG_ISPOINTER if code in "zZP" else 0,
                   format=(">" if swapped else "<") + letter)
    info.extra = swapped
    return info


class PyCSimpleType(_CDataMeta):
    """Metaclass of the simple types (c_int, c_char_p, ...)."""

    def __new__(mcls, name, bases, namespace, **kwds):
        cls = super().__new__(mcls, name, bases, namespace, **kwds)
        if _CData in bases:
            return cls          # the abstract base _SimpleCData itself
        code = _check_type_code(cls)
        set_stginfo(cls, simple_stginfo(code))
        if code in _POINTER_FROM_PARAM and cls.__base__ is _SimpleCData:
            # Only the direct children get the pointer from_param (as CPython),
            # so a subclass's own from_param stays in force.
            type.__setattr__(cls, "from_param", classmethod(_POINTER_FROM_PARAM[code]))
        if mcls is PyCSimpleType and code in _SWAPPABLE:
            # CPython makes the other-endian twin here; it is made on first use
            # instead (most programs never ask), from the same name, bases and
            # namespace CPython's create_other_endian_type would use.
            type.__setattr__(cls, "__ctype_le__", cls)
            type.__setattr__(cls, "__ctype_be__", _SwappedTwin(cls, name, bases, namespace))
        elif mcls is PyCSimpleType and code == "?":
            # one byte has no byte order: c_bool may be a field of a
            # Big/LittleEndianStructure, as c_char and c_byte (CPython 3.11-3.13
            # refuse it)
            type.__setattr__(cls, "__ctype_le__", cls)
            type.__setattr__(cls, "__ctype_be__", cls)
        return cls

    def from_param(cls, value):
        return _simple_from_param(cls, value)


class _SwappedTwin:
    """``cls.__ctype_be__`` until first read: then the byte-swapped twin of cls
    (CPython's create_other_endian_type: a PyCSimpleType named <name>_be with
    cls's bases and class namespace and the swapped plan), which takes this
    descriptor's place in cls.__dict__."""

    __slots__ = ("owner", "name", "bases", "namespace")

    def __init__(self, owner, name, bases, namespace):
        self.owner, self.name, self.bases, self.namespace = owner, name, bases, namespace

    def __get__(self, obj, objtype=None):
        owner = self.owner
        swapped = type.__new__(PyCSimpleType, self.name + "_be", self.bases, dict(self.namespace))
        set_stginfo(swapped, simple_stginfo(stginfo(owner).code, swapped=True))
        type.__setattr__(swapped, "__ctype_le__", owner)
        type.__setattr__(swapped, "__ctype_be__", swapped)
        if owner.__dict__.get("__ctype_be__") is not self:
            return owner.__ctype_be__       # another thread made it meanwhile
        type.__setattr__(owner, "__ctype_be__", swapped)
        return swapped


# ---------------------------------------------------------------- the instances

def _get_value(self):
    return stginfo(type(self)).getfunc(self._b_address_)


def _set_value(self, value):
    keep = stginfo(type(self)).setfunc(self._b_address_, value)
    keep_ref(self, 0, keep)


def _del_value(self):
    raise TypeError("can't delete attribute")


class _SimpleCData(_CData, *native_bases("SimpleBase"), metaclass=PyCSimpleType):
    """XXX to be provided"""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        # CPython's Simple_init unpacks at most one positional value and
        # ignores keyword arguments.
        if len(args) > 1:
            raise TypeError("__init__ expected at most 1 argument, got %d" % len(args))
        if args:
            _set_value(self, args[0])

    value = property(_get_value, _set_value, _del_value, "current value")

    def __repr__(self):
        if is_simple_subclass(type(self)):
            return "<%s object at %#x>" % (type(self).__name__, id(self))
        return "%s(%r)" % (type(self).__name__, self.value)

    def __bool__(self):
        return any(raw.read(self._b_address_, self._b_size_))

    def __ctypes_from_outparam__(self):
        if is_simple_subclass(type(self)):
            return self
        return self.value


if not PURE:
    bind_native(_SimpleCData, raw.SimpleBase, "__init__", "value")

_SimpleCData.__module__ = "_ctypes"
PyCSimpleType.__module__ = "_ctypes"
