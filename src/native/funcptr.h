// funcptr.h: FuncPtr, the native base of CFuncPtr: a CData holding a C function
// address, called natively (tp_call and vectorcall) through its CallPlan.
#pragma once
#include "memory.h"

namespace rawffi {

struct FuncPtrObject {
    CData base;               // the block holds the function address
    vectorcallfunc vectorcall;
    PyObject *plan;           // owned CallPlan, or NULL: calls go to the Python level's _pycall_
    PyObject *errcheck;       // owned or NULL: errcheck(result, func, args) after each call
    PyObject *label;          // owned or NULL: "library:name", for the crash report
};

// The FuncPtr type object (set by init_funcptr).
extern PyTypeObject *FuncPtr_Type;

}  // namespace rawffi
