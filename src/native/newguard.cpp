// newguard.cpp: own_new(cls, c_name), making cls.__new__(T) refuse a T that is not a subtype
// of cls, as the __new__ of a C type does (CPython's ctypes base classes are C types).
#include "module.h"

#include <cstddef>
#include <utility>
#include <vector>

namespace rawffi {
namespace {

// The __new__ of a class whose __new__ is a Python function: the C types'
// checks on T, then the function with the same arguments.
struct NewGuard {
    PyObject_HEAD
    PyTypeObject *cls;      // owned
    PyObject *inner;        // owned: the Python __new__ (a function)
    vectorcallfunc vectorcall;
};

NewGuard *as_guard(PyObject *o) noexcept { return reinterpret_cast<NewGuard *>(o); }

// tp_new_wrapper's checks of T (args[0]) against cls, with its texts; false
// with the error set.
bool check_subtype(PyTypeObject *cls, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1) {
        PyErr_Format(PyExc_TypeError, "%s.__new__(): not enough arguments", cls->tp_name);
        return false;
    }
    if (!PyType_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "%s.__new__(X): X is not a type object (%s)", cls->tp_name,
                     Py_TYPE(args[0])->tp_name);
        return false;
    }
    auto *sub = reinterpret_cast<PyTypeObject *>(args[0]);
    if (!PyType_IsSubtype(sub, cls)) {
        PyErr_Format(PyExc_TypeError, "%s.__new__(%s): %s is not a subtype of %s", cls->tp_name,
                     sub->tp_name, sub->tp_name, cls->tp_name);
        return false;
    }
    return true;
}

PyObject *guard_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    NewGuard *g = as_guard(self);
    if (!check_subtype(g->cls, args, PyVectorcall_NARGS(nargsf))) return nullptr;
    Ref inner = Ref::borrow(g->inner);      // owned across the call (tp_clear may drop it)
    if (!inner) [[unlikely]] {
        PyErr_SetString(PyExc_RuntimeError, "this __new__ was cleared");
        return nullptr;
    }
    return PyObject_Vectorcall(inner.get(), args, nargsf, kwnames);
}

int guard_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(as_guard(self)->cls);
    Py_VISIT(as_guard(self)->inner);
    return 0;
}

int guard_clear(PyObject *self) {
    Ref cls = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(as_guard(self)->cls, nullptr)));
    Ref inner = Ref::steal(std::exchange(as_guard(self)->inner, nullptr));
    return 0;
}

void guard_dealloc(PyObject *self) {
    PyObject_GC_UnTrack(self);
    guard_clear(self);
    PyObject_GC_Del(self);
}

PyObject *guard_get_self(PyObject *self, void *) {
    PyObject *cls = reinterpret_cast<PyObject *>(as_guard(self)->cls);
    return Py_NewRef(cls ? cls : Py_None);
}

PyObject *guard_get_name(PyObject *, void *) { return PyUnicode_FromString("__new__"); }

PyObject *guard_get_doc(PyObject *self, void *) {
    PyObject *inner = as_guard(self)->inner;
    return inner ? PyObject_GetAttrString(inner, "__doc__") : Py_NewRef(Py_None);
}

PyObject *guard_repr(PyObject *self) {
    PyTypeObject *cls = as_guard(self)->cls;
    return PyUnicode_FromFormat("<built-in method __new__ of %s object at %p>",
                                cls ? Py_TYPE(cls)->tp_name : "NULL", static_cast<void *>(cls));
}

PyGetSetDef guard_getset[] = {
    {"__self__", guard_get_self, nullptr, "the class", nullptr},
    {"__name__", guard_get_name, nullptr, nullptr, nullptr},
    {"__qualname__", guard_get_name, nullptr, nullptr, nullptr},
    {"__doc__", guard_get_doc, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject new_guard_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.NewGuard";
    t.tp_basicsize = sizeof(NewGuard);
    t.tp_dealloc = guard_dealloc;
    t.tp_vectorcall_offset = offsetof(NewGuard, vectorcall);
    t.tp_repr = guard_repr;
    t.tp_call = PyVectorcall_Call;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
    t.tp_doc = "The __new__ of a ctypes base class whose __new__ is written in Python: T must be\n"
               "a subtype of the class, as for the __new__ of a C type (see own_new).";
    t.tp_traverse = guard_traverse;
    t.tp_clear = guard_clear;
    t.tp_getset = guard_getset;
    return t;
}();

// own_new(cls, c_name): cls's tp_name becomes c_name (the C name CPython's
// static type has, "_ctypes.Structure", which the texts show; __name__ and
// __qualname__ stay).  Then cls.__new__(T) refuses a T that is not a subtype
// of cls, with CPython's checks and texts: a C type's __new__ (found through
// the MRO) becomes the __new__ wrapper of C types bound to cls itself, which
// calls cls's tp_new slot (unchanged: the slots of cls and of its subclasses
// stay as they are); a Python __new__ of cls's own goes behind a NewGuard.
PyObject *fn_own_new(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        if (nargs != 2 || !PyType_Check(args[0]) || !PyUnicode_Check(args[1]))
            raise(PyExc_TypeError, "own_new(cls, c_name) takes a type and a str");
        auto *cls = reinterpret_cast<PyTypeObject *>(args[0]);
        if (!(cls->tp_flags & Py_TPFLAGS_HEAPTYPE)) raise(PyExc_TypeError, "own_new(): cls must be a Python class");
        Ref object_new = check_new(PyObject_GetAttrString(reinterpret_cast<PyObject *>(&PyBaseObject_Type),
                                                          "__new__"));
        if (!PyCFunction_Check(object_new.get())) raise(PyExc_SystemError, "object.__new__ is not a builtin");
        Ref current = check_new(PyObject_GetAttrString(args[0], "__new__"));
        bool c_new = PyCFunction_Check(current.get()) &&
                     PyCFunction_GET_FUNCTION(current.get()) == PyCFunction_GET_FUNCTION(object_new.get());
        Ref wrapper;
        if (c_new) {
            wrapper = check_new(PyCFunction_NewEx(
                reinterpret_cast<PyCFunctionObject *>(object_new.get())->m_ml, args[0], nullptr));
        } else {
            Ref key = check_new(PyUnicode_InternFromString("__new__"));
            PyObject *own = PyDict_GetItemWithError(cls->tp_dict, key.get());
            if (!own) {
                if (PyErr_Occurred()) throw PyErrorSet{};
                raise(PyExc_TypeError, "own_new(): cls must define __new__ itself or have a C type's");
            }
            if (!PyCallable_Check(current.get())) raise(PyExc_TypeError, "own_new(): cls.__new__ is not callable");
            NewGuard *g = PyObject_GC_New(NewGuard, &new_guard_type);
            if (!g) throw PyErrorSet{};
            wrapper = Ref::steal(reinterpret_cast<PyObject *>(g));
            g->cls = reinterpret_cast<PyTypeObject *>(Ref::borrow(args[0]).release());
            g->inner = current.release();
            g->vectorcall = guard_vectorcall;
            PyObject_GC_Track(g);
        }
        // the names outlive every class given here (module-level classes)
        static std::vector<PyObject *> names;
        Ref name = Ref::borrow(args[1]);
        const char *c_name = PyUnicode_AsUTF8(name.get());
        if (!c_name) throw PyErrorSet{};
        newfunc slot = cls->tp_new;
        if (PyObject_SetAttrString(args[0], "__new__", wrapper.get()) < 0) throw PyErrorSet{};
        // update_slot leaves a C __new__'s slot as it was, and a Python
        // __new__'s is slot_tp_new either way: said once more
        cls->tp_new = slot;
        names.push_back(name.release());
        cls->tp_name = c_name;
        PyType_Modified(cls);
        Py_RETURN_NONE;
    });
}

PyMethodDef newguard_functions[] = {
    {"own_new", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_own_new)), METH_FASTCALL,
     "own_new(cls, c_name): cls.__new__(T) takes only subtypes of cls, with CPython's texts\n"
     "(cls's C name becomes c_name), and creates as before."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_newguard(PyObject *module) {
    return guard_int([&] {
        if (PyType_Ready(&new_guard_type) < 0) throw PyErrorSet{};
        if (PyModule_AddFunctions(module, newguard_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
