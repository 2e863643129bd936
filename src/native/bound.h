// bound.h: the Python level's classes that the native call path needs to
// recognise (bound once at import by _ctypes through bind_classes).
#pragma once
#include "refs.h"

namespace rawffi {

struct BoundClasses {
    PyObject *argument_error = nullptr;   // ctypes.ArgumentError
    PyTypeObject *array = nullptr;        // Array
    PyTypeObject *pointer = nullptr;      // _Pointer
    PyTypeObject *simple = nullptr;       // _SimpleCData
    PyTypeObject *funcptr = nullptr;      // CFuncPtr
};

// The bound classes (members NULL until bound; never freed).
extern BoundClasses g_bound_classes;
inline const BoundClasses &bound() noexcept { return g_bound_classes; }

// PyObject_TypeCheck against a bound class; false while it is unbound.
inline bool is_instance_of(PyObject *o, PyTypeObject *cls) noexcept {
    return cls && PyObject_TypeCheck(o, cls);
}

}  // namespace rawffi
