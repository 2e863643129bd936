"""Calling foreign functions and being called back: argument conversion
(CPython's ConvParam), the call itself (_ctypes_callproc), result conversion
(GetResult), and callbacks (callbacks.c: _ctypes_alloc_callback,
_CallPythonObject).

A converted argument is a triple (ffi type, address of the value, keep-alive):
libffi reads each argument's value at its address, and the keep-alives hold
the memory those addresses point into until the call returns.  Prepared call
interfaces (ffi_cif) are cached per signature; a function's signature is
prepared when its argtypes/restype are set (see ``CallPlan``).
"""

import os
import sys
import types
import warnings

from ._native import PURE, raw
from .basics import (ArgumentError, CArgObject, _ArgBuffer, _CDataMeta, families, is_cdata,
                     is_simple_subclass, make_view, stginfo)
from .primitive import (PyCSimpleType, _c_char_p_from_param, _c_void_p_from_param,
                        _c_wchar_p_from_param)
from .pointer import PyCPointerType, _Pointer

CTYPES_MAX_ARGCOUNT = 1024

FUNCFLAG_CDECL = 0x1
FUNCFLAG_HRESULT = 0x2
FUNCFLAG_PYTHONAPI = 0x4
FUNCFLAG_USE_ERRNO = 0x8
FUNCFLAG_USE_LASTERROR = 0x10

_FFI_POINTER = raw.FFIType.for_code("P")
_FFI_SINT = raw.FFIType.for_code("i")
_FFI_VOID = raw.FFIType.for_code("v")
_MISSING = object()


def call_flags(funcflags):
    """The native call flags of a function type's _flags_: the GIL is released
    except for PyDLL/pythonapi functions, whose Python error is checked instead."""
    if funcflags & FUNCFLAG_PYTHONAPI:
        flags = raw.CALL_CHECK_PYERR
    else:
        flags = raw.CALL_RELEASE_GIL
    if funcflags & FUNCFLAG_USE_ERRNO:
        flags |= raw.CALL_USE_ERRNO
    return flags


# ---------------------------------------------------------------- arguments (ConvParam)

def _cell(code, value):
    """An argument passed by value from its own 16-byte buffer."""
    cell = _ArgBuffer()
    keep = raw.store(code, cell._b_address_, value)
    return cell, keep


def _int_param(value):
    # CPython reads the int as an unsigned long, else as a long, and passes the
    # low bits as a C int; only values outside both ranges are refused.
    if not -(1 << 63) <= value < (1 << 64):
        raise OverflowError("int too long to convert")
    cell, _ = _cell("i", value)
    return _FFI_SINT, cell._b_address_, cell


def _cdata_param(obj, info):
    """A ctypes instance as an argument (the paramfunc of its type): arrays
    pass their address, everything else its value (structures by value)."""
    if isinstance(obj, families.Array):
        cell, _ = _cell("P", obj._b_address_)
        return _FFI_POINTER, cell._b_address_, (cell, obj)
    ffi_type = info.ffi_type
    if ffi_type is None:
        raise TypeError("cannot pass %s instances by value" % type(obj).__name__)
    return ffi_type, obj._b_address_, obj


def conv_param(obj, index):
    """One argument as (ffi type, address, keep-alive), CPython's ConvParam:
    ctypes instances, CArgObjects (byref, from_param results), None (NULL),
    int (as C int), bytes (char *), str (wchar_t *), else _as_parameter_."""
    if is_cdata(obj):
        info = stginfo(type(obj))
        if info is not None:
            return _cdata_param(obj, info)
    if type(obj) is CArgObject:
        return obj._ffi_type, obj._address, obj
    if obj is None:
        cell, _ = _cell("P", None)
        return _FFI_POINTER, cell._b_address_, cell
    if isinstance(obj, int):
        return _int_param(obj)
    if isinstance(obj, bytes):
        cell, keep = _cell("z", obj)
        return _FFI_POINTER, cell._b_address_, (cell, keep)
    if isinstance(obj, str):
        # ConvParam converts with PyUnicode_AsWideCharString(obj, NULL), which
        # refuses an embedded NUL (c_wchar_p and its from_param do not)
        if str.find(obj, "\0") >= 0:
            raise ValueError("embedded null character")
        cell, keep = _cell("Z", obj)
        return _FFI_POINTER, cell._b_address_, (cell, keep)
    as_parameter = getattr(obj, "_as_parameter_", _MISSING)
    if as_parameter is not _MISSING:
        return conv_param(as_parameter, index)
    raise TypeError("Don't know how to convert parameter %d" % index)


def _argument_error(index, exc):
    """ArgumentError "argument N: ExcClass: message" (_ctypes_extend_error)."""
    try:
        text = str(exc)
    except Exception:
        text = "???"
    return ArgumentError("argument %d: %s: %s" % (index, type(exc).__name__, text))


def convert_args(args, converters):
    """Convert every argument: those with an argtype through its from_param,
    then ConvParam; extra (variadic) ones by ConvParam alone."""
    ffi_types = []
    addresses = []
    keeps = []
    nconv = len(converters) if converters is not None else 0
    for i, arg in enumerate(args):
        error = None
        try:
            if i < nconv:
                arg = converters[i](arg)
            ffi_type, address, keep = conv_param(arg, i + 1)
        except Exception as exc:
            error = _argument_error(i + 1, exc)
        if error is not None:
            raise error
        ffi_types.append(ffi_type)
        addresses.append(address)
        keeps.append(keep)
    return ffi_types, addresses, keeps


# ---------------------------------------------------------------- prepared call interfaces

_cif_cache = {}
_CIF_CACHE_LIMIT = 4096


def call_interface(restype, argtypes, nfixed=-1):
    """The prepared ffi_cif of a signature (cached)."""
    key = (restype, argtypes, nfixed)
    cif = _cif_cache.get(key)
    if cif is None:
        try:
            cif = raw.CallInterface(restype, argtypes, nfixed)
        except RuntimeError:
            # CPython's text; libffi refuses e.g. variadic float or short arguments.
            raise RuntimeError("ffi_prep_cif_var failed" if nfixed >= 0
                               else "ffi_prep_cif failed") from None
        if len(_cif_cache) >= _CIF_CACHE_LIMIT:
            _cif_cache.clear()
        _cif_cache[key] = cif
    return cif


# ---------------------------------------------------------------- results (GetResult)

class _NullRestype:
    """The restype of a function type without _restype_ (CPython's NULL restype):
    the result is read as a C int."""
    def __repr__(self):
        return "<no restype>"


NULL_RESTYPE = _NullRestype()


def ffi_type_of(tp):
    """How a type is passed to or returned from C (CPython's _ctypes_get_ffi_type):
    its own ffi type; arrays as pointers; non-ctypes types as C int."""
    info = stginfo(tp)
    if info is None:
        return _FFI_SINT
    if issubclass(tp, families.Array):
        return _FFI_POINTER
    return info.ffi_type or _FFI_SINT


def _read_int(address):
    return raw.load("i", address)


def _read_none(address):
    return None


def result_plan(restype):
    """(ffi type, address -> Python value) for a restype, as CPython's GetResult:
    None -> None; a simple type -> its value (py_object takes over the returned
    reference); other ctypes types -> an instance holding a copy; a plain
    callable -> called with the C int result; then restype._check_retval_."""
    if restype is NULL_RESTYPE:
        return _FFI_SINT, _read_int
    if restype is None:
        return _FFI_VOID, _read_none
    info = stginfo(restype)
    if info is None:
        return _FFI_SINT, lambda address: restype(raw.load("i", address))
    if info.getfunc is not None and not is_simple_subclass(restype):
        read = raw.take_object if info.code == "O" else info.getfunc
    else:
        def read(address):
            return make_view(restype, address, None, 0)
    checker = getattr(restype, "_check_retval_", None)
    if checker is not None:
        plain_read = read

        def read(address):
            return checker(plain_read(address))
    return ffi_type_of(restype), read


class _ResultBuffer(raw.CData):
    """Scratch memory for a result of at most 16 bytes (libffi writes at least
    a full ffi_arg)."""
    __slots__ = ()
    _rawffi_size_ = 16


_big_result_types = {}


def result_buffer(size):
    if size <= 16:
        return _ResultBuffer()
    tp = _big_result_types.get(size)
    if tp is None:
        tp = _big_result_types[size] = type("_ResultBuffer%d" % size, (raw.CData,),
                                            {"__slots__": (), "_rawffi_size_": size})
    return tp()


# ---------------------------------------------------------------- the call (_ctypes_callproc)

class CallPlan:
    """What a call of one function needs, decided when argtypes/restype are set:
    the converters, how the result is read, the call flags, the call interface
    prepared for the declared argument types, and (unless PURE) the same as a
    native raw.CallPlan, which the function pointer executes itself."""

    __slots__ = ("converters", "rtype", "read_result", "flags", "native")

    def __init__(self, converters, argtypes, restype, funcflags):
        self.converters = converters
        self.rtype, self.read_result = result_plan(restype)
        self.flags = call_flags(funcflags)
        cif = self._prepare(argtypes) if argtypes is not None else None
        self.native = None
        if not PURE:
            self.native = native_plan(self, converters, argtypes, restype, funcflags, cif)

    def _prepare(self, argtypes):
        """Prepare the cif of the declared signature now, when every argtype
        is a ctypes type (what its from_param gives is passed as that type)."""
        try:
            if all(stginfo(tp) is not None for tp in argtypes):
                return call_interface(self.rtype, tuple(ffi_type_of(tp) for tp in argtypes))
        except (TypeError, ValueError, RuntimeError):
            pass        # the call reports it
        return None


# ---------------------------------------------------------------- the native plan

# The from_param functions whose checks the native call path repeats for the
# exact types they accept (any other value still goes through from_param).
_FROM_PARAM_KINDS = {
    PyCSimpleType.from_param: "simple",
    _c_char_p_from_param: "char_p",
    _c_wchar_p_from_param: "wchar_p",
    _c_void_p_from_param: "void_p",
    _CDataMeta.from_param: "instance",
    PyCPointerType.from_param: "pointer",
}


def is_swapped(info):
    """A simple type of the other byte order (its format starts with '>')."""
    return info.format is not None and info.format[:1] == ">"


def _arg_spec(tp, converter):
    """How the native call converts an argument declared as tp, whose
    from_param is converter: (kind, converter, tp, ffi type, code or target)."""
    kind = None
    if getattr(converter, "__self__", None) is tp:
        kind = _FROM_PARAM_KINDS.get(getattr(converter, "__func__", None))
    info = stginfo(tp)
    try:
        ffi = ffi_type_of(tp)
    except Exception:
        ffi, kind = _FFI_SINT, None
    extra = None
    if info is None:
        kind = None
    elif kind == "simple":
        extra = info.code
    elif kind == "instance":
        if issubclass(tp, families.Array):
            kind = "array"
        elif info.ffi_type is None:
            kind = None
    elif kind == "pointer":
        extra = info.proto
        if not isinstance(extra, type) or issubclass(tp, extra):
            kind = None     # (an instance of tp would also be one of its target)
    return (kind or "generic", converter, tp, ffi, extra)


def _result_spec(restype, read_result):
    """How the native call makes the result: (kind, restype or reader, code,
    size, checker), as result_plan decides it."""
    if restype is NULL_RESTYPE:
        return ("int", None, None, 0, None)
    if restype is None:
        return ("void", None, None, 0, None)
    info = stginfo(restype)
    if info is None:
        return ("call", restype, None, 0, None)
    checker = getattr(restype, "_check_retval_", None)
    if info.getfunc is not None and not is_simple_subclass(restype):
        if info.code == "O":
            return ("object", None, "O", 0, checker)
        if info.code != "v" and not is_swapped(info):
            return ("simple", None, info.code, 0, checker)
        return ("python", read_result, None, 0, None)
    return ("instance", restype, None, info.size, checker)


def native_plan(plan, converters, argtypes, restype, funcflags, cif):
    """The raw.CallPlan of a CallPlan, or None when the native core cannot
    execute this signature (the Python level then calls)."""
    argspecs = None
    if converters is not None:
        argspecs = tuple(_arg_spec(tp, conv) for tp, conv in zip(tuple(argtypes), converters))
        if len(argspecs) != len(converters):
            return None
    extra_args = bool(funcflags & FUNCFLAG_CDECL)
    for result in (_result_spec(restype, plan.read_result),
                   ("python", plan.read_result, None, 0, None)):
        try:
            return raw.CallPlan(argspecs, result, plan.rtype, cif, plan.flags, extra_args)
        except (TypeError, ValueError):
            continue
    return None


def callproc(address, args, plan):
    """Convert args, call the function at address, convert the result."""
    argcount = len(args)
    if argcount > CTYPES_MAX_ARGCOUNT:
        raise ArgumentError("too many arguments (%d), maximum is %d"
                            % (argcount, CTYPES_MAX_ARGCOUNT))
    converters = plan.converters
    ffi_types, addresses, keeps = convert_args(args, converters)
    nconv = len(converters) if converters is not None else 0
    # More arguments than argtypes: a variadic call (ffi_prep_cif_var).
    nfixed = nconv if 0 < nconv < argcount else -1
    cif = call_interface(plan.rtype, tuple(ffi_types), nfixed)
    result = result_buffer(plan.rtype.size)
    cif.call(address, addresses, result._b_address_, plan.flags)
    # The keep-alives live until here: a char * result may point into an argument.
    value = plan.read_result(result._b_address_)
    del keeps
    return value


# ---------------------------------------------------------------- callbacks (callbacks.c)

class CThunkObject:
    """A callback's native closure and what it needs (CPython's CThunkObject);
    kept in the callback function pointer's _objects."""

    __slots__ = ("closure", "callable", "argtypes", "restype", "__weakref__")

    @property
    def address(self):
        return self.closure.address


CThunkObject.__module__ = "_ctypes"


def _argument_reader(tp):
    """address -> Python object for one callback argument: the value for
    fundamental simple types, else a new instance holding a copy."""
    info = stginfo(tp)
    if info is None:
        def fail(address):
            raise TypeError("cannot build parameter")
        return fail
    if info.getfunc is not None and not is_simple_subclass(tp):
        return info.getfunc
    size = info.size

    def make(address):
        obj = tp()
        if not is_cdata(obj):
            raise TypeError("unexpected result of create argument")
        raw.memmove(obj._b_address_, address, size)
        return obj
    return make


def _print_error(exc):
    """CPython's PrintError for a failed argument conversion: its message line
    is never written (PyFile_WriteString refuses while an error is set), and
    PyErr_Print shows the exception with the Python frames it went through."""
    tb = _without_own_frames(exc.__traceback__)
    exc.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    sys.excepthook(type(exc), exc, tb)


def _callback_argspec(tp, read):
    """How the native closure makes one argument: ("load", code, swapped) for
    fundamental simple types; for others a new instance holding a copy:
    ("new", tp, size) when making one runs no Python code (a pointer type with
    a target, a structure or union, with their family's own __new__ and
    __init__, which without arguments only allocate), else ("instance", tp,
    size), which calls tp(); else ("reader", read)."""
    from .structure import Structure, Union
    info = stginfo(tp)
    if info is not None and info.getfunc is not None and not is_simple_subclass(tp):
        if info.code != "v":
            return ("load", info.code, is_swapped(info))
    elif info is not None and info.size <= ffi_type_of(tp).size:
        family = (_Pointer if isinstance(tp, PyCPointerType) and info.proto is not None
                  else next((f for f in (Structure, Union) if issubclass(tp, f)), None))
        if family is not None and tp.__new__ is family.__new__ and tp.__init__ is family.__init__:
            return ("new", tp, info.size)
        return ("instance", tp, info.size)
    return ("reader", read)


# Result codes the native closure stores itself for exact ints and floats.
_FAST_RESULT_CODES = frozenset("bBhHiIlLqQfdg?")


def make_callback(callable, argtypes, restype, funcflags):
    """A CThunkObject calling ``callable`` with the arguments converted by
    argtypes, its result stored by restype's setfunc (_ctypes_alloc_callback)."""
    argtypes = tuple(argtypes)
    rcode = None
    if restype is None:
        setfunc = None
        rtype = _FFI_VOID
        is_pyobject = False
    else:
        info = stginfo(restype)
        if info is None or info.setfunc is None:
            raise TypeError("invalid result type for callback function")
        setfunc = info.setfunc
        rtype = info.ffi_type
        is_pyobject = info.code == "O"
        if info.code in _FAST_RESULT_CODES and not is_swapped(info):
            rcode = info.code
    cif = raw.CallInterface(rtype, [ffi_type_of(tp) for tp in argtypes])
    readers = [_argument_reader(tp) for tp in argtypes]
    pointer_size = raw.sizeof_code("P")

    def store_result(presult, result):
        try:
            keep = setfunc(presult, result)
        except BaseException as exc:
            exc.__traceback__ = _caller_traceback()     # raised "in C": no frames of its own
            write_unraisable(exc, "on converting result of ctypes callback function", callable)
            return
        if is_pyobject:
            raw.Py_INCREF(result)   # the C caller owns the returned reference
        elif keep is not None:
            # What the result points into (the bytes of a char * result...) must
            # outlive the callback: it is leaked, as CPython does, with a warning.
            raw.Py_INCREF(keep)
            try:
                warnings.warn("memory leak in callback function.", RuntimeWarning,
                              stacklevel=_caller_stacklevel())
            except BaseException as exc:
                write_unraisable(exc, "on converting result of ctypes callback function",
                                 callable)

    def on_error(stage, exc):
        if stage == "argument":
            _print_error(exc)
        else:
            _strip_own_frame(exc)
            write_unraisable(exc, "on calling ctypes callback function", callable)

    def invoke(pargs, presult):
        arglist = []
        for i, read in enumerate(readers):
            try:
                arglist.append(read(raw.load("P", pargs + i * pointer_size)))
            except BaseException as exc:
                on_error("argument", exc)
                return
        try:
            result = callable(*arglist)
        except BaseException as exc:
            on_error("call", exc)
            return
        if setfunc is not None:
            store_result(presult, result)

    flags = raw.CALL_USE_ERRNO if funcflags & FUNCFLAG_USE_ERRNO else 0
    thunk = CThunkObject()
    if PURE:
        thunk.closure = raw.Closure(cif, invoke, flags)
    else:
        argspecs = tuple(_callback_argspec(tp, read) for tp, read in zip(argtypes, readers))
        plan = (argspecs, rcode, store_result if setfunc is not None else None, on_error)
        thunk.closure = raw.Closure(cif, callable, flags, plan)
    thunk.callable = callable
    thunk.argtypes = argtypes
    thunk.restype = restype
    return thunk


_PACKAGE_DIR = os.path.dirname(__file__)


def _without_own_frames(tb):
    """A traceback without its leading pyctypes frames: what CPython's would
    hold for an exception that went through its C code."""
    while tb is not None and os.path.dirname(tb.tb_frame.f_code.co_filename) == _PACKAGE_DIR:
        tb = tb.tb_next
    return tb


def _strip_own_frame(exc):
    """Start the traceback at the callback itself, as CPython's does."""
    exc.__traceback__ = _without_own_frames(exc.__traceback__)


def _caller_traceback():
    """A traceback of the innermost frame outside pyctypes, where CPython's
    PyErr_WriteUnraisable places an error raised in C (None if no such frame)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame = frame.f_back
    if frame is None:
        return None
    return types.TracebackType(None, frame, frame.f_lasti, frame.f_lineno)


def _caller_stacklevel():
    """The stacklevel of the first frame outside pyctypes (where CPython's C
    code would attribute a warning)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame = frame.f_back
        level += 1
    return level if frame is not None else 1


# ---------------------------------------------------------------- sys.unraisablehook

_hook_args_type = None


def _unraisable_hook_args_type():
    """The struct sequence type sys.unraisablehook receives (not exposed by
    the sys module): found once by letting an unraisable exception happen."""
    global _hook_args_type
    if _hook_args_type is None:
        caught = []
        saved = sys.unraisablehook
        sys.unraisablehook = caught.append
        try:
            class _Probe:
                def __del__(self):
                    raise RuntimeError
            _Probe()
        finally:
            sys.unraisablehook = saved
        _hook_args_type = type(caught[0])
    return _hook_args_type


def write_unraisable(exc, message, obj):
    """Report exc through sys.unraisablehook as CPython's
    _PyErr_WriteUnraisableMsg(message, obj) does."""
    args = _unraisable_hook_args_type()(
        (type(exc), exc, exc.__traceback__, "Exception ignored " + message, obj))
    hook = sys.unraisablehook
    try:
        if hook is None:
            raise RuntimeError("lost sys.unraisablehook")
        hook(args)
    except BaseException as hook_exc:
        sys.__unraisablehook__(_unraisable_hook_args_type()(
            (type(hook_exc), hook_exc, hook_exc.__traceback__,
             "Exception ignored in sys.unraisablehook", hook)))
