// crashreport.h: which foreign call each thread is in, and the report written to stderr when
// one dies of a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT).
#pragma once
#include "refs.h"
#include <ffi.h>

namespace rawffi {

// A foreign call in progress, on its caller's C stack: what the report prints,
// all of it reachable without calling Python or allocating.
struct ForeignCall {
    const ForeignCall *outer;      // the call this one runs inside (through a callback), or NULL
    void (*fn)();
    PyObject *who;                 // borrowed or NULL: the function pointer called, or its name
    ffi_type *const *types;        // the arguments as C receives them: types[i], values[i]
    void *const *values;
    Py_ssize_t nargs;
    PyObject *const *pyargs;       // borrowed or NULL: the Python arguments, for their buffers
    Py_ssize_t npyargs;
};

// The innermost foreign call of this thread (initial-exec TLS: two instructions).
// constinit: no TLS wrapper call on each access (nothing to initialise dynamically).
extern thread_local constinit const ForeignCall *current_foreign_call [[gnu::tls_model("initial-exec")]];

// Run body (noexcept: the call itself) with call as this thread's current
// foreign call; body's result.
template <class Body>
inline auto foreign_call(ForeignCall &call, Body &&body) noexcept {
    static_assert(noexcept(body()), "the foreign call must not throw");
    call.outer = current_foreign_call;
    current_foreign_call = &call;
    auto result = body();
    current_foreign_call = call.outer;
    return result;
}

// The label a function pointer carries for the report (its _fp_label_), or NULL.
PyObject *funcptr_label(PyObject *who) noexcept;

}  // namespace rawffi
