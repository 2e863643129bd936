// helpers.cpp: errno, memmove/memset addresses, string_at/wstring_at/cast, and reference helpers.
#include "helpers.h"
#include "module.h"

#include <cstdint>
#include <cstring>
#include <cwchar>

namespace rawffi {

namespace {

thread_local int ctypes_errno = 0;

// The Python callable implementing ctypes.cast (set_cast_hook).  Deliberately
// never freed: C code may call cast_addr until the process ends.
Ref &cast_hook() {
    static Ref *hook = new Ref();
    return *hook;
}

PyObject *addr_object(void *p) { return PyLong_FromVoidPtr(p); }

void *address_arg(PyObject *o) {
    void *p = PyLong_AsVoidPtr(o);
    if (!p && PyErr_Occurred()) throw_if_error();
    return p;
}

PyObject *h_get_errno(PyObject *, PyObject *) { return PyLong_FromLong(ctypes_errno); }

PyObject *h_set_errno(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        int overflow = 0;
        long v = PyLong_AsLongAndOverflow(arg, &overflow);
        if (v == -1 && PyErr_Occurred()) throw_if_error();
        if (overflow || v < INT32_MIN || v > INT32_MAX) raise(PyExc_OverflowError, "errno value out of range for C int");
        int old = ctypes_errno;
        ctypes_errno = static_cast<int>(v);
        return PyLong_FromLong(old);
    });
}

PyObject *h_set_cast_hook(PyObject *, PyObject *arg) {
    if (arg != Py_None && !PyCallable_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "the cast hook must be callable (or None)");
        return nullptr;
    }
    cast_hook() = Ref::borrow(arg == Py_None ? nullptr : arg);
    Py_RETURN_NONE;
}

PyObject *h_incref(PyObject *, PyObject *arg) {
    Ref extra = Ref::borrow(arg);
    (void)extra.release();  // the extra reference is the point of this function
    return Ref::borrow(arg).release();
}

PyObject *h_decref(PyObject *, PyObject *arg) {
    // Drop one reference owned by the caller's C code; the returned object
    // carries the argument's reference (the caller's call keeps it alive).
    Ref result = Ref::borrow(arg);
    Ref::steal(arg).reset();
    return result.release();
}

PyObject *h_from_ptr(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        auto *o = static_cast<PyObject *>(address_arg(arg));
        if (!o) raise(PyExc_ValueError, "PyObj_FromPtr: NULL address");
        return Ref::borrow(o).release();
    });
}

PyObject *h_take_object(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        auto *slot = static_cast<PyObject **>(address_arg(arg));
        if (!slot) raise(PyExc_ValueError, "take_object: NULL address");
        PyObject *o;
        std::memcpy(&o, slot, sizeof o);
        if (!o) raise(PyExc_ValueError, "PyObject is NULL");
        return Ref::steal(o).release();
    });
}

// sequence_length(obj): PySequence_Size, the length C code asks of a "sequence"
// (a type with the sequence protocol's length: a dict has none).
PyObject *h_sequence_length(PyObject *, PyObject *arg) {
    Py_ssize_t n = PySequence_Size(arg);
    return n < 0 ? nullptr : PyLong_FromSsize_t(n);
}

// seal(cls, disallow_instantiation): cls's attributes can no longer be set or
// deleted (Py_TPFLAGS_IMMUTABLETYPE), as those of CPython's C types (the
// classes of _ctypes are); the second flag marks a type made uncallable by its
// own __new__, as CPython's _CData and CField are.  Subclasses are not sealed.
PyObject *h_seal(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyType_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "seal(cls, disallow_instantiation)");
        return nullptr;
    }
    int disallow = PyObject_IsTrue(args[1]);
    if (disallow < 0) return nullptr;
    auto *type = reinterpret_cast<PyTypeObject *>(args[0]);
    type->tp_flags |= Py_TPFLAGS_IMMUTABLETYPE;
    if (disallow) type->tp_flags |= Py_TPFLAGS_DISALLOW_INSTANTIATION;
    PyType_Modified(type);
    Py_RETURN_NONE;
}

PyMethodDef helper_methods[] = {
    {"seal", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(h_seal)), METH_FASTCALL,
     "seal(cls, disallow_instantiation): cls becomes immutable (Py_TPFLAGS_IMMUTABLETYPE)."},
    {"get_errno", h_get_errno, METH_NOARGS, "get_errno() -> the calling thread's private ctypes errno."},
    {"set_errno", h_set_errno, METH_O, "set_errno(value) -> set the private ctypes errno; return the old value."},
    {"set_cast_hook", h_set_cast_hook, METH_O,
     "set_cast_hook(hook): hook(address, src, ctype) implements the C function at cast_addr."},
    {"Py_INCREF", h_incref, METH_O, "Py_INCREF(obj) -> obj, with one more reference."},
    {"Py_DECREF", h_decref, METH_O, "Py_DECREF(obj) -> obj, with one reference less."},
    {"PyObj_FromPtr", h_from_ptr, METH_O, "PyObj_FromPtr(address) -> the object at address (new reference)."},
    {"sequence_length", h_sequence_length, METH_O,
     "sequence_length(obj) -> PySequence_Size(obj): TypeError for an object without a sequence length."},
    {"take_object", h_take_object, METH_O,
     "take_object(address) -> the PyObject* stored at address, stealing its reference."},
    {nullptr, nullptr, 0, nullptr},
};

int add_address(PyObject *module, const char *name, void *p) {
    Ref v = check_new(PyLong_FromVoidPtr(p));
    return PyModule_AddObjectRef(module, name, v.get());
}

template <class F>
void *fn_address(F *f) { return reinterpret_cast<void *>(f); }

}  // namespace

int &private_errno() noexcept { return ctypes_errno; }

int init_helpers(PyObject *module) {
    return guard_int([&] {
        if (PyModule_AddFunctions(module, helper_methods) < 0) throw_if_error();
        void *(*mm)(void *, const void *, size_t) = std::memmove;
        void *(*ms)(void *, int, size_t) = std::memset;
        if (add_address(module, "memmove_addr", fn_address(mm)) < 0 ||
            add_address(module, "memset_addr", fn_address(ms)) < 0 ||
            add_address(module, "checked_memmove_addr", fn_address(&rawffi_memmove)) < 0 ||
            add_address(module, "checked_memset_addr", fn_address(&rawffi_memset)) < 0 ||
            add_address(module, "string_at_addr", fn_address(&rawffi_string_at)) < 0 ||
            add_address(module, "wstring_at_addr", fn_address(&rawffi_wstring_at)) < 0 ||
            add_address(module, "cast_addr", fn_address(&rawffi_cast)) < 0)
            throw_if_error();
        return 0;
    });
}

}  // namespace rawffi

extern "C" PyObject *rawffi_string_at(const char *ptr, int size) {
    using namespace rawffi;
    return guard([&]() -> PyObject * {
        // reading 0 bytes is no access: b'' for NULL too, as CPython
        if (size == 0) return PyBytes_FromStringAndSize(nullptr, 0);
        if (!ptr) raise(PyExc_ValueError, "string_at: NULL pointer");
        Py_ssize_t n = size == -1 ? static_cast<Py_ssize_t>(std::strlen(ptr)) : size;
        // CPython's text and class (PyBytes_FromStringAndSize's own check)
        if (n < 0) raise(PyExc_SystemError, "Negative size passed to PyBytes_FromStringAndSize");
        return PyBytes_FromStringAndSize(ptr, n);
    });
}

extern "C" PyObject *rawffi_wstring_at(const wchar_t *ptr, int size) {
    using namespace rawffi;
    return guard([&]() -> PyObject * {
        if (size == 0) return PyUnicode_New(0, 0);     // as string_at
        if (!ptr) raise(PyExc_ValueError, "wstring_at: NULL pointer");
        Py_ssize_t n = size == -1 ? static_cast<Py_ssize_t>(std::wcslen(ptr)) : size;
        if (n < 0) raise(PyExc_SystemError, "Negative size passed to PyUnicode_New");
        return PyUnicode_FromWideChar(ptr, n);
    });
}

extern "C" PyObject *rawffi_cast(void *ptr, PyObject *src, PyObject *ctype) {
    using namespace rawffi;
    return guard([&]() -> PyObject * {
        Ref hook = cast_hook();  // a strong reference for the duration of the call
        if (!hook) raise(PyExc_RuntimeError, "pyctypes: no cast hook set (set_cast_hook)");
        Ref address = check_new(addr_object(ptr));
        return PyObject_CallFunctionObjArgs(hook.get(), address.get(), src ? src : Py_None,
                                            ctype ? ctype : Py_None, nullptr);
    });
}

// memmove and memset for the stdlib's ctypes.memmove / ctypes.memset, which the
// Python level rebinds to these through PYFUNCTYPE (the GIL held): a NULL address
// with a size above 0 raises ValueError, where C's functions crash (and CPython
// with them).  Large blocks are copied without the GIL, as a CFUNCTYPE call would.
namespace {
constexpr size_t kWithoutGilFrom = 64 * 1024;

// op() on a block of size bytes, the GIL released for a large one; returns dst.
template <class Op>
void *block_op(void *dst, size_t size, Op &&op) {
    if (size < kWithoutGilFrom) {
        op();
        return dst;
    }
    Py_BEGIN_ALLOW_THREADS
    op();
    Py_END_ALLOW_THREADS
    return dst;
}
}  // namespace

extern "C" void *rawffi_memmove(void *dst, const void *src, size_t size) {
    if (size == 0) return dst;
    if (!dst || !src) {
        PyErr_SetString(PyExc_ValueError, "memmove: NULL pointer");
        return nullptr;
    }
    return block_op(dst, size, [&] { std::memmove(dst, src, size); });
}

extern "C" void *rawffi_memset(void *dst, int byte, size_t size) {
    if (size == 0) return dst;
    if (!dst) {
        PyErr_SetString(PyExc_ValueError, "memset: NULL pointer");
        return nullptr;
    }
    return block_op(dst, size, [&] { std::memset(dst, byte, size); });
}
