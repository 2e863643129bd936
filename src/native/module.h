// module.h: the per-concern initialisers that module.cpp calls to fill _rawffi.
#pragma once
#include "refs.h"

#include <initializer_list>

namespace rawffi {
// Each adds its types, functions and constants to the module; -1 with an error set on failure.
int init_memory(PyObject *module);
int init_access(PyObject *module);
int init_ffitypes(PyObject *module);
int init_library(PyObject *module);
int init_call(PyObject *module);
int init_callback(PyObject *module);
int init_helpers(PyObject *module);
int init_bound(PyObject *module);
int init_carg(PyObject *module);
int init_callplan(PyObject *module);
int init_funcptr(PyObject *module);
int init_plan(PyObject *module);
int init_fallback(PyObject *module);
int init_basenew(PyObject *module);
int init_simple(PyObject *module);
int init_array(PyObject *module);
int init_pointer(PyObject *module);
int init_field(PyObject *module);
int init_struct(PyObject *module);
int init_metatype(PyObject *module);
int init_decision(PyObject *module);
int init_crashreport(PyObject *module);

// Add an enum.IntEnum called name to the module, with members names[0] = 0,
// names[1] = 1, ...  Throws PyErrorSet.
void add_int_enum(PyObject *module, const char *name, std::initializer_list<const char *> names);

// Make the struct sequence type of desc once (into type) and add it to the
// module.  Throws PyErrorSet.
void add_struct_sequence(PyObject *module, PyTypeObject *&type, PyStructSequence_Desc *desc);
}  // namespace rawffi
