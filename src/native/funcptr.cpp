// funcptr.cpp: the FuncPtr type: native calls of function pointers through
// their CallPlan, the Python level's _pycall_ for everything else.
#include "funcptr.h"
#include "call.h"
#include "callplan.h"
#include "crashreport.h"
#include "module.h"

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace rawffi {

PyTypeObject *FuncPtr_Type = nullptr;

namespace {

PyObject *s_pycall = nullptr;   // "_pycall_"

FuncPtrObject *as_fp(PyObject *o) noexcept { return reinterpret_cast<FuncPtrObject *>(o); }

PyObject *fp_call(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *fp_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

// The Python level's call: type(self)._pycall_(self, *args, **kwargs), with
// the keyword arguments as vectorcall names.
[[gnu::cold]] PyObject *python_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames) {
    return guard([&]() -> PyObject * {
        PyObject *meth = _PyType_Lookup(Py_TYPE(self), s_pycall);
        if (!meth) raise(PyExc_TypeError, "this function pointer type has no _pycall_");
        Ref keep = Ref::borrow(meth);
        Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
        std::vector<PyObject *> stack(static_cast<size_t>(1 + nargs + nkw));
        stack[0] = self;
        for (Py_ssize_t i = 0; i < nargs + nkw; i++) stack[static_cast<size_t>(1 + i)] = args[i];
        return PyObject_Vectorcall(meth, stack.data(), static_cast<size_t>(1 + nargs), kwnames);
    });
}

// A call through the plan, then errcheck(result, self, args); argtuple is
// the positional arguments as a tuple when the caller has one.
PyObject *planned_call(PyObject *self, PyObject *plan_obj, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *argtuple) {
    FuncPtrObject *fp = as_fp(self);
    Ref plan = Ref::borrow(plan_obj);   // argtypes may be set again while the GIL is released
    PyObject *result = plan_call(reinterpret_cast<CallPlanObject *>(plan.get()), fp->base.b_ptr,
                                 args, nargs, self);
    if (!result || !fp->errcheck) [[likely]] return result;
    return guard([&]() -> PyObject * {
        Ref res = Ref::steal(result);
        Ref errcheck = Ref::borrow(fp->errcheck);
        Ref tuple = argtuple ? Ref::borrow(argtuple) : check_new(PyTuple_New(nargs));
        if (!argtuple)
            for (Py_ssize_t i = 0; i < nargs; i++) PyTuple_SET_ITEM(tuple.get(), i, Py_NewRef(args[i]));
        PyObject *stack[3] = {res.get(), self, tuple.get()};
        Ref checked = check_new(PyObject_Vectorcall(errcheck.get(), stack, 3, nullptr));
        return checked.get() == tuple.get() ? res.release() : checked.release();
    });
}

PyObject *fp_call(PyObject *self, PyObject *args, PyObject *kwargs) {
    FuncPtrObject *fp = as_fp(self);
    fp->vectorcall = fp_vectorcall;     // instances made without tp_new get it here
    PyObject *const *items = &PyTuple_GET_ITEM(args, 0);
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if ((kwargs && PyDict_GET_SIZE(kwargs)) || !fp->plan || calls_diverted) [[unlikely]] {
        return guard([&]() -> PyObject * {
            PyObject *meth = _PyType_Lookup(Py_TYPE(self), s_pycall);
            if (!meth) raise(PyExc_TypeError, "this function pointer type has no _pycall_");
            Ref keep = Ref::borrow(meth);
            Ref full = check_new(PyTuple_New(nargs + 1));
            PyTuple_SET_ITEM(full.get(), 0, Py_NewRef(self));
            for (Py_ssize_t i = 0; i < nargs; i++) PyTuple_SET_ITEM(full.get(), i + 1, Py_NewRef(items[i]));
            return PyObject_Call(meth, full.get(), kwargs);
        });
    }
    return planned_call(self, fp->plan, items, nargs, args);
}

// The tp_call of a subclass that defines __call__ after the class was made
// (Py_TPFLAGS_HAVE_VECTORCALL was set when it had none).
[[gnu::cold]] PyObject *overridden_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                        PyObject *kwnames) {
    return guard([&]() -> PyObject * {
        Ref tuple = check_new(PyTuple_New(nargs));
        for (Py_ssize_t i = 0; i < nargs; i++) PyTuple_SET_ITEM(tuple.get(), i, Py_NewRef(args[i]));
        Ref kwargs;
        if (kwnames && PyTuple_GET_SIZE(kwnames)) {
            kwargs = check_new(PyDict_New());
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++)
                if (PyDict_SetItem(kwargs.get(), PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0)
                    throw PyErrorSet{};
        }
        ternaryfunc call = Py_TYPE(self)->tp_call;
        if (!call) raise(PyExc_TypeError, "object is not callable");
        return call(self, tuple.get(), kwargs.get());
    });
}

PyObject *fp_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (Py_TYPE(self)->tp_call != fp_call) [[unlikely]] return overridden_call(self, args, nargs, kwnames);
    PyObject *plan = as_fp(self)->plan;
    if ((kwnames && PyTuple_GET_SIZE(kwnames)) || !plan || calls_diverted) [[unlikely]]
        return python_call(self, args, nargs, kwnames);
    return planned_call(self, plan, args, nargs, nullptr);
}

// ---------------------------------------------------------------- slots
PyObject *get_plan(PyObject *o, void *) {
    PyObject *p = as_fp(o)->plan;
    return Py_NewRef(p ? p : Py_None);
}

int set_plan(PyObject *o, PyObject *value, void *) {
    if (value && value != Py_None && !is_callplan(value)) {
        PyErr_SetString(PyExc_TypeError, "_fp_plan_ must be a CallPlan or None");
        return -1;
    }
    PyObject *p = value && value != Py_None ? Py_NewRef(value) : nullptr;
    Ref old = Ref::steal(std::exchange(as_fp(o)->plan, p));
    return 0;
}

PyObject *get_errcheck(PyObject *o, void *) {
    PyObject *e = as_fp(o)->errcheck;
    return Py_NewRef(e ? e : Py_None);
}

int set_errcheck(PyObject *o, PyObject *value, void *) {
    PyObject *e = value && value != Py_None ? Py_NewRef(value) : nullptr;
    Ref old = Ref::steal(std::exchange(as_fp(o)->errcheck, e));
    return 0;
}

PyObject *get_label(PyObject *o, void *) {
    PyObject *l = as_fp(o)->label;
    return Py_NewRef(l ? l : Py_None);
}

int set_label(PyObject *o, PyObject *value, void *) {
    if (value && value != Py_None && !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "_fp_label_ must be a str or None");
        return -1;
    }
    PyObject *l = value && value != Py_None ? Py_NewRef(value) : nullptr;
    Ref old = Ref::steal(std::exchange(as_fp(o)->label, l));
    return 0;
}

PyGetSetDef fp_getset[] = {
    {"_fp_plan_", get_plan, set_plan, "the CallPlan of native calls (None: calls run _pycall_)", nullptr},
    {"_fp_errcheck_", get_errcheck, set_errcheck, "errcheck(result, func, args), or None", nullptr},
    {"_fp_label_", get_label, set_label, "'library:name' of the function, for the crash report, or None", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

int fp_traverse(PyObject *o, visitproc visit, void *arg) {
    Py_VISIT(as_fp(o)->plan);
    Py_VISIT(as_fp(o)->errcheck);
    Py_VISIT(as_fp(o)->label);
    return CData_Type->tp_traverse(o, visit, arg);
}

int fp_clear(PyObject *o) {
    Ref plan = Ref::steal(std::exchange(as_fp(o)->plan, nullptr));
    Ref errcheck = Ref::steal(std::exchange(as_fp(o)->errcheck, nullptr));
    Ref label = Ref::steal(std::exchange(as_fp(o)->label, nullptr));
    return CData_Type->tp_clear(o);
}

void fp_dealloc(PyObject *o) {
    PyObject_GC_UnTrack(o);
    Ref plan = Ref::steal(std::exchange(as_fp(o)->plan, nullptr));
    Ref errcheck = Ref::steal(std::exchange(as_fp(o)->errcheck, nullptr));
    Ref label = Ref::steal(std::exchange(as_fp(o)->label, nullptr));
    plan.reset();
    errcheck.reset();
    label.reset();
    CData_Type->tp_dealloc(o);
}

PyTypeObject funcptr_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.FuncPtr";
    t.tp_basicsize = sizeof(FuncPtrObject);
    t.tp_dealloc = fp_dealloc;
    t.tp_vectorcall_offset = offsetof(FuncPtrObject, vectorcall);
    t.tp_call = fp_call;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
                 Py_TPFLAGS_HAVE_VECTORCALL;
    t.tp_doc = "Base type of function pointers: a CData holding a C function address, called\n"
               "through its _fp_plan_ (a CallPlan), or through type(self)._pycall_ without one.";
    t.tp_traverse = fp_traverse;
    t.tp_clear = fp_clear;
    t.tp_getset = fp_getset;
    return t;
}();

// enable_vectorcall(cls): let a subclass of FuncPtr that keeps the native call
// take vectorcalls (on 3.11 heap types do not inherit the flag).
PyObject *fn_enable_vectorcall(PyObject *, PyObject *cls) {
    if (!PyType_Check(cls) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(cls), FuncPtr_Type)) {
        PyErr_SetString(PyExc_TypeError, "enable_vectorcall() needs a FuncPtr subclass");
        return nullptr;
    }
    auto *tp = reinterpret_cast<PyTypeObject *>(cls);
    constexpr Py_ssize_t offset = offsetof(FuncPtrObject, vectorcall);
    if (tp->tp_call != fp_call || (tp->tp_vectorcall_offset != 0 && tp->tp_vectorcall_offset != offset))
        Py_RETURN_FALSE;
    tp->tp_vectorcall_offset = offset;
    tp->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    Py_RETURN_TRUE;
}

PyMethodDef funcptr_functions[] = {
    {"enable_vectorcall", fn_enable_vectorcall, METH_O,
     "enable_vectorcall(cls) -> bool: native vectorcalls for a FuncPtr subclass whose calls\n"
     "are FuncPtr's (False, nothing changed, if it defines __call__)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyObject *funcptr_label(PyObject *who) noexcept {
    if (!who) return nullptr;
    if (PyUnicode_Check(who)) return who;
    return PyObject_TypeCheck(who, &funcptr_type) ? as_fp(who)->label : nullptr;
}

int init_funcptr(PyObject *module) {
    return guard_int([&] {
        s_pycall = check(PyUnicode_InternFromString("_pycall_"));
        funcptr_type.tp_base = CData_Type;
        if (PyType_Ready(&funcptr_type) < 0) throw PyErrorSet{};
        FuncPtr_Type = &funcptr_type;
        if (PyModule_AddType(module, &funcptr_type) < 0) throw PyErrorSet{};
        if (PyModule_AddFunctions(module, funcptr_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
