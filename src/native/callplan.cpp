// callplan.cpp: CallPlan objects and the native call path: each argument passed
// as its site remembers the Python rule deciding (or as the rule decides now),
// the foreign call, the result (GetResult, as planned).
#include "callplan.h"
#include "carg.h"
#include "crashreport.h"
#include "ffitypes.h"
#include "memory.h"
#include "module.h"

#include <array>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace rawffi {

PyTypeObject *CallPlan_Type = nullptr;

namespace {

constexpr Py_ssize_t kMaxArgCount = 1024;   // CTYPES_MAX_ARGCOUNT

PyObject *s_empty = nullptr;         // ()

CallPlanObject *as_plan(PyObject *o) noexcept { return reinterpret_cast<CallPlanObject *>(o); }

// ---------------------------------------------------------------- the frame of one call
// Per argument: the value libffi reads (in a slot, or in an object's memory),
// its ffi type, and the objects that must live until the call has returned.
class Frame {
public:
    explicit Frame(Py_ssize_t n) {
        if (n > kInline) [[unlikely]] {
            auto count = static_cast<size_t>(n);
            big_ = std::make_unique<Big>(count);
            slots = big_->slots.data();
            values = big_->values.data();
            types = big_->types.data();
        }
    }
    Frame(const Frame &) = delete;
    Frame &operator=(const Frame &) = delete;
    ~Frame() {
        for (int i = 0; i < nkeep_; i++) Py_DECREF(keep_[i]);
        if (big_) [[unlikely]]
            for (PyObject *o : big_->keep) Py_DECREF(o);
    }

    // Keep a new reference until the call has returned.
    void keep(Ref r) {
        if (!r) return;
        if (nkeep_ < kInline) [[likely]] {
            keep_[nkeep_++] = r.release();
            return;
        }
        if (!big_) big_ = std::make_unique<Big>(0);
        big_->keep.push_back(r.release());
    }

    // Argument i is the value in its slot (written by the caller), passed as t.
    void *slot(Py_ssize_t i, ffi_type *t) noexcept {
        types[i] = t;
        values[i] = slots[i].bytes;
        return slots[i].bytes;
    }
    void pointer(Py_ssize_t i, const void *p) noexcept {
        std::memcpy(slot(i, &ffi_type_pointer), &p, sizeof p);
    }
    // Argument i is the value in memory at p (an instance passed by value).
    void memory(Py_ssize_t i, void *p, ffi_type *t) noexcept {
        types[i] = t;
        values[i] = p;
    }

    static constexpr int kInline = 8;
    InlineStorage *slots = inline_slots_;
    void **values = inline_values_;
    ffi_type **types = inline_types_;

private:
    struct Big {
        explicit Big(size_t n) : slots(n), values(n), types(n) {}
        std::vector<InlineStorage> slots;
        std::vector<void *> values;
        std::vector<ffi_type *> types;
        std::vector<PyObject *> keep;
    };
    InlineStorage inline_slots_[kInline];
    void *inline_values_[kInline];
    ffi_type *inline_types_[kInline];
    PyObject *keep_[kInline];
    int nkeep_ = 0;
    std::unique_ptr<Big> big_;
};

// ---------------------------------------------------------------- executing a decided action
template <class T>
void put(void *p, T v) noexcept { std::memcpy(p, &v, sizeof v); }

// An exact int or float stored as the row's StoreKind says (the bits the row
// would write); false: the row itself stores.
[[gnu::always_inline]] inline bool store_inline(void *p, StoreKind kind, PyObject *v) noexcept {
    switch (kind) {
    case StoreKind::Row:
        return false;
    case StoreKind::Int1: case StoreKind::Int2: case StoreKind::Int4: case StoreKind::Int8: {
        if (!PyLong_CheckExact(v)) return false;
        unsigned long long x = PyLong_AsUnsignedLongLongMask(v);
        if (kind == StoreKind::Int4) put(p, static_cast<uint32_t>(x));
        else if (kind == StoreKind::Int8) put(p, x);
        else if (kind == StoreKind::Int1) put(p, static_cast<uint8_t>(x));
        else put(p, static_cast<uint16_t>(x));
        return true;
    }
    case StoreKind::CharP:
        if (!PyBytes_CheckExact(v)) return false;
        put(p, PyBytes_AS_STRING(v));
        return true;
    case StoreKind::Float: case StoreKind::Double: case StoreKind::LongDouble: {
        if (!PyFloat_CheckExact(v)) return false;
        double d = PyFloat_AS_DOUBLE(v);
        if (kind == StoreKind::Double) put(p, d);
        else if (kind == StoreKind::Float) put(p, static_cast<float>(d));
        else put(p, static_cast<long double>(d));
        return true;
    }
    }
    return false;
}

// ConvParam's int: read as a long long, else as an unsigned long long; the low
// bits pass as a C int.  False (no error set) outside both ranges: the Python
// rule raises.
bool pass_int(Frame &f, Py_ssize_t i, PyObject *obj) noexcept {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(obj);
        if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) overflow = -1;
        else v = static_cast<long long>(u);
    }
    if (overflow < 0 || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return false;
    }
    put(f.slot(i, &ffi_type_sint), static_cast<int>(v));
    return true;
}

// A Store through the row (anything store_inline does not take): what the
// stored value points into is kept.  False (no error set, nothing kept) when
// the row refuses v.
[[gnu::noinline]] bool store_by_row(Frame &f, Py_ssize_t i, const Action &a, PyObject *v) {
    PyObject *keep = a.row->store(f.slot(i, a.ffi), v, false);
    if (!keep) [[unlikely]] {
        PyErr_Clear();
        return false;
    }
    if (keep == Py_None) Py_DECREF(keep);
    else f.keep(Ref::steal(keep));
    return true;
}

// Pass v as argument i by action a.  False when a stored row refuses v (no
// error set, nothing kept): the Python rule then decides for this value.
[[gnu::always_inline]] inline bool execute(Frame &f, Py_ssize_t i, const Action &a, PyObject *v) {
    if (a.pass == Pass::Store) [[likely]] {     // the most common action first
        if (store_inline(f.slot(i, a.ffi), a.store, v)) [[likely]] return true;
        return store_by_row(f, i, a, v);
    }
    switch (a.pass) {
    case Pass::Null:
        f.pointer(i, nullptr);
        return true;
    case Pass::Store:
        break;
    case Pass::Int:
        return pass_int(f, i, v);
    case Pass::Memory:
        f.memory(i, cdata_ptr(v), a.ffi);
        return true;
    case Pass::Address:
        f.pointer(i, cdata_ptr(v));
        return true;
    case Pass::CArg:
        f.memory(i, as_carg(v)->value.bytes, as_carg(v)->ffi);
        return true;
    }
    return false;
}

void decide_arg(Frame &f, Py_ssize_t i, ArgSite &site, PyObject *v);

// Argument i (index i + 1) as its site's rule decides: what the site
// remembers for values like v, else what the rule decides now (decide_arg;
// the rule raises ArgumentError itself).
[[gnu::always_inline]] inline void convert_arg(Frame &f, Py_ssize_t i, ArgSite &site, PyObject *v) {
    if (const Action *a = site.cache.find(v)) [[likely]] {
        if (execute(f, i, *a, v)) [[likely]] return;
    }
    decide_arg(f, i, site, v);
}

[[gnu::noinline]] void decide_arg(Frame &f, Py_ssize_t i, ArgSite &site, PyObject *v) {
    Ref index = check_new(PyLong_FromSsize_t(i + 1));
    PyObject *argv[] = {v, index.get()};
    Ref rule = Ref::borrow(site.rule);      // owned across the call: the rule may drop the plan's
    Ref record = check_new(PyObject_Vectorcall(rule.get(), argv, 2, nullptr));
    Decision d = read_decision(record.get());
    if (d.converted) {
        // stored once already (the rule's store may have run the value's own
        // __index__ or __float__): passed as it is, not stored again
        f.memory(i, as_carg(d.converted)->value.bytes, as_carg(d.converted)->ffi);
        f.keep(Ref::borrow(d.converted));
    } else if (!execute(f, i, d.action, d.obj)) [[unlikely]] {
        raise(PyExc_TypeError, "the argument rule decided a store its type code refuses");
    }
    if (d.obj != v) f.keep(Ref::borrow(d.obj));
    else if (d.cacheable) site.cache.remember(v, d);
}

// ---------------------------------------------------------------- the result (GetResult)
PyObject *int_result(const void *buf) {
    int x;
    std::memcpy(&x, buf, sizeof x);
    return PyLong_FromLong(x);
}

template <class T>
T load_as(const void *p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The value of a simple result: the common codes directly, the others by the code table.
PyObject *simple_result(const CodeInfo &code, const void *buf) {
    switch (code.code) {
    case 'i': return PyLong_FromLong(load_as<int>(buf));
    case 'l': return PyLong_FromLong(load_as<long>(buf));
    case 'q': return PyLong_FromLongLong(load_as<long long>(buf));
    case 'L': return PyLong_FromUnsignedLong(load_as<unsigned long>(buf));
    case 'Q': return PyLong_FromUnsignedLongLong(load_as<unsigned long long>(buf));
    case 'd': return PyFloat_FromDouble(load_as<double>(buf));
    default: return code.load(buf, false);
    }
}

Ref make_result(CallPlanObject *plan, void *buf) {
    Ref value;
    switch (plan->rkind) {
    case ResultKind::Int: return check_new(int_result(buf));
    case ResultKind::Void: return Ref::borrow(Py_None);
    case ResultKind::Simple:
        value = check_new(simple_result(*plan->rcode, buf));
        break;
    case ResultKind::Object: {
        PyObject *o;
        std::memcpy(&o, buf, sizeof o);
        if (!o) raise(PyExc_ValueError, "PyObject is NULL");
        value = Ref::steal(o);      // the function returned a new reference
        break;
    }
    case ResultKind::Instance: {
        auto *tp = reinterpret_cast<PyTypeObject *>(plan->restype);
        value = check_new(CData_Type->tp_new(tp, s_empty, nullptr));
        std::memcpy(cdata_ptr(value.get()), buf, static_cast<size_t>(plan->rsize));
        break;
    }
    case ResultKind::Call: {
        Ref x = check_new(int_result(buf));
        return check_new(PyObject_CallOneArg(plan->restype, x.get()));
    }
    case ResultKind::Python: {
        Ref address = check_new(PyLong_FromVoidPtr(buf));
        return check_new(PyObject_CallOneArg(plan->restype, address.get()));
    }
    }
    if (plan->checker) return check_new(PyObject_CallOneArg(plan->checker, value.get()));
    return value;
}

// ---------------------------------------------------------------- the call
// A call refused before its arguments are converted: the Python level raises
// the error (refuse(nconv, extra_args, nargs, null_function)).
[[noreturn, gnu::cold]] void refuse(CallPlanObject *plan, Py_ssize_t nargs, bool null_function) {
    Ref rule = Ref::borrow(plan->refuse);
    Ref r = Ref::steal(PyObject_CallFunction(rule.get(), "nOnO", plan->nconv,
                                             plan->extra_args ? Py_True : Py_False, nargs,
                                             null_function ? Py_True : Py_False));
    if (r) PyErr_SetString(PyExc_SystemError, "refuse() did not raise");
    throw PyErrorSet{};
}

// The call through the signature it needs (direct, the declared cif, or one
// made for it), the result made in rbuf (room for rt and a full ffi_arg).
PyObject *finish(CallPlanObject *plan, Frame &f, ForeignCall &record, ffi_type *rt, bool declared_ok,
                 bool variadic, Py_ssize_t nconv, Py_ssize_t nargs, void *rbuf) {
    void (*fn)() = record.fn;
    DirectSig own_sig;
    const DirectSig *direct = declared_ok ? &plan->direct : nullptr;
    if (!declared_ok && !variadic) {
        own_sig = direct_sig(rt, f.types, static_cast<unsigned>(nargs));
        direct = &own_sig;
    }
    if (direct && direct->usable) [[likely]] {
        if (foreign_call(record, [&]() noexcept { return call_direct(*direct, fn, f.values, rbuf, plan->flags); }) < 0)
            throw PyErrorSet{};
        // The frame's keep-alives outlive the result conversion (a char *
        // result may point into an argument).
        return make_result(plan, rbuf).release();
    }

    ffi_cif own;
    ffi_cif *cif = declared_ok ? &reinterpret_cast<CallInterfaceObject *>(plan->cif)->cif : nullptr;
    if (!cif) {
        auto n = static_cast<unsigned>(nargs);
        ffi_status st = variadic
            ? ffi_prep_cif_var(&own, FFI_DEFAULT_ABI, static_cast<unsigned>(nconv), n, rt, f.types)
            : ffi_prep_cif(&own, FFI_DEFAULT_ABI, n, rt, f.types);
        if (st != FFI_OK) raise(PyExc_RuntimeError, variadic ? "ffi_prep_cif_var failed" : "ffi_prep_cif failed");
        cif = &own;
    }
    if (foreign_call(record, [&]() noexcept { return call_cif(cif, fn, f.values, rbuf, plan->flags); }) < 0)
        throw PyErrorSet{};
    if (is_narrow_int(rt)) {
        InlineStorage narrow;
        narrow_result(rt, rbuf, narrow.bytes);
        return make_result(plan, narrow.bytes).release();
    }
    return make_result(plan, rbuf).release();
}

PyObject *call(CallPlanObject *plan, const void *fnslot, PyObject *const *args, Py_ssize_t nargs,
               PyObject *who) {
    if (plan->cleared) [[unlikely]] raise(PyExc_RuntimeError, "this CallPlan was cleared");
    Py_ssize_t nconv = plan->nconv;
    bool bad_count = nconv >= 0 && (plan->extra_args ? nconv > nargs : nconv != nargs);
    void (*fn)();
    std::memcpy(&fn, fnslot, sizeof fn);
    if (bad_count || !fn || nargs > kMaxArgCount) [[unlikely]] refuse(plan, nargs, !fn);
    // f() of a function declared without arguments: its direct signature, no frame.
    const DirectSig &direct = plan->direct;
    if (nargs == 0 && direct.usable && direct.nargs == 0 && direct.ret != DirectSig::Ret::Memory) [[likely]] {
        InlineStorage rbuf;
        ForeignCall record{nullptr, fn, who, nullptr, nullptr, 0, nullptr, 0};
        if (foreign_call(record, [&]() noexcept { return call_direct_noargs(direct, fn, rbuf.bytes, plan->flags); }) < 0)
            throw PyErrorSet{};
        if (plan->rkind == ResultKind::Simple && !plan->checker) [[likely]]
            return check(simple_result(*plan->rcode, rbuf.bytes));
        return make_result(plan, rbuf.bytes).release();
    }
    if (nconv < 0) nconv = 0;

    Frame f(nargs);
    ArgSite *sites = plan->sites();
    for (Py_ssize_t i = 0; i < nargs; i++) convert_arg(f, i, i < nconv ? sites[i] : plan->extra, args[i]);

    // The declared signature when every argument went as declared; else one for this call.
    ffi_type *rt = ffitype_get(plan->rtype);
    bool declared_ok = false;
    if (plan->cif && nargs == nconv) {
        ffi_type **declared = reinterpret_cast<CallInterfaceObject *>(plan->cif)->atypes();
        declared_ok = true;
        for (Py_ssize_t i = 0; i < nargs; i++) {
            if (declared[i] != f.types[i]) [[unlikely]] {
                declared_ok = false;
                break;
            }
        }
    }
    bool variadic = 0 < nconv && nconv < nargs;
    ForeignCall record{nullptr, fn, who, f.types, f.values, nargs, args, nargs};
    if (rt->size > sizeof(InlineStorage)) [[unlikely]] {
        ResultBuffer big(rt);                   // on the stack up to 64 bytes
        return finish(plan, f, record, rt, declared_ok, variadic, nconv, nargs, big.get());
    }
    InlineStorage small;
    return finish(plan, f, record, rt, declared_ok, variadic, nconv, nargs, small.bytes);
}

// ---------------------------------------------------------------- the type
PyTypeObject *ResultPlan_Type = nullptr;

PyStructSequence_Field result_fields[] = {
    {"kind", "the ResultKind"},
    {"restype", "Instance: the class; Call: the callable; Python: the reader; else None"},
    {"code", "Simple, Object: the type code; else None"},
    {"size", "Instance: the bytes copied into the new instance; else 0"},
    {"checker", "None, or restype._check_retval_ (Simple, Object, Instance)"},
    {nullptr, nullptr},
};

PyStructSequence_Desc result_desc = {
    "pyctypes._rawffi.ResultPlan",
    "ResultPlan((kind, restype, code, size, checker)): how a foreign function's result is made.",
    result_fields, 5,
};

const CodeInfo *parse_code(PyObject *c) {
    const CodeInfo *row = find_code(c);
    if (!row) raise_fmt(PyExc_ValueError, "unknown type code %R", c);
    return row;
}

// Read and check a ResultPlan against the result's ffi type rt.
void parse_result(CallPlanObject *p, PyObject *result, ffi_type *rt) {
    if (!Py_IS_TYPE(result, ResultPlan_Type)) raise(PyExc_TypeError, "result must be a ResultPlan");
    PyObject *kind = PyStructSequence_GET_ITEM(result, 0), *robj = PyStructSequence_GET_ITEM(result, 1),
             *rcode = PyStructSequence_GET_ITEM(result, 2), *rsize = PyStructSequence_GET_ITEM(result, 3),
             *checker = PyStructSequence_GET_ITEM(result, 4);
    long k = PyLong_Check(kind) ? PyLong_AsLong(kind) : -1;
    if (k < 0 || k > static_cast<long>(ResultKind::Python)) {
        PyErr_Clear();
        raise(PyExc_ValueError, "unknown result kind");
    }
    p->rkind = static_cast<ResultKind>(k);
    switch (p->rkind) {
    case ResultKind::Int:
    case ResultKind::Call:
        if (rt != &ffi_type_sint) raise(PyExc_ValueError, "an int result needs the C int rtype");
        break;
    case ResultKind::Void:
        if (rt->type != FFI_TYPE_VOID) raise(PyExc_ValueError, "a void result needs the void rtype");
        break;
    case ResultKind::Simple:
    case ResultKind::Object:
        p->rcode = parse_code(rcode);
        if (rt != ffitype_get(ffitype_for_code(p->rcode->code)) ||
            (p->rkind == ResultKind::Object) != (p->rcode->code == 'O'))
            raise(PyExc_ValueError, "a simple result's rtype must be its code's");
        break;
    case ResultKind::Instance: {
        if (!PyType_Check(robj) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(robj), CData_Type))
            raise(PyExc_TypeError, "an instance result's restype must be a CData subclass");
        p->rsize = to_size(rsize, "result size");
        size_t room = rt->size > sizeof(ffi_arg) ? rt->size : sizeof(ffi_arg);
        if (static_cast<size_t>(p->rsize) > room)
            raise(PyExc_ValueError, "an instance result is larger than its rtype");
        break;
    }
    case ResultKind::Python:
        break;
    }
    if (p->rkind == ResultKind::Instance || p->rkind == ResultKind::Call || p->rkind == ResultKind::Python) {
        if (!PyCallable_Check(robj)) raise(PyExc_TypeError, "the result's restype must be callable");
        p->restype = Py_NewRef(robj);
    }
    if (checker != Py_None) {
        if (!PyCallable_Check(checker)) raise(PyExc_TypeError, "checker must be callable or None");
        if (p->rkind == ResultKind::Int || p->rkind == ResultKind::Void ||
            p->rkind == ResultKind::Call || p->rkind == ResultKind::Python)
            raise(PyExc_ValueError, "only simple, object and instance results take a checker");
        p->checker = Py_NewRef(checker);
    }
}

void site_clear(ArgSite &s) noexcept {
    s.cache.clear();
    Ref::steal(std::exchange(s.rule, nullptr)).reset();
}

void plan_clear_fields(CallPlanObject *p) noexcept {
    Ref::steal(std::exchange(p->cif, nullptr)).reset();
    Ref::steal(std::exchange(p->restype, nullptr)).reset();
    Ref::steal(std::exchange(p->checker, nullptr)).reset();
    Ref::steal(std::exchange(p->refuse, nullptr)).reset();
    site_clear(p->extra);
    ArgSite *sites = p->sites();
    for (Py_ssize_t i = 0; i < Py_SIZE(p); i++) site_clear(sites[i]);
}

PyObject *plan_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"rules", "extra_rule", "refuse", "result", "rtype", "cif",
                                       "flags", "extra_args", nullptr};
        PyObject *rules, *extra_rule, *refuse, *result, *rtype, *cif;
        int flags, extra_args;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOip:CallPlan", const_cast<char **>(kwlist),
                                         &rules, &extra_rule, &refuse, &result, &rtype, &cif, &flags,
                                         &extra_args))
            throw PyErrorSet{};
        if (rules != Py_None && !PyTuple_Check(rules)) raise(PyExc_TypeError, "rules must be a tuple or None");
        Py_ssize_t n = rules == Py_None ? 0 : PyTuple_GET_SIZE(rules);
        if (n > kMaxArgCount) raise(PyExc_ValueError, "too many rules");
        for (Py_ssize_t i = 0; i < n; i++)
            if (!PyCallable_Check(PyTuple_GET_ITEM(rules, i))) raise(PyExc_TypeError, "a rule must be callable");
        if (!PyCallable_Check(extra_rule) || !PyCallable_Check(refuse))
            raise(PyExc_TypeError, "extra_rule and refuse must be callable");
        if (!is_ffitype(rtype)) raise(PyExc_TypeError, "rtype must be an FFIType");
        if (cif != Py_None) {
            if (!is_callinterface(cif)) raise(PyExc_TypeError, "cif must be a CallInterface or None");
            auto *ci = reinterpret_cast<CallInterfaceObject *>(cif);
            if (ci->nfixed >= 0 || static_cast<Py_ssize_t>(ci->cif.nargs) != n ||
                ci->cif.rtype != ffitype_get(rtype))
                raise(PyExc_ValueError, "cif does not match the rules and rtype");
        }

        Ref self_ref = check_new(tp->tp_alloc(tp, n));     // zeroed: empty sites
        CallPlanObject *p = as_plan(self_ref.get());
        p->nconv = rules == Py_None ? -1 : n;
        p->flags = flags;
        p->extra_args = extra_args != 0;
        p->rtype = Py_NewRef(rtype);
        p->cif = cif == Py_None ? nullptr : Py_NewRef(cif);
        p->direct = p->cif ? direct_sig(reinterpret_cast<CallInterfaceObject *>(p->cif)->cif) : DirectSig{};
        p->extra.rule = Py_NewRef(extra_rule);
        p->refuse = Py_NewRef(refuse);
        ArgSite *sites = p->sites();
        for (Py_ssize_t i = 0; i < n; i++) sites[i].rule = Py_NewRef(PyTuple_GET_ITEM(rules, i));
        parse_result(p, result, ffitype_get(rtype));
        return self_ref.release();
    });
}

int plan_traverse(PyObject *o, visitproc visit, void *arg) {
    CallPlanObject *p = as_plan(o);
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(p->restype);
    Py_VISIT(p->checker);
    Py_VISIT(p->extra.rule);
    Py_VISIT(p->refuse);
    if (int r = p->extra.cache.traverse(visit, arg)) return r;
    ArgSite *sites = p->sites();
    for (Py_ssize_t i = 0; i < Py_SIZE(p); i++) {
        Py_VISIT(sites[i].rule);
        if (int r = sites[i].cache.traverse(visit, arg)) return r;
    }
    return 0;
}

int plan_clear(PyObject *o) {
    // Called by the GC on a cycle: the plan is unusable afterwards, and never
    // reached again (whoever held it is part of the garbage too).
    as_plan(o)->cleared = true;
    plan_clear_fields(as_plan(o));
    return 0;
}

void plan_dealloc(PyObject *o) {
    PyTypeObject *tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    plan_clear_fields(as_plan(o));
    Ref::steal(std::exchange(as_plan(o)->rtype, nullptr)).reset();
    tp->tp_free(o);
    Py_DECREF(tp);
}

PyObject *plan_get_nargs(PyObject *o, void *) { return PyLong_FromSsize_t(as_plan(o)->nconv); }

PyObject *plan_repr(PyObject *o) {
    CallPlanObject *p = as_plan(o);
    return PyUnicode_FromFormat("<CallPlan of %zd argtypes%s>", p->nconv,
                                p->cif ? ", prepared" : "");
}

// plan.call(function_address, *args): run the plan on a raw address (tests, helpers).
PyObject *plan_call_method(PyObject *o, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&]() -> PyObject * {
        if (nargs < 1) raise(PyExc_TypeError, "call() needs the function address");
        void *fn = to_address(args[0]);
        return plan_call(as_plan(o), &fn, args + 1, nargs - 1, nullptr);
    });
}

PyMethodDef plan_methods[] = {
    {"call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(plan_call_method)), METH_FASTCALL,
     "call(address, *args): call the C function at address with args as planned."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef plan_getset[] = {
    {"nargs", plan_get_nargs, nullptr, "number of argtypes (-1: none declared)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot plan_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(plan_new)},
    {Py_tp_dealloc, reinterpret_cast<void *>(plan_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void *>(plan_traverse)},
    {Py_tp_clear, reinterpret_cast<void *>(plan_clear)},
    {Py_tp_repr, reinterpret_cast<void *>(plan_repr)},
    {Py_tp_methods, plan_methods},
    {Py_tp_getset, plan_getset},
    {Py_tp_doc, const_cast<char *>(
        "CallPlan(rules, extra_rule, refuse, result, rtype, cif, flags, extra_args): how a foreign function is called.")},
    {0, nullptr},
};

PyType_Spec plan_spec = {
    "pyctypes._rawffi.CallPlan", sizeof(CallPlanObject), sizeof(ArgSite),
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, plan_slots,
};

}  // namespace

PyObject *plan_call(CallPlanObject *plan, const void *fnslot, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *who) noexcept {
    // guard()'s boundary, spelled out: GCC does not inline guard's lambda here
    try {
        return call(plan, fnslot, args, nargs, who);
    } catch (PyErrorSet &) {
        return nullptr;
    } catch (std::bad_alloc &) {
        return PyErr_NoMemory();
    }
}

int init_callplan(PyObject *module) {
    return guard_int([&] {
        s_empty = check(PyTuple_New(0));
        if (!CallPlan_Type)
            CallPlan_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&plan_spec)));
        if (PyModule_AddType(module, CallPlan_Type) < 0) throw PyErrorSet{};
        add_struct_sequence(module, ResultPlan_Type, &result_desc);
        add_int_enum(module, "ResultKind", {"INT", "VOID", "SIMPLE", "OBJECT", "INSTANCE", "CALL", "PYTHON"});
        return 0;
    });
}

}  // namespace rawffi
