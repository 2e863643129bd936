"""Layouts ctypes finds hard (bit-fields, unions, packing, alignment, arrays,
anonymous and nested members) from a header written here, checked against C
byte for byte: C stores a distinct value in every field and the configured
ctypes class must read exactly those values from C's bytes, and write exactly
C's bytes.  Run with the stdlib's ctypes and with pyctypes' side-by-side copy
(the classes are then built by pyctypes' Structure)."""

import ctypes

import pytest

from pyctypes import configure
from pyctypes.configure import ExternalCompilationInfo
from cfg_helpers import ctypes_image_bits, image_bits

HEADER = r"""
#include <stdint.h>
struct bits {            /* bit-fields sharing units with plain members */
    char a;
    int b : 4;
    unsigned c : 3;
    signed char d : 2;
    unsigned long long e : 40;
    int arr[3];
    short tail;
    _Bool flag : 1;
    unsigned : 0;        /* unnamed zero-width: starts a new unit */
    unsigned after : 5;
};
struct packed_s { char c; int i; short s; double d; } __attribute__((packed));
struct __attribute__((packed, aligned(4))) packed_aligned { char c; int i; };
struct packed_bits { char c; unsigned x : 12; unsigned y : 20; } __attribute__((packed));
union u { int i; double d; char bytes[12]; };
struct anon {
    int kind;
    union { int ival; double dval; };
    struct { short x, y; };
    unsigned flag : 1;
};
struct matrix { char tag; int m[2][3]; long double ld; };
struct nest { char c; struct bits b; union u uu; struct matrix mx; };
struct over_aligned { char c; } __attribute__((aligned(16)));
struct wide { char c; unsigned long long x : 60; unsigned y : 3; int64_t z : 33; };
struct bools_enums { _Bool b; enum { LOW = -1, HIGH = 1 } e; enum { U1, U2 } ue; char ch; };
"""

I = ctypes.c_int

# name: (C type, [(field, hint[, bits])], {field: C value expression})
CASES = {
    "bits": ("struct bits", [("a", ctypes.c_char), ("b", I, 4), ("c", I), ("d", I),
                             ("e", I), ("arr", I * 0), ("tail", I), ("flag", I),
                             ("after", I)],
             {"a": "'A'", "b": "-3", "c": "5", "d": "-2", "e": "0x123456789aULL",
              "tail": "-1234", "flag": "1", "after": "17"}),
    "packed_s": ("struct packed_s", [("c", I), ("i", I), ("s", I), ("d", ctypes.c_float)],
                 {"c": "7", "i": "-100000", "s": "-3", "d": "2.5"}),
    "packed_aligned": ("struct packed_aligned", [("c", I), ("i", I)], {"c": "1", "i": "0x01020304"}),
    "packed_bits": ("struct packed_bits", [("c", I), ("x", I), ("y", I)],
                    {"c": "9", "x": "0xabc", "y": "0xfedcb"}),
    "anon": ("struct anon", [("kind", I), ("ival", I), ("dval", I), ("x", I), ("y", I),
                             ("flag", I)],
             {"kind": "3", "dval": "0.5", "x": "-7", "y": "8", "flag": "1"}),
    "matrix": ("struct matrix", [("tag", I), ("m", I), ("ld", ctypes.c_double)],
               {"tag": "2", "m[1][2]": "42", "m[0][0]": "-1", "ld": "1.25L"}),
    "over_aligned": ("struct over_aligned", [("c", I)], {"c": "5"}),
    "wide": ("struct wide", [("c", I), ("x", I), ("y", I), ("z", I)],
             {"c": "1", "x": "0xfffffffffffffffULL", "y": "6", "z": "-4000000000LL"}),
    "bools_enums": ("struct bools_enums", [("b", I), ("e", ctypes.c_uint), ("ue", I),
                                           ("ch", ctypes.c_char)],
                    {"b": "1", "e": "LOW", "ue": "U2", "ch": "'z'"}),
}

PY_VALUES = {           # what the fields read after C stored the values above
    "bits": {"a": b"A", "b": -3, "c": 5, "d": -2, "e": 0x123456789a, "tail": -1234,
             "flag": 1, "after": 17},
    "packed_s": {"c": 7, "i": -100000, "s": -3, "d": 2.5},
    "packed_aligned": {"c": 1, "i": 0x01020304},
    "packed_bits": {"c": 9, "x": 0xabc, "y": 0xfedcb},
    "anon": {"kind": 3, "dval": 0.5, "x": -7, "y": 8, "flag": 1},
    "matrix": {"tag": 2, "ld": 1.25},
    "over_aligned": {"c": 5},
    "wide": {"c": 1, "x": 0xfffffffffffffff, "y": 6, "z": -4000000000},
    "bools_enums": {"b": True, "e": -1, "ue": 1, "ch": b"z"},
}


@pytest.fixture(scope="module")
def header_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hdr")
    (d / "tricky.h").write_text(HEADER)
    return d


@pytest.fixture(scope="module", params=["stdlib", "pyctypes"])
def ct(request):
    if request.param == "stdlib":
        return ctypes
    try:
        from pyctypes import ctypes as side_by_side
    except Exception as exc:          # the native core is not built
        pytest.skip(f"pyctypes' ctypes cannot be loaded: {exc}")
    return side_by_side


@pytest.fixture(scope="module")
def answers(header_dir, ct):
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["tricky.h"],
                                                     include_dirs=[str(header_dir)])
        u = configure.Union("union u", [("i", I), ("d", I), ("bytes", ctypes.c_char * 0)])
    for name, (cname, fields, _) in CASES.items():
        setattr(CConfig, name, configure.Struct(cname, fields))
    CConfig.nest = configure.Struct("struct nest", [
        ("c", I), ("b", CConfig.bits), ("uu", CConfig.u), ("mx", CConfig.matrix)])
    return configure.configure(CConfig, ctypes_module=ct)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout_against_c(name, answers, header_dir, cprog, ct):
    cname, fields, _ = CASES[name]
    cls = answers[name]
    plain = {f[0] for f in fields}
    bitnames = {"b", "c", "d", "e", "flag", "after", "x", "y", "z"} & plain \
        if name in ("bits", "packed_bits", "wide") else ({"flag"} if name == "anon" else set())
    kinds = {f: ("bits" if f in bitnames else "other") for f in plain}
    truth = cprog.layout('#include "tricky.h"', cname, kinds, include_dirs=[header_dir])
    assert ct.sizeof(cls) == truth["size"]
    assert ct.alignment(cls) == truth["align"]
    for f in plain:
        c = truth["fields"][f]
        if f in bitnames:
            expect = image_bits(bytes.fromhex(c["image"]))
            assert ctypes_image_bits(ct, cls, f) == expect, f
            inst = cls()
            setattr(inst, f, -1)
            assert (getattr(inst, f) < 0) == bool(c["signed"]), f
        else:
            assert getattr(cls, f).offset == c["offset"], f
            assert getattr(cls, f).size == c["size"], f


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_byte_for_byte(name, answers, header_dir, cprog, ct):
    cname, _, values = CASES[name]
    cls = answers[name]
    stores = " ".join(f"s.{f} = {v};" for f, v in values.items())
    image = cprog.image('#include "tricky.h"', cname, stores, include_dirs=[header_dir])
    assert len(image) == ct.sizeof(cls)
    obj = cls.from_buffer_copy(image)
    for f, expect in PY_VALUES[name].items():
        assert getattr(obj, f) == expect, f
    if name == "matrix":
        assert obj.m[1][2] == 42 and obj.m[0][0] == -1
    # and ctypes writes the same bytes as C
    mine = cls()
    for f, v in PY_VALUES[name].items():
        setattr(mine, f, v)
    if name == "matrix":
        mine.m[1][2], mine.m[0][0] = 42, -1
    got = ct.string_at(ct.addressof(mine), ct.sizeof(cls))
    if name == "anon":      # C stored dval after ival: compare the bytes C defined
        assert got == image
    elif name == "matrix":  # long double: 6 bytes of x87 padding are unspecified
        assert got[:32] == image[:32]
    else:
        assert got == image


def test_nested_members(answers, header_dir, cprog, ct):
    nest = answers["nest"]
    fields = dict(nest._fields_)
    assert fields["b"] is answers["bits"]
    assert fields["uu"] is answers["u"]
    assert fields["mx"] is answers["matrix"]
    truth = cprog.layout('#include "tricky.h"', "struct nest",
                         {"c": "other", "b": "other", "uu": "other", "mx": "other"},
                         include_dirs=[header_dir])
    assert ct.sizeof(nest) == truth["size"]
    assert ct.alignment(nest) == truth["align"]
    for f in ("b", "uu", "mx"):
        assert getattr(nest, f).offset == truth["fields"][f]["offset"]


def test_types_chosen(answers, ct):
    m = dict(answers["matrix"]._fields_)
    assert m["m"] is ct.c_int * 3 * 2
    assert m["ld"] is ct.c_longdouble
    be = dict(answers["bools_enums"]._fields_)
    assert be["b"] is ct.c_bool
    assert be["e"] is ct.c_int          # enum with a negative value: signed
    assert be["ue"] is ct.c_uint        # GCC makes this enum unsigned
    assert be["ch"] is ct.c_char
    u = answers["u"]
    assert issubclass(u, ct.Union) and dict(u._fields_)["d"] is ct.c_double
    assert ct.alignment(answers["over_aligned"]) == 16
    assert ct.sizeof(answers["over_aligned"]) == 16
