// call.cpp: CallInterface: ffi_prep_cif / ffi_prep_cif_var and ffi_call, with GIL and errno handling.
#include "call.h"
#include "crashreport.h"
#include "ffitypes.h"
#include "helpers.h"
#include "module.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace rawffi {

bool calls_diverted = false;

PyTypeObject *CallInterface_Type = nullptr;

namespace {

CallInterfaceObject *as_ci(PyObject *o) { return reinterpret_cast<CallInterfaceObject *>(o); }

}  // namespace

void narrow_result(const ffi_type *rt, const void *full, void *out) noexcept {
    if (is_narrow_int(rt)) {
        ffi_arg v;
        std::memcpy(&v, full, sizeof v);
        switch (rt->type) {
        case FFI_TYPE_SINT8: { auto x = static_cast<int8_t>(v); std::memcpy(out, &x, 1); return; }
        case FFI_TYPE_UINT8: { auto x = static_cast<uint8_t>(v); std::memcpy(out, &x, 1); return; }
        case FFI_TYPE_SINT16: { auto x = static_cast<int16_t>(v); std::memcpy(out, &x, 2); return; }
        case FFI_TYPE_UINT16: { auto x = static_cast<uint16_t>(v); std::memcpy(out, &x, 2); return; }
        case FFI_TYPE_SINT32: case FFI_TYPE_INT: { auto x = static_cast<int32_t>(v); std::memcpy(out, &x, 4); return; }
        case FFI_TYPE_UINT32: { auto x = static_cast<uint32_t>(v); std::memcpy(out, &x, 4); return; }
        default: break;
        }
    }
    std::memcpy(out, full, rt->size);
}

namespace {

inline void ffi_call_errno(ffi_cif *cif, void (*fn)(), void *rvalue, void **args, int flags) {
    with_errno(flags & CALL_USE_ERRNO, [&] { ffi_call(cif, fn, rvalue, args); });
}

PyObject *ci_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"restype", "argtypes", "nfixed", nullptr};
        PyObject *restype, *argseq;
        int nfixed = -1;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|i:CallInterface",
                                         const_cast<char **>(kwlist), &restype, &argseq, &nfixed))
            throw_if_error();
        if (!is_ffitype(restype))
            raise(PyExc_TypeError, "CallInterface restype must be an FFIType");
        Ref argtypes = check_new(PySequence_Tuple(argseq));
        Py_ssize_t n = PyTuple_GET_SIZE(argtypes.get());
        if (n > INT32_MAX) raise(PyExc_ValueError, "too many arguments");
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *a = PyTuple_GET_ITEM(argtypes.get(), i);
            if (!is_ffitype(a)) {
                PyErr_Format(PyExc_TypeError, "argtypes[%zd] must be an FFIType, not %.200s", i,
                             Py_TYPE(a)->tp_name);
                throw_if_error();
            }
            if (ffitype_get(a)->type == FFI_TYPE_VOID) {
                PyErr_Format(PyExc_TypeError, "argtypes[%zd] is void", i);
                throw_if_error();
            }
        }
        if (nfixed < -1 || nfixed > n) {
            PyErr_Format(PyExc_ValueError, "nfixed must be -1 or in 0..%zd, not %d", n, nfixed);
            throw_if_error();
        }
        Ref self_ref = check_new(tp->tp_alloc(tp, n));
        CallInterfaceObject *self = as_ci(self_ref.get());
        self->restype = Ref::borrow(restype).release();
        self->argtypes = argtypes.release();
        self->nfixed = nfixed;
        ffi_type **at = self->atypes();
        for (Py_ssize_t i = 0; i < n; i++) at[i] = ffitype_get(PyTuple_GET_ITEM(self->argtypes, i));
        ffi_type *rt = ffitype_get(restype);
        auto un = static_cast<unsigned>(n);
        ffi_status st = nfixed >= 0
            ? ffi_prep_cif_var(&self->cif, FFI_DEFAULT_ABI, static_cast<unsigned>(nfixed), un, rt, at)
            : ffi_prep_cif(&self->cif, FFI_DEFAULT_ABI, un, rt, at);
        if (st != FFI_OK) {
            PyErr_Format(PyExc_RuntimeError, "%s failed: %s",
                         nfixed >= 0 ? "ffi_prep_cif_var" : "ffi_prep_cif", ffi_status_name(st));
            throw_if_error();
        }
        return self_ref.release();
    });
}

void ci_dealloc(PyObject *o) {
    CallInterfaceObject *self = as_ci(o);
    PyTypeObject *tp = Py_TYPE(o);
    Ref::steal(self->restype).reset();
    Ref::steal(self->argtypes).reset();
    tp->tp_free(o);
    Py_DECREF(tp);
}

// Small argument lists are collected on the stack.
constexpr size_t stack_args = 16;

PyObject *ci_call(PyObject *o, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&]() -> PyObject * {
        CallInterfaceObject *self = as_ci(o);
        if (nargs < 4 || nargs > 6)
            raise(PyExc_TypeError, "call() takes 4 to 6 arguments (function, args, result, flags, who, pyargs)");
        PyObject *who = nargs > 4 && args[4] != Py_None ? args[4] : nullptr;
        PyObject *pyargs = nargs > 5 && PyTuple_Check(args[5]) ? args[5] : nullptr;
        void *fn = PyLong_AsVoidPtr(args[0]);
        if (!fn) {
            if (PyErr_Occurred()) throw_if_error();
            raise(PyExc_ValueError, "function address is NULL");
        }
        void *result = PyLong_AsVoidPtr(args[2]);
        if (!result && PyErr_Occurred()) throw_if_error();
        long flags = PyLong_AsLong(args[3]);
        if (flags == -1 && PyErr_Occurred()) throw_if_error();
        if (!result && self->cif.rtype->type != FFI_TYPE_VOID)
            raise(PyExc_ValueError, "result address is NULL for a non-void restype");

        Ref seq = check_new(PySequence_Fast(args[1], "call() args must be a sequence of addresses"));
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
        if (n != static_cast<Py_ssize_t>(self->cif.nargs)) {
            PyErr_Format(PyExc_ValueError, "this CallInterface takes %u arguments, got %zd",
                         self->cif.nargs, n);
            throw_if_error();
        }
        std::array<void *, stack_args> small;
        std::vector<void *> big;
        void **argv = small.data();
        if (static_cast<size_t>(n) > stack_args) {
            big.resize(static_cast<size_t>(n));
            argv = big.data();
        }
        PyObject **items = PySequence_Fast_ITEMS(seq.get());
        for (Py_ssize_t i = 0; i < n; i++) {
            argv[i] = PyLong_AsVoidPtr(items[i]);
            if (!argv[i] && PyErr_Occurred()) throw_if_error();
        }
        ForeignCall record{nullptr, reinterpret_cast<void (*)()>(fn), who, self->atypes(), argv, n,
                           pyargs ? &PyTuple_GET_ITEM(pyargs, 0) : nullptr, pyargs ? PyTuple_GET_SIZE(pyargs) : 0};
        auto call = [&]() noexcept {
            return call_prepared(self, reinterpret_cast<void (*)()>(fn), argv, result, static_cast<int>(flags));
        };
        if (foreign_call(record, call) < 0) throw_if_error();
        Py_RETURN_NONE;
    });
}

PyObject *ci_get_restype(PyObject *o, void *) { return Ref::borrow(as_ci(o)->restype).release(); }
PyObject *ci_get_argtypes(PyObject *o, void *) { return Ref::borrow(as_ci(o)->argtypes).release(); }
PyObject *ci_get_nfixed(PyObject *o, void *) { return PyLong_FromLong(as_ci(o)->nfixed); }

PyObject *ci_repr(PyObject *o) {
    CallInterfaceObject *self = as_ci(o);
    return PyUnicode_FromFormat("<CallInterface %R(%R)%s>", self->restype, self->argtypes,
                                self->nfixed >= 0 ? " variadic" : "");
}

PyMethodDef ci_methods[] = {
    {"call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(ci_call)), METH_FASTCALL,
     "call(function, args, result, flags, who=None, pyargs=None): call the C function at address\n"
     "function; args holds one address per argument; the return value is written at result (0 for\n"
     "void).  who (the function pointer or its name) and pyargs (the tuple of Python arguments)\n"
     "are for the crash report."},
    {nullptr, nullptr, 0, nullptr},
};

PyObject *fn_divert_calls(PyObject *, PyObject *on) {
    int t = PyObject_IsTrue(on);
    if (t < 0) return nullptr;
    bool was = std::exchange(calls_diverted, t != 0);
    return PyBool_FromLong(was);
}

PyMethodDef call_functions[] = {
    {"divert_calls", fn_divert_calls, METH_O,
     "divert_calls(on) -> bool: while on, function pointers and closures run the Python level's\n"
     "executors (_pycall_, the closure's invoke) instead of their native plans; the old state."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef ci_getset[] = {
    {"restype", ci_get_restype, nullptr, "the result FFIType", nullptr},
    {"argtypes", ci_get_argtypes, nullptr, "the argument FFITypes (tuple)", nullptr},
    {"nfixed", ci_get_nfixed, nullptr, "-1, or the number of fixed arguments (variadic)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot ci_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(ci_new)},
    {Py_tp_dealloc, reinterpret_cast<void *>(ci_dealloc)},
    {Py_tp_repr, reinterpret_cast<void *>(ci_repr)},
    {Py_tp_methods, ci_methods},
    {Py_tp_getset, ci_getset},
    {Py_tp_doc, const_cast<char *>("CallInterface(restype, argtypes, nfixed=-1): a prepared ffi_cif.")},
    {0, nullptr},
};

PyType_Spec ci_spec = {
    "pyctypes._rawffi.CallInterface", sizeof(CallInterfaceObject), sizeof(ffi_type *),
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, ci_slots,
};

}  // namespace

int call_cif(ffi_cif *cif, void (*fn)(), void **args, void *rvalue, int flags) noexcept {
    if (flags & CALL_RELEASE_GIL) [[likely]] {
        Py_BEGIN_ALLOW_THREADS
        ffi_call_errno(cif, fn, rvalue, args, flags);
        Py_END_ALLOW_THREADS
    } else {
        ffi_call_errno(cif, fn, rvalue, args, flags);
    }
    if ((flags & CALL_CHECK_PYERR) && PyErr_Occurred()) return -1;
    return 0;
}

int call_prepared(CallInterfaceObject *ci, void (*fn)(), void **args, void *result,
                  int flags) noexcept {
    ffi_type *rt = ci->cif.rtype;
    int status;
    try {
        // libffi writes at least a full ffi_arg (integers are widened to it).
        ResultBuffer rbuf(rt);
        status = call_cif(&ci->cif, fn, args, rbuf.get(), flags);
        if (status == 0 && result && rt->type != FFI_TYPE_VOID) narrow_result(rt, rbuf.get(), result);
    } catch (std::bad_alloc &) {
        PyErr_NoMemory();
        return -1;
    }
    return status;
}

int init_call(PyObject *module) {
    return guard_int([&] {
        if (!CallInterface_Type)
            CallInterface_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&ci_spec)));
        if (PyModule_AddType(module, CallInterface_Type) < 0) throw_if_error();
        if (PyModule_AddIntConstant(module, "CALL_RELEASE_GIL", CALL_RELEASE_GIL) < 0 ||
            PyModule_AddIntConstant(module, "CALL_USE_ERRNO", CALL_USE_ERRNO) < 0 ||
            PyModule_AddIntConstant(module, "CALL_CHECK_PYERR", CALL_CHECK_PYERR) < 0 ||
            PyModule_AddFunctions(module, call_functions) < 0)
            throw_if_error();
        return 0;
    });
}

}  // namespace rawffi
