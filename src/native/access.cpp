// access.cpp: load/store of every type code (native and byte-swapped), bitfields, and raw
// memory functions (read, write, memmove, memset, strlen, wide-char helpers).
#include "access.h"
#include "memory.h"
#include "module.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <cwchar>
#include <type_traits>
#include <vector>

namespace rawffi {
namespace {

// ---------------------------------------------------------------- raw access
// Every access goes through memcpy: any alignment is fine.
template <class T>
T load_raw(const void *p, bool swapped) noexcept {
    unsigned char b[sizeof(T)];
    std::memcpy(b, p, sizeof(T));
    if (swapped) std::reverse(b, b + sizeof(T));
    T v;
    std::memcpy(&v, b, sizeof(T));
    return v;
}

template <class T>
void store_raw(void *p, T v, bool swapped) noexcept {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (swapped) std::reverse(b, b + sizeof(T));
    std::memcpy(p, b, sizeof(T));
}

// ---------------------------------------------------------------- conversions
// The bits of an integer value, wrapped to 64 bits (any __index__ object).
unsigned long long int_bits(PyObject *v) {
    Ref index;
    if (!PyLong_Check(v)) [[unlikely]] {
        index = check_new(PyNumber_Index(v));
        v = index.get();
    }
    unsigned long long x = PyLong_AsUnsignedLongLongMask(v);
    if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    return x;
}

double float_value(PyObject *v) {
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    return d;
}

// An address stored by z/Z/P from an int: wrapped to pointer width.
template <class P>
P int_pointer(PyObject *v) {
    return reinterpret_cast<P>(static_cast<uintptr_t>(int_bits(v)));
}

// Each codec: `type` is what is stored in memory; to_py makes the Python value
// (new reference or NULL); from_py converts a Python value, setting keep to
// what must stay alive (throws PyErrorSet).
template <class T>
struct IntCodec {
    using type = T;
    static PyObject *to_py(T v) {
        if constexpr (std::is_signed_v<T>) return PyLong_FromLongLong(v);
        else return PyLong_FromUnsignedLongLong(v);
    }
    static T from_py(PyObject *v, Ref &) { return static_cast<T>(int_bits(v)); }
};

template <class T>
struct FloatCodec {
    using type = T;
    static PyObject *to_py(T v) { return PyFloat_FromDouble(static_cast<double>(v)); }
    static T from_py(PyObject *v, Ref &) { return static_cast<T>(float_value(v)); }
};

struct BoolCodec {
    using type = unsigned char;  // read as a byte: any nonzero byte is True
    static PyObject *to_py(unsigned char v) { return PyBool_FromLong(v != 0); }
    static unsigned char from_py(PyObject *v, Ref &) {
        int t = PyObject_IsTrue(v);
        if (t < 0) throw PyErrorSet{};
        return static_cast<unsigned char>(t);
    }
};

struct CharCodec {
    using type = char;
    static PyObject *to_py(char v) { return PyBytes_FromStringAndSize(&v, 1); }
    static char from_py(PyObject *v, Ref &) {
        if (PyBytes_Check(v) && PyBytes_GET_SIZE(v) == 1) return PyBytes_AS_STRING(v)[0];
        if (PyByteArray_Check(v) && PyByteArray_GET_SIZE(v) == 1) return PyByteArray_AS_STRING(v)[0];
        if (PyLong_Check(v)) {
            int overflow;
            long x = PyLong_AsLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred()) throw PyErrorSet{};
            if (!overflow && x >= 0 && x < 256) return static_cast<char>(x);
        }
        raise(PyExc_TypeError, "one character bytes, bytearray or integer expected");
    }
};

struct WcharCodec {
    using type = wchar_t;
    static PyObject *to_py(wchar_t v) { return PyUnicode_FromWideChar(&v, 1); }
    static wchar_t from_py(PyObject *v, Ref &) {
        if (!PyUnicode_Check(v))
            raise_fmt(PyExc_TypeError, "unicode string expected instead of %.200s instance",
                      Py_TYPE(v)->tp_name);
        wchar_t w[2];
        Py_ssize_t n = PyUnicode_AsWideChar(v, w, 2);
        if (n < 0) throw PyErrorSet{};
        if (n != 1) raise(PyExc_TypeError, "one character unicode string expected");
        return w[0];
    }
};

struct CharPtrCodec {
    using type = char *;
    static PyObject *to_py(char *v) { return v ? PyBytes_FromString(v) : Py_NewRef(Py_None); }
    static char *from_py(PyObject *v, Ref &keep) {
        if (v == Py_None) return nullptr;
        if (PyBytes_Check(v)) {
            keep = Ref::borrow(v);
            return PyBytes_AS_STRING(v);
        }
        if (PyLong_Check(v)) return int_pointer<char *>(v);
        raise_fmt(PyExc_TypeError, "bytes or integer address expected instead of %.200s instance",
                  Py_TYPE(v)->tp_name);
    }
};

struct WcharPtrCodec {
    using type = wchar_t *;
    static PyObject *to_py(wchar_t *v) {
        return v ? PyUnicode_FromWideChar(v, -1) : Py_NewRef(Py_None);
    }
    static wchar_t *from_py(PyObject *v, Ref &keep) {
        if (v == Py_None) return nullptr;
        if (PyUnicode_Check(v)) {
            // The keep-alive is a bytes object holding the NUL-terminated wchar_t
            // string: its buffer never moves and is aligned well enough.
            Py_ssize_t n = PyUnicode_AsWideChar(v, nullptr, 0);  // includes the NUL
            if (n < 0) throw PyErrorSet{};
            keep = check_new(PyBytes_FromStringAndSize(nullptr, n * static_cast<Py_ssize_t>(sizeof(wchar_t))));
            auto *w = reinterpret_cast<wchar_t *>(PyBytes_AS_STRING(keep.get()));
            if (PyUnicode_AsWideChar(v, w, n) < 0) throw PyErrorSet{};
            w[n - 1] = L'\0';
            return w;
        }
        if (PyLong_Check(v)) return int_pointer<wchar_t *>(v);
        raise_fmt(PyExc_TypeError, "unicode string or integer address expected instead of %.200s instance",
                  Py_TYPE(v)->tp_name);
    }
};

struct VoidPtrCodec {
    using type = void *;
    static PyObject *to_py(void *v) { return v ? PyLong_FromVoidPtr(v) : Py_NewRef(Py_None); }
    static void *from_py(PyObject *v, Ref &) {
        if (v == Py_None) return nullptr;
        if (!PyLong_Check(v)) raise(PyExc_TypeError, "cannot be converted to pointer");
        return int_pointer<void *>(v);
    }
};

struct ObjectCodec {
    using type = PyObject *;
    static PyObject *to_py(PyObject *v) {
        if (!v) {
            PyErr_SetString(PyExc_ValueError, "PyObject is NULL");
            return nullptr;
        }
        return Py_NewRef(v);
    }
    // Stores the pointer without a reference: the returned keep-alive holds it.
    static PyObject *from_py(PyObject *v, Ref &keep) {
        keep = Ref::borrow(v);
        return v;
    }
};

// ---------------------------------------------------------------- the table
template <class Codec>
PyObject *load_fn(const void *p, bool swapped) noexcept {
    return guard([&] { return Codec::to_py(load_raw<typename Codec::type>(p, swapped)); });
}

template <class Codec>
PyObject *store_fn(void *p, PyObject *value, bool swapped) noexcept {
    return guard([&] {
        Ref keep;
        auto v = Codec::from_py(value, keep);
        store_raw(p, v, swapped);
        return keep ? keep.release() : Py_NewRef(Py_None);
    });
}

// Not noexcept: a noexcept function cannot end in a tail call to the C API (the
// compiler must keep a frame to call std::terminate), and loads throw nothing.
template <class Codec, bool Swapped>
PyObject *load_as(const void *p) {
    return Codec::to_py(load_raw<typename Codec::type>(p, Swapped));
}

template <class Codec, bool Swapped>
PyObject *store_as(void *p, PyObject *value) noexcept {
    try {
        Ref keep;
        auto v = Codec::from_py(value, keep);
        store_raw(p, v, Swapped);
        return keep ? keep.release() : Py_NewRef(Py_None);
    } catch (PyErrorSet &) {
        return nullptr;
    } catch (std::bad_alloc &) {
        return PyErr_NoMemory();
    }
}

// One row: C type C (for size and alignment) handled by Codec.
// Byte-swapped forms exist, as in CPython, for the integers, float and double
// (and trivially for the 1-byte codes).
template <class C, class Codec>
constexpr CodeInfo row(char code, BitKind bits = BitKind::None) {
    static_assert(sizeof(C) == sizeof(typename Codec::type));
    constexpr bool swappable = sizeof(C) == 1 || std::is_same_v<Codec, IntCodec<C>> ||
                               std::is_same_v<C, float> || std::is_same_v<C, double>;
    return CodeInfo{code, swappable, bits, sizeof(C), alignof(C), load_fn<Codec>, store_fn<Codec>,
                    {load_as<Codec, false>, load_as<Codec, true>},
                    {store_as<Codec, false>, store_as<Codec, true>}};
}

template <class T>
constexpr CodeInfo int_row(char code) {
    return row<T, IntCodec<T>>(code, std::is_signed_v<T> ? BitKind::Signed : BitKind::Unsigned);
}

constexpr CodeInfo kCodes[] = {
    int_row<signed char>('b'),
    int_row<unsigned char>('B'),
    int_row<short>('h'),
    int_row<unsigned short>('H'),
    int_row<int>('i'),
    int_row<unsigned int>('I'),
    int_row<long>('l'),
    int_row<unsigned long>('L'),
    int_row<long long>('q'),
    int_row<unsigned long long>('Q'),
    row<float, FloatCodec<float>>('f'),
    row<double, FloatCodec<double>>('d'),
    row<long double, FloatCodec<long double>>('g'),
    row<bool, BoolCodec>('?', BitKind::Bool),
    row<char, CharCodec>('c'),
    row<wchar_t, WcharCodec>('u'),
    row<char *, CharPtrCodec>('z'),
    row<wchar_t *, WcharPtrCodec>('Z'),
    row<void *, VoidPtrCodec>('P'),
    row<PyObject *, ObjectCodec>('O'),
};

constexpr std::array<signed char, 128> kIndex = [] {
    std::array<signed char, 128> index{};
    index.fill(-1);
    for (size_t i = 0; i < std::size(kCodes); i++) index[static_cast<unsigned char>(kCodes[i].code)] = static_cast<signed char>(i);
    return index;
}();

// ---------------------------------------------------------------- argument helpers
const CodeInfo &to_code(PyObject *o) {
    if (!PyUnicode_Check(o)) [[unlikely]]
        raise_fmt(PyExc_TypeError, "type code must be a str, not %.200s", Py_TYPE(o)->tp_name);
    const CodeInfo *info = find_code(o);
    if (!info) [[unlikely]] raise_fmt(PyExc_ValueError, "unknown type code %R", o);
    return *info;
}

bool to_swapped(const CodeInfo &info, PyObject *o) {
    if (!o) return false;
    int t = PyObject_IsTrue(o);
    if (t < 0) throw PyErrorSet{};
    if (t && !info.swappable) [[unlikely]]
        raise_fmt(PyExc_ValueError, "type code '%c' has no byte-swapped form", info.code);
    return t;
}

// ---------------------------------------------------------------- bitfields
// The storage unit of an integer code, as an unsigned 64-bit value.
unsigned long long load_unit(const CodeInfo &info, const void *p, bool swapped) noexcept {
    switch (info.size) {
    case 1: return load_raw<uint8_t>(p, false);
    case 2: return load_raw<uint16_t>(p, swapped);
    case 4: return load_raw<uint32_t>(p, swapped);
    default: return load_raw<uint64_t>(p, swapped);
    }
}

void store_unit(const CodeInfo &info, void *p, unsigned long long v, bool swapped) noexcept {
    switch (info.size) {
    case 1: store_raw(p, static_cast<uint8_t>(v), false); return;
    case 2: store_raw(p, static_cast<uint16_t>(v), swapped); return;
    case 4: store_raw(p, static_cast<uint32_t>(v), swapped); return;
    default: store_raw(p, static_cast<uint64_t>(v), swapped); return;
    }
}

struct BitArgs {
    const CodeInfo *info;
    void *address;
    int offset, width;
    bool swapped;
    unsigned long long mask() const noexcept { return width == 64 ? ~0ULL : (1ULL << width) - 1; }
};

BitArgs bit_args(PyObject *code, PyObject *address, PyObject *offset, PyObject *width, PyObject *swapped) {
    const CodeInfo &info = to_code(code);
    if (info.bits == BitKind::None)
        raise_fmt(PyExc_ValueError, "bit fields need an integer type code, not '%c'", info.code);
    Py_ssize_t off = to_ssize(offset), w = to_ssize(width), nbits = info.size * 8;
    if (off < 0 || w < 1 || off >= nbits || w > nbits - off)
        raise_fmt(PyExc_ValueError, "bit field of offset %zd and width %zd does not fit in type code '%c'",
                  off, w, info.code);
    return BitArgs{&info, to_address(address), static_cast<int>(off), static_cast<int>(w),
                   to_swapped(info, swapped)};
}

// ---------------------------------------------------------------- functions
PyObject *fn_sizeof_code(PyObject *, PyObject *code) {
    return guard([&] { return PyLong_FromSsize_t(to_code(code).size); });
}

PyObject *fn_alignof_code(PyObject *, PyObject *code) {
    return guard([&] { return PyLong_FromSsize_t(to_code(code).align); });
}

PyObject *fn_load(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"code", "address", "swapped"};
        PyObject *a[3];
        parse_args("load", args, nargs, kwnames, names, 3, 2, a);
        const CodeInfo &info = to_code(a[0]);
        void *p = to_address(a[1]);
        return info.load(p, to_swapped(info, a[2]));
    });
}

PyObject *fn_store(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"code", "address", "value", "swapped"};
        PyObject *a[4];
        parse_args("store", args, nargs, kwnames, names, 4, 3, a);
        const CodeInfo &info = to_code(a[0]);
        void *p = to_address(a[1]);
        return info.store(p, a[2], to_swapped(info, a[3]));
    });
}

PyObject *fn_load_bits(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"code", "address", "bit_offset", "bit_width", "swapped"};
        PyObject *a[5];
        parse_args("load_bits", args, nargs, kwnames, names, 5, 4, a);
        BitArgs b = bit_args(a[0], a[1], a[2], a[3], a[4]);
        unsigned long long v = (load_unit(*b.info, b.address, b.swapped) >> b.offset) & b.mask();
        switch (b.info->bits) {
        case BitKind::Bool: return PyBool_FromLong(v != 0);
        case BitKind::Signed: {
            unsigned long long sign = 1ULL << (b.width - 1);
            return PyLong_FromLongLong(static_cast<long long>((v ^ sign) - sign));
        }
        default: return PyLong_FromUnsignedLongLong(v);
        }
    });
}

PyObject *fn_store_bits(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"code", "address", "value", "bit_offset", "bit_width",
                                            "swapped"};
        PyObject *a[6];
        parse_args("store_bits", args, nargs, kwnames, names, 6, 5, a);
        BitArgs b = bit_args(a[0], a[1], a[3], a[4], a[5]);
        unsigned long long v;
        if (b.info->bits == BitKind::Bool) {
            int t = PyObject_IsTrue(a[2]);
            if (t < 0) throw PyErrorSet{};
            v = static_cast<unsigned long long>(t);
        } else {
            v = int_bits(a[2]);
        }
        unsigned long long unit = load_unit(*b.info, b.address, b.swapped);
        unit = (unit & ~(b.mask() << b.offset)) | ((v & b.mask()) << b.offset);
        store_unit(*b.info, b.address, unit, b.swapped);
        Py_RETURN_NONE;
    });
}

PyObject *fn_read(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"address", "size"};
        PyObject *a[2];
        parse_args("read", args, nargs, nullptr, names, 2, 2, a);
        void *p = to_address(a[0]);
        return PyBytes_FromStringAndSize(static_cast<const char *>(p), to_size(a[1], "size"));
    });
}

PyObject *fn_write(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"address", "data"};
        PyObject *a[2];
        parse_args("write", args, nargs, nullptr, names, 2, 2, a);
        void *p = to_address(a[0]);
        BufferView view(a[1], PyBUF_FULL_RO);
        if (PyBuffer_ToContiguous(p, view.get(), view->len, 'C') < 0) throw PyErrorSet{};
        Py_RETURN_NONE;
    });
}

PyObject *fn_memmove(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"dst", "src", "size"};
        PyObject *a[3];
        parse_args("memmove", args, nargs, nullptr, names, 3, 3, a);
        void *dst = to_address(a[0]), *src = to_address(a[1]);
        Py_ssize_t n = to_size(a[2], "size");
        if (n > 0) std::memmove(dst, src, n);
        Py_RETURN_NONE;
    });
}

PyObject *fn_memset(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"dst", "byte", "size"};
        PyObject *a[3];
        parse_args("memset", args, nargs, nullptr, names, 3, 3, a);
        void *dst = to_address(a[0]);
        int byte = static_cast<int>(int_bits(a[1]) & 0xff);
        Py_ssize_t n = to_size(a[2], "size");
        if (n > 0) std::memset(dst, byte, n);
        Py_RETURN_NONE;
    });
}

PyObject *fn_strlen(PyObject *, PyObject *address) {
    return guard([&] { return PyLong_FromSize_t(std::strlen(static_cast<const char *>(to_address(address)))); });
}

bool wchar_aligned(const void *p) noexcept { return reinterpret_cast<uintptr_t>(p) % alignof(wchar_t) == 0; }

PyObject *fn_wcslen(PyObject *, PyObject *address) {
    return guard([&] {
        const char *p = static_cast<const char *>(to_address(address));
        if (wchar_aligned(p)) return PyLong_FromSize_t(std::wcslen(reinterpret_cast<const wchar_t *>(p)));
        size_t n = 0;
        while (load_raw<wchar_t>(p + n * sizeof(wchar_t), false) != L'\0') n++;
        return PyLong_FromSize_t(n);
    });
}

PyObject *fn_read_wchars(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"address", "count"};
        PyObject *a[2];
        parse_args("read_wchars", args, nargs, nullptr, names, 2, 2, a);
        void *p = to_address(a[0]);
        Py_ssize_t n = to_size(a[1], "count");
        if (n == 0) return PyUnicode_New(0, 0);
        if (wchar_aligned(p)) return PyUnicode_FromWideChar(static_cast<const wchar_t *>(p), n);
        std::vector<wchar_t> tmp(static_cast<size_t>(n));
        std::memcpy(tmp.data(), p, static_cast<size_t>(n) * sizeof(wchar_t));
        return PyUnicode_FromWideChar(tmp.data(), n);
    });
}

Py_ssize_t wchar_count_of(PyObject *text) {
    if (!PyUnicode_Check(text))
        raise_fmt(PyExc_TypeError, "str expected, not %.200s", Py_TYPE(text)->tp_name);
    Py_ssize_t n = PyUnicode_AsWideChar(text, nullptr, 0);
    if (n < 0) throw PyErrorSet{};
    return n - 1;
}

PyObject *fn_write_wchars(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        static const char *const names[] = {"address", "text", "count"};
        PyObject *a[3];
        parse_args("write_wchars", args, nargs, nullptr, names, 3, 3, a);
        void *p = to_address(a[0]);
        Py_ssize_t n = std::min(wchar_count_of(a[1]), to_size(a[2], "count"));
        // With a size of at most its length, PyUnicode_AsWideChar writes exactly
        // that many wchar_t's and no terminator.
        if (n == 0) Py_RETURN_NONE;
        if (wchar_aligned(p)) {
            if (PyUnicode_AsWideChar(a[1], static_cast<wchar_t *>(p), n) < 0) throw PyErrorSet{};
        } else {
            std::vector<wchar_t> tmp(static_cast<size_t>(n));
            if (PyUnicode_AsWideChar(a[1], tmp.data(), n) < 0) throw PyErrorSet{};
            std::memcpy(p, tmp.data(), static_cast<size_t>(n) * sizeof(wchar_t));
        }
        Py_RETURN_NONE;
    });
}

PyObject *fn_wchar_count(PyObject *, PyObject *text) {
    return guard([&] { return PyLong_FromSsize_t(wchar_count_of(text)); });
}

template <class F>
PyCFunction as_cfunction(F f) { return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)); }

constexpr int FASTCALL = METH_FASTCALL;
constexpr int FASTCALL_KW = METH_FASTCALL | METH_KEYWORDS;

PyMethodDef access_functions[] = {
    {"sizeof_code", fn_sizeof_code, METH_O, "sizeof_code(code): size of the C type of a type code."},
    {"alignof_code", fn_alignof_code, METH_O, "alignof_code(code): alignment of the C type of a type code."},
    {"load", as_cfunction(fn_load), FASTCALL_KW,
     "load(code, address, swapped=False): read the value of type code at address."},
    {"store", as_cfunction(fn_store), FASTCALL_KW,
     "store(code, address, value, swapped=False): write value; return what must be kept alive."},
    {"load_bits", as_cfunction(fn_load_bits), FASTCALL_KW,
     "load_bits(code, address, bit_offset, bit_width, swapped=False): read a bitfield."},
    {"store_bits", as_cfunction(fn_store_bits), FASTCALL_KW,
     "store_bits(code, address, value, bit_offset, bit_width, swapped=False): write a bitfield."},
    {"read", as_cfunction(fn_read), FASTCALL, "read(address, size): bytes at address."},
    {"write", as_cfunction(fn_write), FASTCALL, "write(address, data): copy a buffer to address."},
    {"memmove", as_cfunction(fn_memmove), FASTCALL, "memmove(dst, src, size)"},
    {"memset", as_cfunction(fn_memset), FASTCALL, "memset(dst, byte, size)"},
    {"strlen", fn_strlen, METH_O, "strlen(address)"},
    {"wcslen", fn_wcslen, METH_O, "wcslen(address)"},
    {"read_wchars", as_cfunction(fn_read_wchars), FASTCALL,
     "read_wchars(address, count): count wchar_t's as a str."},
    {"write_wchars", as_cfunction(fn_write_wchars), FASTCALL,
     "write_wchars(address, text, count): at most count wchar_t's of text, no terminator."},
    {"wchar_count", fn_wchar_count, METH_O, "wchar_count(text): wchar_t's needed for text."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

const CodeInfo *find_code(int code) noexcept {
    if (code < 0 || code >= static_cast<int>(kIndex.size()) || kIndex[code] < 0) return nullptr;
    return &kCodes[kIndex[code]];
}

const CodeInfo *find_code(PyObject *code) noexcept {
    if (!PyUnicode_Check(code) || PyUnicode_GET_LENGTH(code) != 1) return nullptr;
    return find_code(static_cast<int>(PyUnicode_READ_CHAR(code, 0)));
}

int init_access(PyObject *module) {
    return PyModule_AddFunctions(module, access_functions);
}

}  // namespace rawffi
