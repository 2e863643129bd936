"""The boundary between the two levels: the one module that turns the Python
level's plans into the native core's.

The family modules describe what ctypes does (StgInfo, conversion.CallPlan,
the from_param rules of params); they never import this module.  When the
package is loaded without PYCTYPES_PURE, ``install()`` sets ``basics.planner``
to a NativePlanner, and each family hands it the plans it makes:

- ``call_plan``: a function's raw.CallPlan: one decision rule per declared
  argument (the native call asks it for each new type of value and remembers
  the answer), the result as a raw.ResultPlan, the prepared cif and flags;
- ``closure``: a callback's raw.Closure with its native argument plan.

Under PURE nothing here runs: ``basics.planner`` stays None and the Python
level executes its plans itself.
"""

from ._native import bind_native, raw
from . import basics
from .array import Array, _array_cache
from .basics import DICTFLAG_FINAL, is_simple_subclass, stginfo
from .conversion import NULL_RESTYPE, decide_extra_argument, ffi_type_of, is_swapped, refuse_call
from .pointer import _Pointer, _check_instantiable
from .primitive import _SimpleCData
from .structure import CField, Structure, Union

ResultKind = raw.ResultKind
ArgKind = raw.ClosureArgKind


def _result_plan(plan, restype):
    """How the native call makes the result (CPython's GetResult), as
    conversion.result_plan decides it for the restype."""
    if restype is NULL_RESTYPE:
        return raw.ResultPlan((ResultKind.INT, None, None, 0, None))
    if restype is None:
        return raw.ResultPlan((ResultKind.VOID, None, None, 0, None))
    info = stginfo(restype)
    if info is None:
        return raw.ResultPlan((ResultKind.CALL, restype, None, 0, None))
    checker = getattr(restype, "_check_retval_", None)
    if info.getfunc is not None and not is_simple_subclass(restype):
        if info.code == "O":
            return raw.ResultPlan((ResultKind.OBJECT, None, "O", 0, checker))
        if info.code != "v" and not is_swapped(info):
            return raw.ResultPlan((ResultKind.SIMPLE, None, info.code, 0, checker))
    elif info.size <= max(plan.rtype.size, raw.sizeof_code("L")):
        return raw.ResultPlan((ResultKind.INSTANCE, restype, None, info.size, checker))
    # byte-swapped values, VARIANT_BOOL, arrays larger than the pointer they
    # are returned as: the Python reader (its checker included)
    return raw.ResultPlan((ResultKind.PYTHON, plan.read_result, None, 0, None))


def _callback_arg(tp, read):
    """How the native closure makes one argument (raw.ClosureArg): LOAD the
    value of fundamental simple types; for others a new instance holding a
    copy: NEW when making one runs no Python code (a pointer type with a
    target, a structure or union, with their family's own __new__ and
    __init__, which without arguments only allocate), else INSTANCE, which
    calls tp(); else READER, the Python level's reader(address)."""
    info = stginfo(tp)
    if info is not None and info.getfunc is not None and not is_simple_subclass(tp):
        if info.code != "v":
            return raw.ClosureArg((ArgKind.LOAD, None, info.code, 0, is_swapped(info)))
    elif info is not None and info.size <= ffi_type_of(tp).size:
        family = (_Pointer if info.kind == "pointer" and info.proto is not None
                  else next((f for f in (Structure, Union) if issubclass(tp, f)), None))
        if family is not None and tp.__new__ is family.__new__ and tp.__init__ is family.__init__:
            return raw.ClosureArg((ArgKind.NEW, tp, None, info.size, False))
        return raw.ClosureArg((ArgKind.INSTANCE, tp, None, info.size, False))
    return raw.ClosureArg((ArgKind.READER, read, None, 0, False))


def _type_plan(tp, info):
    """The raw.TypePlan of a ctypes type, from its StgInfo."""
    kind = info.kind
    options = {}
    if kind == "simple":
        if is_simple_subclass(tp):
            kind = "simple_subclass"
        options = {"code": info.code, "swapped": bool(info.extra)}
    elif kind == "array":
        options = {"item": info.proto, "itemsize": info.extra.itemsize}
    elif kind == "pointer":
        options = {"item": info.proto}
    elif kind in ("struct", "union"):
        init = info.extra.init_names if info.extra is not None else None
        options = {"final": bool(info.flags & DICTFLAG_FINAL), "init": init}
    elif kind != "funcptr":
        kind = "other"
    return raw.TypePlan(tp, raw.TypeKind[kind.upper()], info.size, info.align, info.length,
                        info.flags, **options)


class NativePlanner:
    """Makes the native plans of the Python level's plans."""

    def type_changed(self, tp, info):
        """tp has a new StgInfo: its new TypePlan (``_rawffi_plan_``, read by
        the native slots); instances made with the old one stop using it."""
        old = tp.__dict__.get("_rawffi_plan_")
        type.__setattr__(tp, "_rawffi_plan_", _type_plan(tp, info))
        if old is not None:
            old.retire()

    def call_plan(self, plan, restype):
        """The raw.CallPlan of a conversion.CallPlan for restype."""
        return raw.CallPlan(plan.rules, decide_extra_argument, refuse_call,
                            _result_plan(plan, restype), plan.rtype, plan.cif, plan.flags,
                            plan.extra_args)

    def function_type_made(self, cls):
        """Calls of cls's instances run natively (vectorcall), unless cls has
        its own __call__."""
        raw.enable_vectorcall(cls)

    def field_made(self, field, proto, offset, size, index):
        """An ordinary field: its native __get__/__set__ read and write through
        proto's plan."""
        field.plan(proto, offset, size, index)

    def rules_changed(self):
        """What a rule decided from has changed: every call site forgets."""
        raw.forget_decisions()

    def closure(self, cif, callable, flags, argtypes, readers, result_code, store_result,
                on_error, invoke):
        """A callback's closure, converting its arguments natively (while calls
        are diverted, for tracing, it runs the Python level's invoke)."""
        args = tuple(_callback_arg(tp, read) for tp, read in zip(argtypes, readers))
        return raw.Closure(cif, callable, flags,
                           raw.ClosurePlan((args, result_code, store_result, on_error, invoke)))


def _bind_slots():
    """The native slots of the family classes take over what they do natively
    (each Python method they replace becomes the fallback they call for the
    rest: slices, unusual values...)."""
    bind_native(basics.array_of_owner, raw.CDataType, "__mul__", "__rmul__")  # T * n from the cache
    raw.set_array_cache(_array_cache)
    bind_native(_SimpleCData, raw.SimpleBase, "__init__", "value")
    bind_native(Array, raw.ArrayBase, "__init__", "__getitem__", "__setitem__", "__delitem__",
                "__iter__")
    # pointer __new__: native when the type's plan has a target; otherwise the
    # native slot asks _check_instantiable (which raises without one)
    raw.set_fallback(raw.PointerBase, "__new__", _check_instantiable)
    raw.bind_new(_Pointer, raw.PointerBase)
    bind_native(_Pointer, raw.PointerBase, "__init__", "__getitem__", "__setitem__",
                "__delitem__", "contents")
    bind_native(CField, raw.Field, "__get__", "__set__", "__delete__")
    # final structure types are made natively, positional values stored natively
    bind_native(Structure, raw.StructBase, "__new__", "__init__")
    bind_native(Union, raw.StructBase, "__new__", "__init__")


def install():
    """Let the families hand their plans to the native core from now on."""
    _bind_slots()
    # the family classes the native value/contents descriptors check instances against
    raw.bind_classes(SimpleCData=_SimpleCData, Pointer=_Pointer)
    basics.planner = NativePlanner()
