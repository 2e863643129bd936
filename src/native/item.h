// item.h: a value of a ctypes type inside another instance's memory, read and written
// from plans (CPython's PyCData_get / PyCData_set, as basics.py's cdata_get / cdata_set).
#pragma once
#include "memory.h"
#include "plan.h"

namespace rawffi {

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
