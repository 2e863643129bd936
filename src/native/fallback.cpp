// fallback.cpp: the registry of Python-level fallbacks, the calls into them, bind_new and rebind.
#include "fallback.h"
#include "module.h"

#include <cstring>
#include <vector>

namespace rawffi {
namespace {

struct Entry {
    Fallback which;
    const char *owner;  // tp_name of the native type, without "pyctypes._rawffi."
    const char *name;   // the attribute the native slot replaces
};

constexpr Entry kEntries[] = {
    {Fallback::SimpleInit, "SimpleBase", "__init__"},
    {Fallback::SimpleValue, "SimpleBase", "value"},
    {Fallback::ArrayInit, "ArrayBase", "__init__"},
    {Fallback::ArrayGetItem, "ArrayBase", "__getitem__"},
    {Fallback::ArraySetItem, "ArrayBase", "__setitem__"},
    {Fallback::ArrayDelItem, "ArrayBase", "__delitem__"},
    {Fallback::PointerNew, "PointerBase", "__new__"},
    {Fallback::PointerInit, "PointerBase", "__init__"},
    {Fallback::PointerGetItem, "PointerBase", "__getitem__"},
    {Fallback::PointerSetItem, "PointerBase", "__setitem__"},
    {Fallback::PointerDelItem, "PointerBase", "__delitem__"},
    {Fallback::PointerContents, "PointerBase", "contents"},
    {Fallback::StructNew, "StructBase", "__new__"},
    {Fallback::StructInit, "StructBase", "__init__"},
    {Fallback::FieldGet, "Field", "__get__"},
    {Fallback::FieldSet, "Field", "__set__"},
    {Fallback::FieldDelete, "Field", "__delete__"},
    {Fallback::MetaMul, "CDataType", "__mul__"},
    {Fallback::MetaRMul, "CDataType", "__rmul__"},
    {Fallback::CDataClass, "_ctypes._CDataBase", "__class__"},
};
static_assert(std::size(kEntries) == static_cast<size_t>(Fallback::Count));
static_assert([] {
    for (size_t i = 0; i < std::size(kEntries); i++)
        if (static_cast<size_t>(kEntries[i].which) != i) return false;
    return true;
}(), "kEntries must list the fallbacks in the enum's order");

constexpr char kPrefix[] = "pyctypes._rawffi.";

// The registered callables, owned; deliberately never freed (slots may run
// until the process ends).
PyObject *g_fallbacks[static_cast<int>(Fallback::Count)];

PyObject *get(Fallback f) {
    PyObject *fn = g_fallbacks[static_cast<int>(f)];
    if (!fn) [[unlikely]] {
        const Entry &e = kEntries[static_cast<int>(f)];
        PyErr_Format(PyExc_SystemError, "no Python fallback registered for %s.%s", e.owner, e.name);
        throw PyErrorSet{};
    }
    return fn;
}

PyObject *fn_set_fallback(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        if (nargs != 3) raise(PyExc_TypeError, "set_fallback(native_type, name, method) takes 3 arguments");
        if (!PyType_Check(args[0])) raise(PyExc_TypeError, "set_fallback(): native_type must be a type");
        const char *owner = reinterpret_cast<PyTypeObject *>(args[0])->tp_name;
        if (std::strncmp(owner, kPrefix, sizeof kPrefix - 1) == 0) owner += sizeof kPrefix - 1;
        const char *name = PyUnicode_Check(args[1]) ? PyUnicode_AsUTF8(args[1]) : nullptr;
        if (!name) raise(PyExc_TypeError, "set_fallback(): name must be a str");
        for (size_t i = 0; i < std::size(kEntries); i++) {
            if (std::strcmp(kEntries[i].owner, owner) == 0 && std::strcmp(kEntries[i].name, name) == 0) {
                Ref old = Ref::steal(g_fallbacks[i]);
                g_fallbacks[i] = Ref::borrow(args[2]).release();
                Py_RETURN_NONE;
            }
        }
        PyErr_Format(PyExc_ValueError, "%s.%s has no fallback", owner, name);
        throw PyErrorSet{};
    });
}

// bind_new(cls, native): cls.__new__ becomes native's (found through its MRO), and so does cls's tp_new slot
// (assigning __new__ leaves the slot as it is), which cls's subclasses then inherit.
PyObject *fn_bind_new(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        if (nargs != 2 || !PyType_Check(args[0]) || !PyType_Check(args[1]))
            raise(PyExc_TypeError, "bind_new(cls, native) takes two types");
        auto *cls = reinterpret_cast<PyTypeObject *>(args[0]);
        auto *native = reinterpret_cast<PyTypeObject *>(args[1]);
        if (!(cls->tp_flags & Py_TPFLAGS_HEAPTYPE) || !PyType_IsSubtype(cls, native) || !native->tp_new)
            raise(PyExc_TypeError, "bind_new(): cls must be a Python subclass of native");
        Ref wrapper = check_new(PyObject_GetAttrString(args[1], "__new__"));
        if (PyObject_SetAttrString(args[0], "__new__", wrapper.get()) < 0) throw PyErrorSet{};
        cls->tp_new = native->tp_new;
        PyType_Modified(cls);
        Py_RETURN_NONE;
    });
}

// rebind(descr, cls): a getset descriptor of a native base made for cls itself, so that
// its type check (isinstance of the descriptor's class) stops at cls in the MRO.
PyObject *fn_rebind(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        if (nargs != 2 || !Py_IS_TYPE(args[0], &PyGetSetDescr_Type) || !PyType_Check(args[1]))
            raise(PyExc_TypeError, "rebind(descr, cls) takes a getset descriptor and a type");
        auto *descr = reinterpret_cast<PyGetSetDescrObject *>(args[0]);
        auto *cls = reinterpret_cast<PyTypeObject *>(args[1]);
        if (!PyType_IsSubtype(cls, PyDescr_TYPE(descr)))
            raise(PyExc_TypeError, "rebind(): cls must be a subclass of the descriptor's class");
        return PyDescr_NewGetSet(cls, descr->d_getset);
    });
}

PyMethodDef fallback_functions[] = {
    {"set_fallback", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_set_fallback)),
     METH_FASTCALL,
     "set_fallback(native_type, name, method): the Python method a native slot hands over to."},
    {"rebind", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_rebind)), METH_FASTCALL,
     "rebind(descr, cls): the getset descriptor descr of a native base, made for cls."},
    {"bind_new", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_bind_new)), METH_FASTCALL,
     "bind_new(cls, native): cls.__new__ and its tp_new slot become native's."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

Ref call_fallback(Fallback f, PyObject *self, std::initializer_list<PyObject *> args) {
    PyObject *stack[4];
    if (args.size() >= std::size(stack)) [[unlikely]] raise(PyExc_SystemError, "too many fallback arguments");
    size_t n = 0;
    stack[n++] = self;
    for (PyObject *a : args) stack[n++] = a;
    Ref fn = Ref::borrow(get(f));   // set_fallback may replace it while it runs
    return check_new(PyObject_Vectorcall(fn.get(), stack, n, nullptr));
}

Ref call_fallback_tuple(Fallback f, PyObject *self, PyObject *args, PyObject *kwargs) {
    Ref fn = Ref::borrow(get(f));   // set_fallback may replace it while it runs
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    std::vector<PyObject *> stack(static_cast<size_t>(nargs) + 1);
    stack[0] = self;
    for (Py_ssize_t i = 0; i < nargs; i++) stack[i + 1] = PyTuple_GET_ITEM(args, i);
    return check_new(PyObject_VectorcallDict(fn.get(), stack.data(), stack.size(), kwargs));
}

Ref fallback_get(Fallback f, PyObject *self) {
    Ref descr = Ref::borrow(get(f));    // owned across the property's getter
    descrgetfunc get_fn = Py_TYPE(descr.get())->tp_descr_get;
    if (!get_fn) [[unlikely]] return descr;
    return check_new(get_fn(descr.get(), self, reinterpret_cast<PyObject *>(Py_TYPE(self))));
}

void fallback_set(Fallback f, PyObject *self, PyObject *value) {
    Ref descr = Ref::borrow(get(f));    // owned across the property's setter
    descrsetfunc set_fn = Py_TYPE(descr.get())->tp_descr_set;
    if (!set_fn) [[unlikely]] raise(PyExc_AttributeError, "read-only attribute");
    if (set_fn(descr.get(), self, value) < 0) throw PyErrorSet{};
}

int init_fallback(PyObject *module) { return PyModule_AddFunctions(module, fallback_functions); }

}  // namespace rawffi
