// carg.h: CArgObject, a converted foreign-call argument (CPython's
// PyCArgObject): a tag, the ffi type it is passed as, its value in a 16-byte
// slot, and the object it keeps alive.  byref() and from_param make them.
#pragma once
#include "memory.h"
#include <ffi.h>

namespace rawffi {

struct CArgObject {
    PyObject_HEAD
    InlineStorage value;     // the argument's value, as libffi reads it
    ffi_type *ffi;           // how it is passed
    PyObject *ffitype;       // owned: the FFIType object of ffi
    PyObject *obj;           // owned or NULL: _obj, what the value points into
    char tag;                // CPython's tag ('P' for byref, the type code otherwise)
};

// The CArgObject type object (set by init_carg).
extern PyTypeObject *CArg_Type;

// Only exact instances pass as converted arguments (as CPython's PyCArg_CheckExact).
inline bool is_carg(PyObject *o) noexcept { return Py_IS_TYPE(o, CArg_Type); }
inline CArgObject *as_carg(PyObject *o) noexcept { return reinterpret_cast<CArgObject *>(o); }

}  // namespace rawffi
