// array.cpp: ArrayBase, the native slots of arrays (int item get/set, __init__, iteration),
// and ArrayIter, the iterator over an array's items.
#include "construct.h"
#include "fallback.h"
#include "item.h"
#include "module.h"
#include "plan.h"

namespace rawffi {
namespace {

// The array plan of self's type, or NULL (the Python level then does the work).
inline TypePlan *array_plan(PyObject *self) noexcept {
    TypePlan *plan = plan_for(self);
    return plan && plan->kind == PlanKind::Array && plan->item ? plan : nullptr;
}

// Owns plan across an index's __index__ (it may be the type's plan, borrowed,
// and is used after); nothing for an exact int, which runs no code.
inline Ref hold_for(TypePlan *plan, PyObject *index) noexcept {
    return PyLong_CheckExact(index) ? Ref() : Ref::borrow(reinterpret_cast<PyObject *>(plan));
}

// An int index, made non-negative and checked as Array_item does.
Py_ssize_t item_index(TypePlan *plan, PyObject *index) {
    Py_ssize_t i;
    if (!exact_index(index, &i)) [[unlikely]] {
        i = PyNumber_AsSsize_t(index, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    }
    if (i < 0) i += plan->length;
    if (i < 0 || i >= plan->length) [[unlikely]] raise(PyExc_IndexError, "invalid index");
    return i;
}

Ref get_item(TypePlan *plan, PyObject *self, Py_ssize_t i) {
    return get_value(item_plan_of(plan), plan->item, as_cdata(self)->b_ptr + i * plan->itemsize,
                     as_cdata(self), i);
}

// Store item i natively; false if the Python level must (nothing done then).
bool set_item(TypePlan *plan, PyObject *self, Py_ssize_t i, PyObject *value) {
    return set_value(item_plan_of(plan), plan->item, as_cdata(self)->b_ptr + i * plan->itemsize,
                     plan->itemsize, value, as_cdata(self), i);
}

bool is_index(PyObject *o) noexcept { return PyLong_CheckExact(o) || PyIndex_Check(o); }

[[gnu::noinline]] PyObject *subscript_general(PyObject *self, PyObject *index) {
    return guard([&] {
        TypePlan *plan = array_plan(self);
        if (plan && is_index(index)) [[likely]] {
            Ref hold = hold_for(plan, index);
            Ref item = get_item(plan, self, item_index(plan, index));
            if (item) [[likely]] return item.release();
        }
        return call_fallback(Fallback::ArrayGetItem, self, {index}).release();
    });
}

// a[i]: an item that converts to a Python value, at an exact int index in range,
// is read here; everything else (and every error) in subscript_general.
PyObject *array_subscript(PyObject *self, PyObject *index) {
    TypePlan *plan = made_plan(self);
    Py_ssize_t i;
    if (plan && plan->kind == PlanKind::Array && plan->item && exact_index(index, &i)) [[likely]] {
        if (i < 0) i += plan->length;
        TypePlan *item_plan = made_item_plan(plan);
        if (i >= 0 && i < plan->length && item_plan && item_plan->converts()) [[likely]]
            return item_plan->load(as_cdata(self)->b_ptr + i * plan->itemsize);
    }
    return subscript_general(self, index);
}

PyObject *array_item(PyObject *self, Py_ssize_t i) {
    return guard([&] {
        TypePlan *plan = array_plan(self);
        if (plan) [[likely]] {
            if (i < 0 || i >= plan->length) raise(PyExc_IndexError, "invalid index");
            Ref item = get_item(plan, self, i);
            if (item) [[likely]] return item.release();
        }
        Ref index = check_new(PyLong_FromSsize_t(i));
        return call_fallback(Fallback::ArrayGetItem, self, {index.get()}).release();
    });
}

// Array_ass_subscript's slice case: the value's length must be the slice's
// (any error of len() becomes that ValueError, as CPython replaces it), then
// item by item, so that a failing item leaves the earlier ones stored.
void set_slice(TypePlan *plan, PyObject *self, PyObject *slice, PyObject *value) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(slice, &start, &stop, &step) < 0) throw PyErrorSet{};
    Py_ssize_t count = PySlice_AdjustIndices(plan->length, &start, &stop, step);
    Py_ssize_t other = PySequence_Length(value);
    if (other < 0) PyErr_Clear();
    if (other != count) raise(PyExc_ValueError, "Can only assign sequence of same size");
    for (Py_ssize_t n = 0; n < count; n++) {
        Py_ssize_t i = start + n * step;    // inside the array: no overflow (i += step could)
        Ref item = check_new(PySequence_GetItem(value, n));
        if (set_item(plan, self, i, item.get())) [[likely]] continue;
        Ref at = check_new(PyLong_FromSsize_t(i));
        call_fallback(Fallback::ArraySetItem, self, {at.get(), item.get()});
    }
}

int array_ass_subscript(PyObject *self, PyObject *index, PyObject *value) {
    return guard_int([&] {
        if (!value) [[unlikely]] {
            call_fallback(Fallback::ArrayDelItem, self, {index});
            return 0;
        }
        TypePlan *plan = array_plan(self);
        if (plan && is_index(index)) [[likely]] {
            Ref hold = hold_for(plan, index);
            if (set_item(plan, self, item_index(plan, index), value)) return 0;
        } else if (plan && PySlice_Check(index)) {
            Ref hold = Ref::borrow(reinterpret_cast<PyObject *>(plan));  // len() and items run code
            set_slice(plan, self, index, value);
            return 0;
        }
        call_fallback(Fallback::ArraySetItem, self, {index, value});
        return 0;
    });
}

// CPython's Array_init: item i = args[i]; keywords are ignored.  plan is array_plan(self).
void fill_items(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = args[i];
        if (i < plan->length && set_item(plan, self, i, value)) [[likely]] continue;
        Ref index = check_new(PyLong_FromSsize_t(i));
        call_fallback(Fallback::ArraySetItem, self, {index.get(), value});
    }
}

int array_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    return guard_int([&] {
        Py_ssize_t n = PyTuple_GET_SIZE(args);
        if (n == 0) return 0;
        TypePlan *plan = array_plan(self);
        if (!plan) [[unlikely]]
            call_fallback_tuple(Fallback::ArrayInit, self, args, kwargs);
        else
            fill_items(self, plan, tuple_items(args), n);
        return 0;
    });
}

// The same from construct_vectorcall (plan is plan_for(self)).
void array_init_vector(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    if (n == 0) return;
    if (!(plan->kind == PlanKind::Array && plan->item)) [[unlikely]]
        call_fallback_tuple(Fallback::ArrayInit, self, args_tuple(args, n).get(), nullptr);
    else
        fill_items(self, plan, args, n);
}

// ---------------------------------------------------------------- iteration
struct ArrayIter {
    PyObject_HEAD
    PyObject *array;      // owned; NULL once exhausted
    PyObject *item_plan;  // owned TypePlan of the item type, or NULL
    PyTypeObject *item;   // borrowed from the array's plan, which the array's type keeps
    Py_ssize_t index;
    Py_ssize_t length;
    Py_ssize_t itemsize;
};

ArrayIter *as_iter(PyObject *o) noexcept { return reinterpret_cast<ArrayIter *>(o); }

int iter_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(as_iter(self)->array);
    Py_VISIT(as_iter(self)->item_plan);
    return 0;
}

int iter_clear(PyObject *self) {
    Ref array = Ref::steal(std::exchange(as_iter(self)->array, nullptr));
    Ref plan = Ref::steal(std::exchange(as_iter(self)->item_plan, nullptr));
    return 0;
}

void iter_dealloc(PyObject *self) {
    PyObject_GC_UnTrack(self);
    iter_clear(self);
    PyObject_GC_Del(self);
}

PyObject *iter_next(PyObject *self) {
    ArrayIter *it = as_iter(self);
    if (!it->array || it->index >= it->length) [[unlikely]] {
        Ref done = Ref::steal(std::exchange(it->array, nullptr));
        return nullptr;
    }
    Py_ssize_t i = it->index++;
    char *address = as_cdata(it->array)->b_ptr + i * it->itemsize;
    auto *plan = reinterpret_cast<TypePlan *>(it->item_plan);
    if (plan && plan->converts()) [[likely]] return plan->load(address);
    return guard([&] {
        Ref array = Ref::borrow(it->array);     // the fallback may run next(self)
        Ref item = get_value(plan, it->item, address, as_cdata(array.get()), i);
        if (!item) [[unlikely]] {     // read by the Python level
            Ref index = check_new(PyLong_FromSsize_t(i));
            item = call_fallback(Fallback::ArrayGetItem, array.get(), {index.get()});
        }
        return item.release();
    });
}

PyObject *iter_length_hint(PyObject *self, PyObject *) {
    ArrayIter *it = as_iter(self);
    return PyLong_FromSsize_t(it->array ? it->length - it->index : 0);
}

PyMethodDef iter_methods[] = {
    {"__length_hint__", iter_length_hint, METH_NOARGS, "Private method returning an estimate of len(list(it))."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject array_iter_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.ArrayIter";
    t.tp_basicsize = sizeof(ArrayIter);
    t.tp_dealloc = iter_dealloc;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
    t.tp_doc = "Iterator over the items of a ctypes array.";
    t.tp_traverse = iter_traverse;
    t.tp_clear = iter_clear;
    t.tp_iter = PyObject_SelfIter;
    t.tp_iternext = iter_next;
    t.tp_methods = iter_methods;
    return t;
}();

PyObject *array_iter(PyObject *self) {
    // A subclass reading items its own way is iterated through its __getitem__.
    PyMappingMethods *mapping = Py_TYPE(self)->tp_as_mapping;
    TypePlan *plan = array_plan(self);
    if (!plan || !mapping || mapping->mp_subscript != array_subscript) [[unlikely]]
        return PySeqIter_New(self);
    ArrayIter *it = PyObject_GC_New(ArrayIter, &array_iter_type);
    if (!it) return nullptr;
    it->array = Py_NewRef(self);
    it->item_plan = Py_XNewRef(reinterpret_cast<PyObject *>(item_plan_of(plan)));
    it->item = plan->item;
    it->index = 0;
    it->length = plan->length;
    it->itemsize = plan->itemsize;
    PyObject_GC_Track(it);
    return reinterpret_cast<PyObject *>(it);
}

PyMappingMethods array_as_mapping = {nullptr, array_subscript, array_ass_subscript};
PySequenceMethods array_as_sequence = [] {
    PySequenceMethods m{};
    m.sq_item = array_item;
    return m;
}();

PyTypeObject array_base = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.ArrayBase";
    t.tp_basicsize = sizeof(CData);
    t.tp_as_sequence = &array_as_sequence;
    t.tp_as_mapping = &array_as_mapping;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "Native slots of arrays: int item get/set, __init__, iteration (read from the type's plan).";
    t.tp_iter = array_iter;
    t.tp_init = array_init;
    return t;
}();

}  // namespace

int init_array(PyObject *module) {
    return guard_int([&] {
        array_base.tp_base = CData_Type;
        if (PyType_Ready(&array_base) < 0) throw PyErrorSet{};
        register_construction(PlanKind::Array, array_base.tp_new, array_init, array_init_vector);
        if (PyType_Ready(&array_iter_type) < 0) throw PyErrorSet{};
        if (PyModule_AddType(module, &array_base) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
