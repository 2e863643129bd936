// metatype.cpp: CDataType, the native base of the ctypes metaclasses: `T * n` finds an
// array type already made in the Python level's cache without running Python code, and
// planned classes are called through construct_vectorcall.
#include "metatype.h"
#include "construct.h"
#include "fallback.h"
#include "module.h"

#include <cstddef>

namespace rawffi {
namespace {

PyObject *g_array_cache = nullptr;  // owned, never freed: array._array_cache

PyTypeObject metatype = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.CDataType";
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "Native base of the ctypes metaclasses: T * n from the array type cache.";
    return t;
}();

// The array type of n items of cls if the cache has it alive (borrowed), else NULL.
PyObject *cached_array_type(PyObject *cls, PyObject *n) {
    if (!g_array_cache || !PyLong_CheckExact(n) || Py_SIZE(n) < 0) return nullptr;
    Ref key = check_new(PyTuple_Pack(2, cls, n));
    // a metaclass's __hash__/__eq__ may run during the lookup (and replace the cache)
    Ref cache = Ref::borrow(g_array_cache);
    PyObject *ref = PyDict_GetItemWithError(cache.get(), key.get());
    if (!ref) {
        if (PyErr_Occurred()) throw PyErrorSet{};
        return nullptr;
    }
    if (!PyWeakref_CheckRef(ref)) return nullptr;
    PyObject *type = PyWeakref_GetObject(ref);
    return type == Py_None ? nullptr : type;
}

// PyObject_TypeCheck(o, &metatype): a ctypes metaclass's MRO ends (..., CDataType,
// type, object), checked first without a call.
bool is_ctypes_class(PyObject *o) noexcept {
    PyTypeObject *meta = Py_TYPE(o);
    if (meta == &metatype) return true;
    PyObject *mro = meta->tp_mro;
    Py_ssize_t n = mro ? PyTuple_GET_SIZE(mro) : 0;
    if (n >= 3 && PyTuple_GET_ITEM(mro, n - 3) == reinterpret_cast<PyObject *>(&metatype)) [[likely]]
        return true;
    return PyType_IsSubtype(meta, &metatype);
}

// cls * n and n * cls (sq_repeat in CPython): a cached array type, else the
// Python level's __mul__ / __rmul__, which checks n and makes the type.
PyObject *meta_multiply(PyObject *a, PyObject *b) {
    return guard([&] {
        bool left = is_ctypes_class(a);
        PyObject *cls = left ? a : b, *n = left ? b : a;
        if (PyObject *type = cached_array_type(cls, n)) [[likely]] return Py_NewRef(type);
        return call_fallback(left ? Fallback::MetaMul : Fallback::MetaRMul, cls, {n}).release();
    });
}

PyNumberMethods meta_as_number = [] {
    PyNumberMethods m{};
    m.nb_multiply = meta_multiply;
    return m;
}();

PyObject *fn_set_array_cache(PyObject *, PyObject *cache) {
    if (!PyDict_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "set_array_cache() takes a dict");
        return nullptr;
    }
    Ref old = Ref::steal(g_array_cache);
    g_array_cache = Ref::borrow(cache).release();
    Py_RETURN_NONE;
}

PyMethodDef metatype_functions[] = {
    {"set_array_cache", fn_set_array_cache, METH_O,
     "set_array_cache(cache): the dict (itemtype, length) -> weakref(array type) that T * n reads."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void enable_construction(PyTypeObject *cls) noexcept {
    PyTypeObject *meta = Py_TYPE(cls);
    if (!(cls->tp_flags & Py_TPFLAGS_HEAPTYPE) || !PyType_IsSubtype(meta, &metatype) ||
        meta->tp_vectorcall_offset != offsetof(PyTypeObject, tp_vectorcall))
        return;
    if (!(meta->tp_flags & Py_TPFLAGS_HAVE_VECTORCALL)) {
        if (meta->tp_call != PyType_Type.tp_call) return;
        meta->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    }
    cls->tp_vectorcall = construct_vectorcall;
}

int init_metatype(PyObject *module) {
    return guard_int([&] {
        metatype.tp_base = &PyType_Type;
        metatype.tp_as_number = &meta_as_number;
        if (PyType_Ready(&metatype) < 0) throw PyErrorSet{};
        if (PyModule_AddType(module, &metatype) < 0) throw PyErrorSet{};
        if (PyModule_AddFunctions(module, metatype_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
