// plan.h: TypePlan, the native plan of a ctypes type, made by the Python level from its
// StgInfo and attached to the class as _rawffi_plan_; the fast slots read it.
#pragma once
#include "access.h"
#include "memory.h"
#include "refs.h"

#include <cstddef>
#include <cstdint>

namespace rawffi {

enum class PlanKind : unsigned char {
    Simple,          // a fundamental simple type (c_int): values convert to Python objects
    SimpleSubclass,  // a subclass of one (class MyInt(c_int)): read back as instances
    Struct,
    Union,
    Array,
    Pointer,
    FuncPtr,
    Other,
};

struct TypePlan {
    PyObject_HEAD
    PyTypeObject *type;     // owned: the class the plan was made for
    PyTypeObject *item;     // owned: array item / pointer target type, or NULL
    PyObject *item_plan;    // owned: the item type's plan when this one was made, or NULL
    PyObject *init;         // owned: struct/union: tuple of the (name, field) pairs __init__
                            // fills positionally, or NULL
    const CodeInfo *code;   // simple types: the type code's row (NULL for 'v': no native row)
    PyObject *(*load)(const void *p);                        // code's load in this byte order
    PyObject *(*store)(void *p, PyObject *value) noexcept;   // code's store in this byte order
    const struct Construction *construct;  // how cls(*args) runs natively (construct.h), or NULL
    Py_ssize_t size;
    Py_ssize_t align;
    Py_ssize_t length;      // array length / number of fields; 0: instances keep no dict
    Py_ssize_t itemsize;    // arrays: the item size fixed when the type was made
    unsigned long flags;    // StgInfo flags when the plan was made
    PlanKind kind;
    bool swapped;           // simple types: byte-swapped (__ctype_be__ on little-endian)
    bool final;             // struct/union: the type was final when the plan was made
    bool retired;           // replaced by a newer plan of the type (instances may still hold it)

    bool is_record() const noexcept { return kind == PlanKind::Struct || kind == PlanKind::Union; }
    // Reading one gives a Python value (CPython's getfunc of a non-subclass simple type).
    bool converts() const noexcept { return kind == PlanKind::Simple && load; }
    // Python values are stored through the code's row (any simple type but 'v';
    // only simple types have a code).
    bool stores_values() const noexcept { return store != nullptr; }
};

extern PyTypeObject *TypePlan_Type;

// plan_of is _PyType_Lookup behind a small direct-mapped cache keyed by the type
// and its version tag: CPython gives a type a new tag (never one used before)
// whenever its attributes or bases change, so a hit is always current.
struct PlanCacheEntry {
    PyTypeObject *type;
    unsigned int version;
    TypePlan *plan;  // borrowed from the type's dict
};
constexpr size_t kPlanCacheSize = 256;
extern PlanCacheEntry g_plan_cache[kPlanCacheSize];

inline PlanCacheEntry &plan_cache_entry(PyTypeObject *type) noexcept {
    auto bits = reinterpret_cast<uintptr_t>(type);
    return g_plan_cache[((bits >> 4) ^ (bits >> 12)) & (kPlanCacheSize - 1)];
}

// The lookup itself (fills the cache).
TypePlan *plan_lookup(PyTypeObject *type) noexcept;

// The plan of a type as stginfo() finds it (through the MRO), or NULL; never sets an error.
inline TypePlan *plan_of(PyTypeObject *type) noexcept {
    const PlanCacheEntry &entry = plan_cache_entry(type);
    if (entry.type == type && entry.version == type->tp_version_tag &&
        PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG)) [[likely]]
        return entry.plan;
    return plan_lookup(type);
}

// The plan a type made itself (own_stginfo), or NULL.
inline TypePlan *own_plan(PyTypeObject *type) noexcept {
    TypePlan *plan = plan_of(type);
    return plan && plan->type == type ? plan : nullptr;
}

// The plan an instance was made with while it is still its type's current plan,
// else NULL.  No lookup: short paths that hand everything else to a general path
// (which calls plan_for) use it, and need no stack frame.
inline TypePlan *made_plan(PyObject *self) noexcept {
    auto *plan = reinterpret_cast<TypePlan *>(reinterpret_cast<CData *>(self)->b_plan);
    return plan && plan->type == Py_TYPE(self) && !plan->retired ? plan : nullptr;
}

// The plan of an instance's type: the one it was made with when that is still
// current (no type lookup), else plan_of(its type).
inline TypePlan *plan_for(PyObject *self) noexcept {
    if (TypePlan *plan = made_plan(self)) [[likely]] return plan;
    return plan_of(Py_TYPE(self));
}

// The item plan a plan was made with while it is current, else NULL (as made_plan).
inline TypePlan *made_item_plan(const TypePlan *plan) noexcept {
    auto *item_plan = reinterpret_cast<TypePlan *>(plan->item_plan);
    return item_plan && !item_plan->retired ? item_plan : nullptr;
}

// The current plan of a plan's item type (arrays, pointers), or NULL.
inline TypePlan *item_plan_of(TypePlan *plan) noexcept {
    if (TypePlan *item_plan = made_item_plan(plan)) [[likely]] return item_plan;
    return plan->item ? plan_of(plan->item) : nullptr;
}

int init_plan(PyObject *module);

}  // namespace rawffi
