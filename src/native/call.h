// call.h: CallInterface, a prepared ffi_cif, and calling foreign functions through it.
#pragma once
#include "refs.h"
#include <ffi.h>

namespace rawffi {

enum CallFlags : int {
    CALL_RELEASE_GIL = 1,   // release the GIL around the foreign call
    CALL_USE_ERRNO = 2,     // swap the private ctypes errno with C errno around the call
    CALL_CHECK_PYERR = 4,   // after the call, fail if a Python error is set
};

// While true (divert_calls(True), for tracing), function pointers and closures
// run the Python level's executors instead of their native plans.
extern bool calls_diverted;

// One allocation per prepared signature: the object header, the ffi_cif, and
// (right after the struct, as the var-object items) the ffi_type* array.
struct CallInterfaceObject {
    PyObject_VAR_HEAD
    ffi_cif cif;
    PyObject *restype;    // FFIType
    PyObject *argtypes;   // tuple of FFIType
    int nfixed;           // -1, or the number of fixed arguments of a variadic cif

    ffi_type **atypes() noexcept {
        return reinterpret_cast<ffi_type **>(reinterpret_cast<char *>(this) + sizeof(*this));
    }
};
static_assert(sizeof(CallInterfaceObject) % alignof(ffi_type *) == 0);

// The CallInterface type object (set by init_call).
extern PyTypeObject *CallInterface_Type;

inline bool is_callinterface(PyObject *o) noexcept { return Py_IS_TYPE(o, CallInterface_Type); }

// Call fn through cif with the argument pointers args[0..cif->nargs).  rvalue
// holds at least max(rtype->size, sizeof(ffi_arg)) bytes, 16-aligned: libffi
// writes narrow integer results widened to a full ffi_arg there (see
// narrow_result).  The GIL is released around the call with CALL_RELEASE_GIL;
// errno is swapped with CALL_USE_ERRNO.  Returns 0, or -1 with a Python error
// set (only possible with CALL_CHECK_PYERR).
int call_cif(ffi_cif *cif, void (*fn)(), void **args, void *rvalue, int flags) noexcept;

// Copy a result from libffi's full-width buffer to out, at its C type's size.
void narrow_result(const ffi_type *rt, const void *full, void *out) noexcept;

// Call fn through ci with the argument pointers args[0..cif.nargs).  The
// return value (rtype->size bytes, narrow integers narrowed) is written to
// result, which may be NULL only for a void restype.  With CALL_RELEASE_GIL the
// GIL is released around the call.  Returns 0, or -1 with a Python error set
// (only possible with CALL_CHECK_PYERR).
int call_prepared(CallInterfaceObject *ci, void (*fn)(), void **args, void *result,
                  int flags) noexcept;

}  // namespace rawffi
