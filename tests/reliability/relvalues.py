"""Hostile values for the property tests, as plain data ("specs") that
`build(spec, ct)` turns into a Python object for one ctypes implementation:
hypothesis generates and shrinks specs, each side builds its own objects (a
c_int of CPython's ctypes must not reach pyctypes)."""

from hypothesis import strategies as st

SIMPLE_NAMES = ["c_bool", "c_byte", "c_ubyte", "c_short", "c_ushort", "c_int", "c_uint",
                "c_long", "c_ulong", "c_longlong", "c_ulonglong", "c_size_t", "c_ssize_t",
                "c_int8", "c_uint8", "c_int16", "c_uint16", "c_int32", "c_uint32", "c_int64",
                "c_uint64", "c_float", "c_double", "c_longdouble", "c_char", "c_wchar",
                "c_char_p", "c_wchar_p", "c_void_p", "py_object"]
# types whose instances hold an address: their bytes differ between the two sides
ADDRESS_TYPES = {"c_char_p", "c_wchar_p", "c_void_p", "py_object"}
NUMBER_NAMES = [n for n in SIMPLE_NAMES if n not in ADDRESS_TYPES | {"c_char", "c_wchar"}]
INT_NAMES = [n for n in NUMBER_NAMES if n not in ("c_float", "c_double", "c_longdouble")]


def boundary_ints():
    """Integers near every C integer boundary, and some far beyond."""
    edges = [0, 1, -1]
    for bits in (7, 8, 15, 16, 31, 32, 63, 64, 100, 128, 1000):
        for base in (2 ** bits, -(2 ** bits)):
            edges += [base - 1, base, base + 1]
    return st.one_of(st.sampled_from(edges), st.integers())


class Index:
    """An object with __index__ (accepted where an integer is)."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class IntOnly:
    """__int__ but no __index__ (refused by ctypes since 3.10 for integers)."""

    def __init__(self, value):
        self.value = value

    def __int__(self):
        return self.value


class FloatOnly:
    def __init__(self, value):
        self.value = value

    def __float__(self):
        return self.value


class Raising:
    """Every conversion raises (an error inside a conversion must propagate)."""

    def __index__(self):
        raise ValueError("__index__ raised")

    def __int__(self):
        raise ValueError("__int__ raised")

    def __float__(self):
        raise ValueError("__float__ raised")

    def __len__(self):
        raise ValueError("__len__ raised")

    def __iter__(self):
        raise ValueError("__iter__ raised")


class BadIndex:
    """__index__ returning something else than an int."""

    def __index__(self):
        return "not an int"


class StrSub(str):
    pass


class BytesSub(bytes):
    pass


class IntSub(int):
    pass


def scalar_specs():
    """Specs of plain Python values (no ctypes objects)."""
    return st.one_of(
        st.tuples(st.just("int"), boundary_ints()),
        st.tuples(st.just("float"), st.floats()),
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("none")),
        st.tuples(st.just("str"), st.text(max_size=6)),
        st.tuples(st.just("str"), st.sampled_from(["\ud800", "\x00", "a\x00b", "\U0001f600",
                                                    "é"])),
        st.tuples(st.just("bytes"), st.binary(max_size=6)),
        st.tuples(st.just("bytearray"), st.binary(max_size=4)),
        st.tuples(st.just("complex"), st.complex_numbers(allow_nan=False, max_magnitude=1e6)),
        st.tuples(st.just("list"), st.lists(st.integers(-3, 3), max_size=3)),
        st.tuples(st.just("tuple"), st.lists(st.integers(-3, 3), max_size=3)),
        st.tuples(st.just("index"), boundary_ints()),
        st.tuples(st.just("intonly"), st.integers(-5, 5)),
        st.tuples(st.just("floatonly"), st.floats(-10, 10)),
        st.tuples(st.just("raising")),
        st.tuples(st.just("badindex")),
        st.tuples(st.just("strsub"), st.text(max_size=3)),
        st.tuples(st.just("bytessub"), st.binary(max_size=3)),
        st.tuples(st.just("intsub"), boundary_ints()),
        st.tuples(st.just("object")),
        st.tuples(st.just("type")),
    )


def value_specs():
    """Specs of any value: plain ones, and ctypes instances of one side."""
    cdata = st.one_of(
        st.tuples(st.just("cdata"), st.sampled_from(INT_NAMES), st.integers(-200, 200)),
        st.tuples(st.just("cdata"), st.sampled_from(["c_float", "c_double"]),
                  st.floats(-1e6, 1e6)),
        st.tuples(st.just("cdata"), st.just("c_char"), st.binary(min_size=1, max_size=1)),
        st.tuples(st.just("cdata"), st.just("c_wchar"), st.characters(codec="utf-8")),
        st.tuples(st.just("cdata"), st.just("c_char_p"), st.binary(max_size=4)),
        st.tuples(st.just("cdata"), st.just("c_wchar_p"), st.text(max_size=4)),
        st.tuples(st.just("cdata"), st.just("c_void_p"), st.just(None)),
        st.tuples(st.just("array"), st.sampled_from(["c_int", "c_char", "c_wchar", "c_byte"]),
                  st.integers(0, 4)),
        st.tuples(st.just("pointer"), st.sampled_from(["c_int", "c_char", "c_double"])),
        st.tuples(st.just("nullpointer"), st.sampled_from(["c_int", "c_char"])),
        st.tuples(st.just("byref"), st.sampled_from(["c_int", "c_char", "c_double"])),
        st.tuples(st.just("buffer"), st.integers(0, 6)),
        st.tuples(st.just("ctype"), st.sampled_from(SIMPLE_NAMES)),
    )
    return st.one_of(scalar_specs(), cdata)


def build(spec, ct):
    kind = spec[0]
    arg = spec[1] if len(spec) > 1 else None
    if kind in ("int", "float", "bool", "str", "bytes", "complex"):
        return arg
    simple = {
        "none": lambda: None,
        "bytearray": lambda: bytearray(arg),
        "list": lambda: list(arg),
        "tuple": lambda: tuple(arg),
        "index": lambda: Index(arg),
        "intonly": lambda: IntOnly(arg),
        "floatonly": lambda: FloatOnly(arg),
        "raising": Raising,
        "badindex": BadIndex,
        "strsub": lambda: StrSub(arg),
        "bytessub": lambda: BytesSub(arg),
        "intsub": lambda: IntSub(arg),
        "object": object,
        "type": lambda: int,
        "cdata": lambda: getattr(ct, arg)(spec[2]),
        "array": lambda: (getattr(ct, arg) * spec[2])(),
        "pointer": lambda: ct.pointer(getattr(ct, arg)()),
        "nullpointer": lambda: ct.POINTER(getattr(ct, arg))(),
        "byref": lambda: ct.byref(getattr(ct, arg)()),
        "buffer": lambda: ct.create_string_buffer(arg),
        "ctype": lambda: getattr(ct, arg),
    }
    return simple[kind]()

