"""Building ctypes types from what the compiler said.

`resolve_type` turns the compiler's description of a C type (size, class,
signedness, array dimensions) plus the user's hint into a ctypes type: the hint
is kept when it agrees with C, replaced by the right ctypes type when it does not.

`build_record` makes a Structure or Union class with every known member at its
true offset: gaps become padding, bit-fields are grouped into storage units,
overlapping members (anonymous unions) become anonymous Union members, `_pack_`
is chosen when members are misaligned, and the C alignment is enforced with a
zero-length array of a type of that alignment.  The built class is then checked
against the C layout, bit by bit for bit-fields: a layout ctypes cannot express
raises LayoutError instead of silently differing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from .errors import LayoutError

CLS_INT = (1, 2, 3, 4)          # integer, char, enum, bool (GCC/clang type classes)
CLS_POINTER = 5
CLS_REAL = 8
CLS_COMPLEX = 9
CLS_RECORD = 12
CLS_UNION = 13

KIND_BOOL, KIND_CHAR, KIND_FLOAT, KIND_DOUBLE, KIND_LONGDOUBLE = 1, 2, 3, 4, 5

INT_CODES = set("bBhHiIlLqQ")
POINTER_CODES = set("PzZO")


class ConfigureWarning(UserWarning):
    """A hint could not be used (e.g. a Structure of the wrong size)."""


@dataclass
class Desc:
    """The compiler's description of a C type."""
    size: int
    cls: int
    kind: int
    signed: bool
    isarr: bool
    elem: 'Desc | None' = None

    @classmethod
    def from_values(cls, values, levels=4, width=5) -> 'Desc':
        descs = []
        for level in range(levels):
            size, klass, kind, signed, isarr = values[level * width:(level + 1) * width]
            if klass >= 1 << 63:
                klass -= 1 << 64
            descs.append(Desc(size, klass, kind, bool(signed), bool(isarr)))
        for outer, inner in zip(descs, descs[1:]):
            if outer.isarr:
                outer.elem = inner
        last = descs[-1]
        if last.isarr:
            last.isarr = False          # deeper than we look: keep it opaque
            last.cls = 0
        return descs[0]

    @classmethod
    def flexible(cls, elem: 'Desc') -> 'Desc':
        """A flexible array member (`T name[];`) of elements `elem`."""
        return Desc(0, CLS_POINTER, 0, False, True, elem)

    @property
    def category(self) -> str:
        if self.isarr:
            return "array"
        if self.cls in CLS_INT:
            return "bool" if self.kind == KIND_BOOL else "integer"
        if self.cls == CLS_POINTER:
            return "pointer"
        if self.cls == CLS_REAL:
            return "float"
        if self.cls == CLS_RECORD:
            return "struct"
        if self.cls == CLS_UNION:
            return "union"
        if self.cls == CLS_COMPLEX:
            return "complex"
        return "other"


# ---------------------------------------------------------------------------
# ctypes type helpers

def type_code(ct, tp):
    if isinstance(tp, type) and issubclass(tp, ct._SimpleCData):
        return tp._type_
    return None


def is_array(ct, tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, ct.Array)


def is_record(ct, tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, (ct.Structure, ct.Union))


def is_pointer_like(ct, tp) -> bool:
    if not isinstance(tp, type):
        return False
    if issubclass(tp, (ct._Pointer, ct._CFuncPtr)):
        return True
    return type_code(ct, tp) in POINTER_CODES


def category_of(ct, tp) -> str:
    """The kind of a ctypes type, in the words Desc.category uses."""
    code = type_code(ct, tp)
    if code is not None:
        if code in INT_CODES or code in "cu":
            return "integer"
        if code == "?":
            return "bool"
        if code in "fdg":
            return "float"
        if code in POINTER_CODES:
            return "pointer"
        return "other"
    if is_array(ct, tp):
        return "array"
    if isinstance(tp, type) and issubclass(tp, ct.Structure):
        return "struct"
    if isinstance(tp, type) and issubclass(tp, ct.Union):
        return "union"
    if is_pointer_like(ct, tp):
        return "pointer"
    return "other"


def is_signed(ct, tp) -> bool | None:
    code = type_code(ct, tp)
    if code is None or code not in INT_CODES:
        return None
    return tp(-1).value < 0


def int_type(ct, size: int, signed: bool, hint=None):
    """The ctypes integer type of this size and signedness (the hint if it is one)."""
    if hint is not None and type_code(ct, hint) in INT_CODES:
        if ct.sizeof(hint) == size and is_signed(ct, hint) == signed:
            return hint
    names = (("c_byte", "c_short", "c_int", "c_long", "c_longlong") if signed else
             ("c_ubyte", "c_ushort", "c_uint", "c_ulong", "c_ulonglong"))
    for name in names:
        tp = getattr(ct, name)
        if ct.sizeof(tp) == size:
            return tp
    return None


def aligned_type(ct, align: int):
    for name in ("c_ubyte", "c_short", "c_int", "c_long", "c_longlong", "c_double",
                 "c_longdouble", "c_void_p"):
        tp = getattr(ct, name)
        if ct.alignment(tp) == align:
            return tp
    return None


def translate(ct, hint):
    """The hint as a type of the ctypes module `ct` (hints may come from another
    ctypes module, e.g. the stdlib's while building with pyctypes')."""
    if hint is None or not isinstance(hint, type):
        return hint
    if issubclass(hint, (ct._SimpleCData, ct.Structure, ct.Union, ct.Array,
                         ct._Pointer, ct._CFuncPtr)):
        return hint
    code = getattr(hint, "_type_", None)
    if isinstance(code, str) and hasattr(hint, "from_param"):
        same = getattr(ct, hint.__name__, None)
        if same is not None and getattr(same, "_type_", None) == code:
            return same
        return None
    if hasattr(hint, "_length_") and hasattr(hint, "_type_"):
        elem = translate(ct, hint._type_)
        return None if elem is None else elem * hint._length_
    if hasattr(hint, "contents") and hasattr(hint, "_type_"):
        target = translate(ct, hint._type_)
        return None if target is None else ct.POINTER(target)
    return None


def opaque(ct, size: int):
    return ct.c_ubyte * size


def resolve_type(ct, desc: Desc, hint, where: str = ""):
    """The ctypes type for a C type described by `desc`, using `hint` when it fits."""
    hint = translate(ct, hint)
    if desc.isarr:
        elem_hint = hint._type_ if is_array(ct, hint) else hint
        elem = resolve_type(ct, desc.elem, elem_hint, where)
        count = desc.size // desc.elem.size if desc.elem.size else 0   # 0: flexible
        return elem * count
    size = desc.size
    code = type_code(ct, hint)
    if desc.cls in CLS_INT:
        if size == 1 and code == "c":
            return ct.c_char
        if code == "u" and size == ct.sizeof(ct.c_wchar):
            return ct.c_wchar
        if desc.kind == KIND_BOOL and size == ct.sizeof(ct.c_bool):
            return ct.c_bool
        if desc.kind == KIND_CHAR and hint is None:
            return ct.c_char
        if code == "?" and size == ct.sizeof(ct.c_bool):
            return ct.c_bool
        tp = int_type(ct, size, desc.signed, hint)
        return tp if tp is not None else opaque(ct, size)
    if desc.cls == CLS_REAL:
        choice = {KIND_FLOAT: ct.c_float, KIND_DOUBLE: ct.c_double,
                  KIND_LONGDOUBLE: ct.c_longdouble}.get(desc.kind)
        if choice is not None and ct.sizeof(choice) == size:
            return choice
        return opaque(ct, size)
    if desc.cls == CLS_POINTER:
        if is_pointer_like(ct, hint) and ct.sizeof(hint) == size:
            return hint
        return ct.c_void_p if ct.sizeof(ct.c_void_p) == size else opaque(ct, size)
    if desc.cls in (CLS_RECORD, CLS_UNION):
        if is_record(ct, hint):
            if ct.sizeof(hint) == size:
                return hint
            warnings.warn(f"{where}: hinted {hint.__name__} has size {ct.sizeof(hint)}, "
                          f"the C member has size {size}; using opaque bytes",
                          ConfigureWarning, stacklevel=4)
        return opaque(ct, size)
    return opaque(ct, size)


# ---------------------------------------------------------------------------
# records

@dataclass
class Member:
    """A member at a byte offset."""
    name: str
    offset: int
    ctype: object
    size: int
    anonymous: bool = False

    @property
    def end(self):
        return self.offset + self.size


@dataclass
class BitMember:
    """A bit-field: bits [lo, lo+width) counted in allocation order (from the
    least significant bit on little-endian targets, from the most on big)."""
    name: str
    lo: int
    width: int
    signed: bool

    @property
    def hi(self):
        return self.lo + self.width


@dataclass
class Unit:
    """A storage unit holding bit-fields: `size` bytes at `offset`."""
    offset: int
    size: int
    bits: list = field(default_factory=list)

    @property
    def end(self):
        return self.offset + self.size


class _Names:
    def __init__(self, taken):
        self.taken = set(taken)
        self.counters = {}

    def new(self, prefix):
        n = self.counters.get(prefix, 0)
        while f"{prefix}{n}" in self.taken:
            n += 1
        self.counters[prefix] = n + 1
        name = f"{prefix}{n}"
        self.taken.add(name)
        return name


def bits_from_image(image: bytes, big_endian: bool) -> tuple[int, int]:
    """(lo, width) of the set bits in a struct image, in allocation order."""
    idx = []
    for byte, value in enumerate(image):
        for bit in range(8):
            if value & (1 << bit):
                idx.append(byte * 8 + (7 - bit if big_endian else bit))
    if not idx:
        return 0, 0
    lo, hi = min(idx), max(idx) + 1
    if len(idx) != hi - lo:
        raise LayoutError(f"bit-field bits are not contiguous: {sorted(idx)}")
    return lo, hi - lo


def _window(lo_byte: int, hi_byte: int, limit: int):
    """The storage unit (offset, size) for bytes [lo_byte, hi_byte]: the smallest
    aligned 1/2/4/8 byte block, else an unaligned one (needs _pack_)."""
    for size in (1, 2, 4, 8):
        off = lo_byte // size * size
        if hi_byte < off + size and off + size <= limit:
            return off, size
    span = hi_byte - lo_byte + 1
    for size in (1, 2, 4, 8):
        if size >= span:
            for off in range(lo_byte, hi_byte - size, -1):
                if off >= 0 and off + size <= limit:
                    return off, size
    return None


def make_units(bitmembers, limit: int, what: str) -> list[Unit]:
    units: list[Unit] = []
    for bm in bitmembers:
        win = _window(bm.lo // 8, (bm.hi - 1) // 8, limit)
        if win is None:
            raise LayoutError(f"{what}: bit-field {bm.name!r} spans more than 8 bytes; "
                              f"ctypes cannot express it")
        units.append(Unit(win[0], win[1], [bm]))
    merged = True
    while merged:
        merged = False
        units.sort(key=lambda u: u.offset)
        for a, b in zip(units, units[1:]):
            if b.offset < a.end:
                lo, hi = min(a.offset, b.offset), max(a.end, b.end)
                win = _window(lo, hi - 1, limit)
                if win is None:
                    continue     # no unit holds both: they overlap in an anonymous union
                units.remove(a)
                units.remove(b)
                units.append(Unit(win[0], win[1], a.bits + b.bits))
                merged = True
                break
    return units


def _unit_fields(ct, unit: Unit, names: _Names):
    fields = []
    pos = unit.offset * 8
    pad_type = int_type(ct, unit.size, False)
    for bm in sorted(unit.bits, key=lambda b: b.lo):
        if bm.lo < pos:
            raise LayoutError(f"bit-field {bm.name!r} overlaps another bit-field")
        if bm.lo > pos:
            fields.append((names.new("_bitpad"), pad_type, bm.lo - pos))
        fields.append((bm.name, int_type(ct, unit.size, bm.signed), bm.width))
        pos = bm.hi
    end = unit.end * 8
    if pos < end:
        fields.append((names.new("_bitpad"), pad_type, end - pos))
    return fields


def _natural_ok(ct, placed, pack):
    for offset, tp in placed:
        align = ct.alignment(tp)
        if pack:
            align = min(align, pack)
        if offset % align:
            return False
    return True


def _make_class(ct, base, name, fields, anonymous=(), pack=None):
    ns = {"_fields_": fields, "__module__": __name__}
    if anonymous:
        ns["_anonymous_"] = tuple(anonymous)
    if pack:
        ns["_pack_"] = pack
    return type(base)(name, (base,), ns)


def _struct_fields(ct, pieces, size, names: _Names):
    """_fields_ placing each piece at its offset; also the (offset, type) list."""
    fields, placed, anonymous = [], [], []
    pos = 0
    last_unit = False
    for piece in sorted(pieces, key=lambda p: p.offset):
        if piece.offset > pos:
            fields.append((names.new("_pad"), ct.c_ubyte * (piece.offset - pos)))
            last_unit = False
        if isinstance(piece, Unit):
            if last_unit:      # keep ctypes from growing the previous unit into this one
                fields.append((names.new("_sep"), ct.c_ubyte * 0))
            fields.extend(_unit_fields(ct, piece, names))
            placed.append((piece.offset, int_type(ct, piece.size, False)))
            last_unit = True
        else:
            fields.append((piece.name, piece.ctype))
            placed.append((piece.offset, piece.ctype))
            if piece.anonymous:
                anonymous.append(piece.name)
            last_unit = False
        pos = piece.end
    if pos < size:
        fields.append((names.new("_pad"), ct.c_ubyte * (size - pos)))
    return fields, placed, anonymous


def _wrapper(ct, piece, shift, names: _Names):
    """An anonymous packed Structure holding one piece at offset (piece - shift)."""
    moved = (Unit(piece.offset - shift, piece.size, piece.bits) if isinstance(piece, Unit)
             else Member(piece.name, piece.offset - shift, piece.ctype, piece.size,
                         piece.anonymous))
    fields, _, anonymous = _struct_fields(ct, [moved], moved.end, names)
    return _make_class(ct, ct.Structure, "_anon", fields, anonymous, pack=1)


def _cluster_union(ct, cluster, names: _Names):
    start = min(p.offset for p in cluster)
    end = max(p.end for p in cluster)
    fields, anonymous = [], []
    for piece in cluster:
        if isinstance(piece, Member) and piece.offset == start:
            fields.append((piece.name, piece.ctype))
            if piece.anonymous:
                anonymous.append(piece.name)
        else:
            wname = names.new("_s")
            fields.append((wname, _wrapper(ct, piece, start, names)))
            anonymous.append(wname)
    union = _make_class(ct, ct.Union, "_anon_union", fields, anonymous)
    return Member(names.new("_u"), start, union, end - start, anonymous=True)


def _clusters(pieces):
    out = []
    for piece in sorted(pieces, key=lambda p: (p.offset, -p.end)):
        if out and piece.offset < max(p.end for p in out[-1]):
            out[-1].append(piece)
        else:
            out.append([piece])
    return out


def build_record(ct, name: str, is_union: bool, size: int, align: int,
                 members, big_endian: bool = False, check: bool = True):
    """A Structure (or Union) class with this size, alignment and members."""
    taken = [m.name for m in members]
    names = _Names(taken)
    plain = [m for m in members if isinstance(m, Member)]
    bitm = [m for m in members if isinstance(m, BitMember)]
    units = make_units(bitm, size, name)
    pieces = plain + units
    for piece in pieces:
        if piece.end > size:
            raise LayoutError(f"{name}: member ends at {piece.end}, past the size {size}")

    if is_union:
        fields, anonymous = [], []
        for piece in pieces:
            if isinstance(piece, Member) and piece.offset == 0:
                fields.append((piece.name, piece.ctype))
                if piece.anonymous:
                    anonymous.append(piece.name)
            else:
                wname = names.new("_s")
                fields.append((wname, _wrapper(ct, piece, 0, names)))
                anonymous.append(wname)
        if not any(ct.sizeof(tp) == size for _, tp, *_ in fields):
            fields.append((names.new("_pad"), ct.c_ubyte * size))
        natural = max([ct.alignment(tp) for _, tp, *_ in fields] + [1])
        pack = None
        if natural > align:
            pack = align
        elif natural < align:
            fields.insert(0, (names.new("_align"), _align_array(ct, align, name)))
        cls = _make_class(ct, ct.Union, name, fields, anonymous, pack)
    else:
        final = []
        for cluster in _clusters(pieces):
            final.append(cluster[0] if len(cluster) == 1 else
                         _cluster_union(ct, cluster, names))
        fields, placed, anonymous = _struct_fields(ct, final, size, names)
        natural = max([ct.alignment(tp) for _, tp in placed] + [1])
        if _natural_ok(ct, placed, None):
            best = None
        else:
            best = next(p for p in (16, 8, 4, 2, 1) if _natural_ok(ct, placed, p))
        if best is None and natural == align:
            cls = _make_class(ct, ct.Structure, name, fields, anonymous)
        elif best is None or best >= align:
            if natural < align:
                fields.insert(0, (names.new("_align"), _align_array(ct, align, name)))
            pack = align if (natural > align or best is not None) else None
            cls = _make_class(ct, ct.Structure, name, fields, anonymous, pack)
        else:
            body = _make_class(ct, ct.Structure, "_packed", fields, anonymous, best)
            outer = [(names.new("_align"), _align_array(ct, align, name)),
                     (names.new("_body"), body)]
            cls = _make_class(ct, ct.Structure, name, outer, [outer[1][0]])
    if check:
        verify(ct, cls, name, size, align, members, big_endian)
    return cls


def _align_array(ct, align, name):
    tp = aligned_type(ct, align)
    if tp is None:
        raise LayoutError(f"{name}: alignment {align} cannot be expressed in ctypes")
    return tp * 0


def verify(ct, cls, name, size, align, members, big_endian):
    """Check the built class against the C layout; LayoutError if it differs."""
    problems = []
    if ct.sizeof(cls) != size:
        problems.append(f"size {ct.sizeof(cls)} instead of {size}")
    if ct.alignment(cls) != align:
        problems.append(f"alignment {ct.alignment(cls)} instead of {align}")
    for m in members:
        if isinstance(m, Member):
            got = getattr(cls, m.name).offset
            if got != m.offset:
                problems.append(f"field {m.name!r} at offset {got} instead of {m.offset}")
    bitms = [m for m in members if isinstance(m, BitMember)]
    if bitms and not problems:
        for m in bitms:
            inst = cls()
            setattr(inst, m.name, -1)
            image = ct.string_at(ct.addressof(inst), size)
            got = bits_from_image(image, big_endian)
            if got != (m.lo, m.width):
                problems.append(f"bit-field {m.name!r} at bits {got} instead of "
                                f"{(m.lo, m.width)}")
    if problems:
        raise LayoutError(f"ctypes cannot reproduce the layout of {name}: "
                          + "; ".join(problems))
