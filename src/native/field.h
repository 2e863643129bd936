// field.h: Field, the native base of structure/union field descriptors (CField).
#pragma once
#include "refs.h"

namespace rawffi {

// Store value into the field `descr` of inst if descr is a native field (its type's
// __set__ is Field's); false otherwise (nothing done).  Throws PyErrorSet.
bool set_field(PyObject *descr, PyObject *inst, PyObject *value);

int init_field(PyObject *module);

}  // namespace rawffi
