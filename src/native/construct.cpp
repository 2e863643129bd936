// construct.cpp: construct_vectorcall, cls(*args) for planned ctypes classes without the
// argument tuple, and the families' native __new__/__init__ it runs, by plan kind.
#include "construct.h"
#include "memory.h"

namespace rawffi {
namespace {

Construction g_families[static_cast<int>(PlanKind::Other) + 1];

// What calling cls does without us: the metaclass's tp_call (type_call, or a
// Python-level __call__) with a tuple and a dict made from the vector.
[[gnu::noinline, gnu::cold]] PyObject *call_through_slot(PyObject *cls, PyObject *const *args,
                                                         Py_ssize_t nargs, PyObject *kwnames) {
    ternaryfunc call = Py_TYPE(cls)->tp_call;
    if (!call) [[unlikely]] {
        PyErr_Format(PyExc_TypeError, "'%.200s' object is not callable", Py_TYPE(cls)->tp_name);
        return nullptr;
    }
    return guard([&]() -> PyObject * {
        Ref tuple = args_tuple(args, nargs);
        Ref kwargs;
        if (kwnames) {
            kwargs = check_new(PyDict_New());
            for (Py_ssize_t i = 0, n = PyTuple_GET_SIZE(kwnames); i < n; i++)
                if (PyDict_SetItem(kwargs.get(), PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0)
                    throw PyErrorSet{};
        }
        if (Py_EnterRecursiveCall(" while calling a Python object")) throw PyErrorSet{};
        PyObject *result = call(cls, tuple.get(), kwargs.get());
        Py_LeaveRecursiveCall();
        return result;
    });
}

// type_call's steps for the family's slots: a new instance, then its __init__.
PyObject *construct(PyTypeObject *cls, TypePlan *plan, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&] {
        Ref self = new_owned(cls, plan, plan->size);
        plan->construct->init(self.get(), plan, args, nargs);
        return self.release();
    });
}

}  // namespace

void register_construction(PlanKind kind, newfunc new_slot, initproc init_slot, VectorInit init) {
    g_families[static_cast<int>(kind)] = Construction{new_slot, init_slot, init};
}

const Construction *construction_for(const TypePlan *plan) noexcept {
    const Construction &family = g_families[static_cast<int>(plan->kind)];
    if (!family.init) return nullptr;
    if (plan->is_record() && !plan->final) return nullptr;
    if (plan->kind == PlanKind::Pointer && !plan->item) return nullptr;
    return &family;
}

Ref args_tuple(PyObject *const *args, Py_ssize_t nargs) {
    Ref tuple = check_new(PyTuple_New(nargs));
    for (Py_ssize_t i = 0; i < nargs; i++) PyTuple_SET_ITEM(tuple.get(), i, Py_NewRef(args[i]));
    return tuple;
}

PyObject *construct_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    auto *cls = reinterpret_cast<PyTypeObject *>(callable);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    // type_call's own steps (tp_new, then tp_init of the new instance's type), when
    // both are the family's native slots and the metaclass calls its classes as type does
    if (!kwnames && Py_TYPE(callable)->tp_call == PyType_Type.tp_call) [[likely]] {
        TypePlan *plan = plan_of(cls);
        const Construction *family = plan && plan->type == cls ? plan->construct : nullptr;
        if (family && cls->tp_new == family->new_slot && cls->tp_init == family->init_slot) [[likely]]
            return construct(cls, plan, args, nargs);
    }
    return call_through_slot(callable, args, nargs, kwnames);
}

}  // namespace rawffi
