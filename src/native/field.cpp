// field.cpp: Field, the native base of CField: __get__/__set__ of an ordinary field read
// and write through the plan of the field's type; everything else (bit fields, char
// arrays, unusual values, deletion) goes to CField's Python methods.
#include "field.h"
#include "fallback.h"
#include "item.h"
#include "module.h"
#include "plan.h"

#include <utility>

namespace rawffi {
namespace {

struct Field {
    PyObject_HEAD
    PyTypeObject *proto;   // owned: the field's type, or NULL (not planned: Python does it all)
    PyObject *proto_plan;  // owned: the type's plan when the field was planned, or NULL
    Py_ssize_t offset;
    Py_ssize_t size;
    Py_ssize_t index;      // the field's keep-alive index
};

Field *as_field(PyObject *o) noexcept { return reinterpret_cast<Field *>(o); }

// The current plan of the field's type.
inline TypePlan *field_plan(Field *f) noexcept {
    auto *plan = reinterpret_cast<TypePlan *>(f->proto_plan);
    if (plan && !plan->retired) [[likely]] return plan;
    return plan_of(f->proto);
}

[[noreturn]] void not_a_ctype() { raise(PyExc_TypeError, "not a ctype instance"); }

[[gnu::noinline]] PyObject *field_get_general(PyObject *self, PyObject *inst, PyObject *owner) {
    return guard([&] {
        if (!is_cdata(inst)) [[unlikely]] not_a_ctype();
        Field *f = as_field(self);
        if (f->proto) [[likely]] {
            Ref value = get_value(field_plan(f), f->proto, as_cdata(inst)->b_ptr + f->offset,
                                  as_cdata(inst), f->index);
            if (value) [[likely]] return value.release();
        }
        return call_fallback(Fallback::FieldGet, self, {inst, owner ? owner : Py_None}).release();
    });
}

// A field whose type converts to a Python value is read here; views, bit fields
// and everything else in field_get_general.
PyObject *field_get(PyObject *self, PyObject *inst, PyObject *owner) {
    if (!inst || inst == Py_None) return Py_NewRef(self);
    Field *f = as_field(self);
    auto *plan = reinterpret_cast<TypePlan *>(f->proto_plan);   // the plan when planned, if current
    if (plan && !plan->retired && plan->converts() && is_cdata_at_once(inst)) [[likely]]
        return plan->load(as_cdata(inst)->b_ptr + f->offset);
    return field_get_general(self, inst, owner);
}

void store(PyObject *self, PyObject *inst, PyObject *value) {
    if (!value) [[unlikely]] {
        call_fallback(Fallback::FieldDelete, self, {inst});
        return;
    }
    if (!is_cdata(inst)) [[unlikely]] not_a_ctype();
    Field *f = as_field(self);
    if (f->proto && set_value(field_plan(f), f->proto, as_cdata(inst)->b_ptr + f->offset, f->size,
                              value, as_cdata(inst), f->index)) [[likely]]
        return;
    call_fallback(Fallback::FieldSet, self, {inst, value});
}

int field_set(PyObject *self, PyObject *inst, PyObject *value) {
    return guard_int([&] {
        store(self, inst, value);
        return 0;
    });
}

// Field.plan(proto, offset, size, index): read and write this field natively.
PyObject *field_plan_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        if (nargs != 4) raise(PyExc_TypeError, "plan(proto, offset, size, index) takes 4 arguments");
        if (!PyType_Check(args[0]) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(args[0]), CData_Type))
            raise(PyExc_TypeError, "plan(): proto must be a CData subclass");
        Field *f = as_field(self);
        Py_ssize_t offset = to_size(args[1], "offset"), size = to_size(args[2], "size");
        Py_ssize_t index = to_ssize(args[3]);
        Ref proto = Ref::borrow(args[0]);
        Ref plan = Ref::borrow(reinterpret_cast<PyObject *>(plan_of(reinterpret_cast<PyTypeObject *>(args[0]))));
        Ref old_proto = Ref::steal(reinterpret_cast<PyObject *>(
            std::exchange(f->proto, reinterpret_cast<PyTypeObject *>(proto.release()))));
        Ref old_plan = Ref::steal(std::exchange(f->proto_plan, plan.release()));
        f->offset = offset;
        f->size = size;
        f->index = index;
        Py_RETURN_NONE;
    });
}

int field_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(as_field(self)->proto);
    Py_VISIT(as_field(self)->proto_plan);
    return 0;
}

int field_clear(PyObject *self) {
    Field *f = as_field(self);
    Ref proto = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(f->proto, nullptr)));
    Ref plan = Ref::steal(std::exchange(f->proto_plan, nullptr));
    return 0;
}

void field_dealloc(PyObject *self) {
    PyObject_GC_UnTrack(self);
    field_clear(self);
    Py_TYPE(self)->tp_free(self);
}

PyMethodDef field_methods[] = {
    {"plan", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(field_plan_method)), METH_FASTCALL,
     "plan(proto, offset, size, index): get and set this field natively through proto's plan."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject field_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.Field";
    t.tp_basicsize = sizeof(Field);
    t.tp_dealloc = field_dealloc;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
    t.tp_doc = "Native base of structure fields: get/set of ordinary fields from the field type's plan.";
    t.tp_traverse = field_traverse;
    t.tp_clear = field_clear;
    t.tp_methods = field_methods;
    t.tp_descr_get = field_get;
    t.tp_descr_set = field_set;
    t.tp_alloc = PyType_GenericAlloc;
    t.tp_new = PyType_GenericNew;   // unplanned: every access goes to the Python methods
    t.tp_free = PyObject_GC_Del;
    return t;
}();

}  // namespace

bool set_field(PyObject *descr, PyObject *inst, PyObject *value) {
    if (Py_TYPE(descr)->tp_descr_set != field_set) return false;
    store(descr, inst, value);
    return true;
}

int init_field(PyObject *module) {
    return guard_int([&] {
        if (PyType_Ready(&field_type) < 0) throw PyErrorSet{};
        if (PyModule_AddType(module, &field_type) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
