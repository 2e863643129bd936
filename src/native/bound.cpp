// bound.cpp: bind_classes(): the family classes that the native value and
// contents descriptors check instances against.
#include "bound.h"
#include "memory.h"
#include "module.h"


namespace rawffi {

BoundClasses g_bound_classes;

namespace {

BoundClasses &classes = g_bound_classes;

// Bind one class slot from a keyword value; a new binding replaces the old
// one (the old class stays referenced: objects may still point to it).
void bind_type(PyTypeObject *&slot, PyObject *value, const char *name, PyTypeObject *base) {
    if (!PyType_Check(value)) {
        PyErr_Format(PyExc_TypeError, "bind_classes(): %s must be a class", name);
        throw PyErrorSet{};
    }
    auto *tp = reinterpret_cast<PyTypeObject *>(value);
    if (base && !PyType_IsSubtype(tp, base)) {
        PyErr_Format(PyExc_TypeError, "bind_classes(): %s must be a subclass of %s", name,
                     base->tp_name);
        throw PyErrorSet{};
    }
    slot = reinterpret_cast<PyTypeObject *>(Ref::borrow(value).release());
}

// bind_classes(SimpleCData=..., Pointer=...): both keywords, once or again.
PyObject *fn_bind_classes(PyObject *, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"SimpleCData", "Pointer", nullptr};
        PyObject *simple, *pointer;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "$OO:bind_classes", const_cast<char **>(kwlist),
                                         &simple, &pointer))
            throw PyErrorSet{};
        bind_type(classes.simple, simple, "SimpleCData", CData_Type);
        bind_type(classes.pointer, pointer, "Pointer", CData_Type);
        Py_RETURN_NONE;
    });
}

PyMethodDef bound_functions[] = {
    {"bind_classes", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_bind_classes)),
     METH_VARARGS | METH_KEYWORDS,
     "bind_classes(*, SimpleCData, Pointer): the family classes whose attribute\n"
     "descriptors (value, contents) the native core checks instances against."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_bound(PyObject *module) { return PyModule_AddFunctions(module, bound_functions); }

}  // namespace rawffi
