"""The CData base class, the per-type plan (StgInfo), keep-alives, and the
module functions that work on any ctypes object: sizeof, alignment, byref,
addressof, resize, buffer_info, _unpickle.

Keep-alive rules (CPython's, which test_keeprefs and test_internals check):
every instance has an ``_objects`` slot.  Objects that must stay alive as long
as an instance (a bytes object whose buffer a c_char_p field points into, the
source of a from_buffer view, the target of a pointer...) are stored there by
``keep_ref``.  A view into another instance (a structure field that is itself
a structure, an array element...) keeps nothing of its own: its
``_b_base_`` is the object it views, and its keep-alives go into the
``_objects`` of the root object (the "container"), in a dict keyed by a path
of hex indices from the view up to the root ("index:parentindex:...").  A
container whose type has no sub-objects (a simple type, length 0) stores the
single kept object directly instead of a dict.

Outside PURE mode the native core follows the same rules on its fast paths
(src/native/keepalive.cpp), reading each type's native plan (``_rawffi_plan_``,
made by update_native_plan below from the StgInfo).
"""

import functools
import operator
import sys
import types

from ._native import PURE, native_bases, raw
from . import params, versions

# Flags of a type's plan, as CPython's StgDict flags.
TYPEFLAG_ISPOINTER = 0x100
TYPEFLAG_HASPOINTER = 0x200
TYPEFLAG_HASUNION = 0x400
TYPEFLAG_HASBITFIELD = 0x800
DICTFLAG_FINAL = 0x1000


# The native planner (fastpath.NativePlanner) once _ctypes is loaded, unless
# PURE: the family modules hand it the plans they make, and never import it.
planner = None


class ArgumentError(Exception):
    pass


ArgumentError.__module__ = "ctypes"


class StgInfo:
    """The plan of a ctypes type (CPython's StgDict): stored on the class as
    ``_stginfo_``.  Everything an operation on instances needs to know is
    here, computed once when the type is made (or its _fields_ are set).

    size, align   bytes, as the C compiler lays the type out
    length        array length / number of fields; 0 for simple types.
                  Decides whether instances keep a dict in ``_objects``.
    proto         array/pointer element type; a simple type's _type_ code
    code          type code of a simple type (None otherwise)
    getfunc       address -> Python value (simple types only)
    setfunc       (address, value) -> keep-alive (simple types only)
    ffi_type      raw.FFIType used to pass/return the type by value
    flags         TYPEFLAG_* / DICTFLAG_FINAL
    format, shape PEP 3118 format and shape (itemsize follows from them)
    kind          the family: "simple", "array", "pointer", "struct", "union",
                  "funcptr"
    """

    __slots__ = ("size", "align", "length", "proto", "code", "getfunc", "setfunc",
                 "ffi_type", "flags", "format", "shape", "fields", "argtypes",
                 "restype", "checker", "converters", "extra", "kind")

    def __init__(self, size=0, align=1, length=0, proto=None, code=None, getfunc=None,
                 setfunc=None, ffi_type=None, flags=0, format=None, shape=(), kind=None):
        self.size = size
        self.align = align
        self.length = length
        self.proto = proto
        self.code = code
        self.getfunc = getfunc
        self.setfunc = setfunc
        self.ffi_type = ffi_type
        self.flags = flags
        self.format = format
        self.shape = shape
        self.fields = None      # structures: the CField descriptors, in order
        self.argtypes = None    # function pointer types
        self.restype = None
        self.checker = None
        self.converters = None
        self.extra = None       # a family's own data (simple types: True if byte-swapped)
        self.kind = kind

    def copy(self):
        new = StgInfo()
        for name in StgInfo.__slots__:
            setattr(new, name, getattr(self, name))
        new.flags &= ~DICTFLAG_FINAL
        return new


def stginfo(tp):
    """The StgInfo of a ctypes type, or None for anything else."""
    if isinstance(tp, type):
        return getattr(tp, "_stginfo_", None)
    return None


def own_stginfo(tp):
    """The StgInfo a class defines itself (not one inherited from a base)."""
    return tp.__dict__.get("_stginfo_")


def set_stginfo(tp, info):
    """Attach a plan to a type, and tell the native core its size and buffer format."""
    type.__setattr__(tp, "_stginfo_", info)
    type.__setattr__(tp, "_rawffi_size_", info.size)
    if info.format is not None:
        type.__setattr__(tp, "_rawffi_pep3118_", (info.format, pep3118_itemsize(tp, info), tuple(info.shape)))
    update_native_plan(tp, info)


def update_native_plan(tp, info):
    """Hand the plan of tp to the native planner (fastpath), which gives the
    native core its TypePlan; again whenever the StgInfo changes.  Nothing in
    PURE mode, nor for classes that are not ctypes types (a metaclass called
    with other bases)."""
    if planner is not None and issubclass(tp, raw.CData):
        planner.type_changed(tp, info)


def pep3118_itemsize(tp, info):
    """Item size of the buffer export: the innermost element of an array type.
    An array of arrays takes its item's (already computed), so that deriving
    array types from array types costs the same at every depth."""
    proto = info.proto
    if not info.shape or proto is None:
        return info.size
    item_info = stginfo(proto)
    if item_info is None:
        return info.size
    if not item_info.shape:
        return item_info.size
    exported = proto.__dict__.get("_rawffi_pep3118_")
    if exported is not None and proto.__dict__.get("_stginfo_") is item_info:
        return exported[1]
    return pep3118_itemsize(proto, item_info)


_HEAPTYPE = 1 << 9


def type_name(tp):
    """CPython's tp_name of a type: the bare name for classes made in Python
    and for builtins, "module.name" for the other C types (the classes of
    _ctypes among them)."""
    module = tp.__module__
    if module == "_ctypes" or not (tp.__flags__ & _HEAPTYPE or module == "builtins"):
        return "%s.%s" % (module, tp.__name__)
    return tp.__name__


def own_new(cls):
    """cls.__new__(T) refuses a T that is not a subclass of cls, as CPython's
    __new__ of a C type does (CPython's Structure, Union, Array, _SimpleCData,
    _Pointer and CFuncPtr are C types): a ctypes instance made by the __new__
    of an unrelated family would read its memory as something else (a
    py_object made by CFuncPtr.__new__ holds an address, not an object).
    A C __new__ gets the checks of the C type machinery (CPython's
    tp_new_wrapper) from the native core, the slots staying as they are; a
    Python __new__ (CFuncPtr's; every family's under PYCTYPES_PURE=1) is
    wrapped in check_new_target.  cls's C name, which the texts show, becomes
    CPython's ("_ctypes.Structure")."""
    raw.own_new(cls, type_name(cls))
    own = cls.__dict__.get("__new__")
    if isinstance(own, staticmethod):
        own = own.__func__
    if isinstance(own, types.FunctionType):
        @functools.wraps(own)
        def __new__(*args, **kwargs):
            check_new_target(cls, args)
            return own(*args, **kwargs)
        cls.__new__ = staticmethod(__new__)


def check_new_target(base, args):
    """tp_new_wrapper's checks of base.__new__(*args), with its texts."""
    name = type_name(base)
    if not args:
        raise TypeError("%s.__new__(): not enough arguments" % name)
    target = args[0]
    if not isinstance(target, type):
        raise TypeError("%s.__new__(X): X is not a type object (%s)" % (name, type_name(type(target))))
    if not issubclass(target, base):
        target_name = type_name(target)
        raise TypeError("%s.__new__(%s): %s is not a subtype of %s" % (name, target_name, target_name, name))


def is_cdata(obj):
    return isinstance(obj, raw.CData)


# array.array_type, set when array.py is loaded: `T * n` is asked of every
# ctypes type (the metaclass below), and array.py builds on this module.
array_type = None


def caller_module():
    """__name__ of the module whose code asked for a new type (`c_int * 3`,
    POINTER(T)): CPython's type() takes __module__ from the calling frame."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith(__package__):
            return name
        frame = frame.f_back
    return "builtins"


def kind_of(tp):
    """The family of a ctypes type (StgInfo.kind), or None for anything else."""
    info = stginfo(tp)
    return info.kind if info is not None else None


def is_simple_subclass(tp):
    """CPython's _ctypes_simple_instance: a subclass of a fundamental simple type
    (class MyInt(c_int)) whose values are not converted to Python objects."""
    info = stginfo(tp)
    return info is not None and info.kind == "simple" and stginfo(tp.__base__) is not None


# ---------------------------------------------------------------- keep-alives

def get_container(obj):
    """The root object whose _objects holds obj's keep-alives (PyCData_GetContainer)."""
    while obj._b_base_ is not None:
        obj = obj._b_base_
    if obj._b_objects_ is None and stginfo(type(obj)).length:
        obj._b_objects_ = {}
    return obj


def get_kept_objects(obj):
    """What obj keeps alive (CPython's GetKeepedObjects)."""
    return get_container(obj)._b_objects_


def unique_key(target, index):
    """The key of target's slot in its container's dict: "index:parentindex:..." in hex."""
    parts = ["%x" % index]
    while target._b_base_ is not None:
        parts.append("%x" % target._b_index_)
        target = target._b_base_
    return ":".join(parts)


def keep_ref(target, index, keep):
    """Keep `keep` alive as long as target (CPython's KeepRef)."""
    if keep is None:
        return
    container = get_container(target)
    if type(container._b_objects_) is not dict:
        container._b_objects_ = keep
        return
    container._b_objects_[unique_key(target, index)] = keep


# ---------------------------------------------------------------- get and set of typed values

def value_getter(tp):
    """address -> Python value for reading a tp at an address as a field, item or result,
    when tp's values convert to Python objects (fundamental simple types); else None."""
    info = stginfo(tp)
    if info is not None and info.getfunc is not None and not is_simple_subclass(tp):
        return info.getfunc
    return None


def make_view(tp, address, base, index):
    """An instance of tp for the memory at address (CPython's PyCData_FromBaseObj):
    a view into base, or without a base a copy of the memory."""
    if base is not None:
        return raw.view(tp, address, base, index)
    obj = raw.new_instance(tp)
    raw.memmove(obj._b_address_, address, stginfo(tp).size)
    return obj


def store_value(tp, address, value, size=None):
    """Write value as a tp at address; return what must be kept alive (CPython's
    _PyCData_set).  Accepts an instance of tp (copied), a Python value for simple
    types, a tuple (tp(*value)), None for pointers, an array for a pointer to its
    element type."""
    info = stginfo(tp)
    if size is None:
        size = info.size
    if not is_cdata(value):
        if info.setfunc is not None:
            return info.setfunc(address, value)
        if isinstance(value, tuple):
            try:
                value = tp(*value)
            except Exception as exc:
                # CPython's _ctypes_extend_error: "(Type) ExcName: message"
                raise RuntimeError("(%s) %s: %s" % (tp.__name__, type(exc).__name__, exc)) from None
            return store_value(tp, address, value, size)
        if value is None and info.kind == "pointer":
            raw.store("P", address, None)
            return None
        raise TypeError("expected %s instance, got %s" % (tp.__name__, type(value).__name__))
    if isinstance(value, tp):
        raw.memmove(address, value._b_address_, size)
        return get_kept_objects(value)
    if info.kind == "pointer" and kind_of(type(value)) == "array":
        if stginfo(type(value)).proto is not info.proto:
            raise TypeError("incompatible types, %s instance instead of %s instance"
                            % (type(value).__name__, tp.__name__))
        raw.store("P", address, value._b_address_)
        return (get_kept_objects(value), value)
    raise TypeError("incompatible types, %s instance instead of %s instance"
                    % (type(value).__name__, tp.__name__))


def cdata_set(dst, tp, value, index, address, size=None):
    """Store value into dst's memory at address as a tp, keeping what it needs alive
    (CPython's PyCData_set)."""
    keep = store_value(tp, address, value, size)
    keep_ref(dst, index, keep)


# ---------------------------------------------------------------- the base class

class _CData(raw.CData):
    """Base of every ctypes instance (CPython's _ctypes._CData)."""

    __slots__ = ()

    def __hash__(self):
        # CPython's PyCData_nohash: a hash slot that refuses (so instances are
        # still collections.abc.Hashable, as on CPython), with its message.
        raise TypeError("unhashable type")

    def __ctypes_from_outparam__(self):
        return self

    def __reduce__(self):
        info = stginfo(type(self))
        if info.flags & (TYPEFLAG_ISPOINTER | TYPEFLAG_HASPOINTER):
            raise ValueError("ctypes objects containing pointers cannot be pickled")
        state = getattr(self, "__dict__", None)
        if state is None:
            state = {}
        return (_unpickle, (type(self), (state, raw.read(self._b_address_, self._b_size_))))

    def __setstate__(self, state, data=None):
        if data is None:
            if not isinstance(state, tuple) or len(state) != 2:
                raise TypeError("__setstate__ expects a (dict, bytes) state")
            state, data = state
        if not isinstance(state, dict):
            raise TypeError("__setstate__ argument 1 must be dict, not %s" % type(state).__name__)
        if not isinstance(data, bytes):
            raise TypeError("__setstate__ argument 2 must be bytes, not %s" % type(data).__name__)
        raw.write(self._b_address_, data[:self._b_size_])
        mydict = self.__dict__         # as CPython: errors of a __dict__ property propagate
        if not isinstance(mydict, dict):
            raise TypeError("%s.__dict__ must be a dictionary, not %s"
                            % (type(self).__name__, type(mydict).__name__))
        mydict.update(state)


_CData.__module__ = "_ctypes"


# ---------------------------------------------------------------- __class__ assignment

_object_set_class = object.__dict__["__class__"].__set__


def _set_class(obj, new):
    """``obj.__class__ = new`` (the native base's __class__ setter calls this).

    CPython (3.11 to 3.14) accepts any type whose instances have the same
    object layout: a 4-byte instance may become a 72-byte structure, whose
    fields then read and write past the memory block.  pyctypes refuses,
    after object's own checks (their messages first), a type that needs more
    memory than the object has, and one that would read Python object
    references (py_object) where the object's type keeps none: memory safety,
    a deliberate difference (README)."""
    old = type(obj)
    _object_set_class(obj, new)
    try:
        info = stginfo(new)
        if info is not None and info.size > obj._b_size_:
            raise TypeError("__class__ assignment: '%s' needs %d bytes, the '%s' object has %d"
                            % (new.__name__, info.size, old.__name__, obj._b_size_))
        if not _object_offsets(new) <= _object_offsets(old):
            raise TypeError("__class__ assignment: '%s' would read Python object references "
                            "(py_object) where '%s' keeps none" % (new.__name__, old.__name__))
    except BaseException:
        _object_set_class(obj, old)
        raise


def _object_offsets(tp, base=0):
    """The offsets of the py_object values a type's memory holds."""
    info = stginfo(tp)
    if info is None:
        return frozenset()
    if info.code is not None:
        return frozenset((base,)) if info.code == "O" else frozenset()
    found = set()
    if info.fields is not None:
        for field in info.fields:
            if field._bits is None:
                found |= _object_offsets(field._proto, base + field._offset)
    elif info.shape and isinstance(info.proto, type):
        item = _object_offsets(info.proto)
        if item:
            size = stginfo(info.proto).size
            for i in range(info.length):
                found |= {base + i * size + offset for offset in item}
    return frozenset(found)


raw.set_fallback(raw.CData, "__class__", _set_class)


def _unpickle(typ, state):
    obj = typ.__new__(typ)
    obj.__setstate__(*state)
    return obj


# ---------------------------------------------------------------- the shared metaclass

def cdata_param_rule(cls, value):
    """The from_param rule of every ctypes type (CPython's CDataType_from_param):
    an instance as is, byref() of an instance of the type's item type
    (pointers, arrays), else _as_parameter_."""
    if isinstance(value, cls):
        return params.as_is(value)
    if isinstance(value, CArgObject):
        info = stginfo(cls)
        ob = value._obj
        if (info is not None and isinstance(info.proto, type) and ob is not None
                and isinstance(ob, info.proto)):
            return params.carg(value)
        raise TypeError("expected %s instance instead of pointer to %s"
                        % (cls.__name__, type(ob).__name__ if ob is not None else "???"))
    as_parameter = getattr(value, "_as_parameter_", None)
    if as_parameter is not None:
        return params.uncached(cdata_param_rule(cls, as_parameter))
    raise TypeError("expected %s instance instead of %s" % (cls.__name__, type(value).__name__))


def _array_of(cls, length):
    """``T * n``: CPython's sq_repeat, any __index__ object as a Py_ssize_t."""
    if not hasattr(type(length), "__index__"):
        return NotImplemented
    given, length = length, operator.index(length)
    if not -sys.maxsize - 1 <= length <= sys.maxsize:
        raise OverflowError("cannot fit '%s' into an index-sized integer"
                            % type(given).__name__)
    if length < 0:
        raise ValueError("Array length must be >= 0, not %d" % length)
    return array_type(cls, length)


_TYPE_METHODS = {"__mul__": _array_of, "__rmul__": _array_of}

if versions.CTYPE_TYPE:
    def _sizeof_type(cls):
        """A ctypes type's size in memory: the type object's and its plan's."""
        info = own_stginfo(cls)
        return type.__sizeof__(cls) + (sys.getsizeof(info) if info is not None else 0)

    # the common base of the metaclasses (3.13): `T * n` and __sizeof__
    CType_Type = type("CType_Type", (*native_bases("CDataType"), type),
                      dict(_TYPE_METHODS, __sizeof__=_sizeof_type, __module__="_ctypes"))
    _META_BASES, _META_OWN = (CType_Type,), {}
else:
    CType_Type = None
    _META_BASES, _META_OWN = (*native_bases("CDataType"), type), _TYPE_METHODS

# The native core's T * n takes the place of the Python one in this class.
array_of_owner = None


class _CDataMeta(*_META_BASES):
    """What every ctypes metaclass offers (CPython's CDataType methods).

    A family's metaclass makes a new type's plan with its function in
    TYPE_DATA (metaclass -> function(cls, name, bases, namespace)): in
    __new__, or from 3.13 in __init__ (a type made by the metaclass's
    __new__ alone is then abstract, and a second __init__ raises)."""

    def __new__(mcls, name, bases, namespace, **kwds):
        if "__module__" not in namespace:
            # type() takes __module__ from the calling frame: the program's,
            # as for CPython's metaclasses written in C (not one of ours)
            namespace = dict(namespace, __module__=caller_module())
        cls = super().__new__(mcls, name, bases, namespace, **kwds)
        if not versions.TYPE_DATA_IN_INIT:
            _make_type_data(cls, name, bases, namespace)
        return cls

    if versions.TYPE_DATA_IN_INIT:
        def __init__(cls, name, bases, namespace, /, **kwds):
            if own_stginfo(cls) is not None:
                raise SystemError("StgInfo of '%s' is already initialized." % cls.__name__)
            super().__init__(name, bases, namespace, **kwds)
            _make_type_data(cls, name, bases, namespace)

    def from_address(cls, address):
        if not isinstance(address, int):
            raise TypeError("integer expected")
        _audit("ctypes.cdata", address)
        return raw.at_address(cls, address)

    def from_buffer(cls, obj, offset=0):
        info = _instantiable_info(cls)
        offset = _ssize(offset)
        mv = memoryview(obj)
        if mv.readonly:
            raise TypeError("underlying buffer is not writable")
        if mv.nbytes and not mv.c_contiguous:  # PyBuffer_IsContiguous: empty is contiguous
            raise TypeError("underlying buffer is not C contiguous")
        _check_buffer_room(info, mv, offset)
        address = raw.buffer_address(mv)
        _audit("ctypes.cdata/buffer", address, mv.nbytes, offset)
        result = raw.at_address(cls, address + offset)
        keep_ref(result, -1, mv)
        return result

    def from_buffer_copy(cls, buffer, offset=0):
        info = _instantiable_info(cls)
        # CPython parses "y*|n": the buffer (a PyBUF_SIMPLE one), then the offset
        try:
            mv = memoryview(buffer)
        except TypeError:
            raise TypeError("a bytes-like object is required, not '%s'"
                            % type(buffer).__name__) from None
        if not mv.c_contiguous:
            raise BufferError("memoryview: underlying buffer is not C-contiguous")
        offset = _ssize(offset)
        _check_buffer_room(info, mv, offset)
        _audit("ctypes.cdata/buffer", raw.buffer_address(mv), mv.nbytes, offset)
        result = raw.new_instance(cls)
        raw.write(result._b_address_, mv.cast("B")[offset:offset + info.size])
        return result

    def in_dll(cls, dll, name):
        handle = getattr(dll, "_handle")
        if not isinstance(handle, int):
            raise TypeError("the _handle attribute of the second argument must be an integer")
        try:
            address = raw.dlsym(handle, name)
        except OSError as exc:
            raise ValueError(str(exc)) from None
        _audit("ctypes.dlsym/handle", handle, name)
        return raw.at_address(cls, address)

    from_param = params.from_param_of(cdata_param_rule)


for _name, _method in _META_OWN.items():
    setattr(_CDataMeta, _name, _method)
array_of_owner = CType_Type or _CDataMeta

# metaclass -> the function making its types' plans (see _CDataMeta)
TYPE_DATA = {}


def _make_type_data(cls, name, bases, namespace):
    for mcls in type(cls).__mro__:
        make = TYPE_DATA.get(mcls)
        if make is not None:
            make(cls, name, bases, namespace)
            return


def _check_buffer_room(info, mv, offset):
    """from_buffer/from_buffer_copy: the type must fit in the buffer after offset."""
    if offset < 0:
        raise ValueError("offset cannot be negative")
    if info.size > mv.nbytes - offset:
        raise ValueError("Buffer size too small (%d instead of at least %d bytes)"
                         % (mv.nbytes, info.size + offset))




def _instantiable_info(cls):
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    return info


def _index(value):
    return operator.index(value)


def _ssize(value):
    """An argument CPython parses as a Py_ssize_t ("n"): OverflowError past it."""
    value = operator.index(value)
    if not -sys.maxsize - 1 <= value <= sys.maxsize:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return value


def _audit(event, *args):
    import sys
    sys.audit(event, *args)


# ---------------------------------------------------------------- arguments prepared for a call

# A converted argument (CPython's PyCArgObject): the result of byref() and of
# the simple types' from_param.  The native type holds the argument's value in
# its own 16-byte slot (at ``_address``), the ffi type to pass it as
# (``_ffi_type``), its tag (``_tag``), and the object it keeps alive (``_obj``);
# its repr is CPython's.  It is named CArgObject, in module builtins (3.12 on:
# _ctypes), as CPython's.
CArgObject = raw.CArgObject
if versions.CARG_OBJECT_IN_CTYPES:
    raw.name_carg_type("_ctypes.CArgObject")


class _ArgBuffer(raw.CData):
    """16 bytes holding one argument value (a scalar, a pointer or a long double)."""
    __slots__ = ()
    _rawffi_size_ = 16


def byref(obj, offset=0, /):
    """A light pointer to obj's memory (plus offset), for passing as an argument."""
    if not is_cdata(obj):
        raise TypeError("byref() argument must be a ctypes instance, not '%s'" % type(obj).__name__)
    offset = _index(offset)
    arg = CArgObject("P", raw.FFIType.for_code("P"), obj)
    raw.store("P", arg._address, obj._b_address_ + offset)
    return arg


if not PURE:
    byref = raw.byref       # the same, natively (CArgObject instances)


# ---------------------------------------------------------------- module functions

def sizeof(obj_or_type):
    info = stginfo(obj_or_type)
    if info is not None:
        return info.size
    if is_cdata(obj_or_type):
        return obj_or_type._b_size_
    raise TypeError("this type has no size")


def alignment(obj_or_type):
    info = stginfo(obj_or_type)
    if info is None and is_cdata(obj_or_type):
        info = stginfo(type(obj_or_type))
    if info is None:
        raise TypeError("no alignment info")
    return info.align


def addressof(obj):
    if not is_cdata(obj):
        raise TypeError("invalid type")
    _audit("ctypes.addressof", obj)
    return obj._b_address_


def resize(obj, size):
    size = _ssize(size)             # the arguments are parsed first ("On")
    info = stginfo(type(obj)) if is_cdata(obj) else None
    if info is None:
        raise TypeError("excepted ctypes instance")
    if size < info.size:
        raise ValueError("minimum size is %d" % info.size)
    if not obj._b_needsfree_:
        raise ValueError("Memory cannot be resized because this object doesn't own it")
    raw.resize(obj, size)


def buffer_info(arg):
    info = stginfo(arg)
    if info is None and is_cdata(arg):
        info = stginfo(type(arg))
    if info is None:
        raise TypeError("not a ctypes type or object")
    return (info.format, len(info.shape), tuple(info.shape))
