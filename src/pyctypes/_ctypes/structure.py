"""Structures and unions: the metaclasses PyCStructType and UnionType, the
Structure and Union base classes, and CField, the descriptor of one field.

Setting ``_fields_`` (in the class body or later, once) makes the type's plan
(CPython's PyCStructUnionType_update_stgdict): the fields are checked, laid out
by layout.py, and each becomes a CField holding its own plan (offset, type,
index, bit field access) with a getter and a setter made once.  A type becomes
final - its ``_fields_`` can no longer be set - when its fields are set, when
an instance is made, when it is used as a field type, or when it is subclassed
without fields of its own.

CPython 3.11 quirks kept on purpose, because programs and its tests see them:
a field's keep-alive index counts from 0 in each class (a subclass's first
field shares index 0 with its base's first field); a subclass's PEP 3118
format lists only its own fields; a union subclass's size ignores its base's
size.  (HASPOINTER is inherited from the base class, unlike 3.11: a subclass
holding its base's pointers must refuse pickling too.)  Where 3.11's bit field
layout disagrees with the C compiler we follow the compiler (see layout.py).
"""

import operator
import sys

from ._native import native_bases, raw
from . import basics
from . import versions
from .array import PyCArrayType
from .basics import (caller_module, DICTFLAG_FINAL, TYPEFLAG_HASBITFIELD, TYPEFLAG_HASPOINTER,
                     TYPEFLAG_HASUNION, TYPEFLAG_ISPOINTER, StgInfo, _CData, _CDataMeta,
                     cdata_set, is_cdata, keep_ref, make_view, own_stginfo, set_stginfo,
                     stginfo, update_native_plan, value_getter)


def _layout():
    """layout.py, imported when a first type gets _fields_ (`import ctypes` itself
    defines none, so it does not pay for loading the layout engine)."""
    from . import layout
    return layout


_PAIRS = "'_fields_' must be a sequence of (name, C type) pairs"
_BITFIELD_CODES = frozenset("bBhHiIlLqQ?")     # integer ffi types, not c_char/c_wchar
_SIGNED_CODES = frozenset("bhilq")
_UNIT_CODE = {(1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q",
              (1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q"}
_HOST_BIG = sys.byteorder == "big"
_WCHAR_SIZE = raw.sizeof_code("u")
_CDATA = raw.CData


# ---------------------------------------------------------------- field access plans

def _bitfield_accessors(proto, code, offset, access):
    """Getter/setter of a bit field: its storage unit read and written as an
    integer (raw.load_bits/store_bits), or, for a packed field straddling
    loadable units, as exactly the bytes it touches."""
    signed = code in _SIGNED_CODES
    is_bool = code == "?"
    shift, width, size = access.shift, access.width, access.unit_size
    swapped = access.big_endian != _HOST_BIG
    unit_code = _UNIT_CODE.get((size, signed))
    if unit_code is not None:
        def load(address):
            return raw.load_bits(unit_code, address, shift, width, swapped)

        def store(address, value):
            raw.store_bits(unit_code, address, value, shift, width, swapped)
    else:
        order = "big" if access.big_endian else "little"
        mask = (1 << width) - 1

        def load(address):
            value = (int.from_bytes(raw.read(address, size), order) >> shift) & mask
            return value - (1 << width) if signed and value >> (width - 1) else value

        def store(address, value):
            unit = int.from_bytes(raw.read(address, size), order) & ~(mask << shift)
            raw.write(address, (unit | (value & mask) << shift).to_bytes(size, order))

    def check(value):
        # _PyCData_set with a ctypes instance: another type is "incompatible";
        # one of the field's own type is copied over `size` bytes, which for a
        # bit field is its encoded width and offset: a crash on 3.11 that
        # pyctypes refuses (FINDINGS.md D4)
        if isinstance(value, proto):
            raise TypeError("'%s' object cannot be interpreted as an integer"
                            % type(value).__name__)
        raise TypeError("incompatible types, %s instance instead of %s instance"
                        % (type(value).__name__, proto.__name__))

    if is_bool:
        # c_bool bit fields hold one truth value in their bits (GCC); 3.11
        # reads and writes the whole byte instead.
        def get(inst):
            return bool(load(inst._b_address_ + offset))

        def set(inst, value):
            if is_cdata(value):
                check(value)
            store(inst._b_address_ + offset, 1 if value else 0)
    else:
        def get(inst):
            return load(inst._b_address_ + offset)

        def set(inst, value):
            if is_cdata(value):
                check(value)
            # 3.11's integer setters take anything with __index__, floats refused
            store(inst._b_address_ + offset, operator.index(value))
    return get, set


def _char_array_accessors(offset, length):
    """A c_char array field reads as bytes up to the first NUL and takes
    bytes (CPython's 's' field getter/setter)."""
    def get(inst):
        data = raw.read(inst._b_address_ + offset, length)
        end = data.find(b"\0")
        return data if end < 0 else data[:end]

    def set(inst, value):
        if not isinstance(value, bytes):
            raise TypeError("expected bytes, %s found" % type(value).__name__)
        end = value.find(b"\0")
        size = len(value) if end < 0 else end
        if size > length:
            raise ValueError("bytes too long (%d, maximum length %d)" % (size, length))
        # the terminating NUL is copied if there is room for it
        raw.write(inst._b_address_ + offset, value[:size] + b"\0" if size < length else value[:size])
    return get, set


def _wchar_array_accessors(offset, length, index):
    """A c_wchar array field reads as str up to the first NUL and takes str
    (CPython's 'U' field getter/setter, which keeps the str alive)."""
    def get(inst):
        text = raw.read_wchars(inst._b_address_ + offset, length)
        end = text.find("\0")
        return text if end < 0 else text[:end]

    def set(inst, value):
        if not isinstance(value, str):
            raise TypeError("unicode string expected instead of %s instance"
                            % type(value).__name__)
        size = raw.wchar_count(value)
        if size > length:
            raise ValueError("string too long (%d, maximum length %d)" % (size, length))
        raw.write_wchars(inst._b_address_ + offset, value + "\0", length)
        keep_ref(inst, index, value)
    return get, set


def _value_accessors(proto, offset, index, size):
    """Any other field: Python values for fundamental simple types, else a view
    into the instance; set through CPython's PyCData_set rules."""
    getter = value_getter(proto)
    if getter is not None:
        def get(inst):
            return getter(inst._b_address_ + offset)
    else:
        def get(inst):
            return make_view(proto, inst._b_address_ + offset, inst, index)

    setfunc = stginfo(proto).setfunc

    def set(inst, value):
        address = inst._b_address_ + offset
        if setfunc is not None and not isinstance(value, _CDATA):
            # the first rule of PyCData_set, without its general dispatch
            keep = setfunc(address, value)
            if keep is not None:
                keep_ref(inst, index, keep)
        else:
            cdata_set(inst, proto, value, index, address, size)
    return get, set


def _string_item_code(proto):
    """'c' / 'u' if proto is an array of c_char / c_wchar, else None."""
    if isinstance(proto, PyCArrayType):
        item = stginfo(stginfo(proto).proto)
        if item is not None and item.code in ("c", "u"):
            return item.code
    return None


# ---------------------------------------------------------------- CField

class CField(*native_bases("Field")):
    """Structure/Union member"""

    __slots__ = ("_name", "_proto", "_offset", "_size", "_index", "_bits", "_anonymous",
                 "_get", "_set")

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create '_ctypes.CField' instances")

    offset = property(lambda self: self._offset, doc="offset in bytes of this field")
    size = property(lambda self: self._size, doc="size in bytes of this field")

    def __get__(self, inst, owner=None):
        if inst is None:
            return self
        if not isinstance(inst, _CDATA):
            raise TypeError("not a ctype instance")
        return self._get(inst)

    def __set__(self, inst, value):
        if not isinstance(inst, _CDATA):
            raise TypeError("not a ctype instance")
        self._set(inst, value)

    def __delete__(self, inst):
        if not is_cdata(inst):
            raise TypeError("not a ctype instance")
        raise TypeError("can't delete attribute")

    def __repr__(self):
        # CPython decodes size the same way for every field, so an ordinary
        # field of 64 KiB or more shows as a bit field there too.
        name = self._proto.__name__
        if self._size >> 16:
            return "<Field type=%s, ofs=%d:%d, bits=%d>" % (
                name, self._offset, self._size & 0xFFFF, self._size >> 16)
        return "<Field type=%s, ofs=%d, size=%d>" % (name, self._offset, self._size)


CField.__module__ = "_ctypes"


def _make_cfield(name, proto, offset, index, bits):
    """A field descriptor with its getter and setter.  ``bits`` is the
    layout.BitAccess of a bit field, else None."""
    field = CField.__base__.__new__(CField)     # object's, or the native Field's
    info = stginfo(proto)
    field._name = name
    field._proto = proto
    field._offset = offset
    field._index = index
    field._bits = bits
    field._anonymous = False
    if bits is not None:
        # 3.11's encoding: (number of bits << 16) | bit offset in the unit
        field._size = (bits.width << 16) | bits.shift
        field._get, field._set = _bitfield_accessors(proto, info.code, offset, bits)
        return field
    field._size = info.size
    kind = _string_item_code(proto)
    if kind == "c":
        field._get, field._set = _char_array_accessors(offset, info.size)
    elif kind == "u":
        field._get, field._set = _wchar_array_accessors(offset, info.size // _WCHAR_SIZE, index)
    else:
        field._get, field._set = _value_accessors(proto, offset, index, info.size)
        if basics.planner is not None:
            basics.planner.field_made(field, proto, offset, info.size, index)
    return field


# ---------------------------------------------------------------- the plan

class _StructPlan:
    """A structure type's own data in its StgInfo (``extra``): the field names
    positional arguments of __init__ fill, base class fields first."""

    __slots__ = ("init_names",)

    def __init__(self, init_names=()):
        self.init_names = init_names


_ffi_type_slot = StgInfo.__dict__["ffi_type"]


class _StructStgInfo(StgInfo):
    """StgInfo of a structure or union; its ffi_type is made on first use."""

    __slots__ = ()

    @property
    def ffi_type(self):
        ffi_type = _ffi_type_slot.__get__(self)
        if ffi_type is None and self.fields is not None:
            if not self.size:
                # libffi cannot describe an empty struct (CPython's call fails so)
                raise RuntimeError("ffi_prep_cif failed")
            ffi_type = _layout().ffi_struct(
                self.size, self.align, lambda: list(_scalars(self, 0)),
                raw.FFIType.for_code, raw.FFIType.struct)
            _ffi_type_slot.__set__(self, ffi_type)
        return ffi_type

    @ffi_type.setter
    def ffi_type(self, value):
        _ffi_type_slot.__set__(self, value)

    def copy(self):
        new = _StructStgInfo()
        for name in StgInfo.__slots__:
            slot = StgInfo.__dict__[name]
            slot.__set__(new, slot.__get__(self))
        new.flags &= ~DICTFLAG_FINAL
        return new


def _scalars(info, base):
    """(offset, size, SysV class, naturally aligned) of every scalar in a type,
    for classifying small structures passed by value."""
    layout = _layout()
    if info.code is not None:
        cls = {"f": layout.CLASS_SSE, "d": layout.CLASS_SSE,
               "g": layout.CLASS_X87}.get(info.code, layout.CLASS_INTEGER)
        yield base, info.size, cls, base % max(info.align, 1) == 0
    elif info.fields is not None:
        for field in info.fields:
            if field._bits is None:
                yield from _scalars(stginfo(field._proto), base + field._offset)
                continue
            bits = field._bits
            first = (bits.unit_size * 8 - bits.shift - bits.width if bits.big_endian
                     else bits.shift)
            start = base + field._offset + first // 8
            end = base + field._offset + (first + bits.width + 7) // 8
            yield start, end - start, layout.CLASS_INTEGER, True
    elif info.shape and stginfo(info.proto) is not None:
        item = stginfo(info.proto)
        if info.length == 0:
            # GCC classifies a zero-length array that does not start an
            # eightbyte as its item's first eightbyte (and a misaligned item
            # makes the whole type MEMORY)
            if base % 8:
                for offset, _, cls, aligned in _scalars(item, base):
                    if offset - base < 8 or not aligned:
                        yield base, 0, cls, aligned
            return
        for i in range(info.length):
            yield from _scalars(item, base + i * item.size)
    elif info.size:
        # pointers, function pointers
        yield base, info.size, layout.CLASS_INTEGER, base % max(info.align, 1) == 0


def _ctype_info(tp):
    """The plan of a C type as CPython's PyType_stgdict sees it: a structure or
    union class has one only if it made its own (not an _abstract_ class)."""
    if isinstance(tp, _StructUnionType):
        return own_stginfo(tp)
    return stginfo(tp)


def _parse_pair(pair):
    """(name, type, bits or None) from a _fields_ item (CPython parses it with
    the "UO|i" format and replaces any failure by one message)."""
    if not isinstance(pair, tuple) or not 2 <= len(pair) <= 3 or not isinstance(pair[0], str):
        raise TypeError(_PAIRS)
    if len(pair) == 2:
        return pair[0], pair[1], None
    try:
        bits = operator.index(pair[2])
    except TypeError:
        raise TypeError(_PAIRS) from None
    if not -2**31 <= bits < 2**31:
        raise TypeError(_PAIRS)
    return pair[0], pair[1], bits


def _pack_of(cls):
    """(_pack_ value, whether _pack_ is set)."""
    try:
        pack = cls._pack_
    except AttributeError:
        return 0, False
    try:
        pack = operator.index(pack)
    except TypeError:
        pack = -1
    if not 0 <= pack < 2**31:
        raise ValueError("_pack_ must be a non-negative integer")
    return pack, True


def _align_of(cls):
    """The minimum alignment _align_ asks for (3.13 on; 0: none)."""
    if not versions.ALIGN_ATTRIBUTE:
        return 0
    try:
        align = cls._align_
    except AttributeError:
        return 0
    try:
        align = operator.index(align)
    except TypeError:
        align = -1
    if not 0 <= align < 2**31:
        raise ValueError("_align_ must be a non-negative integer")
    return align


def _field_format(name, info):
    """One member of a structure's PEP 3118 format: [(shape)]format:name:"""
    fmt = info.format if info.format is not None else "B"
    if info.shape:
        fmt = "(%s)%s" % (",".join(str(n) for n in info.shape), fmt)
    return "%s:%s:" % (fmt, name)


def _padded_format(parsed, layout, base_size):
    """A structure's PEP 3118 format naming its padding (3.12 on): "x" or "Nx"
    before a field that starts past the end of the one before it (a base
    class's fields end at its size), and after the last one up to the size.
    A bit field ends where its type's storage unit does."""
    parts, end = ["T{"], base_size
    for (name, _, finfo, _), place in zip(parsed, layout.placements):
        parts.append(_padding(place.offset - end))
        parts.append(_field_format(name, finfo))
        end = max(end, place.offset + finfo.size)
    parts.append(_padding(layout.size - end))
    parts.append("}")
    return "".join(parts)


def _padding(count):
    return "" if count <= 0 else "x" if count == 1 else "%dx" % count


def _update_stginfo(cls, fields, is_struct):
    """Check _fields_, lay the type out and install its field descriptors
    (CPython's PyCStructUnionType_update_stgdict)."""
    # presence, not value, of _swappedbytes_ decides the bit order (_endian.py)
    big_endian = hasattr(cls, "_swappedbytes_") != _HOST_BIG
    old_semantics = (versions.OLD_STRUCTURE_SEMANTICS
                     and hasattr(cls, "_use_broken_old_ctypes_structure_semantics_"))
    pack, packed = _pack_of(cls)
    min_align = _align_of(cls)
    if isinstance(fields, dict):
        raise TypeError("'_fields_' must be a sequence of pairs")
    try:
        count = len(fields)
    except TypeError:
        raise TypeError("'_fields_' must be a sequence of pairs") from None
    info = own_stginfo(cls)
    if info is None:
        # _fields_ set by __init_subclass__, before the metaclass's __new__ gave
        # the class its plan: CPython (3.11 to 3.14, test_gh99275) refuses so
        raise TypeError("ctypes state is not initialized")
    if info.flags & DICTFLAG_FINAL:
        raise AttributeError("_fields_ is final")

    base = cls.__base__
    baseinfo = _ctype_info(base) if isinstance(base, _StructUnionType) else None
    if baseinfo is not None:
        # HASPOINTER too, unlike CPython 3.11: the base's pointers are in the
        # subclass's memory (README, deliberate differences)
        info.flags |= baseinfo.flags & (TYPEFLAG_HASUNION | TYPEFLAG_HASBITFIELD | TYPEFLAG_HASPOINTER)
    if not is_struct:
        info.flags |= TYPEFLAG_HASUNION
    if baseinfo is not None and old_semantics:
        baseinfo = None

    parsed = []
    for i in range(count):
        try:
            pair = fields[i]
        except Exception:
            raise TypeError(_PAIRS) from None
        name, tp, bits = _parse_pair(pair)
        finfo = _ctype_info(tp)
        if finfo is None:
            raise TypeError("second item in _fields_ tuple (index %d) must be a C type" % i)
        if finfo.flags & (TYPEFLAG_ISPOINTER | TYPEFLAG_HASPOINTER):
            info.flags |= TYPEFLAG_HASPOINTER
        info.flags |= finfo.flags & (TYPEFLAG_HASUNION | TYPEFLAG_HASBITFIELD)
        if bits is not None:
            info.flags |= TYPEFLAG_HASBITFIELD
            if finfo.kind != "simple" or finfo.code not in _BITFIELD_CODES:
                raise TypeError("bit fields not allowed for type %s" % tp.__name__)
            if not 0 < bits <= finfo.size * 8:
                raise ValueError("number of bits invalid for bit field")
        parsed.append((name, tp, finfo, bits))
    for _, _, finfo, _ in parsed:
        finfo.flags |= DICTFLAG_FINAL          # a field's type is final

    result = _layout().layout_fields(
        [(finfo.size, finfo.align, bits) for _, _, finfo, bits in parsed], is_struct,
        pack=pack, big_endian=big_endian,
        base_size=baseinfo.size if baseinfo is not None else 0,
        base_align=baseinfo.align if baseinfo is not None else None, min_align=min_align)

    own_fields = []
    for i, ((name, tp, finfo, bits), place) in enumerate(zip(parsed, result.placements)):
        field = _make_cfield(name, tp, place.offset, i, place.bits)
        setattr(cls, name, field)
        own_fields.append(field)

    if is_struct and versions.PEP3118_PADDING:
        info.format = _padded_format(parsed, result, baseinfo.size if baseinfo is not None else 0)
    elif is_struct and not packed:
        info.format = "T{%s}" % "".join(_field_format(name, finfo)
                                         for name, _, finfo, _ in parsed)
    else:
        info.format = "B"           # PEP 3118 has no unions; packed: not supported
    base_fields = tuple(baseinfo.fields or ()) if baseinfo is not None else ()
    base_names = baseinfo.extra.init_names if baseinfo is not None and baseinfo.extra else ()
    info.size = result.size
    info.align = result.align
    info.length = len(base_fields) + count
    info.shape = ()
    info.fields = base_fields + tuple(own_fields)
    info.extra = _StructPlan(tuple(base_names) + tuple(name for name, _, _, _ in parsed))
    info.ffi_type = None                # made again on first use
    if info.flags & DICTFLAG_FINAL:
        # it was marked final above: it is one of its own field types
        raise AttributeError("Structure or union cannot contain itself")
    info.flags |= DICTFLAG_FINAL
    set_stginfo(cls, info)
    _make_anon_fields(cls)


# ---------------------------------------------------------------- _anonymous_

def _make_anon_fields(cls):
    """Make the fields of each _anonymous_ member reachable on cls itself."""
    try:
        anonymous = cls._anonymous_
    except AttributeError:
        return
    try:
        names = list(anonymous)
    except TypeError:
        raise TypeError("_anonymous_ must be a sequence") from None
    for name in names:
        descr = getattr(cls, name)
        if type(descr) is not CField:
            raise AttributeError("'%s' is specified in _anonymous_ but not in _fields_" % name)
        descr._anonymous = True
        _make_fields(cls, descr, descr._index, descr._offset)


def _make_fields(cls, descr, index, offset):
    """Copy the fields of the anonymous member descr onto cls, moved by its
    offset and index (CPython's MakeFields)."""
    try:
        pairs = list(descr._proto._fields_)
    except TypeError:
        raise TypeError("_fields_ must be a sequence") from None
    for pair in pairs:
        if not isinstance(pair, tuple) or not 2 <= len(pair) <= 3:
            raise TypeError(_PAIRS)
        name = pair[0]
        inner = getattr(descr._proto, name)
        if type(inner) is not CField:
            raise TypeError("unexpected type")
        if inner._anonymous:
            _make_fields(cls, inner, index + inner._index, offset + inner._offset)
            continue
        setattr(cls, name, _make_cfield(name, inner._proto, inner._offset + offset,
                                        inner._index + index, inner._bits))


# ---------------------------------------------------------------- metaclasses

_bootstrapping = True                   # until Structure and Union exist


class _StructUnionType(_CDataMeta):
    """What PyCStructType and UnionType share (CPython's StructUnionType_new
    and _structunion_setattro)."""

    def __setattr__(cls, name, value):
        if name != "_fields_":
            type.__setattr__(cls, name, value)
            return
        # a refused _fields_ changes nothing (CPython 3.11 keeps it in the
        # class's __dict__; 3.14 does not): the class is laid out first, and
        # put back as it was if that fails
        before = _ClassState(cls)
        try:
            _update_stginfo(cls, value, not isinstance(cls, UnionType))
        except BaseException:
            before.restore()
            raise
        type.__setattr__(cls, name, value)

    def __delattr__(cls, name):
        type.__delattr__(cls, name)

    # Every way of making an instance makes the type final (CPython marks it
    # in GenericPyCData_new and PyCData_AtAddress).
    def from_address(cls, address):
        _finalize(cls)
        return super().from_address(address)

    def from_buffer(cls, obj, offset=0):
        _finalize(cls)
        return super().from_buffer(obj, offset)

    def from_buffer_copy(cls, buffer, offset=0):
        _finalize(cls)
        return super().from_buffer_copy(buffer, offset)

    def in_dll(cls, dll, name):
        _finalize(cls)
        return super().in_dll(dll, name)


def _make_struct_type(cls, name, bases, namespace):
    if _bootstrapping:
        return                      # Structure / Union themselves: abstract
    if "_abstract_" in cls.__dict__:
        return
    is_struct = not isinstance(cls, UnionType)
    info = _fresh_stginfo(is_struct)
    if "_fields_" in cls.__dict__:
        # Setting _fields_ installs the whole plan; until then only the
        # StgInfo is needed.  Through the metaclass, so that a subclass
        # (ctypes._endian) sees it.
        type.__setattr__(cls, "_stginfo_", info)
        setattr(cls, "_fields_", cls.__dict__["_fields_"])
        if "_rawffi_size_" not in cls.__dict__:
            set_stginfo(cls, own_stginfo(cls))    # a metaclass kept _fields_ for itself
        return
    baseinfo = _ctype_info(cls.__base__)
    if baseinfo is not None:
        set_stginfo(cls, baseinfo.copy())
        baseinfo.flags |= DICTFLAG_FINAL
    else:
        set_stginfo(cls, info)


basics.TYPE_DATA[_StructUnionType] = _make_struct_type


def _fresh_stginfo(is_struct):
    """The plan of a structure or union type before its _fields_ are set."""
    return _StructStgInfo(size=0, align=0, format="B",
                          flags=0 if is_struct else TYPEFLAG_HASUNION,
                          kind="struct" if is_struct else "union")


class _ClassState:
    """What setting _fields_ changes in a class (its own dict, its StgInfo's
    slots), to put back when the assignment is refused."""

    def __init__(self, cls):
        self.cls = cls
        self.namespace = dict(cls.__dict__)
        self.info = own_stginfo(cls)
        self.slots = (None if self.info is None else
                      [(slot, slot.__get__(self.info)) for slot in _STGINFO_SLOTS])

    def restore(self):
        cls = self.cls
        for name in [n for n in cls.__dict__ if n not in self.namespace]:
            type.__delattr__(cls, name)
        for name, value in self.namespace.items():
            if cls.__dict__.get(name, self) is not value and name not in ("__dict__", "__weakref__"):
                type.__setattr__(cls, name, value)
        if self.info is not None:
            for slot, value in self.slots:
                slot.__set__(self.info, value)
            plan = cls.__dict__.get("_rawffi_plan_")
            if plan is not None and plan.retired:
                update_native_plan(cls, self.info)    # its plan was replaced


_STGINFO_SLOTS = [StgInfo.__dict__[name] for name in StgInfo.__slots__]


def _finalize(cls):
    """The type becomes final (its first instance, or its use as a field type or
    base, set the flag); a native plan made before that is renewed, since a final
    type's instances are made natively."""
    info = own_stginfo(cls)
    if info is None:
        return
    info.flags |= DICTFLAG_FINAL
    plan = cls.__dict__.get("_rawffi_plan_")
    if plan is not None and not plan.final:
        update_native_plan(cls, info)


class PyCStructType(_StructUnionType):
    """metatype for the CData Objects"""

    # in the class's own dict, as CPython's: where the type data is made
    if versions.TYPE_DATA_IN_INIT:
        __init__ = _StructUnionType.__init__
    else:
        __new__ = _StructUnionType.__new__
    __setattr__ = _StructUnionType.__setattr__
    __delattr__ = _StructUnionType.__delattr__


class _SameInBothByteOrders:
    """``U.__ctype_be__`` / ``U.__ctype_le__`` of a union U: U itself.  The
    stdlib's ctypes._endian swaps a field's type through these attributes, and
    3.11's refuses a union field ("This type does not support other endian"),
    as 3.11's refuses every union; CPython 3.12+ accepts a union as it is (its
    members carry their byte order), as a structure.  Not a data descriptor: a
    class's own attribute wins."""

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError("__ctype_be__")
        return obj


class UnionType(_StructUnionType):
    """metatype for the CData Objects"""

    __new__ = _StructUnionType.__new__
    __setattr__ = _StructUnionType.__setattr__
    __delattr__ = _StructUnionType.__delattr__
    __ctype_be__ = __ctype_le__ = _SameInBothByteOrders()


# ---------------------------------------------------------------- instances

def _cdata_new(cls, *args, **kwargs):
    """CPython's GenericPyCData_new: a zeroed instance; the type becomes final."""
    if own_stginfo(cls) is None:
        raise TypeError("abstract class")
    _finalize(cls)
    return raw.new_instance(cls)


def _struct_init(self, *args, **kwargs):
    """Positional arguments fill the fields in order, base class fields first;
    keyword arguments set attributes by name (CPython's Struct_init)."""
    if args:
        names = own_stginfo(type(self)).extra
        names = names.init_names if names is not None else ()
        for name, value in zip(names, args):
            if name in kwargs:
                raise TypeError("duplicate values for field %r" % (name,))
            setattr(self, name, value)
        if len(args) > len(names):
            raise TypeError("too many initializers")
    for name, value in kwargs.items():
        setattr(self, name, value)


class Structure(_CData, *native_bases("StructBase"), metaclass=PyCStructType):
    """Structure base class"""

    __slots__ = ()
    __new__ = _cdata_new
    __init__ = _struct_init


class Union(_CData, *native_bases("StructBase"), metaclass=UnionType):
    """Union base class"""

    __slots__ = ()
    __new__ = _cdata_new
    __init__ = _struct_init


_bootstrapping = False

for _cls in (PyCStructType, UnionType, Structure, Union):
    _cls.__module__ = "_ctypes"
del _cls
