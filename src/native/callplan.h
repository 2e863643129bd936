// callplan.h: CallPlan, what calling one foreign function needs, decided by the
// Python level when argtypes/restype are set; and executing a call from it.
#pragma once
#include "access.h"
#include "call.h"
#include "decision.h"
#include "directcall.h"

namespace rawffi {

// How the result is made (CPython's GetResult, as the Python level planned
// it for the restype), then checked by checker.
enum class ResultKind : unsigned char {
    Int,        // no restype: a C int
    Void,       // None
    Simple,     // the value of a fundamental simple type
    Object,     // py_object: the returned reference is taken over
    Instance,   // a new instance of restype holding a copy
    Call,       // restype(C int result): a plain callable
    Python,     // reader(address of the result): anything else
};

// One argument position: the Python rule that decides how a value is passed
// there (rule(value, index) -> ArgDecision), and what it decided so far.
struct ArgSite {
    PyObject *rule;          // owned
    SiteCache cache;
};

struct CallPlanObject {
    PyObject_VAR_HEAD
    PyObject *cif;            // owned CallInterface of the declared signature, or NULL
    PyObject *rtype;          // owned FFIType of the result
    PyObject *restype;        // owned or NULL; Instance: the class, Call: the callable, Python: the reader
    PyObject *checker;        // owned or NULL: restype._check_retval_
    PyObject *refuse;         // owned: raises the error of a call refused before conversion
    const CodeInfo *rcode;    // Simple, Object
    Py_ssize_t rsize;         // Instance: bytes copied into the new instance
    ResultKind rkind;
    bool extra_args;          // cdecl: more arguments than argtypes are passed variadic
    bool cleared;             // emptied by the GC (tp_clear): refuses to run
    int flags;                // CALL_* flags
    Py_ssize_t nconv;         // number of argtypes; -1 without argtypes
    DirectSig direct;         // the declared cif's direct call, if it has one
    ArgSite extra;            // ConvParam's rule: arguments past the argtypes (all without)

    ArgSite *sites() noexcept {
        return reinterpret_cast<ArgSite *>(reinterpret_cast<char *>(this) + sizeof(*this));
    }
};
static_assert(sizeof(CallPlanObject) % alignof(ArgSite) == 0);

// The CallPlan type object (set by init_callplan).
extern PyTypeObject *CallPlan_Type;

inline bool is_callplan(PyObject *o) noexcept { return Py_IS_TYPE(o, CallPlan_Type); }

// Call the C function whose address is stored at fnslot (read after the
// argument count is checked: ValueError for NULL) with args[0..nargs), as
// the plan says.  Returns the result (a new reference) or NULL with an error
// set (ArgumentError naming the argument for a failed conversion).  who (the
// function pointer, or NULL) is what the crash report names.
PyObject *plan_call(CallPlanObject *plan, const void *fnslot, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *who) noexcept;

}  // namespace rawffi
