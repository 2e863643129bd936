"""Type caches and ``__class__`` assignment under generated types, side by side
with CPython's _ctypes (issue 18).

- caches: POINTER, pointer(), CFUNCTYPE and ``T * n`` of generated types give
  the same identities and names as CPython while the types are used, and, once
  dropped, every type made is collected (CPython 3.11 keeps them all through
  its strong caches: a deliberate difference, docs/differences.md);
- ``obj.__class__ = Other`` between generated types, on owned, resized and
  view instances: CPython's outcome, except where CPython accepts a type that
  needs more memory than the object has, or that reads py_object references
  where the old type keeps none: pyctypes refuses those with TypeError (docs/differences.md),
  which ``expect=`` states from the test's own model of the memory.
"""

import gc
import weakref

from hypothesis import given, strategies as st

import ctypes as C
from pyctypes import ctypes as P

from reldiff import check, guarded, normalise, outcome, rel_settings

SCALARS = ["c_byte", "c_char", "c_bool", "c_short", "c_int", "c_long", "c_double",
           "c_float", "c_longdouble"]


def type_specs(depth=1):
    scalar = st.sampled_from(SCALARS + ["py_object"])
    if depth == 0:
        return scalar
    inner = type_specs(depth - 1)
    return st.one_of(
        scalar,
        st.tuples(st.just("array"), inner, st.integers(0, 4)),
        st.tuples(st.just("struct"), st.lists(inner, min_size=1, max_size=3)),
        st.tuples(st.just("union"), st.lists(inner, min_size=1, max_size=2)),
        st.tuples(st.just("sub"), st.sampled_from(SCALARS)),
        st.tuples(st.just("pointer"), st.sampled_from(SCALARS)),
    )


def build(spec, ct, cache):
    """The type of a spec, made once per side and case (a spec names one type)."""
    key = repr(spec)
    if key in cache:
        return cache[key]
    if isinstance(spec, str):
        tp = getattr(ct, spec)
    elif spec[0] == "array":
        tp = build(spec[1], ct, cache) * spec[2]
    elif spec[0] in ("struct", "union"):
        base = ct.Structure if spec[0] == "struct" else ct.Union
        tp = type("R", (base,), {"_fields_": [("f%d" % i, build(s, ct, cache))
                                              for i, s in enumerate(spec[1])]})
    elif spec[0] == "sub":
        tp = type("Sub", (getattr(ct, spec[1]),), {})
    else:
        tp = ct.POINTER(getattr(ct, spec[1]))
    cache[key] = tp
    return tp


def object_offsets(spec, base=0):
    """Where a spec's memory holds py_object references (the test's own model)."""
    if spec == "py_object":
        return {base}
    if isinstance(spec, str) or spec[0] in ("sub", "pointer"):
        return set()
    if spec[0] == "array":
        size = C.sizeof(build(spec[1], C, {}))
        return {o + i * size for i in range(spec[2]) for o in object_offsets(spec[1], base)}
    tp = build(spec, C, {})
    return set().union(*[object_offsets(s, base + getattr(tp, "f%d" % i).offset)
                         for i, s in enumerate(spec[1])])


def has_address(spec):
    return "py_object" in repr(spec) or "pointer" in repr(spec)


# ---------------------------------------------------------------- caches

@guarded
@rel_settings()
@given(spec=type_specs(), lengths=st.lists(st.integers(0, 3), max_size=2),
       restype_first=st.booleans())
def test_type_caches(spec, lengths, restype_first):
    def derived(ct, tp):
        lp = ct.POINTER(tp)
        arrays = [tp * n for n in lengths]
        fn = ct.CFUNCTYPE(tp if restype_first else None, lp, *arrays) if not \
            isinstance(tp, type(ct.Array)) or not restype_first else ct.CFUNCTYPE(lp, tp)
        return lp, arrays, fn

    def op(ct):
        tp = build(spec, ct, {})
        lp, arrays, fn = derived(ct, tp)
        again = derived(ct, tp)
        return (lp.__name__, [a.__name__ for a in arrays], lp is again[0],
                [a is b for a, b in zip(arrays, again[1])], fn is again[2],
                ct._pointer_type_cache[tp] is lp, type(ct.pointer(tp())) is lp,
                fn._argtypes_[0] is lp)
    check(op)

    # dropped, everything made from a new type is collected (CPython 3.11
    # keeps it); the new type is a structure holding the generated one (which
    # may be shared: c_int, POINTER(c_byte) held by ctypes.wintypes...)
    def made():
        root = type("Root", (P.Structure,), {"_fields_": [("x", build(spec, P, {}))]})
        lp, arrays, fn = derived(P, root)
        P.pointer(root())
        return [weakref.ref(t) for t in [root, lp, fn] + arrays]
    refs = made()
    for _ in range(3):
        gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, alive


# ---------------------------------------------------------------- __class__ assignment

@guarded
@rel_settings()
@given(old=type_specs(), new=type_specs(),
       how=st.sampled_from(["owned", "resized", "view"]), extra=st.integers(1, 24))
def test_class_assignment(old, new, how, extra):
    def make(ct):
        cache = {}
        old_tp, new_tp = build(old, ct, cache), build(new, ct, cache)
        if how == "view" and not isinstance(old_tp, type(ct._SimpleCData)):
            holder = (old_tp * 2)()
            return holder[1], old_tp, new_tp, holder
        obj = old_tp()
        if how == "resized":
            ct.resize(obj, ct.sizeof(old_tp) + extra)
        return obj, old_tp, new_tp, None

    def op(ct):
        obj, old_tp, new_tp, holder = make(ct)
        result = outcome(lambda ct: setattr(obj, "__class__", new_tp), ct)
        # what both can read: the bytes within the old type's memory
        n = min(ct.sizeof(old_tp), ct.sizeof(type(obj)))
        data = None if has_address(old) or has_address(new) else \
            ct.string_at(ct.addressof(obj), n)
        return result[:2], type(obj) is new_tp, data

    c_out = outcome(op, C)
    expect = None
    if c_out[0] == "ok" and c_out[1][1][0] == normalise(("ok", None)):     # CPython accepts
        _, old_tp, new_tp, _ = make(C)
        block = C.sizeof(old_tp) + (extra if how == "resized" else 0)
        if C.sizeof(new_tp) > block or not object_offsets(new) <= object_offsets(old):
            data = None if has_address(old) or has_address(new) else bytes(C.sizeof(old_tp))
            expect = ("ok", normalise((("raise", "TypeError"), False, data)))
    check(op, expect=expect)
