// construct.h: calling a planned ctypes class, cls(*args), by vectorcall: what type_call
// does (tp_new, then tp_init) without the argument tuple, for the families' native slots.
#pragma once
#include "plan.h"

namespace rawffi {

// A family's __init__ over positional arguments (no keywords), for a fresh instance
// whose plan is plan (plan_for(self)).  Does what the family's tp_init does with
// the tuple args[0..nargs).  Throws PyErrorSet.
using VectorInit = void (*)(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t nargs);

// Whether a native tp_new makes a plain zeroed instance (new_owned) for a class
// with this plan, without looking at its arguments.
using NewIsDirect = bool (*)(PyTypeObject *cls, const TypePlan *plan);

// The families register their slots once, when the module is set up.
void register_init(initproc slot, VectorInit init);
void register_new(newfunc slot, NewIsDirect direct);

// The vectorcall of a planned class (PyTypeObject.tp_vectorcall).  Classes whose
// __new__/__init__ are not the registered native ones, keyword arguments and
// metaclasses with their own __call__ take the metaclass's tp_call.
PyObject *construct_vectorcall(PyObject *cls, PyObject *const *args, size_t nargsf, PyObject *kwnames);

// A tuple of args[0..nargs) (the Python-level fallbacks take one).  Throws PyErrorSet.
Ref args_tuple(PyObject *const *args, Py_ssize_t nargs);

// The items of a tuple as a vector.
inline PyObject *const *tuple_items(PyObject *tuple) noexcept {
    return reinterpret_cast<PyTupleObject *>(tuple)->ob_item;
}

}  // namespace rawffi
