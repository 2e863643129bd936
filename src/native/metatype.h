// metatype.h: CDataType, the native base of the ctypes metaclasses.
#pragma once
#include "refs.h"

namespace rawffi {

// Calls of cls (a class of a CDataType metaclass) run construct_vectorcall: cls's
// tp_vectorcall is set, and so is the vectorcall flag of its metaclass when that
// calls its classes as type does (3.11 does not pass the flag on to a Python
// metaclass; construct_vectorcall checks the metaclass's tp_call on every call).
// Nothing happens for other classes.
void enable_construction(PyTypeObject *cls) noexcept;

}  // namespace rawffi
