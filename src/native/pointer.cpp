// pointer.cpp: PointerBase, the native slots of pointers: __new__, int item get/set, contents, __init__.
#include "attribute.h"
#include "construct.h"
#include "fallback.h"
#include "item.h"
#include "keepalive.h"
#include "module.h"
#include "plan.h"

#include <cstring>

namespace rawffi {
namespace {

// A pointer plan with a target type.
bool has_target(const TypePlan *plan) noexcept {
    return plan && plan->kind == PlanKind::Pointer && plan->item;
}

// The pointer plan of self's type (with a target type), or NULL.
inline TypePlan *pointer_plan(PyObject *self) noexcept {
    TypePlan *plan = plan_for(self);
    return has_target(plan) ? plan : nullptr;
}

// The address the pointer holds.
inline char *held_address(PyObject *self) noexcept {
    char *address;
    std::memcpy(&address, cdata_ptr(self), sizeof address);
    return address;
}

// The address the pointer holds; ValueError for NULL.
char *target(PyObject *self) {
    char *address = held_address(self);
    if (!address) [[unlikely]] raise(PyExc_ValueError, "NULL pointer access");
    return address;
}

bool is_index(PyObject *o) noexcept { return PyLong_CheckExact(o) || PyIndex_Check(o); }

// Owns a plan across an index's __index__ (it may be borrowed from its type
// and is used after); nothing for an exact int, which runs no code.
inline Ref hold_for(TypePlan *plan, PyObject *index) noexcept {
    return PyLong_CheckExact(index) ? Ref() : Ref::borrow(reinterpret_cast<PyObject *>(plan));
}

Py_ssize_t to_index(PyObject *index) {
    Py_ssize_t i;
    if (exact_index(index, &i)) [[likely]] return i;
    i = PyNumber_AsSsize_t(index, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    return i;
}

[[gnu::noinline]] PyObject *subscript_general(PyObject *self, PyObject *index) {
    return guard([&] {
        TypePlan *plan = pointer_plan(self);
        TypePlan *item_plan = plan ? item_plan_of(plan) : nullptr;
        if (item_plan && is_index(index)) [[likely]] {
            Ref hold = hold_for(plan, index), hold_item = hold_for(item_plan, index);
            Py_ssize_t i = to_index(index);
            char *address = target(self) + i * item_plan->size;
            Ref item = get_value(item_plan, plan->item, address, as_cdata(self), i);
            if (item) [[likely]] return item.release();
        }
        return call_fallback(Fallback::PointerGetItem, self, {index}).release();
    });
}

// p[i]: an item that converts to a Python value, at an exact int index of a
// non-NULL pointer, is read here; everything else in subscript_general.
PyObject *pointer_subscript(PyObject *self, PyObject *index) {
    TypePlan *plan = made_plan(self);
    TypePlan *item_plan = has_target(plan) ? made_item_plan(plan) : nullptr;
    Py_ssize_t i;
    if (item_plan && item_plan->converts() && exact_index(index, &i)) [[likely]] {
        if (char *address = held_address(self)) [[likely]] return item_plan->load(address + i * item_plan->size);
    }
    return subscript_general(self, index);
}

int pointer_ass_subscript(PyObject *self, PyObject *index, PyObject *value) {
    return guard_int([&] {
        if (!value) [[unlikely]] {
            call_fallback(Fallback::PointerDelItem, self, {index});
            return 0;
        }
        TypePlan *plan = pointer_plan(self);
        TypePlan *item_plan = plan ? item_plan_of(plan) : nullptr;
        if (item_plan && is_index(index)) [[likely]] {
            Ref hold = hold_for(plan, index), hold_item = hold_for(item_plan, index);
            Py_ssize_t i = to_index(index);
            char *address = target(self) + i * item_plan->size;
            if (set_value(item_plan, plan->item, address, item_plan->size, value, as_cdata(self), i))
                return 0;
        }
        call_fallback(Fallback::PointerSetItem, self, {index, value});
        return 0;
    });
}

[[gnu::noinline]] PyObject *contents_general(PyObject *self) {
    return guard([&] {
        TypePlan *plan = pointer_plan(self);
        if (!plan) [[unlikely]] return fallback_get(Fallback::PointerContents, self).release();
        return cdata_view(item_plan_of(plan), plan->item, target(self), self, 0).release();
    });
}

// p.contents: a view of the target (a new instance each time, as CPython makes it);
// a NULL pointer, an item type without a plan, no plan: contents_general.
PyObject *get_contents(PyObject *self, void *) {
    TypePlan *plan = made_plan(self);
    if (has_target(plan)) [[likely]] {
        char *address = held_address(self);
        TypePlan *item_plan = made_item_plan(plan);
        if (address && item_plan) [[likely]] return new_view(item_plan, plan->item, address, self, 0);
    }
    return contents_general(self);
}

// CPython's Pointer_set_contents: point to value, keeping it (key "1") and what
// it keeps (key "0") alive.
void set_contents(PyObject *self, PyObject *value) {
    if (!value || !is_cdata(value) || !pointer_plan(self)) [[unlikely]] {
        fallback_set(Fallback::PointerContents, self, value);
        return;
    }
    void *address = cdata_ptr(value);
    std::memcpy(cdata_ptr(self), &address, sizeof address);
    keep_ref(as_cdata(self), 1, Ref::borrow(value));
    keep_ref(as_cdata(self), 0, Ref::borrow(kept_objects(as_cdata(value))));
}

int set_contents_slot(PyObject *self, PyObject *value, void *) {
    return guard_int([&] {
        set_contents(self, value);
        return 0;
    });
}

// CData's tp_new for a pointer type whose plan has a target; otherwise the
// Python level's check first (it raises "Cannot create instance" for a
// pointer type without a target).
PyObject *pointer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    if (!has_target(plan_of(type))) [[unlikely]] {
        PyObject *checked = guard([&] {
            return call_fallback_tuple(Fallback::PointerNew, reinterpret_cast<PyObject *>(type), args, kwargs)
                .release();
        });
        if (!checked) return nullptr;
        Py_DECREF(checked);
    }
    return CData_Type->tp_new(type, args, kwargs);
}

// CPython's Pointer_init: at most one positional value; keywords are ignored.
void init_target(PyObject *self, PyObject *const *args, Py_ssize_t n) {
    if (n > 1) [[unlikely]] {
        PyErr_Format(PyExc_TypeError, "POINTER expected at most 1 argument, got %zd", n);
        throw PyErrorSet{};
    }
    if (n == 1) set_contents(self, args[0]);
}

int pointer_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    return guard_int([&] {
        if (!pointer_plan(self)) [[unlikely]]
            call_fallback_tuple(Fallback::PointerInit, self, args, kwargs);
        else
            init_target(self, tuple_items(args), PyTuple_GET_SIZE(args));
        return 0;
    });
}

// The same from construct_vectorcall (plan is plan_for(self)).
void pointer_init_vector(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    if (!has_target(plan)) [[unlikely]]
        call_fallback_tuple(Fallback::PointerInit, self, args_tuple(args, n).get(), nullptr);
    else
        init_target(self, args, n);
}

constexpr AttributeDef kContents = {"contents", "the object this pointer points to (read-write)",
                                     get_contents, set_contents_slot, &BoundClasses::pointer};

PyMappingMethods pointer_as_mapping = {nullptr, pointer_subscript, pointer_ass_subscript};

PyTypeObject pointer_base = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.PointerBase";
    t.tp_basicsize = sizeof(CData);
    t.tp_as_mapping = &pointer_as_mapping;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "Native slots of pointers: int item get/set, contents, __init__ (read from the type's plan).";
    t.tp_init = pointer_init;
    t.tp_new = pointer_new;
    return t;
}();

}  // namespace

int init_pointer(PyObject *module) {
    return guard_int([&] {
        pointer_base.tp_base = CData_Type;
        if (PyType_Ready(&pointer_base) < 0) throw PyErrorSet{};
        add_attribute(&pointer_base, kContents);
        register_construction(PlanKind::Pointer, pointer_new, pointer_init, pointer_init_vector);
        if (PyModule_AddType(module, &pointer_base) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
