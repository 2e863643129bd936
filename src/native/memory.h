// memory.h: CData, the base type of every ctypes instance (owned or borrowed memory blocks),
// and the small argument helpers (addresses, sizes, fast-call parsing) shared by the core.
#pragma once
#include "refs.h"

#include <cstddef>
#include <cstdint>

namespace rawffi {

// Inline storage for small blocks, aligned for every C scalar (long double included).
union alignas(16) InlineStorage {
    long double ld;
    char bytes[16];
};
static_assert(sizeof(InlineStorage) == 16);
static_assert(alignof(InlineStorage) == 16);
static_assert(alignof(InlineStorage) >= alignof(std::max_align_t));
static_assert(alignof(InlineStorage) >= alignof(long double));

// The native part of every ctypes instance.  Python-level code never sees these
// fields directly; other native files use the inline accessors below.
struct CData {
    PyObject_HEAD
    char *b_ptr;             // the block
    Py_ssize_t b_size;       // its size in bytes
    int b_needsfree;         // 1 if the block is owned (inline or heap)
    int b_exports;           // live buffer exports: an exported block cannot be resized
    PyObject *b_base;        // owned; the CData this is a view into, or NULL
    PyObject *b_objects;     // owned; the _objects keep-alive slot, or NULL
    Py_ssize_t b_index;      // index in the base's _objects
    Py_ssize_t b_length;     // element count (arrays); free for the Python level
    PyObject *b_plan;        // owned; the TypePlan of the type when made (see plan_for), or NULL
    InlineStorage b_value;   // storage of owned blocks of at most 16 bytes

    bool uses_inline() const noexcept { return b_ptr == b_value.bytes; }
};
static_assert(offsetof(CData, b_value) % 16 == 0, "inline storage must be 16-aligned in the object");
static_assert(sizeof(CData) == 96, "instances must stay as small as CPython's (sys.getsizeof(c_int()))");

// The CData type object (set by init_memory).
extern PyTypeObject *CData_Type;

struct TypePlan;
// A new zeroed instance of cls (a CData subtype, not checked) owning size bytes;
// plan (plan_of(cls), may be NULL) is recorded as the plan it was made with.
// What CData's tp_new makes.  Throws PyErrorSet.
Ref new_owned(PyTypeObject *cls, TypePlan *plan, Py_ssize_t size);

// PyObject_TypeCheck(o, CData_Type).  An object smaller than a CData is none (a
// subtype has at least its layout: ints, floats, bytes... are answered at once).
// A ctypes class's MRO ends (..., CData, object): that is checked next, without a
// call; PyType_IsSubtype's scan of the MRO decides the rest (mixins after the
// ctypes base, ...).
// is_cdata_at_once is that first check alone: true means is_cdata, false means
// "ask is_cdata".
inline bool is_cdata_at_once(PyObject *o) noexcept {
    PyTypeObject *type = Py_TYPE(o);
    PyObject *mro = type->tp_mro;
    return type == CData_Type ||
           (mro && PyTuple_GET_SIZE(mro) >= 2 &&
            PyTuple_GET_ITEM(mro, PyTuple_GET_SIZE(mro) - 2) == reinterpret_cast<PyObject *>(CData_Type));
}
inline bool is_cdata(PyObject *o) noexcept {
    if (Py_TYPE(o)->tp_basicsize < static_cast<Py_ssize_t>(sizeof(CData))) return false;
    return is_cdata_at_once(o) || PyType_IsSubtype(Py_TYPE(o), CData_Type);
}
inline CData *as_cdata(PyObject *o) noexcept { return reinterpret_cast<CData *>(o); }
// Only for objects that passed is_cdata().
inline void *cdata_ptr(PyObject *o) noexcept { return as_cdata(o)->b_ptr; }
inline Py_ssize_t cdata_size(PyObject *o) noexcept { return as_cdata(o)->b_size; }

// A new instance of cls (a CData subtype, not checked) viewing address: owns
// nothing; base (may be NULL) is kept as _b_base_, index as _b_index_.  The
// size is cls._rawffi_size_.  Throws PyErrorSet.
Ref cdata_view(PyTypeObject *cls, void *address, PyObject *base, Py_ssize_t index);
// The same when the caller has plan_of(cls) at hand (may be NULL: no plan).
Ref cdata_view(TypePlan *plan, PyTypeObject *cls, void *address, PyObject *base, Py_ssize_t index);
// The same for a plan that is not NULL, as a C-API call: a new reference, or NULL
// with the error set.
PyObject *new_view(TypePlan *plan, PyTypeObject *cls, void *address, PyObject *base,
                   Py_ssize_t index) noexcept;

// cls._rawffi_size_ (looked up through the MRO).  Throws PyErrorSet:
// TypeError("abstract class") when missing, TypeError when not an int,
// ValueError when negative.
Py_ssize_t type_block_size(PyTypeObject *cls);

// ---------------------------------------------------------------- argument helpers
// An address argument: any int (or __index__ object); negative values are
// taken as signed (-1 -> 0xffff...).  Throws PyErrorSet.
void *to_address(PyObject *o);
// A size/count argument: an int >= 0 (ValueError naming what otherwise).  Throws PyErrorSet.
Py_ssize_t to_size(PyObject *o, const char *what);
// An int argument of any sign.  Throws PyErrorSet.
Py_ssize_t to_ssize(PyObject *o);

// METH_FASTCALL | METH_KEYWORDS argument parsing: fills out[0..nnames) from
// positional then keyword arguments; names[i] is the i-th parameter, the first
// nrequired are required, the others are left NULL (borrowed) when absent.
// Throws PyErrorSet (TypeError as CPython words it).
void parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                const char *const *names, int nnames, int nrequired, PyObject **out);

}  // namespace rawffi
