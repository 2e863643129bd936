"""check_layout: compare a hand-written ctypes Structure or Union with the C type.

    report = check_layout(timeval, "struct timeval", eci)
    print(report)            # every mismatch, one per line
    check_layout(timeval, "struct timeval", eci, strict=True)   # raises LayoutMismatch

Compared: size, alignment, and for every field (nested Structure fields and
anonymous members followed): offset, size, kind (integer, float, pointer,
struct, array ...), signedness, bit position and width of bit-fields, array
length and element type; fields present on one side only.  One probe compile
answers it all, through the configure cache.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field

from .core import probe_entries
from .eci import ExternalCompilationInfo
from .errors import ConfigureError, LayoutMismatch
from .items import Struct, Union
from .members import c_members
from .typebuild import (KIND_CHAR, Desc, bits_from_image, category_of, is_array,
                        is_record, is_signed)

_OPAQUE_CODES = set("bBc")        # byte arrays stand for any C type of their size


@dataclass
class Mismatch:
    field: str | None        # None: the type itself
    what: str                # size, alignment, offset, kind, signedness, bits, missing ...
    python: object
    c: object

    def __str__(self):
        where = self.field if self.field is not None else "(type)"
        if self.what == "missing in C":
            return f"{where}: in Python ({self.python}) but not a member of the C type"
        if self.what == "missing in Python":
            return f"{where}: C member ({self.c}) missing in Python"
        return f"{where}: {self.what} Python {self.python}, C {self.c}"


@dataclass
class LayoutReport:
    """The result of check_layout; true when the layouts agree."""
    pyname: str
    cname: str
    mismatches: list = field(default_factory=list)
    notes: list = field(default_factory=list)      # e.g. reserved C members covered by padding
    c_size: int = 0
    c_align: int = 0

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __bool__(self):
        return self.ok

    def __str__(self):
        head = f"check_layout({self.pyname}, {self.cname!r}): "
        if self.ok:
            lines = [head + f"OK (size {self.c_size}, alignment {self.c_align})"]
        else:
            n = len(self.mismatches)
            lines = [head + f"{n} mismatch{'es' if n != 1 else ''}"]
            lines += [f"  {m}" for m in self.mismatches]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass
class _PyField:
    path: str
    offset: int
    tp: object
    bits: tuple | None = None        # (lo, width) in allocation order
    signed: bool | None = None
    padding: bool = False


def _ctypes_of(cls, ctypes_module):
    candidates = []
    if ctypes_module is not None:
        candidates.append(importlib.import_module(ctypes_module)
                          if isinstance(ctypes_module, str) else ctypes_module)
    for name, mod in list(sys.modules.items()):
        if name == "ctypes" or name.endswith(".ctypes"):
            candidates.append(mod)
    for mod in candidates:
        try:
            if issubclass(cls, (mod.Structure, mod.Union)):
                return mod
        except (AttributeError, TypeError):
            continue
    raise TypeError(f"check_layout: {cls!r} is not a ctypes Structure or Union")


def _python_fields(ct, cls, big_endian):
    """Every field of cls, nested Structures and anonymous members followed."""
    out: list[_PyField] = []
    size = ct.sizeof(cls)

    def walk(owner, prefix, base, getter):
        anonymous = set(getattr(owner, "_anonymous_", ()))
        for spec in owner._fields_:
            name, tp = spec[0], spec[1]
            desc = getattr(owner, name)
            offset = base + desc.offset
            if name in anonymous and is_record(ct, tp):
                walk(tp, prefix, offset, getter)
                continue
            path = prefix + name
            if len(spec) == 3:
                inst = cls()
                target = getter(inst)
                setattr(target, name, -1)
                image = ct.string_at(ct.addressof(inst), size)
                lo, width = bits_from_image(image, big_endian)
                signed = getattr(target, name) < 0
                out.append(_PyField(path, offset, tp, (lo, width), signed))
                continue
            out.append(_PyField(path, offset, tp, padding=name.startswith("_")))
            if is_record(ct, tp) and not prefix.count(".") > 6:
                walk(tp, path + ".", offset,
                     lambda inst, _g=getter, _n=name: getattr(_g(inst), _n))

    walk(cls, "", 0, lambda inst: inst)
    return out


def check_layout(cls, cname: str, eci: ExternalCompilationInfo | None = None,
                 strict: bool = False, *, ctypes_module=None, cache=None, cc=None,
                 cflags=None) -> LayoutReport:
    """Compare the ctypes type `cls` with the C type `cname` of the headers in
    `eci`; returns a LayoutReport (raises LayoutMismatch with it if strict)."""
    from . import compiler as _cc
    eci = eci or ExternalCompilationInfo()
    ct = _ctypes_of(cls, ctypes_module)
    big_endian = sys.byteorder == "big"
    pyfields = _python_fields(ct, cls, big_endian)
    compiler = _cc.find_compiler(cc, cflags)
    cnames = c_members(eci, cname, compiler, cache=cache)
    py_paths = [f.path for f in pyfields]
    wanted = list(dict.fromkeys(py_paths + cnames))
    is_union = issubclass(cls, ct.Union)
    kind = Union if is_union else Struct
    bitnames = [f.path for f in pyfields if f.bits is not None]
    entry = kind(cname, [(p, None, 1) for p in bitnames],
                 optional_fields=[p for p in wanted if p not in bitnames])
    entry.optional |= set(bitnames)
    outcome = probe_entries(eci, [("layout", entry)], cache=cache, cc_command=cc,
                            cflags=cflags)
    if "layout" in outcome.failures:
        raise outcome.failures["layout"]
    raw = outcome.raw["layout"]
    if not raw["s"]["v"][0]:
        raise ConfigureError(f"check_layout: {cname!r} is not defined", cname=cname)
    c_size, c_align = raw["s"]["v"][1], raw["s"]["v"][2]
    state = raw["state"]
    c_fields = {}
    for j, (fname, _h, _w) in enumerate(entry.fields):
        if f"b{j}" in raw:
            image = bytes.fromhex(raw[f"b{j}"]["p"])
            c_fields[fname] = ("bits", bits_from_image(image, raw["s"]["be"]),
                               bool(raw.get(f"rt:b{j}", 0)))
        elif f"f{j}" in raw:
            values = raw[f"f{j}"]["v"]
            c_fields[fname] = ("field", values[0], Desc.from_values(values[1:]))
        elif f"x{j}" in raw:                # flexible array member
            values = raw[f"x{j}"]["v"]
            c_fields[fname] = ("field", values[0],
                               Desc.flexible(Desc.from_values(values[1:])))
    del state

    report = LayoutReport(getattr(cls, "__name__", repr(cls)), cname,
                          c_size=c_size, c_align=c_align)
    add = report.mismatches.append
    if ct.sizeof(cls) != c_size:
        add(Mismatch(None, "size", ct.sizeof(cls), c_size))
    if ct.alignment(cls) != c_align:
        add(Mismatch(None, "alignment", ct.alignment(cls), c_align))

    covered = bytearray(c_size)            # bytes of C members (not reserved ones)
    for fname, info in c_fields.items():
        if "." in fname or fname.startswith("__"):
            continue
        if info[0] == "field":
            start, end = info[1], info[1] + info[2].size
        else:
            start, end = info[1][0] // 8, (info[1][0] + info[1][1] + 7) // 8
        for i in range(start, min(end, c_size)):
            covered[i] = 1

    for pf in pyfields:
        info = c_fields.get(pf.path)
        if info is None:
            if pf.padding and _only_padding(ct, pf, covered):
                continue
            add(Mismatch(pf.path, "missing in C",
                         f"offset {pf.offset}, size {ct.sizeof(pf.tp)}", None))
            continue
        if pf.bits is not None or info[0] == "bits":
            _compare_bits(ct, pf, info, add)
            continue
        _, c_offset, desc = info
        if pf.offset != c_offset:
            add(Mismatch(pf.path, "offset", pf.offset, c_offset))
        _compare_type(ct, pf.path, pf.tp, desc, add)

    py_set = set(py_paths)
    for fname in cnames:
        if fname in py_set or fname not in c_fields:
            continue
        info = c_fields[fname]
        if info[0] == "bits":
            where = f"bits {info[1][0]}..{info[1][0] + info[1][1] - 1}"
            start, size = info[1][0] // 8, 0
        else:
            where = f"offset {info[1]}, size {info[2].size}"
            start, size = info[1], info[2].size
        if fname.startswith("__") and size and _covered_by_padding(ct, pyfields, start, size):
            report.notes.append(f"C member {fname} ({where}) is covered by Python padding")
            continue
        add(Mismatch(fname, "missing in Python", None, where))
    if strict and not report.ok:
        raise LayoutMismatch(report)
    return report


def _only_padding(ct, pf, covered) -> bool:
    start, end = pf.offset, pf.offset + ct.sizeof(pf.tp)
    return all(not covered[i] for i in range(start, min(end, len(covered))))


def _covered_by_padding(ct, pyfields, start, size) -> bool:
    for pf in pyfields:
        if pf.padding and pf.offset <= start and start + size <= pf.offset + ct.sizeof(pf.tp):
            return True
    return False


def _compare_bits(ct, pf, info, add):
    if info[0] != "bits":
        add(Mismatch(pf.path, "bit-field", f"{pf.bits[1]} bits", "not a bit-field"))
        return
    _, (lo, width), signed = info
    if pf.bits is None:
        add(Mismatch(pf.path, "bit-field", "not a bit-field", f"{width} bits"))
        return
    if pf.bits[1] != width:
        add(Mismatch(pf.path, "bit width", pf.bits[1], width))
    if pf.bits[0] != lo:
        add(Mismatch(pf.path, "bit position", _bitpos(pf.bits[0]), _bitpos(lo)))
    if pf.signed != signed:
        add(Mismatch(pf.path, "signedness", _sign(pf.signed), _sign(signed)))


def _bitpos(lo):
    return f"byte {lo // 8} bit {lo % 8}"


def _sign(flag):
    return "signed" if flag else "unsigned"


def _compare_type(ct, path, tp, desc: Desc, add):
    py_size = ct.sizeof(tp)
    if py_size != desc.size:
        add(Mismatch(path, "size", py_size, desc.size))
    py_kind = category_of(ct, tp)
    c_kind = desc.category
    if is_array(ct, tp) and getattr(tp._type_, "_type_", None) in _OPAQUE_CODES \
            and not desc.isarr:
        return                     # bytes standing for a C object of that size
    if py_kind == "bool":
        py_kind = "integer" if c_kind == "integer" else py_kind
    if c_kind == "bool" and py_kind == "integer":
        c_kind = "integer"
    if py_kind != c_kind:
        add(Mismatch(path, "kind", py_kind, c_kind))
        return
    if c_kind == "integer":
        py_signed = is_signed(ct, tp)
        # plain C char: either c_byte or c_ubyte is a fair choice
        if py_signed is not None and desc.kind != KIND_CHAR and py_signed != desc.signed:
            add(Mismatch(path, "signedness", _sign(py_signed), _sign(desc.signed)))
    elif c_kind == "float":
        pass                       # the size tells float, double and long double apart
    elif c_kind == "array":
        n = desc.size // desc.elem.size if desc.elem.size else 0
        if tp._length_ != n:
            add(Mismatch(path, "array length", tp._length_, n))
        _compare_type(ct, path + "[]", tp._type_, desc.elem, add)
