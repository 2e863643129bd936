"""Simple types under hostile input, side by side with CPython's _ctypes:
constructors, .value stores (a failed store leaves the old value), from_param,
byte-order variants, and subclasses."""

from hypothesis import given, strategies as st

from reldiff import check, guarded, normalise, rel_settings
from relvalues import ADDRESS_TYPES, NUMBER_NAMES, SIMPLE_NAMES, build, value_specs


INT_KINDS = ("int", "bool", "intsub")


def observe(obj, ct, spec=None):
    """What can be compared of a simple instance: its value and its bytes.
    An instance holding an address gives the address when it was given as an
    integer (reading .value would dereference it), else its value."""
    cls = type(obj)
    while cls.__name__ not in SIMPLE_NAMES:
        cls = cls.__mro__[1]
    name = cls.__name__
    if name == "py_object":
        try:
            return ("object", normalise(obj.value))
        except ValueError as exc:           # NULL py_object
            return ("object", str(exc))
    if name in ADDRESS_TYPES:
        address = ct.cast(ct.pointer(obj), ct.POINTER(ct.c_void_p))[0]
        if name == "c_void_p" or address is None or (spec and spec[0] in INT_KINDS):
            return ("address", address)
        value = obj.value
        return ("value", value if isinstance(value, (str, bytes)) else type(value).__name__)
    data = bytes(memoryview(obj).cast("B"))
    if name == "c_longdouble":          # x87 80-bit value: the rest is padding
        data = data[:10]
    return ("value", obj.value, data)


@guarded
@rel_settings()
@given(name=st.sampled_from(SIMPLE_NAMES), spec=value_specs())
def test_constructor(name, spec):
    def op(ct):
        return observe(getattr(ct, name)(build(spec, ct)), ct, spec)
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(SIMPLE_NAMES), specs=st.lists(value_specs(), min_size=2, max_size=3),
       keyword=st.booleans())
def test_constructor_arity(name, specs, keyword):
    """Too many arguments, or value= given as a keyword."""
    def op(ct):
        values = [build(s, ct) for s in specs]
        if keyword:
            return observe(getattr(ct, name)(value=values[0]), ct, specs[0])
        return observe(getattr(ct, name)(*values), ct, specs[0])
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(SIMPLE_NAMES), first=value_specs(), spec=value_specs())
def test_value_store_keeps_old_value_on_error(name, first, spec):
    def op(ct):
        obj = getattr(ct, name)()
        try:
            obj.value = build(first, ct)
        except Exception:                   # noqa: BLE001 - compared below through obj
            first_spec = None
        else:
            first_spec = first
        before = observe(obj, ct, first_spec)
        try:
            obj.value = build(spec, ct)
        except Exception as exc:            # noqa: BLE001
            assert observe(obj, ct, first_spec) == before, "a failed store changed the value"
            raise exc
        return observe(obj, ct, spec)
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(SIMPLE_NAMES), spec=value_specs())
def test_from_param(name, spec):
    def op(ct):
        param = getattr(ct, name).from_param(build(spec, ct))
        # CArgObject, or the value itself, or an instance: compare kinds
        kind = type(param).__name__
        if kind == "CArgObject":
            return (kind, param._obj is not None)
        return kind
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(NUMBER_NAMES), order=st.sampled_from(["__ctype_be__", "__ctype_le__"]),
       spec=value_specs())
def test_byte_order_variants(name, order, spec):
    def op(ct):
        cls = getattr(getattr(ct, name), order, None)
        if cls is None and name == "c_bool":
            # c_bool is its own other-endian type on pyctypes (one byte has no
            # byte order; docs/differences.md), as c_char on both
            cls = ct.c_bool
        if cls is None:
            return None
        return observe(cls(build(spec, ct)), ct, spec)
    check(op)


@guarded
@rel_settings()
@given(name=st.sampled_from(NUMBER_NAMES + ["c_char", "c_wchar", "c_char_p", "c_wchar_p"]),
       spec=value_specs())
def test_subclass_constructor(name, spec):
    """A subclass of a simple type: .value of the instance, and the result of
    a subclass is not converted to a Python object (CPython's rule)."""
    def op(ct):
        sub = type("Sub", (getattr(ct, name),), {})
        obj = sub(build(spec, ct))
        return observe(obj, ct, spec), type(obj).__name__
    check(op)
