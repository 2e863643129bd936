// item.cpp: get_value / set_value, shared by array items, pointer targets and fields.
#include "item.h"
#include "keepalive.h"

#include <cstring>

namespace rawffi {

Ref get_value(TypePlan *item_plan, PyTypeObject *type, char *address, CData *base,
              Py_ssize_t index) {
    if (item_plan && item_plan->converts()) [[likely]]
        return check_new(item_plan->load(address));
    if (item_plan && item_plan->kind == PlanKind::Simple) [[unlikely]] return Ref();
    return cdata_view(item_plan, type, address, reinterpret_cast<PyObject *>(base), index);
}

bool set_value(TypePlan *item_plan, PyTypeObject *type, char *address, Py_ssize_t size,
               PyObject *value, CData *dst, Py_ssize_t index) {
    if (!is_cdata(value)) [[likely]] {
        if (!item_plan || !item_plan->stores_values()) return false;
        Ref keep = check_new(item_plan->store(address, value));
        keep_ref(dst, index, std::move(keep));
        return true;
    }
    if (!PyObject_TypeCheck(value, type)) return false;
    CData *src = as_cdata(value);
    if (size > 0) std::memmove(address, src->b_ptr, static_cast<size_t>(size));
    keep_ref(dst, index, Ref::borrow(kept_objects(src)));
    return true;
}

}  // namespace rawffi
