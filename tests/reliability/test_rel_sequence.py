"""Arrays and pointers under hostile indices, slices and values, and array
types of absurd lengths, side by side with CPython's _ctypes.  A failed
store leaves the array as it was."""

import operator
import sys

from hypothesis import given, strategies as st

from reldiff import check, guarded, rel_settings
from relvalues import Index, boundary_ints, build, value_specs

ARRAY_ITEMS = ["c_int", "c_char", "c_wchar", "c_double", "c_ubyte", "c_bool", "c_longlong",
               "struct", "int_pair"]


def item_type(name, ct):
    if name == "struct":
        return type("Pt", (ct.Structure,), {"_fields_": [("x", ct.c_int), ("y", ct.c_short)]})
    if name == "int_pair":
        return ct.c_int * 2
    return getattr(ct, name)


def index_specs():
    small = st.integers(-8, 8)
    return st.one_of(
        st.tuples(st.just("int"), small), st.tuples(st.just("int"), boundary_ints()),
        st.tuples(st.just("index"), small),
        st.tuples(st.just("slice"), st.one_of(st.none(), small, boundary_ints()),
                  st.one_of(st.none(), small, boundary_ints()),
                  st.one_of(st.none(), st.integers(-4, 4), boundary_ints())),
        st.tuples(st.just("slice_index"), small, small, st.sampled_from([1, -1, 2])),
        st.tuples(st.just("other"), st.sampled_from(["1", 1.0, None, b"\x01", (1,), [0],
                                                     slice("a", None), slice(0, 2, 0.5)])),
    )


def build_index(spec):
    kind = spec[0]
    if kind == "int":
        return spec[1]
    if kind == "index":
        return Index(spec[1])
    if kind == "slice":
        return slice(*spec[1:])
    if kind == "slice_index":
        return slice(Index(spec[1]), Index(spec[2]), Index(spec[3]))
    return spec[1]


def observe_item(value):
    """Items are compared by value; records and arrays by their bytes."""
    if isinstance(value, list):
        return [observe_item(v) for v in value]
    if hasattr(value, "_fields_") or hasattr(value, "_length_"):
        return ("record", bytes(value))
    return value


def make_array(ct, item, length):
    arr = (item_type(item, ct) * length)()
    raw = (ct.c_ubyte * ct.sizeof(arr)).from_buffer(arr)
    for i in range(len(raw)):                       # a pattern that shows moved items
        raw[i] = (i * 7 + 1) % 128
    if item == "c_wchar":
        # valid code points, but every third item (2, 5) is not a character:
        # slices that leave it out must not decode it (FINDINGS.md, F2)
        for i in range(len(raw)):
            raw[i] = raw[i] if i % 4 == 0 or (i // 4) % 3 == 2 else 0
    return arr


@guarded
@rel_settings()
@given(item=st.sampled_from(ARRAY_ITEMS), length=st.integers(0, 6), index=index_specs())
def test_array_get(item, length, index):
    def op(ct):
        return observe_item(make_array(ct, item, length)[build_index(index)])
    check(op)


@guarded
@rel_settings()
@given(item=st.sampled_from(ARRAY_ITEMS), length=st.integers(0, 6), index=index_specs(),
       values=st.one_of(value_specs(), st.lists(value_specs(), max_size=7),
                        st.tuples(st.just("ints"), st.integers(0, 8)),
                        st.tuples(st.just("bytes_n"), st.integers(0, 8)),
                        st.tuples(st.just("str_n"), st.integers(0, 8))))
def test_array_set(item, length, index, values):
    def op(ct):
        arr = make_array(ct, item, length)
        before = bytes(arr)
        if isinstance(values, list):
            value = [build(v, ct) for v in values]
        elif values[0] == "ints":
            value = list(range(values[1]))
        elif values[0] == "bytes_n":
            value = b"x" * values[1]
        elif values[0] == "str_n":
            value = "y" * values[1]
        else:
            value = build(values, ct)
        try:
            arr[build_index(index)] = value
        except Exception:
            assert bytes(arr) == before, "a failed array store changed the array"
            raise
        return bytes(arr)
    check(op)


@guarded
@rel_settings()
@given(item=st.sampled_from(ARRAY_ITEMS), length=st.integers(0, 4), index=index_specs())
def test_array_delete_and_protocols(item, length, index):
    """del, len, iteration, `in`, bool, and the value/raw of char arrays."""
    def op(ct):
        arr = make_array(ct, item, length)
        out = [len(arr), bool(arr), [observe_item(v) for v in arr]]
        for attr in ("value", "raw"):
            try:
                out.append(getattr(arr, attr))
            except AttributeError as exc:
                out.append(type(exc).__name__)
        del arr[build_index(index)]
        return out
    check(op)


@guarded
@rel_settings()
@given(item=st.sampled_from(["c_int", "c_char", "c_double", "struct"]),
       length=st.one_of(boundary_ints(), st.sampled_from([sys.maxsize, sys.maxsize // 2,
                                                          2 ** 61, 2 ** 62, 2 ** 63 - 1,
                                                          -1, 2 ** 47 + 1])),
       as_index=st.booleans(), instantiate=st.booleans(), nested=st.integers(0, 2))
def test_absurd_array_lengths(item, length, as_index, instantiate, nested):
    """Types whose size overflows (size * length), negative and huge lengths;
    instances only of sizes no allocator can give (at least 2**47 bytes)."""
    def op(ct):
        cls = item_type(item, ct)
        n = Index(length) if as_index else length
        cls = cls * n
        for _ in range(nested):
            cls = cls * 3
        out = [ct.sizeof(cls), cls._length_]
        if instantiate and ct.sizeof(cls) >= 2 ** 47:
            cls()
        return out
    check(op)


def touches_wild_memory(key, low=-2, high=2):
    """Whether ptr[key] would reach items outside low..high (when both
    implementations accept the key, as far as the test can tell)."""
    def as_int(k):
        try:
            return None if k is None else operator.index(k)
        except Exception:                   # noqa: BLE001 - refused by both: not wild
            return "bad"
    if not isinstance(key, slice):
        k = as_int(key)
        return isinstance(k, int) and not low <= k <= high
    start, stop, step = (as_int(k) for k in (key.start, key.stop, key.step))
    if "bad" in (start, stop, step) or stop is None or step == 0:
        return False
    step = 1 if step is None else step
    if start is None:
        if step < 0:
            return False
        start = 0
    # CPython's item count: (stop - start -+ 1) / step + 1 in C, so that
    # start == stop with |step| > 1 still reads the item at start
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        return False
    last = start + step * int((stop - start + (-1 if step > 0 else 1)) / step)
    return not (low <= start <= high and low <= last <= high)


def slice_count(key):
    """How many items CPython 3.11 reads for ptr[key] (C arithmetic), or None
    when it refuses the key."""
    try:
        start, stop, step = (None if k is None else operator.index(k)
                             for k in (key.start, key.stop, key.step))
    except Exception:                       # noqa: BLE001
        return None
    step = 1 if step is None else step
    if stop is None or step == 0 or (start is None and step < 0):
        return None
    start = 0 if start is None else start
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        return 0
    return int((stop - start + (-1 if step > 0 else 1)) / step) + 1


@guarded
@rel_settings()
@given(item=st.sampled_from(["c_int", "c_char", "c_double", "struct"]), index=index_specs(),
       value=st.one_of(st.none(), value_specs()))
def test_pointer_index(item, index, value):
    """A pointer to the middle of a 5-item array: indices from -2 to 2 are
    valid memory; slices need a stop, step 0 is refused.  Items further away
    are wild memory for both, so the index is clamped by the test."""
    def op(ct):
        arr = make_array(ct, item, 5)
        itype = item_type(item, ct)
        ptr = ct.cast(ct.byref(arr, 2 * ct.sizeof(itype)), ct.POINTER(itype))
        key = build_index(index)
        if touches_wild_memory(key):
            return "wild"
        if value is None:
            return observe_item(ptr[key])
        before = bytes(arr)
        try:
            ptr[key] = build(value, ct)
        except Exception:
            assert bytes(arr) == before, "a failed pointer store changed the memory"
            raise
        return bytes(arr)
    check(op)


@guarded
@rel_settings()
@given(item=st.sampled_from(["c_int", "c_char", "c_double", "struct"]), index=index_specs(),
       target=value_specs(), op_kind=st.sampled_from(["get", "set", "contents", "setcontents"]))
def test_null_pointer_and_contents(item, index, target, op_kind):
    """NULL pointers refuse access; .contents accepts only instances of the
    target type."""
    def op(ct):
        itype = item_type(item, ct)
        ptr = ct.POINTER(itype)()
        if touches_wild_memory(build_index(index), -8, 8):
            return "huge: CPython allocates the list before it looks at the pointer"
        if op_kind == "get":
            return observe_item(ptr[build_index(index)])
        if op_kind == "set":
            ptr[build_index(index)] = build(target, ct)
            return None
        if op_kind == "contents":
            return observe_item(ptr.contents)
        obj = build(target, ct)
        ptr.contents = obj
        return type(ptr.contents).__name__, ct.addressof(ptr.contents) == ct.addressof(obj)
    key = build_index(index)
    if op_kind == "get" and isinstance(key, slice) and slice_count(key) and \
            not touches_wild_memory(key, -8, 8):
        # CPython 3.11 slices a NULL char pointer into uninitialised bytes
        # (step 1) or reads address 0 (a crash), and returns a list with an
        # error set for other items; pyctypes raises (FINDINGS.md, D2)
        check(op, expect=("raise", "ValueError", "NULL pointer access"))
    else:
        check(op, cpython_crashes="ValueError" if isinstance(key, slice) else None)


@guarded
@rel_settings()
@given(target=st.one_of(value_specs(), st.sampled_from([("ctype", "c_int")])),
       arg=st.one_of(st.none(), value_specs()))
def test_pointer_type_and_pointer_function(target, arg):
    """POINTER(x) of anything, pointer(x) of anything, the pointer type's
    constructor with anything."""
    def op(ct):
        out = []
        tp = ct.POINTER(build(target, ct)) if target[0] != "ctype" else \
            ct.POINTER(getattr(ct, target[1]))
        out.append(tp.__name__)
        if arg is not None:
            obj = tp(build(arg, ct))
            out.append(bool(obj))
        return out
    check(op)


@guarded
@rel_settings()
@given(arg=value_specs())
def test_pointer_function(arg):
    def op(ct):
        p = ct.pointer(build(arg, ct))
        contents = p.contents
        if type(contents).__name__ in ("c_int", "c_char", "c_double"):
            return type(p).__name__, contents.value
        return type(p).__name__, type(contents).__name__       # may hold an address
    check(op)
