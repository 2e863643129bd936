// simple.cpp: SimpleBase, the native slots of simple types (_SimpleCData): `value` and __init__.
#include "attribute.h"
#include "construct.h"
#include "fallback.h"
#include "keepalive.h"
#include "module.h"
#include "plan.h"

namespace rawffi {
namespace {

[[gnu::noinline]] PyObject *get_value_general(PyObject *self) {
    TypePlan *plan = plan_of(Py_TYPE(self));
    if (plan && plan->stores_values()) [[likely]] return plan->load(cdata_ptr(self));
    return guard([&] { return fallback_get(Fallback::SimpleValue, self).release(); });
}

// x.value: the plan the instance was made with when it is current (plan_for's
// first step), else get_value_general.
PyObject *get_value(PyObject *self, void *) {
    TypePlan *plan = made_plan(self);
    if (plan && plan->stores_values()) [[likely]] return plan->load(cdata_ptr(self));
    return get_value_general(self);
}

// CPython's Simple_set_value: the code's setter, its keep-alive at index 0.
// plan is plan_for(self).
void set_value(PyObject *self, TypePlan *plan, PyObject *value) {
    if (value && plan && plan->stores_values()) [[likely]] {
        Ref keep = check_new(plan->store(cdata_ptr(self), value));
        keep_ref(as_cdata(self), 0, std::move(keep));
        return;
    }
    fallback_set(Fallback::SimpleValue, self, value);
}

int set_value_slot(PyObject *self, PyObject *value, void *) {
    return guard_int([&] {
        set_value(self, plan_for(self), value);
        return 0;
    });
}

// CPython's Simple_init: at most one positional value; keywords are ignored.
// plan is plan_for(self) and stores values.
void init_value(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    if (n > 1) [[unlikely]] {
        PyErr_Format(PyExc_TypeError, "__init__ expected at most 1 argument, got %zd", n);
        throw PyErrorSet{};
    }
    if (n == 1) set_value(self, plan, args[0]);
}

int simple_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    return guard_int([&] {
        TypePlan *plan = plan_for(self);
        if (!plan || !plan->stores_values()) [[unlikely]]
            call_fallback_tuple(Fallback::SimpleInit, self, args, kwargs);
        else
            init_value(self, plan, tuple_items(args), PyTuple_GET_SIZE(args));
        return 0;
    });
}

// The same from construct_vectorcall.
void simple_init_vector(PyObject *self, TypePlan *plan, PyObject *const *args, Py_ssize_t n) {
    if (!plan->stores_values()) [[unlikely]]
        call_fallback_tuple(Fallback::SimpleInit, self, args_tuple(args, n).get(), nullptr);
    else
        init_value(self, plan, args, n);
}

constexpr AttributeDef kValue = {"value", "current value", get_value, set_value_slot,
                                  &BoundClasses::simple};

PyTypeObject simple_base = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.SimpleBase";
    t.tp_basicsize = sizeof(CData);
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "Native slots of simple types: value, __init__ (read from the type's plan).";
    t.tp_init = simple_init;
    return t;
}();

}  // namespace

int init_simple(PyObject *module) {
    return guard_int([&] {
        simple_base.tp_base = CData_Type;
        if (PyType_Ready(&simple_base) < 0) throw PyErrorSet{};
        add_attribute(&simple_base, kValue);
        for (PlanKind kind : {PlanKind::Simple, PlanKind::SimpleSubclass})
            register_construction(kind, simple_base.tp_new, simple_init, simple_init_vector);
        if (PyModule_AddType(module, &simple_base) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
