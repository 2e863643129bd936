// callplan.h: CallPlan, what calling one foreign function needs, decided by the
// Python level when argtypes/restype are set; and executing a call from it.
#pragma once
#include "access.h"
#include "call.h"
#include "directcall.h"

namespace rawffi {

// How one declared argument is converted; each kind does exactly what the
// Python level's from_param of that family does, natively for the common
// exact types, and otherwise calls the converter (from_param) and converts its
// result as ConvParam does.
enum class ArgKind : unsigned char {
    Generic,    // converter(value), then ConvParam
    Simple,     // PyCSimpleType.from_param for `code` (its setter's checks)
    CharP,      // c_char_p.from_param
    WcharP,     // c_wchar_p.from_param
    VoidP,      // c_void_p.from_param
    Instance,   // CDataType.from_param: structures, unions, function pointers
    Array,      // CDataType.from_param of an array type (instances pass their address)
    Pointer,    // PyCPointerType.from_param
};

// A Simple argument's store for exact ints and floats, without the code table.
enum class FastStore : unsigned char { None, Int, Float, Double, LongDouble };

struct ArgSpec {
    ArgKind kind;
    FastStore fast;          // Simple: how exact ints (and floats) are stored
    unsigned char size;      // Simple, FastStore::Int: bytes stored
    const CodeInfo *code;    // Simple: the type code's row
    ffi_type *ffi;           // what an instance of the declared type is passed as
    PyObject *ffitype;       // owned: the FFIType of ffi
    PyObject *converter;     // owned: the from_param the Python level calls
    PyTypeObject *cls;       // borrowed from the converter (a method of it); NULL for Generic
    PyObject *proto;         // owned or NULL; Pointer: the target type when planned
    unsigned int version;    // Pointer: cls's type version tag when planned (0: none)
};

// How the result is made (CPython's GetResult), then checked by checker.
enum class ResultKind : unsigned char {
    Int,        // no restype: a C int
    Void,       // None
    Simple,     // the value of a fundamental simple type
    Object,     // py_object: the returned reference is taken over
    Instance,   // a new instance of restype holding a copy
    Call,       // restype(C int result): a plain callable
    Python,     // reader(address of the result): anything else
};

struct CallPlanObject {
    PyObject_VAR_HEAD
    PyObject *cif;            // owned CallInterface of the declared signature, or NULL
    PyObject *rtype;          // owned FFIType of the result
    PyObject *restype;        // owned or NULL; Instance: the class, Call: the callable, Python: the reader
    PyObject *checker;        // owned or NULL: restype._check_retval_
    const CodeInfo *rcode;    // Simple, Object
    Py_ssize_t rsize;         // Instance: bytes copied into the new instance
    ResultKind rkind;
    bool extra_args;          // cdecl: more arguments than argtypes are passed variadic
    bool cleared;             // emptied by the GC (tp_clear): refuses to run
    int flags;                // CALL_* flags
    Py_ssize_t nconv;         // number of argtypes; -1 without argtypes
    DirectSig direct;         // the declared cif's direct call, if it has one

    ArgSpec *specs() noexcept {
        return reinterpret_cast<ArgSpec *>(reinterpret_cast<char *>(this) + sizeof(*this));
    }
};
static_assert(sizeof(CallPlanObject) % alignof(ArgSpec) == 0);

// The CallPlan type object (set by init_callplan).
extern PyTypeObject *CallPlan_Type;

inline bool is_callplan(PyObject *o) noexcept { return Py_IS_TYPE(o, CallPlan_Type); }

// Call the C function whose address is stored at fnslot (read after the
// argument count is checked: ValueError for NULL) with args[0..nargs), as
// the plan says.  Returns the result (a new reference) or NULL with an error
// set (ArgumentError naming the argument for a failed conversion).
PyObject *plan_call(CallPlanObject *plan, const void *fnslot, PyObject *const *args,
                    Py_ssize_t nargs) noexcept;

}  // namespace rawffi
