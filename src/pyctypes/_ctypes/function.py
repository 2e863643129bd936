"""Function pointers: the PyCFuncPtrType metaclass and CFuncPtr (CPython's
_ctypes.c, PyCFuncPtrType_new / PyCFuncPtr_new / PyCFuncPtr_call).

A function pointer type (made by CFUNCTYPE/PYFUNCTYPE, or CDLL's _FuncPtr) is
a pointer-sized ctypes type; its plan records ``_flags_``, ``_argtypes_`` (and
their from_param converters) and ``_restype_``.  An instance holds a C function
address made from an int, from ``(name_or_ordinal, dll)``, or from a Python
callable (a callback: the instance keeps the native closure alive in
``_objects``).  Instances may override argtypes/restype and add errcheck and
paramflags.  The call itself lives in conversion.py.
"""

import operator
import os
import sys

from ._native import PURE, raw
from . import basics
from .basics import (DICTFLAG_FINAL, TYPEFLAG_ISPOINTER, ArgumentError, StgInfo, _CData,
                     _CDataMeta, keep_ref, kind_of, set_stginfo, stginfo)
from .library import handle_address
from .conversion import (CTYPES_MAX_ARGCOUNT, FUNCFLAG_CDECL, FUNCFLAG_PYTHONAPI,
                         FUNCFLAG_USE_ERRNO, FUNCFLAG_USE_LASTERROR, NULL_RESTYPE, CallPlan,
                         refuse_call,
                         callproc, make_callback)

__all__ = ["PyCFuncPtrType", "CFuncPtr", "CTYPES_MAX_ARGCOUNT", "FUNCFLAG_CDECL",
           "FUNCFLAG_PYTHONAPI", "FUNCFLAG_USE_ERRNO", "FUNCFLAG_USE_LASTERROR",
           "call_function", "call_cdeclfunction"]

# Directions of a parameter in paramflags (PARAMFLAG_* of CPython).
PARAMFLAG_FIN = 0x1
PARAMFLAG_FOUT = 0x2
PARAMFLAG_FLCID = 0x4
_DIRECTION_MASK = PARAMFLAG_FIN | PARAMFLAG_FOUT | PARAMFLAG_FLCID

_UNSET = object()       # an instance attribute not set: the type's value applies
_MISSING = object()
_ULONG_MASK = (1 << 64) - 1


def converters_from_argtypes(argtypes):
    """The from_param methods of argtypes (CPython's converters_from_argtypes)."""
    try:
        items = tuple(argtypes)
    except Exception:
        raise TypeError("_argtypes_ must be a sequence of types") from None
    if len(items) > CTYPES_MAX_ARGCOUNT:
        raise ArgumentError("_argtypes_ has too many arguments (%d), maximum is %d"
                            % (len(items), CTYPES_MAX_ARGCOUNT))
    converters = []
    for i, tp in enumerate(items):
        try:
            converters.append(tp.from_param)
        except AttributeError:
            raise TypeError("item %d in _argtypes_ has no from_param method" % (i + 1)) from None
    return tuple(converters)


def check_restype(restype, what):
    """A restype must be None, a ctypes type or a callable."""
    if restype is not None and stginfo(restype) is None and not callable(restype):
        raise TypeError("%s must be a type, a callable, or None" % what)


class PyCFuncPtrType(_CDataMeta):
    """metatype for C function pointers"""



def _make_funcptr_type(cls, name, bases, namespace):
    if "CFuncPtr" not in globals():
        return                  # the abstract base CFuncPtr itself
    # Only the class's own _flags_/_argtypes_/_restype_ count (make_funcptrtype_dict).
    flags = namespace.get("_flags_")
    if not isinstance(flags, int):
        raise TypeError("class must define _flags_ which must be an integer")
    info = StgInfo(size=raw.sizeof_code("P"), align=raw.alignof_code("P"), length=1,
                   ffi_type=raw.FFIType.for_code("P"),
                   flags=(flags & _ULONG_MASK) | TYPEFLAG_ISPOINTER, format="X{}",
                   kind="funcptr")
    info.restype = NULL_RESTYPE
    if "_argtypes_" in namespace:
        info.converters = converters_from_argtypes(namespace["_argtypes_"])
        info.argtypes = namespace["_argtypes_"]
    if "_restype_" in namespace:
        restype = namespace["_restype_"]
        check_restype(restype, "_restype_")
        info.checker = getattr(restype, "_check_retval_", None)
        info.restype = restype
    set_stginfo(cls, info)
    if basics.planner is not None:
        basics.planner.function_type_made(cls)


basics.TYPE_DATA[PyCFuncPtrType] = _make_funcptr_type


PyCFuncPtrType.__module__ = "_ctypes"


class _FuncState:
    """What an instance holds besides its address and errcheck (CPython's
    PyCFuncPtrObject fields); the call plan is derived from it and rebuilt
    when it changes."""

    __slots__ = ("argtypes", "converters", "restype", "paramflags", "callable",
                 "thunk", "plan")

    def __init__(self):
        self.argtypes = _UNSET
        self.converters = None
        self.restype = _UNSET
        self.paramflags = None
        self.callable = None
        self.thunk = None
        self.plan = None


def _state(func):
    try:
        return func._fp_state_
    except AttributeError:      # made without __new__ (a field, a result, from_address)
        state = func._fp_state_ = _FuncState()
        return state


def _new_instance(cls):
    """A zeroed instance (GenericPyCData_new), with its state (made here, not on
    first use by _state: the AttributeError that path raises is costly, and
    programs bind thousands of functions)."""
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    info.flags |= DICTFLAG_FINAL
    self = raw.new_instance(cls)
    self._fp_state_ = _FuncState()
    return self


def _forget_plan(func, state):
    """argtypes or restype changed: the next call makes a new plan."""
    state.plan = None
    func._fp_plan_ = None


def _as_void_ptr(value):
    """An int as a C pointer, as PyLong_AsVoidPtr converts it."""
    if value < 0:
        if value < -(1 << 63):
            raise OverflowError("Python int too large to convert to C long")
        return value & _ULONG_MASK
    if value > _ULONG_MASK:
        raise OverflowError("Python int too large to convert to C unsigned long")
    return value


def _symbol_name(name):
    """The symbol of a (name, dll) spec: str or bytes (ordinals are Windows-only)."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "surrogateescape")
    elif not isinstance(name, str):
        raise TypeError("function name must be string, bytes object or integer")
    return name.split("\0", 1)[0]     # the C string ends at the first NUL


class CFuncPtr(_CData, raw.FuncPtr, metaclass=PyCFuncPtrType):
    """Function Pointer

    raw.FuncPtr calls an instance natively through the native plan in its
    ``_fp_plan_`` slot; without one (and with keyword arguments) it calls
    ``_pycall_``, which makes the plan and stores it for the next calls,
    unless paramflags need the Python level on every call."""

    __slots__ = ("_fp_state_",)

    def __new__(cls, *args, **kwds):
        if not args:
            return _new_instance(cls)       # a NULL function pointer
        first = args[0]
        if isinstance(first, tuple):
            return _from_dll(cls, args)
        if len(args) == 1 and isinstance(first, int):
            address = _as_void_ptr(first)
            self = _new_instance(cls)
            raw.store("P", self._b_address_, address)
            return self
        if len(args) != 1:
            # Includes the COM form (index, name, ...), which exists only on Windows.
            raise TypeError("function takes exactly 1 argument (%d given)" % len(args))
        if not callable(first):
            raise TypeError("argument must be callable or integer function address")
        info = stginfo(cls)
        if info is None or info.argtypes is None:
            raise TypeError("cannot construct instance of this class: no argtypes")
        thunk = make_callback(first, info.argtypes, info.restype, info.flags)
        self = _new_instance(cls)
        state = _state(self)
        state.callable = first
        state.thunk = thunk
        raw.store("P", self._b_address_, thunk.address)
        keep_ref(self, 0, thunk)
        return self

    def __init__(self, *args, **kwds):
        pass

    # ------------------------------------------------------------ attributes

    @property
    def errcheck(self):
        """a function to check for errors"""
        return self._fp_errcheck_

    @errcheck.setter
    def errcheck(self, value):
        if not callable(value):
            raise TypeError("the errcheck attribute must be callable")
        self._fp_errcheck_ = value

    @errcheck.deleter
    def errcheck(self):
        self._fp_errcheck_ = None

    @property
    def restype(self):
        """specify the result type"""
        restype = _state(self).restype
        if restype is _UNSET:
            restype = stginfo(type(self)).restype
        return None if restype is NULL_RESTYPE else restype

    @restype.setter
    def restype(self, value):
        check_restype(value, "restype")
        state = _state(self)
        state.restype = value
        _forget_plan(self, state)

    @restype.deleter
    def restype(self):
        state = _state(self)
        state.restype = _UNSET
        _forget_plan(self, state)

    @property
    def argtypes(self):
        """specify the argument types"""
        argtypes = _state(self).argtypes
        if argtypes is _UNSET:
            argtypes = stginfo(type(self)).argtypes
        return argtypes

    @argtypes.setter
    def argtypes(self, value):
        state = _state(self)
        if value is None:
            state.argtypes, state.converters = _UNSET, None
        else:
            state.converters = converters_from_argtypes(value)
            state.argtypes = value
        _forget_plan(self, state)

    @argtypes.deleter
    def argtypes(self):
        state = _state(self)
        state.argtypes, state.converters = _UNSET, None
        _forget_plan(self, state)

    # ------------------------------------------------------------ calling

    def _call_plan(self, state):
        """The plan of this instance: the type's own when nothing is overridden."""
        info = stginfo(type(self))
        if state.argtypes is _UNSET and state.restype is _UNSET:
            plan = info.extra
            if plan is None:
                plan = info.extra = CallPlan(info.converters, info.argtypes, info.restype,
                                             info.flags)
        else:
            if state.argtypes is _UNSET:
                converters, argtypes = info.converters, info.argtypes
            else:
                converters, argtypes = state.converters, state.argtypes
            restype = info.restype if state.restype is _UNSET else state.restype
            plan = CallPlan(converters, argtypes, restype, info.flags)
        state.plan = plan
        if plan.native is not None and state.paramflags is None:
            self._fp_plan_ = plan.native        # the next calls run natively
        return plan

    def _pycall_(self, *args, **kwds):
        """The call (PyCFuncPtr_call): paramflags, argument count, the foreign
        call, errcheck, out-parameters."""
        state = _state(self)
        plan = state.plan
        if plan is None:
            plan = self._call_plan(state)
            if self._fp_plan_ is not None and not kwds:
                return raw.FuncPtr.__call__(self, *args)    # the native plan makes this call too
        numretvals = 0
        if state.paramflags is not None:
            argtypes = self.argtypes
            if argtypes is not None and len(argtypes):
                args, outmask, inoutmask, numretvals = _build_callargs(
                    state.paramflags, tuple(argtypes), args, kwds)
        address = raw.load("P", self._b_address_)
        refuse_call(-1 if plan.rules is None else len(plan.rules), plan.extra_args, len(args),
                    address is None)
        result = callproc(address, args, plan, self)
        errcheck = self._fp_errcheck_
        if errcheck is not None:
            checked = errcheck(result, self, args)
            if checked is not args:
                return checked
        if numretvals:
            return _build_result(args, outmask, inoutmask, numretvals)
        return result

    if PURE:
        __call__ = _pycall_

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))

    def __bool__(self):
        return raw.load("P", self._b_address_) is not None


CFuncPtr.__module__ = "_ctypes"


# ---------------------------------------------------------------- (name, dll) and paramflags

_library_labels = {}


def _function_label(dll, name):
    """"library:name" of a function found in dll, as the trace and the crash
    report name it (the library's file name; "(process)" for CDLL(None))."""
    libname = getattr(dll, "_name", None)
    if not isinstance(libname, str):
        return "(process):%s" % (name,)
    library = _library_labels.get(libname)
    if library is None:
        library = _library_labels[libname] = os.path.basename(libname)
    return "%s:%s" % (library, name)


def _from_dll(cls, args):
    """CFuncPtr((name, dll) [, paramflags]): the symbol looked up in dll._handle
    (PyCFuncPtr_FromDll); the instance keeps dll alive."""
    if len(args) > 2:
        raise TypeError("function takes at most 2 arguments (%d given)" % len(args))
    spec = args[0]
    paramflags = args[1] if len(args) > 1 else None
    if len(spec) != 2:
        raise TypeError("illegal func_spec argument")
    name = _symbol_name(spec[0])
    dll = spec[1]
    sys.audit("ctypes.dlsym", dll, name)
    handle = dll._handle
    if not isinstance(handle, int):
        raise TypeError("the _handle attribute of the second argument must be an integer")
    try:
        handle = _as_void_ptr(handle)
    except OverflowError:
        raise ValueError("could not convert the _handle attribute to a pointer") from None
    error = None
    try:
        address = raw.dlsym(handle, name)
    except OSError as exc:
        error = str(exc)
    if error is not None:
        raise AttributeError(error)
    _validate_paramflags(cls, paramflags)
    self = _new_instance(cls)
    _state(self).paramflags = paramflags
    raw.store("P", self._b_address_, address)
    self._fp_label_ = _function_label(dll, name)
    keep_ref(self, 0, dll)
    return self


_PARAMFLAGS_FORMAT = "paramflags must be a sequence of (int [,string [,value]]) tuples"


def _paramflag_direction(item):
    """The flag of one paramflags item, checked as PyArg_ParseTuple(item, "i|ZO")."""
    if not isinstance(item, tuple) or not 1 <= len(item) <= 3:
        raise TypeError(_PARAMFLAGS_FORMAT)
    try:
        flag = operator.index(item[0])
    except TypeError:
        raise TypeError(_PARAMFLAGS_FORMAT) from None
    if not -(1 << 31) <= flag < (1 << 31):
        raise TypeError(_PARAMFLAGS_FORMAT)
    if len(item) > 1 and item[1] is not None and not isinstance(item[1], str):
        raise TypeError(_PARAMFLAGS_FORMAT)
    return flag


def _check_outarg_type(tp, index):
    """An 'out' parameter must be a pointer, an array, or c_void_p/c_char_p/c_wchar_p."""
    if kind_of(tp) in ("pointer", "array"):
        return
    info = stginfo(tp)
    if info is not None and isinstance(info.proto, str) and info.proto in "PzZ":
        return
    name = tp.__name__ if isinstance(tp, type) else type(tp).__name__
    raise TypeError("'out' parameter %d must be a pointer type, not %s" % (index, name))


def _validate_paramflags(cls, paramflags):
    info = stginfo(cls)
    if info is None:
        raise TypeError("abstract class")
    if paramflags is None or info.argtypes is None:
        return
    if not isinstance(paramflags, tuple):
        raise TypeError("paramflags must be a tuple or None")
    argtypes = tuple(info.argtypes)
    if len(paramflags) != len(argtypes):
        raise ValueError("paramflags must have the same length as argtypes")
    for i, item in enumerate(paramflags):
        flag = _paramflag_direction(item)
        direction = flag & _DIRECTION_MASK
        if direction == PARAMFLAG_FOUT:
            _check_outarg_type(argtypes[i], i + 1)
        elif direction not in (0, PARAMFLAG_FIN, PARAMFLAG_FIN | PARAMFLAG_FLCID,
                               PARAMFLAG_FIN | PARAMFLAG_FOUT):
            raise TypeError("paramflag value %d not supported" % flag)


def _get_arg(index, name, default, inargs, kwds):
    """The value of an 'in' parameter: positional, else by name, else its
    default (_get_arg); returns (value, next positional index)."""
    if index < len(inargs):
        return inargs[index], index + 1
    if kwds and name is not None and name in kwds:
        return kwds[name], index + 1
    if default is not _MISSING:
        return default, index
    if name is not None:
        raise TypeError("required argument '%s' missing" % name)
    raise TypeError("not enough arguments")


def _out_value(tp):
    """A fresh object for an 'out' parameter: an array instance, or an instance
    of what the pointer type points to (passed by reference by from_param)."""
    info = stginfo(tp)
    if info is None:
        raise RuntimeError("NULL stgdict unexpected")
    if isinstance(info.proto, str):
        raise TypeError("%s 'out' parameter must be passed as default value" % tp.__name__)
    if info.kind == "array":
        return tp()
    return info.proto()


def _build_callargs(paramflags, argtypes, inargs, kwds):
    """The arguments of the call from the Python arguments and paramflags
    (CPython's _build_callargs): (callargs, outmask, inoutmask, numretvals)."""
    callargs = []
    index = 0
    outmask = inoutmask = 0
    numretvals = 0
    for i in range(len(argtypes)):
        item = paramflags[i]
        flag = operator.index(item[0])
        name = item[1] if len(item) > 1 else None
        default = item[2] if len(item) > 2 else _MISSING
        direction = flag & _DIRECTION_MASK
        if direction == PARAMFLAG_FIN | PARAMFLAG_FLCID:
            callargs.append(0 if default is _MISSING else default)
        elif direction in (0, PARAMFLAG_FIN, PARAMFLAG_FIN | PARAMFLAG_FOUT):
            if direction == PARAMFLAG_FIN | PARAMFLAG_FOUT:
                inoutmask |= 1 << i
                numretvals += 1
            value, index = _get_arg(index, name, default, inargs, kwds)
            callargs.append(value)
        elif direction == PARAMFLAG_FOUT:
            callargs.append(_out_value(argtypes[i]) if default is _MISSING else default)
            outmask |= 1 << i
            numretvals += 1
        else:
            raise ValueError("paramflag %d not yet implemented" % flag)
    given = len(inargs) + (len(kwds) if kwds else 0)
    if given != index:
        raise TypeError("call takes exactly %d arguments (%d given)" % (index, given))
    return tuple(callargs), outmask, inoutmask, numretvals


def _build_result(callargs, outmask, inoutmask, numretvals):
    """The values of the out and in-out parameters, in order (_build_result):
    one value alone, several as a tuple."""
    results = []
    for i, arg in enumerate(callargs):
        bit = 1 << i
        if bit & inoutmask:
            results.append(arg)
        elif bit & outmask:
            results.append(arg.__ctypes_from_outparam__())
        if len(results) == numretvals:
            break
    return results[0] if numretvals == 1 else tuple(results)


# ---------------------------------------------------------------- module functions

_PLAIN_CALL = None


def _plain_call(address, arguments):
    """call_function/call_cdeclfunction: no argtypes, C int result."""
    global _PLAIN_CALL
    address = handle_address(address)
    if not isinstance(arguments, tuple):
        raise TypeError("argument 2 must be tuple, not %s" % type(arguments).__name__)
    sys.audit("ctypes.call_function", address, arguments)
    if _PLAIN_CALL is None:
        _PLAIN_CALL = CallPlan(None, None, NULL_RESTYPE, 0)
    refuse_call(-1, True, len(arguments), False)
    return callproc(address, arguments, _PLAIN_CALL)


def call_function(address, arguments):
    return _plain_call(address, arguments)


def call_cdeclfunction(address, arguments):
    return _plain_call(address, arguments)
