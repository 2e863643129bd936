// ffitypes.cpp: FFIType: type codes to libffi's simple ffi_types, and owned struct ffi_types.
#include "ffitypes.h"
#include "module.h"

#include <climits>
#include <cstddef>
#include <cwchar>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace rawffi {

PyTypeObject *FFIType_Type = nullptr;

namespace {

// What an FFIType owns when it describes a struct: the ffi_type itself, its
// NULL-terminated element array and the member offsets libffi computed.
struct StructData {
    ffi_type type{};
    std::vector<ffi_type *> elements;
    std::vector<size_t> offsets;
};

struct FFITypeObject {
    PyObject_HEAD
    ffi_type *type;                     // &ffi_type_xxx, or &owned->type
    StructData *owned;                  // struct types only (new/delete)
    PyObject *elements;                 // struct types: tuple of the element FFITypes, else NULL
    PyObject *offsets;                  // struct types: tuple of offsets, else NULL
    int code;                           // simple types: the type code, else 0
};

FFITypeObject *as_ft(PyObject *o) { return reinterpret_cast<FFITypeObject *>(o); }

// The ffi_type of an integer C type T, from its real size and signedness.
template <class T>
ffi_type *int_type() {
    static_assert(std::is_integral_v<T>);
    constexpr bool s = std::is_signed_v<T>;
    if constexpr (sizeof(T) == 1) return s ? &ffi_type_sint8 : &ffi_type_uint8;
    else if constexpr (sizeof(T) == 2) return s ? &ffi_type_sint16 : &ffi_type_uint16;
    else if constexpr (sizeof(T) == 4) return s ? &ffi_type_sint32 : &ffi_type_uint32;
    else {
        static_assert(sizeof(T) == 8, "unsupported integer size");
        return s ? &ffi_type_sint64 : &ffi_type_uint64;
    }
}

struct CodeRow { char code; ffi_type *type; };

const CodeRow code_table[] = {
    {'b', int_type<signed char>()},   {'B', int_type<unsigned char>()},
    {'h', int_type<short>()},         {'H', int_type<unsigned short>()},
    {'i', int_type<int>()},           {'I', int_type<unsigned int>()},
    {'l', int_type<long>()},          {'L', int_type<unsigned long>()},
    {'q', int_type<long long>()},     {'Q', int_type<unsigned long long>()},
    {'f', &ffi_type_float},           {'d', &ffi_type_double},
    {'g', &ffi_type_longdouble},      {'?', int_type<unsigned char>()},
    {'c', int_type<char>()},          {'u', int_type<wchar_t>()},
    {'z', &ffi_type_pointer},         {'Z', &ffi_type_pointer},
    {'P', &ffi_type_pointer},         {'O', &ffi_type_pointer},
    {'v', &ffi_type_void},
};
static_assert(sizeof(bool) == 1, "'?' is mapped to an 8-bit type");

// The shared simple FFITypes by type code (ASCII), made once and never freed
// (they outlive every user, including module teardown).
PyObject *shared[128] = {};

PyObject *new_simple(PyTypeObject *tp, const CodeRow &row) {
    PyObject *o = check(tp->tp_alloc(tp, 0));
    FFITypeObject *self = as_ft(o);
    self->type = row.type;
    self->owned = nullptr;
    self->elements = nullptr;
    self->offsets = nullptr;
    self->code = row.code;
    return o;
}

void ft_dealloc(PyObject *o) {
    FFITypeObject *self = as_ft(o);
    PyTypeObject *tp = Py_TYPE(o);
    delete self->owned;
    Ref::steal(self->elements).reset();
    Ref::steal(self->offsets).reset();
    tp->tp_free(o);
    Py_DECREF(tp);  // heap type: each instance holds a reference to it
}

PyObject *ft_for_code(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        if (!PyUnicode_Check(arg) || PyUnicode_GetLength(arg) != 1)
            raise(PyExc_TypeError, "FFIType.for_code() takes a one-character str");
        Py_UCS4 c = PyUnicode_ReadChar(arg, 0);
        PyObject *t = check(ffitype_for_code(c < 128 ? static_cast<int>(c) : -1));
        return Ref::borrow(t).release();
    });
}

// struct(elements, size=0, alignment=0).  With a size (and alignment), the
// struct keeps them instead of the layout libffi gives its elements: libffi
// lays out only a struct whose size is 0, so it then passes the type with that
// size and alignment, and the elements only decide how it is classified (a
// packed structure that must go in memory, or whose SSE data does not add up
// to its size).
PyObject *ft_struct(PyObject *, PyObject *args, PyObject *kwargs) {
    return guard([&]() -> PyObject * {
        static const char *names[] = {"elements", "size", "alignment", nullptr};
        PyObject *arg;
        Py_ssize_t size = 0, alignment = 0;
        if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|nn:struct", const_cast<char **>(names), &arg,
                                         &size, &alignment))
            throw_if_error();
        if (size < 0 || alignment < 0 || (size == 0) != (alignment == 0) ||
            (alignment & (alignment - 1)) != 0 || alignment > USHRT_MAX)
            raise(PyExc_ValueError, "struct(): size and alignment are given together, "
                                    "size > 0 and alignment a power of 2");
        Ref seq = check_new(PySequence_Tuple(arg));
        Py_ssize_t n = PyTuple_GET_SIZE(seq.get());
        if (n == 0)
            raise(PyExc_ValueError, "a struct FFIType needs at least one element "
                                    "(libffi cannot describe empty structs)");
        auto data = std::make_unique<StructData>();
        data->elements.reserve(static_cast<size_t>(n) + 1);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *e = PyTuple_GET_ITEM(seq.get(), i);
            if (!is_ffitype(e)) {
                PyErr_Format(PyExc_TypeError, "struct element %zd must be an FFIType, not %.200s",
                             i, Py_TYPE(e)->tp_name);
                throw_if_error();
            }
            ffi_type *et = ffitype_get(e);
            if (et->type == FFI_TYPE_VOID) {
                PyErr_Format(PyExc_TypeError, "struct element %zd is void", i);
                throw_if_error();
            }
            data->elements.push_back(et);
        }
        data->elements.push_back(nullptr);
        data->offsets.resize(static_cast<size_t>(n));
        data->type.size = 0;
        data->type.alignment = 0;
        data->type.type = FFI_TYPE_STRUCT;
        data->type.elements = data->elements.data();
        ffi_status st = ffi_get_struct_offsets(FFI_DEFAULT_ABI, &data->type, data->offsets.data());
        if (st != FFI_OK) {
            PyErr_Format(PyExc_RuntimeError, "ffi_get_struct_offsets failed: %s", ffi_status_name(st));
            throw_if_error();
        }
        if (size) {
            data->type.size = static_cast<size_t>(size);
            data->type.alignment = static_cast<unsigned short>(alignment);
        }
        Ref offsets = check_new(PyTuple_New(n));
        for (Py_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM(offsets.get(), i,
                             check(PyLong_FromSize_t(data->offsets[static_cast<size_t>(i)])));
        PyObject *o = check(FFIType_Type->tp_alloc(FFIType_Type, 0));
        FFITypeObject *self = as_ft(o);
        self->owned = data.release();
        self->type = &self->owned->type;
        self->elements = seq.release();
        self->offsets = offsets.release();
        self->code = 0;
        return o;
    });
}

PyObject *ft_get_size(PyObject *o, void *) { return PyLong_FromSize_t(as_ft(o)->type->size); }
PyObject *ft_get_alignment(PyObject *o, void *) { return PyLong_FromLong(as_ft(o)->type->alignment); }
PyObject *ft_get_kind(PyObject *o, void *) { return PyLong_FromLong(as_ft(o)->type->type); }
PyObject *ft_get_or_none(PyObject *v) { return Ref::borrow(v ? v : Py_None).release(); }
PyObject *ft_get_offsets(PyObject *o, void *) { return ft_get_or_none(as_ft(o)->offsets); }
PyObject *ft_get_elements(PyObject *o, void *) { return ft_get_or_none(as_ft(o)->elements); }
PyObject *ft_get_code(PyObject *o, void *) {
    int c = as_ft(o)->code;
    if (!c) Py_RETURN_NONE;
    char s[1] = {static_cast<char>(c)};
    return PyUnicode_FromStringAndSize(s, 1);
}

PyObject *ft_repr(PyObject *o) {
    FFITypeObject *self = as_ft(o);
    if (self->code)
        return PyUnicode_FromFormat("<FFIType '%c' size=%zu align=%u>", self->code,
                                    self->type->size, unsigned(self->type->alignment));
    return PyUnicode_FromFormat("<FFIType struct(%zd elements) size=%zu align=%u>",
                                PyTuple_GET_SIZE(self->elements), self->type->size,
                                unsigned(self->type->alignment));
}

PyMethodDef ft_methods[] = {
    {"for_code", ft_for_code, METH_O | METH_STATIC,
     "for_code(code) -> the shared simple FFIType of a type code (including 'v')."},
    {"struct", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(ft_struct)),
     METH_VARARGS | METH_KEYWORDS | METH_STATIC,
     "struct(elements, size=0, alignment=0) -> a new FFI_TYPE_STRUCT of these FFITypes, in order;\n"
     "with a size and alignment, libffi uses those instead of laying out the elements."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef ft_getset[] = {
    {"size", ft_get_size, nullptr, "size in bytes, as libffi computes it", nullptr},
    {"alignment", ft_get_alignment, nullptr, "alignment in bytes, as libffi computes it", nullptr},
    {"kind", ft_get_kind, nullptr, "the FFI_TYPE_* number", nullptr},
    {"offsets", ft_get_offsets, nullptr, "struct types: member offsets (tuple); else None", nullptr},
    {"elements", ft_get_elements, nullptr, "struct types: the element FFITypes (tuple); else None", nullptr},
    {"code", ft_get_code, nullptr, "simple types: the type code; else None", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot ft_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void *>(ft_dealloc)},
    {Py_tp_repr, reinterpret_cast<void *>(ft_repr)},
    {Py_tp_methods, ft_methods},
    {Py_tp_getset, ft_getset},
    {Py_tp_doc, const_cast<char *>("A libffi ffi_type; make with FFIType.for_code() or FFIType.struct().")},
    {0, nullptr},
};

PyType_Spec ft_spec = {
    "pyctypes._rawffi.FFIType", sizeof(FFITypeObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE, ft_slots,
};

}  // namespace

bool is_ffitype(PyObject *o) noexcept { return Py_IS_TYPE(o, FFIType_Type); }

ffi_type *ffitype_get(PyObject *o) noexcept { return as_ft(o)->type; }

PyObject *ffitype_for_code(int code) noexcept {
    if (code >= 0 && code < 128 && shared[code]) [[likely]]
        return shared[code];
    PyErr_Format(PyExc_ValueError, "unknown type code %R",
                 Ref::steal(PyUnicode_FromOrdinal(code < 0 ? 0xFFFD : code)).get());
    return nullptr;
}

const char *ffi_status_name(ffi_status status) noexcept {
    switch (status) {
    case FFI_OK: return "FFI_OK";
    case FFI_BAD_TYPEDEF: return "FFI_BAD_TYPEDEF";
    case FFI_BAD_ABI: return "FFI_BAD_ABI";
    case FFI_BAD_ARGTYPE: return "FFI_BAD_ARGTYPE";
    }
    return "unknown ffi_status";
}

int init_ffitypes(PyObject *module) {
    return guard_int([&] {
        if (!FFIType_Type) {
            FFIType_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&ft_spec)));
            for (const CodeRow &row : code_table)
                shared[static_cast<unsigned char>(row.code)] = new_simple(FFIType_Type, row);
        }
        if (PyModule_AddType(module, FFIType_Type) < 0) throw_if_error();
        return 0;
    });
}

}  // namespace rawffi
