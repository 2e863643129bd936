// struct.cpp: StructBase, the native slots of structures and unions: __init__ with
// positional values (keywords and the rest go to Python).  Their __new__ is CData's
// (see cdata_new), bound with bind_new.
#include "construct.h"
#include "fallback.h"
#include "field.h"
#include "module.h"
#include "plan.h"

namespace rawffi {
namespace {

// One positional value: setattr(self, name, value), straight into a native field.
void set_attribute(PyObject *self, PyObject *name, PyObject *value) {
    if (Py_TYPE(self)->tp_setattro == PyObject_GenericSetAttr) [[likely]] {
        PyObject *descr = _PyType_Lookup(Py_TYPE(self), name);
        if (descr) [[likely]] {
            Ref owned = Ref::borrow(descr);     // borrowed from the type; the store runs Python
            if (set_field(descr, self, value)) [[likely]] return;
        }
    }
    if (PyObject_SetAttr(self, name, value) < 0) throw PyErrorSet{};
}

// Whether __init__ fills the fields natively: self's own plan, a record with fields.
bool fills_natively(PyObject *self, const TypePlan *plan) noexcept {
    return plan && plan->type == Py_TYPE(self) && plan->is_record() && plan->init;
}

// CPython's Struct_init for positional values: they fill the fields in order,
// base class fields first.  plan passed fills_natively.
// The setters run Python code (__index__, __setattr__, ...) and the plan may
// be the type's, borrowed: the names, read after each, are owned.
void fill_fields(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    Ref init = Ref::borrow(plan->init);
    Py_ssize_t names = PyTuple_GET_SIZE(init.get());
    for (Py_ssize_t i = 0; i < n && i < names; i++)
        set_attribute(self, PyTuple_GET_ITEM(init.get(), i), args[i]);
    if (n > names) [[unlikely]] raise(PyExc_TypeError, "too many initializers");
}

// Keyword arguments (and duplicates) are the Python level's.
int struct_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    return guard_int([&] {
        Py_ssize_t n = PyTuple_GET_SIZE(args);
        bool keywords = kwargs && PyDict_GET_SIZE(kwargs);
        TypePlan *plan = plan_for(self);
        if (keywords || !fills_natively(self, plan)) [[unlikely]] {
            if (n || keywords) call_fallback_tuple(Fallback::StructInit, self, args, kwargs);
            return 0;
        }
        fill_fields(self, plan, tuple_items(args), n);
        return 0;
    });
}

// The same from construct_vectorcall (no keywords).
void struct_init_vector(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    if (!fills_natively(self, plan)) [[unlikely]] {
        if (n) call_fallback_tuple(Fallback::StructInit, self, args_tuple(args, n).get(), nullptr);
        return;
    }
    fill_fields(self, plan, args, n);
}

PyTypeObject struct_base = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.StructBase";
    t.tp_basicsize = sizeof(CData);
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "Native slots of structures and unions: __new__, __init__ (read from the type's plan).";
    t.tp_init = struct_init;
    return t;
}();

}  // namespace

int init_struct(PyObject *module) {
    return guard_int([&] {
        struct_base.tp_base = CData_Type;
        if (PyType_Ready(&struct_base) < 0) throw PyErrorSet{};
        for (PlanKind kind : {PlanKind::Struct, PlanKind::Union})
            register_construction(kind, struct_base.tp_new, struct_init, struct_init_vector);
        if (PyModule_AddType(module, &struct_base) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
