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

from ._native import raw
from . import basics, tracing, versions
from .basics import (ArgumentError, CArgObject, _ArgBuffer, is_cdata,
                     is_simple_subclass, make_view, stginfo)
from .params import AS_IS, ArgDecision, Pass

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


def is_swapped(info):
    """A simple type of the other byte order (its format starts with '>')."""
    return info.format is not None and info.format[:1] == ">"


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


# ---------------------------------------------------------------- ConvParam

def conv_param(obj, index, cacheable=True):
    """CPython's ConvParam as a decision: ctypes instances by value (arrays by
    address), CArgObjects, None (NULL), int (as C int), bytes (char *), str
    (wchar_t *), else _as_parameter_."""
    if is_cdata(obj):
        info = stginfo(type(obj))
        if info is not None:
            if info.kind == "array":
                return ArgDecision((Pass.ADDRESS, obj, None, cacheable))
            if info.ffi_type is None:
                raise TypeError("cannot pass %s instances by value" % type(obj).__name__)
            return ArgDecision((Pass.MEMORY, obj, info.ffi_type, cacheable))
    if type(obj) is CArgObject:
        return ArgDecision((Pass.CARG, obj, None, cacheable))
    if obj is None:
        return ArgDecision((Pass.NULL, obj, None, cacheable))
    if isinstance(obj, int):
        # CPython reads the int as a long, else as an unsigned long, and passes
        # the low bits as a C int; only values outside both ranges are refused.
        if not -(1 << 63) <= obj < (1 << 64):
            raise OverflowError("int too long to convert")
        return ArgDecision((Pass.INT, obj, None, cacheable))
    if isinstance(obj, bytes):
        return ArgDecision((Pass.STORE, obj, "z", cacheable))
    if isinstance(obj, str):
        # ConvParam converts with PyUnicode_AsWideCharString(obj, NULL), which
        # refuses an embedded NUL (c_wchar_p and its from_param do not): that
        # depends on the value, so it is decided for each str.
        if str.find(obj, "\0") >= 0:
            raise ValueError("embedded null character")
        return ArgDecision((Pass.STORE, obj, "Z", False))
    as_parameter = getattr(obj, "_as_parameter_", _MISSING)
    if as_parameter is not _MISSING:
        return conv_param(as_parameter, index, False)
    raise TypeError("Don't know how to convert parameter %d" % index)


def decide(param, index):
    """The ArgDecision of a from_param rule's Param."""
    if param.how is AS_IS:
        return conv_param(param.obj, index, param.cacheable)
    return ArgDecision((param.how, param.obj, param.detail, param.cacheable, param.converted))


# ---------------------------------------------------------------- argument errors

def argument_error(index, exc):
    """ArgumentError "argument N: ExcClass: message" (_ctypes_extend_error)."""
    try:
        text = str(exc)
    except Exception:
        text = "???"
    return ArgumentError("argument %d: %s: %s" % (index, type(exc).__name__, text))


def _argument_rule(decide_value):
    """rule(value, index) -> ArgDecision: decide_value(value, index), a
    failure raised as ArgumentError naming the argument."""
    def decide_argument(value, index):
        error = None
        try:
            return decide_value(value, index)
        except Exception as exc:
            error = argument_error(index, exc)
        raise error
    return decide_argument


def rule_for_site(converter):
    """The decision rule of one declared argument, rule(value, index) ->
    ArgDecision: the family rule behind a from_param made by from_param_of,
    else a call of the converter (a from_param of the program's own), whose
    result ConvParam passes."""
    rule = getattr(getattr(converter, "__func__", None), "param_rule", None)
    if rule is not None and isinstance(getattr(converter, "__self__", None), type):
        # (the class is read from the bound method: the rule holds no new
        # reference to it, as CPython's converters hold none but the method)
        return _argument_rule(lambda value, index: decide(rule(converter.__self__, value), index))
    return _argument_rule(lambda value, index: conv_param(converter(value), index, False))


# The rule of an argument past the argtypes (or of any, without them): ConvParam alone.
decide_extra_argument = _argument_rule(conv_param)


# ---------------------------------------------------------------- PURE: performing a decision

def _cell(code, value):
    """An argument passed by value from its own 16-byte buffer."""
    cell = _ArgBuffer()
    keep = raw.store(code, cell._b_address_, value)
    return cell, keep


def perform(decision):
    """(ffi type, address of the value, keep-alive) of an ArgDecision: what the
    native call path does for it, in Python."""
    how, obj, detail = decision[:3]
    if decision.converted is not None:        # stored by the rule already
        return decision.converted._ffi_type, decision.converted._address, decision.converted
    if how == Pass.MEMORY:
        return detail, obj._b_address_, obj
    if how == Pass.CARG:
        return obj._ffi_type, obj._address, obj
    if how == Pass.NULL:
        cell, _ = _cell("P", None)
        return _FFI_POINTER, cell._b_address_, cell
    if how == Pass.ADDRESS:
        cell, _ = _cell("P", obj._b_address_)
        return _FFI_POINTER, cell._b_address_, (cell, obj)
    if how == Pass.INT:
        cell, _ = _cell("i", obj)
        return _FFI_SINT, cell._b_address_, cell
    if how == Pass.STORE:
        cell, keep = _cell(detail, obj)
        return raw.FFIType.for_code(detail), cell._b_address_, (cell, keep, obj)
    raise ValueError("unknown Pass action %r" % (how,))


def convert_args(args, rules):
    """Convert every argument by its rule (CPython's ConvParam after
    from_param), as the native call path does: (ffi types, addresses, keep-alives)."""
    ffi_types = []
    addresses = []
    keeps = []
    nrules = len(rules) if rules is not None else 0
    for i, arg in enumerate(args):
        rule = rules[i] if i < nrules else decide_extra_argument
        ffi_type, address, keep = perform(rule(arg, i + 1))
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
    if info.kind == "array":
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
    each declared argument's rule (from its converter), how the result is
    read, the call flags, and the call interface prepared for the declared
    argument types.  ``native`` is the same as a raw.CallPlan (made by the
    fastpath module unless PURE), which the function pointer executes itself."""

    __slots__ = ("rules", "rtype", "read_result", "flags", "extra_args", "cif", "native")

    def __init__(self, converters, argtypes, restype, funcflags):
        self.rules = None if converters is None else tuple(rule_for_site(c) for c in converters)
        self.rtype, self.read_result = result_plan(restype)
        self.flags = call_flags(funcflags)
        # cdecl functions take more arguments than argtypes (variadic)
        self.extra_args = bool(funcflags & FUNCFLAG_CDECL)
        self.cif = self._prepare(argtypes) if argtypes is not None else None
        self.native = None if basics.planner is None else basics.planner.call_plan(self, restype)

    def _prepare(self, argtypes):
        """Prepare the cif of the declared signature now, when every argtype
        is a ctypes type (what its from_param gives is passed as that type)."""
        try:
            if all(stginfo(tp) is not None for tp in argtypes):
                return call_interface(self.rtype, tuple(ffi_type_of(tp) for tp in argtypes))
        except (TypeError, ValueError, RuntimeError):
            pass        # the call reports it
        return None


def check_argcount(required, actual, cdecl):
    """cdecl functions take extra (variadic) arguments; others exactly argtypes."""
    plural = "" if required == 1 else "s"
    if cdecl:
        if required > actual:
            raise TypeError("this function takes at least %d argument%s (%d given)"
                            % (required, plural, actual))
    elif required != actual:
        raise TypeError("this function takes %d argument%s (%d given)"
                        % (required, plural, actual))


def refuse_call(nconv, extra_args, nargs, null_function):
    """Raise the error of a call refused before its arguments are converted,
    if any, in PyCFuncPtr_call's order: the argument count (nconv argtypes, -1
    without), a NULL function pointer, more than CTYPES_MAX_ARGCOUNT arguments."""
    if nconv >= 0:
        check_argcount(nconv, nargs, extra_args)
    if null_function:
        raise ValueError("NULL function pointer called")
    if nargs > CTYPES_MAX_ARGCOUNT:
        raise ArgumentError("too many arguments (%d), maximum is %d" % (nargs, CTYPES_MAX_ARGCOUNT))


def callproc(address, args, plan, who=None):
    """Convert args, call the function at address, convert the result (the
    caller has checked the call with refuse_call).  who, the function pointer,
    is what the crash report and the trace name; a tracer that is on
    (tracing.tracer) hears of each step."""
    trace = tracing.tracer
    traced = None if trace is None else trace.begin(who, address)
    try:
        rules = plan.rules
        ffi_types, addresses, keeps = convert_args(args, rules)
        nconv = len(rules) if rules is not None else 0
        # More arguments than argtypes: a variadic call (ffi_prep_cif_var).
        nfixed = nconv if 0 < nconv < len(args) else -1
        cif = call_interface(plan.rtype, tuple(ffi_types), nfixed)
        result = result_buffer(plan.rtype.size)
        if traced is not None:
            trace.converted(traced, ffi_types, addresses, args, plan.flags)
        cif.call(address, addresses, result._b_address_, plan.flags, who, args)
        if traced is not None:
            trace.called(traced)
        # The keep-alives live until here: a char * result may point into an argument.
        value = plan.read_result(result._b_address_)
    except BaseException as exc:
        if traced is not None:
            trace.failed(traced, exc)
        raise
    del keeps
    if traced is not None:
        trace.returned(traced, value)
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


# Result codes the native closure stores itself for exact ints and floats.
_FAST_RESULT_CODES = frozenset("bBhHiIlLqQfdg?")


def make_callback(callable, argtypes, restype, funcflags):
    """A CThunkObject calling ``callable`` with the arguments converted by
    argtypes, its result stored by restype's setfunc (_ctypes_alloc_callback)."""
    argtypes = tuple(argtypes)
    rcode = None
    own_instances = False
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
        # A deliberate difference: CPython (3.11-3.13) reports a TypeError for
        # an instance of a restype like `class MyInt(c_int)` and returns
        # garbage; its value is what the callback means to return.
        own_instances = is_simple_subclass(restype)
        result_size = info.size
    cif = raw.CallInterface(rtype, [ffi_type_of(tp) for tp in argtypes])
    readers = [_argument_reader(tp) for tp in argtypes]
    pointer_size = raw.sizeof_code("P")

    def store_result(presult, result):
        """Store the callable's result by restype's setfunc; True when the row
        of the result code alone stores every value of this exact type (the
        native closure then stores such values itself)."""
        if own_instances and isinstance(result, restype):
            raw.memmove(presult, result._b_address_, result_size)
            return False
        try:
            keep = setfunc(presult, result)
        except BaseException as exc:
            exc.__traceback__ = _caller_traceback()     # raised "in C": no frames of its own
            write_unraisable(exc, "on converting result of ctypes callback function", callable)
            return False
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
            return False
        return rcode is not None

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
        trace = tracing.tracer
        traced = None if trace is None else trace.callback_begin(callable, arglist)
        try:
            result = callable(*arglist)
        except BaseException as exc:
            if traced is not None:
                trace.callback_end(traced, exc=exc)
            on_error("call", exc)
            return
        if traced is not None:
            trace.callback_end(traced, result)
        if setfunc is not None:
            store_result(presult, result)

    flags = raw.CALL_USE_ERRNO if funcflags & FUNCFLAG_USE_ERRNO else 0
    thunk = CThunkObject()
    planner = basics.planner
    if planner is None:
        thunk.closure = raw.Closure(cif, invoke, flags)
    else:
        thunk.closure = planner.closure(cif, callable, flags, argtypes, readers, rcode,
                                        store_result if setfunc is not None else None, on_error,
                                        invoke)
    thunk.callable = callable
    thunk.argtypes = argtypes
    thunk.restype = restype
    return thunk


def _forget_foreign_thread():
    """A callback ran on a thread Python never saw, whose Python thread state
    ends when it returns: the threading.Thread standing for that thread (a
    _DummyThread, if the callback asked for the current thread) goes with it,
    as CPython 3.13 removes it (3.11 left it in threading._active for good)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    ident = threading.get_ident()
    with threading._active_limbo_lock:
        if isinstance(threading._active.get(ident), threading._DummyThread):
            del threading._active[ident]


raw.set_thread_end_hook(_forget_foreign_thread)


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
    _PyErr_WriteUnraisableMsg(message, obj) does (3.13: the message names obj,
    and the hook gets no object, as PyErr_FormatUnraisable)."""
    message = "Exception ignored " + message
    if versions.UNRAISABLE_MESSAGE_NAMES_OBJECT:
        message, obj = "%s %r" % (message, obj), None
    args = _unraisable_hook_args_type()((type(exc), exc, exc.__traceback__, message, obj))
    hook = sys.unraisablehook
    try:
        if hook is None:
            raise RuntimeError("lost sys.unraisablehook")
        hook(args)
    except BaseException as hook_exc:
        sys.__unraisablehook__(_unraisable_hook_args_type()(
            (type(hook_exc), hook_exc, hook_exc.__traceback__,
             "Exception ignored in sys.unraisablehook", hook)))
