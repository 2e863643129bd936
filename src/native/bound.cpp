// bound.cpp: bind_classes(): the Python level tells the native call path its classes.
#include "bound.h"
#include "memory.h"
#include "module.h"

#include <string_view>

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

PyObject *fn_bind_classes(PyObject *, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        if (PyTuple_GET_SIZE(args) != 0)
            raise(PyExc_TypeError, "bind_classes() takes keyword arguments only");
        if (!kwds) Py_RETURN_NONE;
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kwds, &pos, &key, &value)) {
            const char *name = PyUnicode_AsUTF8(key);
            if (!name) throw PyErrorSet{};
            std::string_view k(name);
            if (k == "ArgumentError") {
                if (!PyExceptionClass_Check(value))
                    raise(PyExc_TypeError, "bind_classes(): ArgumentError must be an exception class");
                classes.argument_error = Ref::borrow(value).release();
            } else if (k == "Array") {
                bind_type(classes.array, value, name, CData_Type);
            } else if (k == "Pointer") {
                bind_type(classes.pointer, value, name, CData_Type);
            } else if (k == "SimpleCData") {
                bind_type(classes.simple, value, name, CData_Type);
            } else if (k == "CFuncPtr") {
                bind_type(classes.funcptr, value, name, CData_Type);
            } else {
                PyErr_Format(PyExc_TypeError, "bind_classes(): unknown class name %R", key);
                throw PyErrorSet{};
            }
        }
        Py_RETURN_NONE;
    });
}

PyMethodDef bound_functions[] = {
    {"bind_classes", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_bind_classes)),
     METH_VARARGS | METH_KEYWORDS,
     "bind_classes(**classes): tell the native call path the Python level's classes\n"
     "(ArgumentError, Array, Pointer, SimpleCData, CFuncPtr)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_bound(PyObject *module) { return PyModule_AddFunctions(module, bound_functions); }

}  // namespace rawffi
