// access.h: the type-code table: size, alignment, load and store of every ctypes type code.
#pragma once
#include "refs.h"

namespace rawffi {

// How a code behaves as a bitfield storage unit.
enum class BitKind : unsigned char { None, Signed, Unsigned, Bool };

// One row per type code (b B h H i I l L q Q f d g ? c u z Z P O).
struct CodeInfo {
    char code;
    bool swappable;       // has a byte-swapped form (1-byte codes, integers, f, d)
    BitKind bits;         // usable as a bitfield unit
    Py_ssize_t size;      // sizeof the C type
    Py_ssize_t align;     // alignof the C type
    // Read the value at p (any alignment); a new reference, or NULL with an error set.
    PyObject *(*load)(const void *p, bool swapped) noexcept;
    // Write value at p (any alignment); returns the object to keep alive (a new
    // reference, Py_None if nothing), or NULL with an error set (p unchanged).
    PyObject *(*store)(void *p, PyObject *value, bool swapped) noexcept;
    // The same with the byte order fixed: [0] native, [1] swapped (plans pick one once).
    PyObject *(*loads[2])(const void *p);   // new reference or NULL; throws nothing
    PyObject *(*stores[2])(void *p, PyObject *value) noexcept;
};

// The row of a type code, or NULL if unknown ('v' is unknown here: it has no value).
const CodeInfo *find_code(int code) noexcept;
// The same for a code given as a str of length 1 (NULL, no error set, for anything else).
const CodeInfo *find_code(PyObject *code) noexcept;

}  // namespace rawffi
