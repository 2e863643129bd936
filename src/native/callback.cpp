// callback.cpp: Closure: ffi_closure_alloc'd C function pointers that call a Python callable.
#include "callback.h"
#include "call.h"
#include "ffitypes.h"
#include "module.h"

#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

namespace rawffi {

PyTypeObject *Closure_Type = nullptr;

namespace {

struct ClosureObject {
    PyObject_HEAD
    ffi_closure *closure;   // writable part (ffi_closure_alloc), NULL until prepared
    void *code;             // executable address of the closure
    PyObject *cif;          // CallInterface; kept until dealloc (the closure points into it)
    PyObject *callable;     // cleared by tp_clear
};

ClosureObject *as_cl(PyObject *o) { return reinterpret_cast<ClosureObject *>(o); }

// Widen a result the callable wrote at its natural size into libffi's return slot.
void widen_result(const ffi_type *rt, const void *src, void *ret) noexcept {
    if (is_narrow_int(rt)) {
        ffi_arg v = 0;
        switch (rt->type) {
        case FFI_TYPE_SINT8: { int8_t x; std::memcpy(&x, src, 1); v = static_cast<ffi_arg>(static_cast<ffi_sarg>(x)); break; }
        case FFI_TYPE_UINT8: { uint8_t x; std::memcpy(&x, src, 1); v = x; break; }
        case FFI_TYPE_SINT16: { int16_t x; std::memcpy(&x, src, 2); v = static_cast<ffi_arg>(static_cast<ffi_sarg>(x)); break; }
        case FFI_TYPE_UINT16: { uint16_t x; std::memcpy(&x, src, 2); v = x; break; }
        case FFI_TYPE_SINT32: case FFI_TYPE_INT: { int32_t x; std::memcpy(&x, src, 4); v = static_cast<ffi_arg>(static_cast<ffi_sarg>(x)); break; }
        case FFI_TYPE_UINT32: { uint32_t x; std::memcpy(&x, src, 4); v = x; break; }
        default: break;
        }
        std::memcpy(ret, &v, sizeof v);
        return;
    }
    std::memcpy(ret, src, rt->size);
}

void zero_result(const ffi_type *rt, void *ret) noexcept {
    if (rt->type == FFI_TYPE_VOID) return;
    std::memset(ret, 0, is_narrow_int(rt) ? sizeof(ffi_arg) : rt->size);
}

// Run the callable with the GIL held; false if it raised (reported already).
bool run_callable(PyObject *callable, void **args, void *result) {
    Ref a = Ref::steal(PyLong_FromVoidPtr(static_cast<void *>(args)));
    Ref r = a ? Ref::steal(PyLong_FromVoidPtr(result)) : Ref();
    Ref out = r ? Ref::steal(PyObject_CallFunctionObjArgs(callable, a.get(), r.get(), nullptr)) : Ref();
    if (!out) {
        PyErr_WriteUnraisable(callable);
        return false;
    }
    return true;
}

// The libffi closure handler: entered from C, possibly on a thread Python never saw.
void handler(ffi_cif *cif, void *ret, void **args, void *userdata) {
    ffi_type *rt = cif->rtype;
    PyGILState_STATE gs = PyGILState_Ensure();
    {
        auto *self = static_cast<ClosureObject *>(userdata);
        Ref callable = Ref::borrow(self->callable);  // stays alive even if the closure is cleared
        bool ok = false;
        if (!callable) [[unlikely]] {
            PyErr_SetString(PyExc_RuntimeError, "pyctypes: callback called after its Closure was cleared");
            PyErr_WriteUnraisable(reinterpret_cast<PyObject *>(self));
        } else {
            try {
                ResultBuffer tmp(rt);  // zeroed
                ok = run_callable(callable.get(), args, tmp.get());
                if (ok && rt->type != FFI_TYPE_VOID) widen_result(rt, tmp.get(), ret);
            } catch (std::bad_alloc &) {
                PyErr_NoMemory();
                PyErr_WriteUnraisable(callable.get());
            }
        }
        if (!ok) zero_result(rt, ret);
    }
    PyGILState_Release(gs);
}

PyObject *cl_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"cif", "callable", nullptr};
        PyObject *cif, *callable;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Closure", const_cast<char **>(kwlist),
                                         &cif, &callable))
            throw_if_error();
        if (!is_callinterface(cif)) raise(PyExc_TypeError, "Closure cif must be a CallInterface");
        if (!PyCallable_Check(callable)) raise(PyExc_TypeError, "Closure callable must be callable");
        Ref self_ref = check_new(tp->tp_alloc(tp, 0));
        ClosureObject *self = as_cl(self_ref.get());
        self->cif = Ref::borrow(cif).release();
        self->callable = Ref::borrow(callable).release();
        self->closure = static_cast<ffi_closure *>(ffi_closure_alloc(sizeof(ffi_closure), &self->code));
        if (!self->closure) raise(PyExc_MemoryError, "ffi_closure_alloc failed");
        ffi_status st = ffi_prep_closure_loc(self->closure,
                                             &reinterpret_cast<CallInterfaceObject *>(cif)->cif,
                                             handler, self, self->code);
        if (st != FFI_OK) {
            PyErr_Format(PyExc_RuntimeError, "ffi_prep_closure_loc failed: %s", ffi_status_name(st));
            throw_if_error();
        }
        return self_ref.release();
    });
}

int cl_traverse(PyObject *o, visitproc visit, void *arg) {
    ClosureObject *self = as_cl(o);
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(self->callable);
    Py_VISIT(self->cif);
    return 0;
}

int cl_clear(PyObject *o) {
    // Only the callable: the ffi_closure points into the cif, which therefore
    // stays until dealloc (a CallInterface holds only FFITypes: no cycles).
    Ref::steal(std::exchange(as_cl(o)->callable, nullptr)).reset();
    return 0;
}

void cl_dealloc(PyObject *o) {
    ClosureObject *self = as_cl(o);
    PyTypeObject *tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    if (self->closure) ffi_closure_free(self->closure);
    self->closure = nullptr;
    cl_clear(o);
    Ref::steal(std::exchange(self->cif, nullptr)).reset();
    tp->tp_free(o);
    Py_DECREF(tp);
}

PyObject *cl_get_address(PyObject *o, void *) { return PyLong_FromVoidPtr(as_cl(o)->code); }
PyObject *cl_get_cif(PyObject *o, void *) { return Ref::borrow(as_cl(o)->cif).release(); }
PyObject *cl_get_callable(PyObject *o, void *) {
    PyObject *c = as_cl(o)->callable;
    return Ref::borrow(c ? c : Py_None).release();
}

PyObject *cl_repr(PyObject *o) {
    return PyUnicode_FromFormat("<Closure at %p calling %R>", as_cl(o)->code,
                                as_cl(o)->callable ? as_cl(o)->callable : Py_None);
}

PyGetSetDef cl_getset[] = {
    {"address", cl_get_address, nullptr, "the C function pointer (int)", nullptr},
    {"cif", cl_get_cif, nullptr, "the CallInterface describing the C signature", nullptr},
    {"callable", cl_get_callable, nullptr, "callable(args_address, result_address)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot cl_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(cl_new)},
    {Py_tp_dealloc, reinterpret_cast<void *>(cl_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void *>(cl_traverse)},
    {Py_tp_clear, reinterpret_cast<void *>(cl_clear)},
    {Py_tp_repr, reinterpret_cast<void *>(cl_repr)},
    {Py_tp_getset, cl_getset},
    {Py_tp_doc, const_cast<char *>("Closure(cif, callable): an ffi closure; address is the C function pointer.")},
    {0, nullptr},
};

PyType_Spec cl_spec = {
    "pyctypes._rawffi.Closure", sizeof(ClosureObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, cl_slots,
};

}  // namespace

int init_callback(PyObject *module) {
    return guard_int([&] {
        if (!Closure_Type)
            Closure_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&cl_spec)));
        if (PyModule_AddType(module, Closure_Type) < 0) throw_if_error();
        return 0;
    });
}

}  // namespace rawffi
