// callback.cpp: Closure: ffi_closure_alloc'd C function pointers that call a Python callable.
#include "callback.h"
#include "access.h"
#include "call.h"
#include "decision.h"
#include "ffitypes.h"
#include "helpers.h"
#include "memory.h"
#include "module.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace rawffi {

PyTypeObject *Closure_Type = nullptr;

namespace {

PyObject *s_empty = nullptr;    // ()

// How a planned closure converts its arguments and result natively.
struct CallbackArg {
    enum class Kind : unsigned char { Load, New, Instance, Reader } kind;
    bool swapped;             // Load: byte-swapped
    const CodeInfo *code;     // Load: the type code's row
    Py_ssize_t size;          // New, Instance: bytes copied into the new instance
    PyObject *obj;            // owned; New, Instance: the class, Reader: reader(address)
    PyObject *spare;          // owned or NULL; New: last call's instance, nobody else's (see reuse)
    Py_ssize_t block;         // New: the block size of the class's fresh instances
};

struct CallbackPlan {
    std::vector<CallbackArg> args;
    const CodeInfo *rcode = nullptr;  // the code whose row stores results store_result may let us store
    SiteCache results;                // the exact result types store_result said the row stores
    PyObject *store_result = nullptr; // owned or NULL (void): store_result(address, value)
    PyObject *on_error = nullptr;     // owned: on_error(stage, exc), stage "argument" or "call"
    PyObject *invoke = nullptr;       // owned: the Python level's invoke(args, result), run while
                                      // calls are diverted (tracing)
};

struct ClosureObject {
    PyObject_HEAD
    ffi_closure *closure;   // writable part (ffi_closure_alloc), NULL until prepared
    void *code;             // executable address of the closure
    PyObject *cif;          // CallInterface; kept until dealloc (the closure points into it)
    PyObject *callable;     // cleared by tp_clear
    CallbackPlan *plan;     // NULL: callable(args, result) converts; else the plan's objects
    int flags;              // CALL_USE_ERRNO: errno swapped around the Python call
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
bool run_callable(PyObject *callable, void **args, void *result, int flags) {
    Ref a = Ref::steal(PyLong_FromVoidPtr(static_cast<void *>(args)));
    Ref r = a ? Ref::steal(PyLong_FromVoidPtr(result)) : Ref();
    Ref out;
    if (r) {
        with_errno(flags & CALL_USE_ERRNO, [&] {
            out = Ref::steal(PyObject_CallFunctionObjArgs(callable, a.get(), r.get(), nullptr));
        });
    }
    if (!out) {
        PyErr_WriteUnraisable(callable);
        return false;
    }
    return true;
}

// Report the current exception through plan.on_error(stage, exc).
[[gnu::cold]] void report(const CallbackPlan &plan, const char *stage) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value) PyException_SetTraceback(value, tb);
    Ref t = Ref::steal(type), v = Ref::steal(value), b = Ref::steal(tb);
    Ref name = Ref::steal(PyUnicode_FromString(stage));
    Ref done = name ? Ref::steal(PyObject_CallFunctionObjArgs(plan.on_error, name.get(),
                                                              v ? v.get() : Py_None, nullptr))
                    : Ref();
    if (!done) PyErr_WriteUnraisable(plan.on_error);
}

// One argument as a Python object (a new reference, or NULL with an error set).
PyObject *make_arg(CallbackArg &a, void *p) {
    switch (a.kind) {
    case CallbackArg::Kind::Load:
        return a.code->load(p, a.swapped);
    case CallbackArg::Kind::New: {
        // CData's tp_new: what the class's construction without arguments does;
        // or the instance of the last call, which nothing else kept (see reuse).
        Ref obj = Ref::steal(std::exchange(a.spare, nullptr));
        if (obj) {
            if (a.block > a.size)      // what a fresh instance has past the copied bytes
                std::memset(static_cast<char *>(cdata_ptr(obj.get())) + a.size, 0,
                            static_cast<size_t>(a.block - a.size));
        } else {
            obj = Ref::steal(CData_Type->tp_new(reinterpret_cast<PyTypeObject *>(a.obj), s_empty, nullptr));
            if (!obj) return nullptr;
            a.block = cdata_size(obj.get());
        }
        std::memcpy(cdata_ptr(obj.get()), p, static_cast<size_t>(a.size));
        return obj.release();
    }
    case CallbackArg::Kind::Instance: {
        Ref obj = Ref::steal(PyObject_CallNoArgs(a.obj));
        if (!obj) return nullptr;
        if (!is_cdata(obj.get())) {
            PyErr_SetString(PyExc_TypeError, "unexpected result of create argument");
            return nullptr;
        }
        std::memcpy(cdata_ptr(obj.get()), p, static_cast<size_t>(a.size));
        return obj.release();
    }
    case CallbackArg::Kind::Reader: {
        Ref address = Ref::steal(PyLong_FromVoidPtr(p));
        return address ? PyObject_CallOneArg(a.obj, address.get()) : nullptr;
    }
    }
    return nullptr;
}

// After the call, an argument instance that only the closure still holds and
// that is exactly as it was made (its class, its own unresized block, nothing
// kept alive, no attribute, no weak reference) serves the next call: it would
// be freed, and a fresh one made, exactly alike but for the bytes the next
// call copies in.  A freelist of one per argument, as CPython keeps for
// floats and tuples; an instance the callable kept anywhere is never reused.
bool reusable(const CallbackArg &a, PyObject *v) {
    CData *c = as_cdata(v);
    if (a.kind != CallbackArg::Kind::New || a.spare || Py_REFCNT(v) != 1 ||
        Py_TYPE(v) != reinterpret_cast<PyTypeObject *>(a.obj) || c->b_objects || c->b_base ||
        !c->b_needsfree || c->b_exports != 0 || c->b_size != a.block)
        return false;
    // 3.12 on, a class made in Python keeps its weak references before the
    // object (Py_TPFLAGS_MANAGED_WEAKREF): a negative offset, from v as well
    Py_ssize_t weaklist = Py_TYPE(v)->tp_weaklistoffset;
    if (weaklist != 0 && *reinterpret_cast<PyObject **>(reinterpret_cast<char *>(v) + weaklist))
        return false;
    PyObject **dict = _PyObject_GetDictPtr(v);
    return !(dict && *dict);
}

void reuse_or_release(CallbackArg &a, PyObject *v) {
    if (reusable(a, v)) a.spare = v;
    else Py_DECREF(v);
}

// The result stored by its code's row, for a type store_result said the row
// stores; false (no error set) for any other value, or one the row refuses.
bool store_remembered(CallbackPlan &plan, PyObject *value, void *out) {
    const Action *a = plan.results.find(value);
    if (!a) return false;
    PyObject *keep = a->row->store(out, value, false);
    if (!keep) [[unlikely]] {
        PyErr_Clear();
        return false;
    }
    Py_DECREF(keep);    // None: what the remembered codes store keeps nothing alive
    return true;
}

// The result through the Python level's store_result(address, value), which
// stores it (or reports why not) and answers True when every value of this
// exact type is stored by the row of the result's code alone.
bool store_by_python(CallbackPlan &plan, PyObject *value, void *out) {
    Ref store = Ref::borrow(plan.store_result);
    Ref address = Ref::steal(PyLong_FromVoidPtr(out));
    Ref done = address ? Ref::steal(PyObject_CallFunctionObjArgs(store.get(), address.get(), value, nullptr))
                       : Ref();
    if (!done) {
        PyErr_WriteUnraisable(store.get());
        return false;
    }
    if (done.get() == Py_True && plan.rcode) {
        Decision d{{Pass::Store, StoreKind::Row, plan.rcode, nullptr}, value, nullptr, true, nullptr};
        plan.results.remember(value, d);
    }
    return true;
}

// The planned call: arguments converted, the target called, the result stored.
bool run_plan(ClosureObject *self, PyObject *target, void **args, void *result) {
    CallbackPlan &plan = *self->plan;
    size_t n = plan.args.size();
    std::array<PyObject *, 8> small;
    std::vector<PyObject *> big;
    PyObject **argv = small.data();
    if (n > small.size()) {
        big.resize(n);
        argv = big.data();
    }
    size_t made = 0;
    struct Drop {
        CallbackPlan &plan;
        PyObject **v;
        size_t &n;
        ~Drop() { for (size_t i = 0; i < n; i++) reuse_or_release(plan.args[i], v[i]); }
    } drop{plan, argv, made};
    for (; made < n; made++) {
        PyObject *v = make_arg(plan.args[made], args[made]);
        if (!v) {
            report(plan, "argument");
            return false;
        }
        argv[made] = v;
    }
    Ref out;
    with_errno(self->flags & CALL_USE_ERRNO,
               [&] { out = Ref::steal(PyObject_Vectorcall(target, argv, n, nullptr)); });
    if (!out) {
        report(plan, "call");
        return false;
    }
    if (!plan.store_result) return true;
    if (store_remembered(plan, out.get(), result)) [[likely]] return true;
    return store_by_python(plan, out.get(), result);
}

// The libffi closure handler: entered from C, possibly on a thread Python never saw.
PyObject *g_thread_end_hook = nullptr;     // owned or NULL: set_thread_end_hook

// A thread Python never saw gets a Python thread state for the callback only:
// before it ends, the Python level forgets what it made for that thread.
void thread_state_ends() {
    Ref hook = Ref::borrow(g_thread_end_hook);
    if (!hook) return;
    Ref done = Ref::steal(PyObject_CallNoArgs(hook.get()));
    if (!done) PyErr_WriteUnraisable(hook.get());
}

void handler(ffi_cif *cif, void *ret, void **args, void *userdata) {
    ffi_type *rt = cif->rtype;
    bool foreign = PyGILState_GetThisThreadState() == nullptr;
    PyGILState_STATE gs = PyGILState_Ensure();
    {
        auto *self = static_cast<ClosureObject *>(userdata);
        // Owned across the call: the callable may drop the last reference to
        // the function object, and with it to this closure, whose plan, cif
        // (rt points into it) and argument spares are used after it returns.
        // Released at the end of this scope, GIL held; libffi reads nothing of
        // the closure after the handler returns.
        Ref keep = Ref::borrow(reinterpret_cast<PyObject *>(self));
        Ref callable = Ref::borrow(self->callable);  // stays alive even if the closure is cleared
        bool ok = false;
        if (!callable) [[unlikely]] {
            PyErr_SetString(PyExc_RuntimeError, "pyctypes: callback called after its Closure was cleared");
            PyErr_WriteUnraisable(reinterpret_cast<PyObject *>(self));
        } else {
            try {
                ResultBuffer tmp(rt);  // zeroed
                if (self->plan && !calls_diverted) [[likely]]
                    ok = run_plan(self, callable.get(), args, tmp.get());
                else
                    ok = run_callable(self->plan ? self->plan->invoke : callable.get(), args, tmp.get(),
                                      self->flags);
                if (ok && rt->type != FFI_TYPE_VOID) widen_result(rt, tmp.get(), ret);
            } catch (std::bad_alloc &) {
                PyErr_NoMemory();
                PyErr_WriteUnraisable(callable.get());
            }
        }
        if (!ok) zero_result(rt, ret);
        if (foreign) [[unlikely]] thread_state_ends();
    }
    PyGILState_Release(gs);
}

PyObject *fn_set_thread_end_hook(PyObject *, PyObject *hook) {
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "the thread end hook must be callable or None");
        return nullptr;
    }
    Ref old = Ref::steal(std::exchange(g_thread_end_hook, hook == Py_None ? nullptr : Py_NewRef(hook)));
    Py_RETURN_NONE;
}

PyMethodDef callback_functions[] = {
    {"set_thread_end_hook", fn_set_thread_end_hook, METH_O,
     "set_thread_end_hook(hook): hook() runs when a callback called on a thread Python never\n"
     "saw returns, before that thread's Python state ends (None: nothing runs)."},
    {nullptr, nullptr, 0, nullptr},
};

// Drop every object the plan holds (the plan stays, empty: tp_clear).
void clear_plan(CallbackPlan &plan) noexcept {
    for (CallbackArg &a : plan.args) {
        Ref::steal(std::exchange(a.obj, nullptr)).reset();
        Ref::steal(std::exchange(a.spare, nullptr)).reset();
    }
    plan.results.clear();
    Ref::steal(std::exchange(plan.store_result, nullptr)).reset();
    Ref::steal(std::exchange(plan.on_error, nullptr)).reset();
    Ref::steal(std::exchange(plan.invoke, nullptr)).reset();
}

void free_plan(CallbackPlan *plan) noexcept {
    if (!plan) return;
    clear_plan(*plan);
    delete plan;
}

PyTypeObject *ClosureArg_Type = nullptr;
PyTypeObject *ClosurePlan_Type = nullptr;

PyStructSequence_Field closure_arg_fields[] = {
    {"kind", "the ClosureArgKind"},
    {"obj", "NEW, INSTANCE: the class; READER: reader(address); LOAD: None"},
    {"code", "LOAD: the type code; else None"},
    {"size", "NEW, INSTANCE: the bytes copied into the instance; else 0"},
    {"swapped", "LOAD: the value is byte-swapped"},
    {nullptr, nullptr},
};
PyStructSequence_Desc closure_arg_desc = {
    "pyctypes._rawffi.ClosureArg",
    "ClosureArg((kind, obj, code, size, swapped)): how a callback argument becomes a Python object.",
    closure_arg_fields, 5,
};

PyStructSequence_Field closure_plan_fields[] = {
    {"args", "a tuple of ClosureArg, one per argument of the cif"},
    {"result_code", "the type code whose row may store results, or None"},
    {"store_result", "store_result(address, value) -> True if the row stores that type; None: void"},
    {"on_error", "on_error(stage, exc): reports a failed argument or call"},
    {"invoke", "invoke(args, result): the Python level's executor, run while calls are diverted"},
    {nullptr, nullptr},
};
PyStructSequence_Desc closure_plan_desc = {
    "pyctypes._rawffi.ClosurePlan",
    "ClosurePlan((args, result_code, store_result, on_error, invoke)): how a closure converts natively.",
    closure_plan_fields, 5,
};

CallbackArg parse_arg(PyObject *item, const ffi_type *t) {
    if (!Py_IS_TYPE(item, ClosureArg_Type)) raise(PyExc_TypeError, "a Closure argument must be a ClosureArg");
    PyObject *kind = PyStructSequence_GET_ITEM(item, 0), *x = PyStructSequence_GET_ITEM(item, 1);
    long k = PyLong_Check(kind) ? PyLong_AsLong(kind) : -1;
    if (k < 0 || k > static_cast<long>(CallbackArg::Kind::Reader)) {
        PyErr_Clear();
        raise(PyExc_ValueError, "unknown ClosureArgKind");
    }
    CallbackArg a{static_cast<CallbackArg::Kind>(k), false, nullptr, 0, nullptr, nullptr, 0};
    switch (a.kind) {
    case CallbackArg::Kind::Load: {
        a.code = find_code(PyStructSequence_GET_ITEM(item, 2));
        if (!a.code) raise(PyExc_ValueError, "a LOAD argument has an unknown type code");
        int swapped = PyObject_IsTrue(PyStructSequence_GET_ITEM(item, 4));
        if (swapped < 0) throw PyErrorSet{};
        if (swapped && !a.code->swappable) raise(PyExc_ValueError, "this type code has no byte-swapped form");
        a.swapped = swapped;
        return a;
    }
    case CallbackArg::Kind::New:
    case CallbackArg::Kind::Instance:
        if (!PyType_Check(x) || (a.kind == CallbackArg::Kind::New &&
                                 !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(x), CData_Type)))
            raise(PyExc_TypeError, "a NEW or INSTANCE argument needs a CData subclass");
        a.size = to_size(PyStructSequence_GET_ITEM(item, 3), "argument size");
        if (static_cast<size_t>(a.size) > t->size)
            raise(PyExc_ValueError, "a NEW or INSTANCE argument is larger than its ffi type");
        break;
    case CallbackArg::Kind::Reader:
        if (!PyCallable_Check(x)) raise(PyExc_TypeError, "a READER argument needs a callable");
        break;
    }
    a.obj = Py_NewRef(x);
    return a;
}

std::unique_ptr<CallbackPlan, void (*)(CallbackPlan *)> parse_plan(PyObject *spec, const ffi_cif &cif) {
    std::unique_ptr<CallbackPlan, void (*)(CallbackPlan *)> plan(new CallbackPlan, free_plan);
    if (!Py_IS_TYPE(spec, ClosurePlan_Type)) raise(PyExc_TypeError, "a Closure plan must be a ClosurePlan");
    PyObject *args = PyStructSequence_GET_ITEM(spec, 0), *rcode = PyStructSequence_GET_ITEM(spec, 1),
             *store = PyStructSequence_GET_ITEM(spec, 2), *on_error = PyStructSequence_GET_ITEM(spec, 3),
             *invoke = PyStructSequence_GET_ITEM(spec, 4);
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) != static_cast<Py_ssize_t>(cif.nargs))
        raise(PyExc_ValueError, "a ClosurePlan needs one ClosureArg per argument of the cif");
    if (!PyCallable_Check(on_error)) raise(PyExc_TypeError, "a ClosurePlan's on_error must be callable");
    plan->on_error = Py_NewRef(on_error);
    if (!PyCallable_Check(invoke)) raise(PyExc_TypeError, "a ClosurePlan's invoke must be callable");
    plan->invoke = Py_NewRef(invoke);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
        plan->args.push_back(parse_arg(PyTuple_GET_ITEM(args, i), cif.arg_types[i]));
    if (store != Py_None) {
        if (!PyCallable_Check(store)) raise(PyExc_TypeError, "a ClosurePlan's store_result must be callable");
        plan->store_result = Py_NewRef(store);
        if (rcode != Py_None) {
            plan->rcode = find_code(rcode);
            if (!plan->rcode || plan->rcode->size > static_cast<Py_ssize_t>(cif.rtype->size))
                raise(PyExc_ValueError, "a ClosurePlan's result code does not fit the cif's result");
        }
    } else if (cif.rtype->type != FFI_TYPE_VOID) {
        raise(PyExc_ValueError, "a ClosurePlan needs store_result for a non-void result");
    }
    return plan;
}

PyObject *cl_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"cif", "callable", "flags", "plan", nullptr};
        PyObject *cif, *callable, *plan_spec = Py_None;
        int flags = 0;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|iO:Closure", const_cast<char **>(kwlist),
                                         &cif, &callable, &flags, &plan_spec))
            throw_if_error();
        if (!is_callinterface(cif)) raise(PyExc_TypeError, "Closure cif must be a CallInterface");
        if (!PyCallable_Check(callable)) raise(PyExc_TypeError, "Closure callable must be callable");
        if (flags & ~CALL_USE_ERRNO) raise(PyExc_ValueError, "Closure flags: only CALL_USE_ERRNO");
        auto &ffcif = reinterpret_cast<CallInterfaceObject *>(cif)->cif;
        auto plan = plan_spec == Py_None ? std::unique_ptr<CallbackPlan, void (*)(CallbackPlan *)>(nullptr, free_plan)
                                         : parse_plan(plan_spec, ffcif);
        Ref self_ref = check_new(tp->tp_alloc(tp, 0));
        ClosureObject *self = as_cl(self_ref.get());
        self->cif = Ref::borrow(cif).release();
        self->callable = Ref::borrow(callable).release();
        self->flags = flags;
        self->plan = plan.release();
        self->closure = static_cast<ffi_closure *>(ffi_closure_alloc(sizeof(ffi_closure), &self->code));
        if (!self->closure) raise(PyExc_MemoryError, "ffi_closure_alloc failed");
        ffi_status st = ffi_prep_closure_loc(self->closure, &ffcif, handler, self, self->code);
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
    if (CallbackPlan *plan = self->plan) {
        for (const CallbackArg &a : plan->args) {
            Py_VISIT(a.obj);
            Py_VISIT(a.spare);
        }
        Py_VISIT(plan->store_result);
        Py_VISIT(plan->on_error);
        Py_VISIT(plan->invoke);
        if (int r = plan->results.traverse(visit, arg)) return r;
    }
    return 0;
}

int cl_clear(PyObject *o) {
    // The callable and the plan's objects: the ffi_closure points into the
    // cif, which therefore stays until dealloc (it holds only FFITypes: no
    // cycles).  A cleared closure called from C reports an error.
    ClosureObject *self = as_cl(o);
    Ref callable = Ref::steal(std::exchange(self->callable, nullptr));
    if (self->plan) clear_plan(*self->plan);
    return 0;
}

void cl_dealloc(PyObject *o) {
    ClosureObject *self = as_cl(o);
    PyTypeObject *tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    if (self->closure) ffi_closure_free(self->closure);
    self->closure = nullptr;
    cl_clear(o);
    free_plan(std::exchange(self->plan, nullptr));
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
    {Py_tp_doc, const_cast<char *>(
        "Closure(cif, callable, flags=0, plan=None): an ffi closure; address is the C function pointer.")},
    {0, nullptr},
};

PyType_Spec cl_spec = {
    "pyctypes._rawffi.Closure", sizeof(ClosureObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, cl_slots,
};

}  // namespace

int init_callback(PyObject *module) {
    return guard_int([&] {
        if (!s_empty) s_empty = check(PyTuple_New(0));
        if (!Closure_Type)
            Closure_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&cl_spec)));
        if (PyModule_AddType(module, Closure_Type) < 0) throw_if_error();
        add_struct_sequence(module, ClosureArg_Type, &closure_arg_desc);
        add_struct_sequence(module, ClosurePlan_Type, &closure_plan_desc);
        add_int_enum(module, "ClosureArgKind", {"LOAD", "NEW", "INSTANCE", "READER"});
        if (PyModule_AddFunctions(module, callback_functions) < 0) throw_if_error();
        return 0;
    });
}

}  // namespace rawffi
