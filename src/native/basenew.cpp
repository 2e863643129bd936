// basenew.cpp: own_new(cls, c_name): cls.__new__(T) refuses a T that is not a subtype of cls,
// as the __new__ of a C type does (CPython's ctypes base classes are C types).
#include "module.h"

#include <vector>

namespace rawffi {
namespace {

// own_new(cls, c_name): cls's tp_name becomes c_name (the C name CPython's
// static type has, "_ctypes.Structure", which the texts show; __name__ and
// __qualname__ stay).  A C type's __new__ found through cls's MRO becomes
// the __new__ wrapper of C types bound to cls itself: it checks T against cls
// with CPython's texts and calls cls's tp_new slot, which stays as it was for
// cls and its subclasses.  A Python __new__ of cls's own is left alone: it
// checks T itself (basics.check_new_target).
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
        newfunc slot = cls->tp_new;
        if (c_new) {
            Ref wrapper = check_new(PyCFunction_NewEx(
                reinterpret_cast<PyCFunctionObject *>(object_new.get())->m_ml, args[0], nullptr));
            if (PyObject_SetAttrString(args[0], "__new__", wrapper.get()) < 0) throw PyErrorSet{};
            cls->tp_new = slot;     // update_slot leaves a C __new__'s slot as it was: said once more
        }
        // the names outlive every class given here (module-level classes)
        static std::vector<PyObject *> names;
        Ref name = Ref::borrow(args[1]);
        const char *c_name = PyUnicode_AsUTF8(name.get());
        if (!c_name) throw PyErrorSet{};
        names.push_back(name.release());
        cls->tp_name = c_name;
        PyType_Modified(cls);
        Py_RETURN_NONE;
    });
}

PyMethodDef basenew_functions[] = {
    {"own_new", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_own_new)), METH_FASTCALL,
     "own_new(cls, c_name): cls's C name becomes c_name; a C __new__ of cls takes only subtypes of\n"
     "cls, with CPython's texts, and creates as before (a Python __new__ checks for itself)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_basenew(PyObject *module) {
    return guard_int([&] {
        if (PyModule_AddFunctions(module, basenew_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
