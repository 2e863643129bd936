// construct.h: calling a planned ctypes class, cls(*args), by vectorcall: what type_call
// does (tp_new, then tp_init) without the argument tuple, for the families' native slots.
#pragma once
#include "plan.h"

namespace rawffi {

// A family's __init__ over positional arguments (no keywords), for a fresh instance
// whose plan is plan (plan_for(self)).  Does what the family's tp_init does with
// the tuple args[0..nargs).  Throws PyErrorSet.
using VectorInit = void (*)(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t nargs);

// How instances of a family are made natively: its tp_new and tp_init slots (a class
// whose slots differ has its own __new__/__init__) and its __init__ over a vector.
struct Construction {
    newfunc new_slot;
    initproc init_slot;
    VectorInit init;
};

// The families register theirs once, when the module is set up.
void register_construction(PlanKind kind, newfunc new_slot, initproc init_slot, VectorInit init);

// The construction of a plan's instances (TypePlan::construct), or NULL: only when
// the family's tp_new makes a plain new_owned instance from the plan alone (a final
// structure or union, a pointer with a target type, any array or simple type).
const Construction *construction_for(const TypePlan *plan) noexcept;

// The vectorcall of a planned class (PyTypeObject.tp_vectorcall).  Classes whose
// __new__/__init__ are not their family's native ones, keyword arguments and
// metaclasses with their own __call__ take the metaclass's tp_call.
PyObject *construct_vectorcall(PyObject *cls, PyObject *const *args, size_t nargsf, PyObject *kwnames);

// A tuple of args[0..nargs) (the Python-level fallbacks take one).  Throws PyErrorSet.
Ref args_tuple(PyObject *const *args, Py_ssize_t nargs);

// The items of a tuple as a vector.
inline PyObject *const *tuple_items(PyObject *tuple) noexcept {
    return reinterpret_cast<PyTupleObject *>(tuple)->ob_item;
}

}  // namespace rawffi
