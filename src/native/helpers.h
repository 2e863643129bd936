// helpers.h: ctypes' private errno and the small C helper functions ctypes calls by address.
#pragma once
#include "refs.h"

#include <cerrno>
#include <utility>

namespace rawffi {

// The calling thread's private ctypes errno (swapped with C errno around
// calls made with CALL_USE_ERRNO; read and written by get_errno/set_errno).
int &private_errno() noexcept;

// Run body with C errno swapped with the private ctypes errno around it when
// use_errno (CALL_USE_ERRNO), as CPython's ctypes does around calls and callbacks.
template <class F>
inline void with_errno(bool use_errno, F &&body) {
    if (use_errno) [[unlikely]] {
        int &mine = private_errno();
        std::swap(errno, mine);
        body();
        std::swap(errno, mine);
    } else {
        body();
    }
}

}  // namespace rawffi

// The C functions whose addresses the module exports (string_at_addr,
// wstring_at_addr, cast_addr).  Called through PYFUNCTYPE, i.e. with the GIL
// held; each returns a new reference, or NULL with a Python error set.
extern "C" {
PyObject *rawffi_string_at(const char *ptr, int size);
PyObject *rawffi_wstring_at(const wchar_t *ptr, int size);
PyObject *rawffi_cast(void *ptr, PyObject *src, PyObject *ctype);
// checked_memmove_addr, checked_memset_addr: also called with the GIL held;
// NULL with ValueError set for a NULL address and a size above 0.
void *rawffi_memmove(void *dst, const void *src, size_t size);
void *rawffi_memset(void *dst, int byte, size_t size);
}
