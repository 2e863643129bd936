// keepalive.h: CPython's keep-alive bookkeeping (GetContainer, unique_key, KeepRef,
// GetKeepedObjects) on CData instances; the rules are written down in basics.py.
#pragma once
#include "memory.h"

#include <utility>

namespace rawffi {

// The root of obj's _b_base_ chain, whose _objects hold obj's keep-alives; its
// _objects becomes a dict first if its type has sub-objects (plan length != 0).
CData *get_container(CData *obj);

// What obj keeps alive (borrowed; may be NULL for "nothing").
PyObject *kept_objects(CData *obj);

// Keep `keep` alive as long as target, at `index` of target in its container.
// Nothing happens for None (or NULL).
void keep_ref_slow(CData *target, Py_ssize_t index, Ref keep);
inline void keep_ref(CData *target, Py_ssize_t index, Ref keep) {
    if (keep && keep.get() != Py_None) [[unlikely]] keep_ref_slow(target, index, std::move(keep));
}

}  // namespace rawffi
