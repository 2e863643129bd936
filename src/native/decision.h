// decision.h: how a call argument is passed (the Pass actions), the
// ArgDecision record in which the Python level states its decision, and the
// inline cache (exact type -> action) that remembers decisions per call site.
#pragma once
#include "access.h"
#include "carg.h"
#include <ffi.h>

namespace rawffi {

// What the native call does with one argument value.  The Python level's
// rules (pyctypes._ctypes.passing) decide; the native core only executes.
enum class Pass : unsigned char {
    Null,      // a NULL pointer
    Store,     // the value stored by a type code's row into the argument's slot
    Int,       // an int as ConvParam passes it: its low bits as a C int
    Memory,    // a ctypes instance's memory, by value, as the decided ffi type
    Address,   // a ctypes instance's address, as a pointer
    CArg,      // a CArgObject's value, as its own ffi type
};
constexpr int kPassCount = 6;

// How a Store writes exact ints, floats and bytes without calling the row (the
// same bits the row writes; CharP: the bytes' buffer, which the argument
// itself keeps alive for the call); Row: always through the row.
enum class StoreKind : unsigned char { Row, Int1, Int2, Int4, Int8, Float, Double, LongDouble, CharP };

struct Action {
    Pass pass = Pass::Null;
    StoreKind store = StoreKind::Row;  // Store
    const CodeInfo *row = nullptr;     // Store: the type code's row
    ffi_type *ffi = nullptr;           // Store, Memory: what the value is passed as
};

// The StoreKind of a type code's row.
StoreKind store_kind(const CodeInfo &row) noexcept;

// Bumped by forget_decisions(); a cache filled under another value is empty.
extern unsigned g_decision_epoch;

// A decision read from an ArgDecision record: the action, the object it
// applies to (borrowed from the record), and whether it holds for every value
// of the same exact type (and, for CArgObjects, the same tag and _obj type).
struct Decision {
    Action action;
    PyObject *obj;
    PyObject *ffitype;               // borrowed: the FFIType behind action.ffi
    bool cacheable;
    PyObject *converted;             // borrowed or NULL: a CArgObject holding obj stored
                                     // already (the rule tried the store): passed this time
};

// Read a raw.ArgDecision; TypeError/ValueError (thrown as PyErrorSet) for a
// malformed one, so no call executes it.
Decision read_decision(PyObject *record);

// Per call site: a few exact-type -> action entries.  Entries own their key
// types (a freed type's address cannot match again) and the FFIType.
class SiteCache {
public:
    SiteCache() noexcept = default;
    SiteCache(const SiteCache &) = delete;
    SiteCache &operator=(const SiteCache &) = delete;
    ~SiteCache() { clear(); }

    // The action remembered for v, or NULL.  The first entry is checked inline
    // (a site sees one type of value most of the time).
    const Action *find(PyObject *v) noexcept {
        const Entry &e = entries_[0];
        if (e.type == Py_TYPE(v) && epoch_ == g_decision_epoch) [[likely]] {
            if (e.tag == 0) [[likely]] return &e.action;
            if (e.tag == as_carg(v)->tag && e.objtype == obj_type(v)) return &e.action;
        }
        return find_slow(v);
    }
    // Remember d (which must be cacheable) for values like v.
    void remember(PyObject *v, const Decision &d) noexcept;
    void clear() noexcept;
    int traverse(visitproc visit, void *arg);

    // A CArgObject's _obj's type (NULL without one): part of its key.
    static PyTypeObject *obj_type(PyObject *carg) noexcept {
        PyObject *obj = as_carg(carg)->obj;
        return obj ? Py_TYPE(obj) : nullptr;
    }

private:
    const Action *find_slow(PyObject *v) noexcept;
    struct Entry {
        PyTypeObject *type = nullptr;      // owned: the value's exact type
        PyTypeObject *objtype = nullptr;   // owned or NULL: CArgObject values, its _obj's type
        PyObject *ffitype = nullptr;       // owned or NULL
        char tag = 0;                      // CArgObject values: its tag
        Action action;
    };
    static constexpr int kWays = 4;
    Entry entries_[kWays];
    unsigned epoch_ = 0;
    unsigned char next_ = 0;
};

// Every cache forgets what it knows (a rule's inputs changed: a pointer
// type's target was set).
void forget_decisions() noexcept;

}  // namespace rawffi
