// item.h: a value of a ctypes type inside another instance's memory, read and written
// from plans (CPython's PyCData_get / PyCData_set, as basics.py's cdata_get / cdata_set).
#pragma once
#include "memory.h"
#include "plan.h"

namespace rawffi {

// An index that is an exact int fitting a Py_ssize_t, read without going through
// the number protocol: true with *i set; false, with no error set, for anything
// else (the caller's general path then converts it and raises what it raises).
inline bool exact_index(PyObject *index, Py_ssize_t *i) noexcept {
    if (!PyLong_CheckExact(index)) return false;
    *i = PyLong_AsSsize_t(index);
    if (*i == -1 && PyErr_Occurred()) [[unlikely]] {
        PyErr_Clear();
        return false;
    }
    return true;
}

// The Python value of a `type` at address (fundamental simple types: item_plan
// converts), else a view into base at index.  item_plan is plan_of(type), may be NULL.
// An empty Ref (no error) for a simple type without a native row ('v'): the Python
// level reads it.  Throws PyErrorSet.
Ref get_value(TypePlan *item_plan, PyTypeObject *type, char *address, CData *base,
              Py_ssize_t index);

// Store value as a `type` (size bytes) at address, keeping what it needs alive in dst
// at index.  Handles a Python value of a simple type and an instance of type; returns
// false, with nothing done, for everything else (the Python level handles it).
// Throws PyErrorSet.
bool set_value(TypePlan *item_plan, PyTypeObject *type, char *address, Py_ssize_t size,
               PyObject *value, CData *dst, Py_ssize_t index);

}  // namespace rawffi
