"""Simple types: _SimpleCData and its metaclass PyCSimpleType.

Each `_type_` code has one row in CODES: how a value is read from memory
(getter), written to memory (setter, returning what must be kept alive), and
whether the code has a byte-swapped variant.  A simple type's plan (StgInfo)
takes its getfunc/setfunc from the row; fields, array items, pointer targets,
function results and callback arguments all read and write through them.
"""

from ._native import native_bases, raw
from . import basics, params, versions
from .basics import (TYPEFLAG_ISPOINTER, CArgObject, StgInfo, _CData, _CDataMeta,
                     is_cdata, is_simple_subclass, keep_ref, set_stginfo, stginfo, type_name)

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


# ---------------------------------------------------------------- from_param rules per type
# Each rule decides how a value is passed for an argtype (params.Param); the
# public from_param materializes the decision (params.from_param_of).

_MISSING = object()


def _stored(code, value):
    """(the CArgObject holding value stored by the code's setter, as CPython's
    from_param makes it, None); (None, the setter's error) if it refuses."""
    arg = CArgObject(code, raw.FFIType.for_code(_ffi_code(code)), None)
    try:
        arg._obj = setfunc_for(code)(arg._address, value)
    except Exception as exc:
        return None, exc
    return arg, None


def _simple_param_rule(cls, value):
    """CPython's PyCSimpleType_from_param: an instance as is, else the value
    stored by the type's setter; failing that, _as_parameter_; failing that,
    the setter's error (3.12 on) or "wrong type" (3.11 clears whatever the
    setter raised, an exception from the value's own __index__ included)."""
    if isinstance(value, cls):
        return params.as_is(value)
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    code = info.code
    arg, error = _stored(code, value)
    if arg is not None:
        if code == "v":     # VARIANT_BOOL: the short the setter stored from the value's truth
            return params.carg(arg, cacheable=False)
        return params.store(code, value, converted=arg)
    as_parameter = getattr(value, "_as_parameter_", _MISSING)
    if as_parameter is _MISSING:
        if versions.SIMPLE_FROM_PARAM_KEEPS_ERROR:
            raise error
        raise TypeError("wrong type")
    return params.uncached(_simple_param_rule(cls, as_parameter))


def _refused(value, ctypes_name):
    """The error of a pointer type's from_param that no rule accepted."""
    if versions.POINTER_FROM_PARAM_NAMES_TYPE:
        return TypeError("'%s' object cannot be interpreted as ctypes.%s"
                         % (type_name(type(value)), ctypes_name))
    return TypeError("wrong type")


def _item_is(obj, code):
    """True if obj is an array of / pointer to a simple type of this code."""
    info = stginfo(type(obj)) if is_cdata(obj) else None
    if info is None or info.kind not in ("array", "pointer"):
        return False
    item_info = stginfo(info.proto)
    return item_info is not None and item_info.code == code


def _string_pointer_rule(tag, text_type, char_code):
    """The from_param rule of c_char_p (tag 'z', bytes, items 'c') and
    c_wchar_p (tag 'Z', str, items 'u'): None, the text type, an instance, an
    array of / pointer to the character type, byref() of a character, or
    _as_parameter_."""
    def rule(cls, value):
        if value is None:
            return params.null()
        if isinstance(value, text_type):
            return params.store(tag, value)
        if isinstance(value, cls) or _item_is(value, char_code):
            return params.as_is(value)
        if isinstance(value, CArgObject):       # byref(c_char(...)) / byref(c_wchar(...))
            info = stginfo(type(value._obj))
            if info is not None and info.code == char_code:
                return params.carg(value)
        as_parameter = getattr(value, "_as_parameter_", _MISSING)
        if as_parameter is not _MISSING:
            return params.uncached(rule(cls, as_parameter))
        raise _refused(value, "c_char_p" if tag == "z" else "c_wchar_p")
    rule.__qualname__ = rule.__name__ = ("c_char_p" if tag == "z" else "c_wchar_p") + "_param_rule"
    return rule


_c_char_p_param_rule = _string_pointer_rule("z", bytes, "c")
_c_wchar_p_param_rule = _string_pointer_rule("Z", str, "u")


def _c_void_p_param_rule(cls, value):
    """c_void_p's from_param: None, an int address, bytes, str, a pointer-like
    instance as is, byref(), a function pointer's or a c_char_p's stored
    pointer, or _as_parameter_."""
    if value is None:
        return params.null()
    if isinstance(value, int):
        return params.store("P", value)
    if isinstance(value, bytes):
        return params.store("z", value)
    if isinstance(value, str):
        return params.store("Z", value)
    info = stginfo(type(value)) if is_cdata(value) else None
    if isinstance(value, cls) or (info is not None and info.kind in ("array", "pointer")):
        return params.as_is(value)
    if isinstance(value, CArgObject) and value._tag == "P":      # byref(...)
        return params.carg(value)
    if info is not None and info.kind == "funcptr":
        return params.stored_pointer(value, "P")
    if info is not None and info.code in ("z", "Z"):            # c_char_p, c_wchar_p
        return params.stored_pointer(value, "Z")
    as_parameter = getattr(value, "_as_parameter_", _MISSING)
    if as_parameter is not _MISSING:
        return params.uncached(_c_void_p_param_rule(cls, as_parameter))
    raise _refused(value, "c_void_p")


_POINTER_FROM_PARAM = {"z": params.from_param_of(_c_char_p_param_rule),
                       "Z": params.from_param_of(_c_wchar_p_param_rule),
                       "P": params.from_param_of(_c_void_p_param_rule)}


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


# The codes whose values are pointers: their instances (and every structure,
# union or array holding one) refuse pickling, which would copy the address
# without what it points to.  CPython 3.11 sets the flag only on the direct
# children of _SimpleCData, so that it pickles a subclass's raw address (a
# py_object subclass's PyObject*, unpickled: a dangling reference); here every
# simple type of these codes has it (README, deliberate differences).
_HOLDS_POINTER = "zZPO"


def simple_stginfo(code, swapped=False):
    """The plan of a simple type of this code."""
    size = raw.sizeof_code(_ffi_code(code))
    letter = _FORMAT_LETTER.get(code, code)
    info = StgInfo(size=size, align=raw.alignof_code(_ffi_code(code)), length=0, proto=code,
                   code=code, getfunc=getfunc_for(code, swapped),
                   setfunc=setfunc_for(code, swapped),
                   ffi_type=raw.FFIType.for_code(_ffi_code(code)),
                   flags=TYPEFLAG_ISPOINTER if code in _HOLDS_POINTER else 0, kind="simple",
                   format=(">" if swapped else "<") + letter)
    info.extra = swapped
    return info


class PyCSimpleType(_CDataMeta):
    """Metaclass of the simple types (c_int, c_char_p, ...)."""

    from_param = params.from_param_of(_simple_param_rule)


def _make_simple_type(cls, name, bases, namespace):
    if _CData in cls.__bases__:
        return                  # the abstract base _SimpleCData itself
    code = _check_type_code(cls)
    set_stginfo(cls, simple_stginfo(code))
    if code in _POINTER_FROM_PARAM and cls.__base__ is _SimpleCData:
        # Only the direct children get the pointer from_param (as CPython),
        # so a subclass's own from_param stays in force.
        type.__setattr__(cls, "from_param", classmethod(_POINTER_FROM_PARAM[code]))
    if type(cls) is PyCSimpleType and code in _SWAPPABLE:
        # CPython makes the other-endian twin here; it is made on first use
        # instead (most programs never ask), from the same name, bases and
        # namespace CPython's create_other_endian_type would use.
        type.__setattr__(cls, "__ctype_le__", cls)
        type.__setattr__(cls, "__ctype_be__", _SwappedTwin(cls, name, bases, namespace))
    elif type(cls) is PyCSimpleType and code == "?":
        # one byte has no byte order: c_bool may be a field of a
        # Big/LittleEndianStructure, as c_char and c_byte (CPython 3.11-3.13
        # refuse it)
        type.__setattr__(cls, "__ctype_le__", cls)
        type.__setattr__(cls, "__ctype_be__", cls)


basics.TYPE_DATA[PyCSimpleType] = _make_simple_type


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


_SimpleCData.__module__ = "_ctypes"
PyCSimpleType.__module__ = "_ctypes"
