"""Layout of structures and unions, as data: where each field goes, and how a
structure is classified when passed by value.  Pure computation over sizes and
alignments; structure.py turns the result into field descriptors.

The rules are the C compiler's on x86-64 System V (GCC):

- an ordinary field goes at the next offset aligned to its alignment
  (``min(_pack_, alignment)`` when ``_pack_`` is set, as ``#pragma pack``);
- a bit field of type T goes at the next free bit unless its bits would
  span more T-aligned units than T itself has; then it starts at the next
  T-aligned unit (GCC's ``excess_unit_span``).  The structure's alignment
  grows to T's alignment as for an ordinary T field.  Under ``_pack_`` GCC
  packs bit fields with no unit rule at all (``maximum_field_alignment`` is
  set), so they follow each other bit by bit;
- a union puts every field at offset 0; a bit field of a union occupies the
  lowest-addressed bits.

CPython 3.11 agrees with this wherever its own test suite looks, and differs
where a bit field follows a wider or narrower unit or an ordinary field
(``int a:20; char b:6`` puts b at bit 20 of byte 3 in 3.11, GCC at byte 3 bit
0; ``char a; int b:4`` is 8 bytes in 3.11, 4 with GCC), in unions with bit
fields, and under ``_pack_``.  We follow the compiler, as CPython 3.14 does;
tests/test_layout_vs_c.py names each such case.

Bit positions count in memory order: bit 0 is the lowest bit of byte 0 on a
little-endian layout and the highest bit of byte 0 on a big-endian one (a
``_swappedbytes_`` structure here), which is how GCC numbers them on a
big-endian target.
"""

__all__ = ["Layout", "Placement", "BitAccess", "layout_fields", "classify", "ffi_elements",
           "small_element_codes", "CLASS_INTEGER", "CLASS_SSE", "CLASS_X87"]


def _round_up(value, multiple):
    return -(-value // multiple) * multiple if multiple > 1 else value


class BitAccess:
    """How to reach a bit field: a storage unit of ``unit_size`` bytes at the
    field's byte offset, read as a little- or big-endian integer; the value
    is ``width`` bits starting ``shift`` bits above the unit's least
    significant bit.  ``unit_size`` is 1, 2, 4 or 8 (loaded with a type
    code), or any other size for a packed field that straddles (read as bytes)."""

    __slots__ = ("unit_size", "shift", "width", "big_endian")

    def __init__(self, unit_size, shift, width, big_endian):
        self.unit_size = unit_size
        self.shift = shift
        self.width = width
        self.big_endian = big_endian

    def __repr__(self):
        return "BitAccess(unit_size=%d, shift=%d, width=%d, big_endian=%s)" % (
            self.unit_size, self.shift, self.width, self.big_endian)


class Placement:
    """Where one field of the layout goes: ``offset`` in bytes (for a bit field,
    the offset of its storage unit) and, for a bit field, its BitAccess."""

    __slots__ = ("offset", "bits")

    def __init__(self, offset, bits=None):
        self.offset = offset
        self.bits = bits

    def __repr__(self):
        return "Placement(%d, %r)" % (self.offset, self.bits)


class Layout:
    """The result: total size and alignment, and one Placement per field."""

    __slots__ = ("size", "align", "placements")

    def __init__(self, size, align, placements):
        self.size = size
        self.align = align
        self.placements = placements


def _excess_unit_span(bitpos, width, type_align_bits, type_size_bits):
    """GCC's excess_unit_span: would the bit field span more units of its
    type's alignment than the type itself has?"""
    start = bitpos % type_align_bits
    return (start + width + type_align_bits - 1) // type_align_bits > type_size_bits // type_align_bits


def layout_fields(fields, is_struct, pack=0, big_endian=False, base_size=0, base_align=None,
                  min_align=0):
    """Lay out ``fields``, a list of (size, align, bits) with bits None for an
    ordinary field.  ``base_size``/``base_align``: the base class's size and
    alignment when the type extends a structure that has fields (its fields
    come first; None: no base).  ``min_align``: the type's alignment is at
    least this (3.13's ``_align_``), its size a multiple of it.  Returns a
    Layout."""
    # CPython: a subclass starts at the base's size (its tail padding
    # included, as a C struct embedding the base as first member) and a
    # union's own members ignore the base's size.
    total_align = max(base_align, 1) if base_align is not None else 1
    bit = base_size * 8 if is_struct else 0
    union_bits = 0
    raw_places = []                       # (bit position, width or None)
    for size, align, width in fields:
        field_align = min(pack, align) if pack else align
        if width is None:
            if is_struct:
                if field_align:
                    bit = _round_up(bit, field_align * 8)
                raw_places.append((bit, None))
                bit += size * 8
            else:
                raw_places.append((0, None))
                union_bits = max(union_bits, size * 8)
        elif is_struct:
            if not pack and align and _excess_unit_span(bit, width, align * 8, size * 8):
                bit = _round_up(bit, align * 8)
            raw_places.append((bit, width))
            bit += width
        else:
            raw_places.append((0, width))
            union_bits = max(union_bits, width)
        total_align = max(total_align, field_align)
    total_align = max(total_align, min_align)
    used_bits = bit if is_struct else union_bits
    total_size = _round_up(-(-used_bits // 8), total_align)
    placements = []
    for (size, align, width), (pos, _) in zip(fields, raw_places):
        if width is None:
            placements.append(Placement(pos // 8))
        else:
            placements.append(_bitfield_placement(pos, width, size, align, pack, total_size,
                                                  big_endian))
    return Layout(total_size, total_align, placements)


def _bitfield_placement(pos, width, size, align, pack, total_size, big_endian):
    """Choose the storage unit through which a bit field at bit ``pos`` is read
    and written.  Unpacked: the type's own aligned unit (the compiler's, and
    what CPython's CField reports).  Packed: that unit if the field lies in it
    and it lies in the structure, else the smallest loadable unit starting at
    the field's first byte, else exactly the bytes it touches."""
    if align and (not pack or _unit_fits(pos, width, (pos // (align * 8)) * align, size, total_size)):
        unit_offset = (pos // (align * 8)) * align
        unit_size = size
    else:
        unit_offset = pos // 8
        need = (pos % 8 + width + 7) // 8
        unit_size = need
        for candidate in (1, 2, 4, 8):
            if candidate >= need and unit_offset + candidate <= total_size:
                unit_size = candidate
                break
    first = pos - unit_offset * 8
    shift = unit_size * 8 - first - width if big_endian else first
    return Placement(unit_offset, BitAccess(unit_size, shift, width, big_endian))


def _unit_fits(pos, width, unit_offset, unit_size, total_size):
    return (unit_offset * 8 <= pos and pos + width <= (unit_offset + unit_size) * 8
            and unit_offset + unit_size <= total_size)


# ---------------------------------------------------------------- passing by value (SysV)

CLASS_NONE, CLASS_INTEGER, CLASS_SSE, CLASS_X87, CLASS_MEMORY = range(5)


def _merge(a, b):
    """SysV's merge of two eightbyte classes (X87 with anything else: MEMORY)."""
    if a == b or b == CLASS_NONE:
        return a
    if a == CLASS_NONE:
        return b
    if CLASS_MEMORY in (a, b) or CLASS_X87 in (a, b):
        return CLASS_MEMORY
    if CLASS_INTEGER in (a, b):
        return CLASS_INTEGER
    return CLASS_SSE


def classify(scalars, size):
    """Classes of the eightbytes of a type of ``size`` <= 16 bytes, from its
    scalars: (offset, size, class, aligned) for every scalar the type holds.
    A misaligned scalar (a packed field) makes the whole type MEMORY, as GCC."""
    classes = [CLASS_NONE] * ((size + 7) // 8)
    for offset, length, cls, aligned in scalars:
        if not aligned:
            return None
        if cls == CLASS_X87:
            # a long double fills two eightbytes: X87 + X87UP (kept as X87 here)
            if offset % 16 or length != 16:
                return None
            for i in (offset // 8, offset // 8 + 1):
                if classes[i] not in (CLASS_NONE, CLASS_X87):
                    return None
                classes[i] = CLASS_X87
            continue
        for i in range(offset // 8, min((offset + max(length, 1) - 1) // 8 + 1, len(classes))):
            classes[i] = _merge(classes[i], cls)
            if classes[i] == CLASS_MEMORY:
                return None
    return classes


def ffi_struct(size, align, scalars, for_code, struct):
    """The libffi struct type passing a structure or union of ``size`` and
    ``align`` by value as GCC does (x86-64 SysV); arguments as ffi_elements.

    A type of <= 16 bytes that libffi's natural layout of scalars cannot
    describe gets its real size and alignment set on the ffi type (libffi then
    does not lay it out):
    - MEMORY (a misaligned packed member, a long double sharing an eightbyte):
      the only element is a 40-byte struct, which libffi classifies MEMORY
      (more than 32 bytes), and with it the whole type (ABI 3.2.3: a type with
      a MEMORY part is passed in memory); CPython 3.11 passes these in
      registers, wrongly;
    - SSE data of a packed type whose float/double elements do not add up to
      its size: one run of elements per eightbyte, of the eightbyte's class."""
    if 0 < size <= 16:
        classes = classify(scalars(), size)
        if classes is None:
            memory = struct([for_code("Q")] * 5)
            return struct([memory], size=size, alignment=align)
        codes, exact = small_element_codes(classes, size)
        if not exact:
            codes = _sized_eightbyte_codes(classes, size)
            return struct([for_code(code) for code in codes], size=size, alignment=align)
        return struct([for_code(code) for code in codes])
    return struct(ffi_elements(size, align, scalars, for_code, struct))


def ffi_elements(size, align, scalars, for_code, struct):
    """An element list for a libffi struct type that has exactly ``size`` and
    makes libffi classify the type as GCC does: for <= 16 bytes one run of
    elements per eightbyte of the eightbyte's class; for larger types (always
    passed in memory) just the right size and alignment.  ``scalars`` is a
    callable returning the type's scalars (only called for small types);
    ``for_code``/``struct`` make ffi types (raw.FFIType.for_code/struct).

    libffi lays the elements out with natural alignment, so the list must add
    up to ``size`` with no padding; its alignment may exceed the type's (a
    packed struct of doubles still goes in SSE registers), which only matters
    above 8 bytes, where we keep it exact."""
    if size == 0:
        return []
    if size > 16:
        if align >= 16 and size % 16 == 0:
            return _blocks(for_code("g"), 16, size, struct)
        chunk = min(align, 8) or 1
        return _blocks(for_code(_INT_CODE[chunk]), chunk, size, struct)
    codes, _ = small_element_codes(classify(scalars(), size), size)
    return [for_code(code) for code in codes]


def small_element_codes(classes, size):
    """(element codes, exact) for a type of ``size`` <= 16 bytes whose
    eightbytes have these classes (None: MEMORY).  ``exact`` is False where
    libffi, laying the elements out itself, would not pass the type as GCC
    does: MEMORY (a misaligned packed field, a long double sharing an
    eightbyte), and SSE data of a packed struct whose size no float/double
    list adds up to.  ffi_struct then gives libffi the size (CPython 3.11
    passes these wrong)."""
    exact = classes is not None
    if classes is None:
        classes = [CLASS_INTEGER] * ((size + 7) // 8)
    for piece in (8, 4, 2, 1):
        codes = _eightbyte_codes(classes, size, piece)
        if _natural_size(codes) == size:
            return codes, exact and (piece >= 4 or CLASS_SSE not in classes)
    raise AssertionError("no element list for %d bytes" % size)   # piece 1 always fits


def _eightbyte_codes(classes, size, piece):
    """Element codes for the eightbytes, no element wider than ``piece`` bytes
    (SSE data in pieces below 4 bytes can only be passed as integers)."""
    codes = []
    i = 0
    while i < len(classes):
        length = min(8, size - i * 8)
        if classes[i] == CLASS_X87 and i + 1 < len(classes):
            codes.append("g")
            i += 2
            continue
        if classes[i] == CLASS_SSE and piece >= 4:
            codes += ["d"] if length == 8 and piece == 8 else ["f"] * (length // 4)
            length %= 4
        while length:
            step = max(n for n in (8, 4, 2, 1) if n <= min(piece, length))
            codes.append(_INT_CODE[step])
            length -= step
        i += 1
    return codes


def _sized_eightbyte_codes(classes, size):
    """Element codes for the eightbytes of a type whose size libffi is given:
    the last eightbyte's elements may pass the end (libffi copies ``size``
    bytes), so an SSE eightbyte is all floats, whatever its length."""
    codes = []
    for i, cls in enumerate(classes):
        length = min(8, size - i * 8)
        if cls == CLASS_SSE:
            codes += ["d"] if length == 8 else ["f"] * ((length + 3) // 4)
            continue
        while length:
            step = max(n for n in (8, 4, 2, 1) if n <= length)
            codes.append(_INT_CODE[step])
            length -= step
    return codes


_CODE_SIZE = {"B": 1, "H": 2, "I": 4, "Q": 8, "f": 4, "d": 8, "g": 16}


def _natural_size(codes):
    """The size libffi gives a struct of these elements."""
    offset, align = 0, 1
    for code in codes:
        n = _CODE_SIZE[code]
        offset = _round_up(offset, n) + n
        align = max(align, n)
    return _round_up(offset, align)


_INT_CODE = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _blocks(element, element_size, size, struct):
    """Elements of total ``size`` made of nested structs of 2**k elements, so
    that a big structure needs O(log n) ffi types, not one per element."""
    count = size // element_size
    elements = []
    block = element
    while count:
        if count & 1:
            elements.append(block)
        count >>= 1
        if count:
            block = struct([block, block])
    return elements
