// construct.cpp: construct_vectorcall, cls(*args) for planned ctypes classes without the
// argument tuple, and the registry of the families' native __new__/__init__ it runs.
#include "construct.h"
#include "memory.h"

#include <array>

namespace rawffi {
namespace {

struct InitEntry {
    initproc slot;
    VectorInit init;
};
struct NewEntry {
    newfunc slot;
    NewIsDirect direct;
};

// A handful of families: scanned in order (simple types first, the commonest).
constexpr size_t kMaxEntries = 8;
std::array<InitEntry, kMaxEntries> g_inits{};
std::array<NewEntry, kMaxEntries> g_news{};

VectorInit vector_init_of(initproc slot) noexcept {
    for (const InitEntry &e : g_inits) {
        if (!e.slot) break;
        if (e.slot == slot) return e.init;
    }
    return nullptr;
}

bool new_is_direct(PyTypeObject *cls, const TypePlan *plan) noexcept {
    for (const NewEntry &e : g_news) {
        if (!e.slot) break;
        if (e.slot == cls->tp_new) return e.direct(cls, plan);
    }
    return false;
}

template <class Entry, class Slot, class Value>
void add(std::array<Entry, kMaxEntries> &table, Slot slot, Value value) {
    for (Entry &e : table) {
        if (!e.slot || e.slot == slot) {
            e = Entry{slot, value};
            return;
        }
    }
    Py_FatalError("pyctypes: construct.cpp's registry is full");
}

// What calling cls does without us: the metaclass's tp_call (type_call, or a
// Python-level __call__) with a tuple and a dict made from the vector.
PyObject *call_through_slot(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
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

}  // namespace

void register_init(initproc slot, VectorInit init) { add(g_inits, slot, init); }
void register_new(newfunc slot, NewIsDirect direct) { add(g_news, slot, direct); }

Ref args_tuple(PyObject *const *args, Py_ssize_t nargs) {
    Ref tuple = check_new(PyTuple_New(nargs));
    for (Py_ssize_t i = 0; i < nargs; i++) PyTuple_SET_ITEM(tuple.get(), i, Py_NewRef(args[i]));
    return tuple;
}

PyObject *construct_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    auto *cls = reinterpret_cast<PyTypeObject *>(callable);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    // type_call's own steps (tp_new, then tp_init of the new instance's type), when
    // both are native slots and the metaclass calls its classes as type does
    if (!kwnames && Py_TYPE(callable)->tp_call == PyType_Type.tp_call) [[likely]] {
        TypePlan *plan = plan_of(cls);
        VectorInit init = plan ? vector_init_of(cls->tp_init) : nullptr;
        if (init && new_is_direct(cls, plan)) [[likely]] {
            return guard([&] {
                Ref self = new_owned(cls, plan, plan->size);
                init(self.get(), plan, args, nargs);
                return self.release();
            });
        }
    }
    return call_through_slot(callable, args, nargs, kwnames);
}

}  // namespace rawffi
