"""How a call argument is passed: the vocabulary of the rules that decide it.

Every foreign call converts each argument in two steps, as CPython's ctypes
does: the argtype's ``from_param`` (if the function has argtypes), then
ConvParam, which says how the result reaches C.  Here both steps are *rules*
that return a decision instead of doing the work:

- a family's from_param rule (``rule(cls, value)``, in primitive, pointer and
  basics) returns a ``Param``: pass NULL, store the value by a type code,
  pass an instance's address, a CArgObject's value, an instance's stored
  pointer, or the object "as is" (then ConvParam decides);
- ``conversion.conv_param`` (ConvParam) returns the final ``raw.ArgDecision``: one of the
  native core's Pass actions, the object it applies to, and whether the same
  action holds for every value of that exact type (``cacheable``).

The public ``from_param`` methods turn a Param into what CPython's return
(``materialize``); a call turns it into an ArgDecision (conversion.decide),
which the native call path executes and remembers per call site, asking again
only for a value of a type it has not seen.  Under PYCTYPES_PURE=1
conversion.perform executes the same decisions in Python.  So a breakpoint in
any rule fires for the first value of each type in both modes.
"""

from ._native import raw

Pass = raw.Pass
ArgDecision = raw.ArgDecision
AS_IS = "as is"         # a Param's `how` that only from_param rules use: ConvParam decides

_FFI_POINTER = raw.FFIType.for_code("P")


class Param:
    """What a from_param rule decided for one value.

    how        a Pass action, or AS_IS
    obj        the object passed (the value, or what was made of it)
    detail     STORE: the type code; MEMORY: the FFIType
    tag        the tag of the CArgObject from_param returns (STORE, MEMORY)
    cacheable  the decision depends only on the value's exact type
    converted  STORE: None, or the CArgObject the rule already stored obj in
               (a store runs the value's own __index__/__float__: once)
    """

    __slots__ = ("how", "obj", "detail", "tag", "cacheable", "converted")

    def __init__(self, how, obj, detail=None, tag=None, cacheable=True, converted=None):
        self.how = how
        self.obj = obj
        self.detail = detail
        self.tag = tag
        self.cacheable = cacheable
        self.converted = converted

    def __repr__(self):
        return "Param(%s, %r, %r)" % (getattr(self.how, "name", self.how), self.obj, self.detail)


def null():
    return Param(Pass.NULL, None)


def store(code, value, tag=None, cacheable=True, converted=None):
    """Store value by the row of type code `code` (the setfunc's checks passed);
    converted: the CArgObject holding it stored already, if the rule stored it."""
    return Param(Pass.STORE, value, code, tag or code, cacheable, converted)


def as_is(value, cacheable=True):
    return Param(AS_IS, value, cacheable=cacheable)


def reference(value, cacheable=True):
    """byref(value): its address."""
    return Param(Pass.ADDRESS, value, cacheable=cacheable)


def carg(value, cacheable=True):
    return Param(Pass.CARG, value, cacheable=cacheable)


def stored_pointer(value, tag, cacheable=True):
    """The pointer stored in the instance's memory (a function pointer, a c_char_p)."""
    return Param(Pass.MEMORY, value, _FFI_POINTER, tag, cacheable)


def uncached(param):
    """The same decision, made from something other than the value's type."""
    param.cacheable = False
    return param


# ---------------------------------------------------------------- from_param

def materialize(param):
    """What from_param returns for a Param (CPython's objects: None, a
    CArgObject, the object itself)."""
    how = param.how
    if how is AS_IS or how == Pass.CARG:
        return param.obj
    if how == Pass.NULL:
        return None
    if how == Pass.ADDRESS:
        return raw.byref(param.obj)
    if how == Pass.STORE:
        if param.converted is not None:
            return param.converted
        code = param.detail
        arg = raw.CArgObject(param.tag, raw.FFIType.for_code(code), None)
        arg._obj = raw.store(code, arg._address, param.obj)
        return arg
    if how == Pass.MEMORY:      # a stored pointer, copied into the CArgObject
        arg = raw.CArgObject(param.tag, _FFI_POINTER, param.obj)
        raw.store("P", arg._address, raw.load("P", param.obj._b_address_))
        return arg
    raise ValueError("a from_param rule decided %r" % (param,))


def from_param_of(rule):
    """The public from_param of a family: its rule, materialized.  The rule
    stays reachable as ``param_rule`` (rule_for_site uses it for calls)."""
    def from_param(cls, value):
        return materialize(rule(cls, value))
    from_param.param_rule = rule
    from_param.__name__ = from_param.__qualname__ = "from_param"
    from_param.__doc__ = rule.__doc__
    return from_param


