// keepalive.cpp: get_container, kept_objects and keep_ref, as basics.py states them.
#include "keepalive.h"
#include "plan.h"

#include <cstdio>
#include <string>
#include <utility>

namespace rawffi {
namespace {

// "%x" of a Py_ssize_t as Python formats it ("-1" for -1).
void append_hex(std::string &out, Py_ssize_t v) {
    char buf[24];
    unsigned long long magnitude = v < 0 ? 0ULL - static_cast<unsigned long long>(v)
                                         : static_cast<unsigned long long>(v);
    int n = std::snprintf(buf, sizeof buf, "%s%llx", v < 0 ? "-" : "", magnitude);
    out.append(buf, static_cast<size_t>(n));
}

// The key of target's slot in its container's dict: "index:parentindex:...".
Ref unique_key(CData *target, Py_ssize_t index) {
    std::string key;
    append_hex(key, index);
    while (target->b_base) {
        key.push_back(':');
        append_hex(key, target->b_index);
        target = as_cdata(target->b_base);
    }
    return check_new(PyUnicode_FromStringAndSize(key.data(), static_cast<Py_ssize_t>(key.size())));
}

}  // namespace

CData *get_container(CData *obj) {
    while (obj->b_base) obj = as_cdata(obj->b_base);
    if (!obj->b_objects) {
        TypePlan *plan = plan_for(reinterpret_cast<PyObject *>(obj));
        if (plan && plan->length) obj->b_objects = check(PyDict_New());
    }
    return obj;
}

PyObject *kept_objects(CData *obj) { return get_container(obj)->b_objects; }

void keep_ref_slow(CData *target, Py_ssize_t index, Ref keep) {
    CData *container = get_container(target);
    if (!container->b_objects || !PyDict_CheckExact(container->b_objects)) {
        Ref old = Ref::steal(std::exchange(container->b_objects, keep.release()));
        return;
    }
    // the container's dict stays alive while we build the key, even if the key's
    // construction runs code (it does not)
    Ref objects = Ref::borrow(container->b_objects);
    Ref key = unique_key(target, index);
    if (PyDict_SetItem(objects.get(), key.get(), keep.get()) < 0) throw PyErrorSet{};
}

}  // namespace rawffi
