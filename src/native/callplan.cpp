// callplan.cpp: CallPlan objects and the native call path: argument conversion
// (ConvParam and the from_param families), the foreign call, the result (GetResult).
#include "callplan.h"
#include "bound.h"
#include "carg.h"
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

PyObject *s_stginfo = nullptr;       // "_stginfo_"
PyObject *s_ffi_type = nullptr;      // "ffi_type"
PyObject *s_as_parameter = nullptr;  // "_as_parameter_"
PyObject *s_type = nullptr;          // "_type_"
PyObject *s_empty = nullptr;         // ()

[[noreturn, gnu::cold]] void raise_fmt(PyObject *exc, const char *fmt, auto... args) {
    PyErr_Format(exc, fmt, args...);
    throw PyErrorSet{};
}

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

// Store value as type code `code` into argument i's slot (the row's checks);
// what the stored value points into is kept.  Throws PyErrorSet.
void store_code(Frame &f, Py_ssize_t i, const CodeInfo &code, ffi_type *t, PyObject *value) {
    PyObject *keep = code.store(f.slot(i, t), value, false);
    if (!keep) throw PyErrorSet{};
    if (keep == Py_None) Py_DECREF(keep);
    else f.keep(Ref::steal(keep));
}

// Like store_code, but a failure leaves no error and returns false: the
// Python level then converts the value itself (and raises what it raises).
bool try_store_code(Frame &f, Py_ssize_t i, const CodeInfo &code, ffi_type *t, PyObject *value) {
    PyObject *keep = code.store(f.slot(i, t), value, false);
    if (!keep) [[unlikely]] {
        PyErr_Clear();
        return false;
    }
    if (keep == Py_None) Py_DECREF(keep);
    else f.keep(Ref::steal(keep));
    return true;
}

const CodeInfo &code_row(char c) noexcept { return *find_code(c); }

// ---------------------------------------------------------------- ConvParam
// The _type_ of a type (looked up through the MRO; borrowed, may be NULL).
PyObject *type_attr(PyTypeObject *tp, PyObject *name) noexcept { return _PyType_Lookup(tp, name); }

// True if the simple type tp has type code c (its _type_).
bool simple_code_is(PyObject *tp, char c) {
    if (!PyType_Check(tp)) return false;
    auto *t = reinterpret_cast<PyTypeObject *>(tp);
    if (!bound().simple || !PyType_IsSubtype(t, bound().simple)) return false;
    PyObject *code = type_attr(t, s_type);
    return code && PyUnicode_Check(code) && PyUnicode_GET_LENGTH(code) == 1 &&
           PyUnicode_READ_CHAR(code, 0) == static_cast<Py_UCS4>(c);
}

// The element type of an array instance's type, or the target type of a
// pointer instance's type, as their plans record it (borrowed; NULL if none).
PyObject *item_type(PyObject *v) noexcept {
    PyTypeObject *t = Py_TYPE(v);
    if (is_instance_of(v, bound().array)) return type_attr(t, s_type);
    if (is_instance_of(v, bound().pointer)) {
        // only a pointer class's own _type_ counts (PyCPointerType_new)
        return t->tp_dict ? PyDict_GetItemWithError(t->tp_dict, s_type) : nullptr;
    }
    return nullptr;
}

void conv_param(Frame &f, Py_ssize_t i, PyObject *obj, Py_ssize_t index);

// A ctypes instance as an argument: arrays pass their address, everything
// else its value (structures by value).  False if its type has no plan.
bool conv_cdata(Frame &f, Py_ssize_t i, PyObject *obj) {
    PyObject *info = type_attr(Py_TYPE(obj), s_stginfo);
    if (!info || info == Py_None) return false;
    if (is_instance_of(obj, bound().array)) {
        f.pointer(i, cdata_ptr(obj));
        return true;
    }
    Ref ft = check_new(PyObject_GetAttr(info, s_ffi_type));
    if (ft.get() == Py_None)
        raise_fmt(PyExc_TypeError, "cannot pass %s instances by value", _PyType_Name(Py_TYPE(obj)));
    if (!is_ffitype(ft.get())) raise(PyExc_TypeError, "a ctypes type's ffi_type must be an FFIType");
    f.memory(i, cdata_ptr(obj), ffitype_get(ft.get()));
    f.keep(std::move(ft));
    return true;
}

void conv_int(Frame &f, Py_ssize_t i, PyObject *obj) {
    // Read as a long long, else as an unsigned long long; the low bits pass as a C int.
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) throw PyErrorSet{};
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(obj);
        if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) overflow = -1;
        else v = static_cast<long long>(u);
    }
    if (overflow < 0) {
        PyErr_Clear();
        raise(PyExc_OverflowError, "int too long to convert");
    }
    int x = static_cast<int>(v);
    std::memcpy(f.slot(i, &ffi_type_sint), &x, sizeof x);
}

// CPython's ConvParam: one Python object as argument i (index counts from 1).
void conv_param(Frame &f, Py_ssize_t i, PyObject *obj, Py_ssize_t index) {
    if (is_cdata(obj) && conv_cdata(f, i, obj)) return;
    if (is_carg(obj)) {
        CArgObject *a = as_carg(obj);
        f.memory(i, a->value.bytes, a->ffi);
        return;
    }
    if (obj == Py_None) return f.pointer(i, nullptr);
    if (PyLong_Check(obj)) return conv_int(f, i, obj);
    if (PyBytes_Check(obj)) return f.pointer(i, PyBytes_AS_STRING(obj));
    if (PyUnicode_Check(obj)) {
        // ConvParam converts with PyUnicode_AsWideCharString(obj, NULL), which
        // refuses an embedded NUL (c_wchar_p and its from_param do not)
        Py_ssize_t nul = PyUnicode_FindChar(obj, 0, 0, PyUnicode_GET_LENGTH(obj), 1);
        if (nul == -2) [[unlikely]] throw PyErrorSet{};
        if (nul >= 0) [[unlikely]] raise(PyExc_ValueError, "embedded null character");
        return store_code(f, i, code_row('Z'), &ffi_type_pointer, obj);
    }
    PyObject *as_param = nullptr;
    int found = _PyObject_LookupAttr(obj, s_as_parameter, &as_param);
    if (found < 0) throw PyErrorSet{};
    if (found) {
        Ref ap = Ref::steal(as_param);
        if (Py_EnterRecursiveCall(" while converting a parameter")) throw PyErrorSet{};
        try {
            conv_param(f, i, ap.get(), index);
        } catch (...) {
            Py_LeaveRecursiveCall();
            throw;
        }
        Py_LeaveRecursiveCall();
        f.keep(std::move(ap));
        return;
    }
    raise_fmt(PyExc_TypeError, "Don't know how to convert parameter %zd", index);
}

// ---------------------------------------------------------------- declared arguments
// Each returns false when the value is not one it converts natively: the
// converter then runs (no error is set, nothing was kept).

bool exact_instance(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    if (!Py_IS_TYPE(v, s.cls)) return false;
    f.memory(i, cdata_ptr(v), s.ffi);
    return true;
}

// The pointer value stored in an instance's memory.
void *stored_pointer(PyObject *v) noexcept {
    void *p;
    std::memcpy(&p, cdata_ptr(v), sizeof p);
    return p;
}

// PyCSimpleType.from_param: an instance of cls as it is, else the value
// through the code's setter (only the exact Python types it accepts).
// An exact int (any int for integer codes) or float stored without the code
// table: the same bits its store would write.
bool fast_store(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    void *p = f.slot(i, s.ffi);
    if (s.fast == FastStore::Int) {
        if (!PyLong_Check(v)) return false;
        unsigned long long x = PyLong_AsUnsignedLongLongMask(v);
        switch (s.size) {
        case 1: { auto y = static_cast<uint8_t>(x); std::memcpy(p, &y, 1); return true; }
        case 2: { auto y = static_cast<uint16_t>(x); std::memcpy(p, &y, 2); return true; }
        case 4: { auto y = static_cast<uint32_t>(x); std::memcpy(p, &y, 4); return true; }
        default: std::memcpy(p, &x, 8); return true;
        }
    }
    double d;
    if (PyFloat_CheckExact(v)) {
        d = PyFloat_AS_DOUBLE(v);
    } else if (PyLong_CheckExact(v)) {
        d = PyLong_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) [[unlikely]] {
            PyErr_Clear();      // too large: from_param reports it
            return false;
        }
    } else {
        return false;
    }
    switch (s.fast) {
    case FastStore::Float: { auto x = static_cast<float>(d); std::memcpy(p, &x, sizeof x); return true; }
    case FastStore::Double: std::memcpy(p, &d, sizeof d); return true;
    default: { auto x = static_cast<long double>(d); std::memcpy(p, &x, sizeof x); return true; }
    }
}

bool conv_simple(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    if (s.fast != FastStore::None && fast_store(f, i, s, v)) [[likely]] return true;
    if (exact_instance(f, i, s, v)) return true;
    const CodeInfo &code = *s.code;
    switch (code.code) {
    case 'f': case 'd': case 'g':
        if (PyFloat_CheckExact(v) || PyLong_CheckExact(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case '?':
        if (PyBool_Check(v) || PyLong_CheckExact(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'c':
        if ((PyBytes_CheckExact(v) && PyBytes_GET_SIZE(v) == 1) || PyLong_CheckExact(v))
            return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'u':
        if (PyUnicode_CheckExact(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'z':
        if (v == Py_None || PyBytes_Check(v) || PyLong_Check(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'Z':
        if (v == Py_None || PyUnicode_Check(v) || PyLong_Check(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'P':
        if (v == Py_None || PyLong_Check(v)) return try_store_code(f, i, code, s.ffi, v);
        return false;
    case 'O':
        // py_object's setter takes anything but an instance of the type itself
        if (PyObject_TypeCheck(v, s.cls)) return false;
        return try_store_code(f, i, code, s.ffi, v);
    default:
        return false;       // integer codes: fast_store took every int
    }
}

// c_char_p / c_wchar_p .from_param: None, bytes (str), an instance, an array
// of or pointer to the character type.
bool conv_string(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v, char item) {
    if (v == Py_None) {
        f.pointer(i, nullptr);
        return true;
    }
    if (item == 'c' && PyBytes_Check(v)) {
        f.pointer(i, PyBytes_AS_STRING(v));     // v lives until the call returns
        return true;
    }
    if (item == 'u' && PyUnicode_Check(v)) return try_store_code(f, i, code_row('Z'), &ffi_type_pointer, v);
    if (exact_instance(f, i, s, v)) return true;
    if (PyObject *it = item_type(v); it && simple_code_is(it, item)) {
        if (is_instance_of(v, bound().array)) f.pointer(i, cdata_ptr(v));
        else f.memory(i, cdata_ptr(v), &ffi_type_pointer);
        return true;
    }
    return false;
}

// c_void_p.from_param.
bool conv_void_p(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    if (v == Py_None || PyLong_Check(v)) return try_store_code(f, i, code_row('P'), &ffi_type_pointer, v);
    if (PyBytes_Check(v)) {
        f.pointer(i, PyBytes_AS_STRING(v));
        return true;
    }
    if (PyUnicode_Check(v)) return try_store_code(f, i, code_row('Z'), &ffi_type_pointer, v);
    if (exact_instance(f, i, s, v)) return true;
    if (PyObject_TypeCheck(v, s.cls)) return false;     // a subclass instance: its own type decides
    if (is_instance_of(v, bound().array)) {
        f.pointer(i, cdata_ptr(v));
        return true;
    }
    if (is_instance_of(v, bound().pointer)) {
        f.memory(i, cdata_ptr(v), &ffi_type_pointer);
        return true;
    }
    if (is_carg(v) && as_carg(v)->tag == 'P') {
        f.memory(i, as_carg(v)->value.bytes, as_carg(v)->ffi);
        return true;
    }
    if (is_instance_of(v, bound().funcptr) ||
        (is_cdata(v) && (simple_code_is(reinterpret_cast<PyObject *>(Py_TYPE(v)), 'z') ||
                         simple_code_is(reinterpret_cast<PyObject *>(Py_TYPE(v)), 'Z')))) {
        f.pointer(i, stored_pointer(v));
        return true;
    }
    return false;
}

// PyCPointerType.from_param: None, an instance of the target (by reference),
// a pointer or array of (a subclass of) the target, byref() of a target.
// True while the pointer class still targets the planned type: its attributes
// are unchanged since planning (same valid version tag), or its own _type_ is
// still the planned one (set_type changes both _type_ and the plan's proto).
bool same_target(const ArgSpec &s) {
    PyTypeObject *cls = s.cls;
    if (s.version != 0 && PyType_HasFeature(cls, Py_TPFLAGS_VALID_VERSION_TAG) &&
        cls->tp_version_tag == s.version) [[likely]]
        return true;
    PyObject *own = cls->tp_dict ? PyDict_GetItemWithError(cls->tp_dict, s_type) : nullptr;
    if (!own) PyErr_Clear();
    return own == s.proto;
}

// PyCPointerType.from_param: None, byref() of a target, a pointer of the
// declared class (planned only where that class does not derive from its
// target), an instance of the target (by reference), a pointer or array of (a
// subclass of) the target.
bool conv_pointer(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    if (v == Py_None) {
        f.pointer(i, nullptr);
        return true;
    }
    if (!same_target(s)) return false;
    auto *pt = reinterpret_cast<PyTypeObject *>(s.proto);
    if (is_carg(v)) {
        CArgObject *a = as_carg(v);
        if (!a->obj || !PyObject_TypeCheck(a->obj, pt)) return false;
        f.memory(i, a->value.bytes, a->ffi);
        return true;
    }
    if (Py_IS_TYPE(v, s.cls)) [[likely]] {
        f.memory(i, cdata_ptr(v), &ffi_type_pointer);
        return true;
    }
    if (PyObject_TypeCheck(v, pt)) {
        f.pointer(i, cdata_ptr(v));     // byref(v)
        return true;
    }
    if (PyObject *it = item_type(v)) {
        if (!PyType_Check(it) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(it), pt)) return false;
        if (is_instance_of(v, bound().array)) f.pointer(i, cdata_ptr(v));
        else f.memory(i, cdata_ptr(v), &ffi_type_pointer);
        return true;
    }
    return false;
}

bool convert_fast(Frame &f, Py_ssize_t i, const ArgSpec &s, PyObject *v) {
    switch (s.kind) {
    case ArgKind::Simple: return conv_simple(f, i, s, v);
    case ArgKind::CharP: return conv_string(f, i, s, v, 'c');
    case ArgKind::WcharP: return conv_string(f, i, s, v, 'u');
    case ArgKind::VoidP: return conv_void_p(f, i, s, v);
    case ArgKind::Instance: return exact_instance(f, i, s, v);
    case ArgKind::Array:
        if (!Py_IS_TYPE(v, s.cls)) return false;
        f.pointer(i, cdata_ptr(v));
        return true;
    case ArgKind::Pointer: return conv_pointer(f, i, s, v);
    case ArgKind::Generic: return false;
    }
    return false;
}

// The failed conversion of argument `index` as ArgumentError("argument N:
// ExcName: message"); BaseExceptions that are not Exceptions pass unchanged.
[[gnu::cold]] void argument_error(Py_ssize_t index) {
    if (!PyErr_ExceptionMatches(PyExc_Exception)) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Ref t = Ref::steal(type), v = Ref::steal(value), b = Ref::steal(tb);
    Ref name = Ref::steal(PyType_GetName(reinterpret_cast<PyTypeObject *>(t.get())));
    Ref text = v ? Ref::steal(PyObject_Str(v.get())) : Ref();
    if (!name || !text) {
        PyErr_Clear();
        if (!name) name = Ref::steal(PyUnicode_FromString("???"));
        if (!text) text = Ref::steal(PyUnicode_FromString("???"));
        if (!name || !text) return;
    }
    PyObject *cls = bound().argument_error ? bound().argument_error : PyExc_RuntimeError;
    PyErr_Format(cls, "argument %zd: %U: %U", index, name.get(), text.get());
}

void convert_arg(Frame &f, Py_ssize_t i, const ArgSpec *s, PyObject *v) {
    try {
        if (s) {
            if (convert_fast(f, i, *s, v)) [[likely]] return;
            Ref r = check_new(PyObject_CallOneArg(s->converter, v));
            conv_param(f, i, r.get(), i + 1);
            f.keep(std::move(r));
        } else {
            conv_param(f, i, v, i + 1);
        }
    } catch (PyErrorSet &) {
        argument_error(i + 1);
        throw;
    }
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
[[gnu::cold]] void argcount_error(Py_ssize_t required, Py_ssize_t actual, bool at_least) {
    raise_fmt(PyExc_TypeError, "this function takes %s%zd argument%s (%zd given)",
              at_least ? "at least " : "", required, required == 1 ? "" : "s", actual);
}

// The call through the signature it needs (direct, the declared cif, or one
// made for it), the result made in rbuf (room for rt and a full ffi_arg).
PyObject *finish(CallPlanObject *plan, Frame &f, void (*fn)(), ffi_type *rt, bool declared_ok,
                 bool variadic, Py_ssize_t nconv, Py_ssize_t nargs, void *rbuf) {
    DirectSig own_sig;
    const DirectSig *direct = declared_ok ? &plan->direct : nullptr;
    if (!declared_ok && !variadic) {
        own_sig = direct_sig(rt, f.types, static_cast<unsigned>(nargs));
        direct = &own_sig;
    }
    if (direct && direct->usable) [[likely]] {
        if (call_direct(*direct, fn, f.values, rbuf, plan->flags) < 0) throw PyErrorSet{};
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
    if (call_cif(cif, fn, f.values, rbuf, plan->flags) < 0) throw PyErrorSet{};
    if (is_narrow_int(rt)) {
        InlineStorage narrow;
        narrow_result(rt, rbuf, narrow.bytes);
        return make_result(plan, narrow.bytes).release();
    }
    return make_result(plan, rbuf).release();
}

PyObject *call(CallPlanObject *plan, const void *fnslot, PyObject *const *args, Py_ssize_t nargs) {
    if (plan->cleared) [[unlikely]] raise(PyExc_RuntimeError, "this CallPlan was cleared");
    Py_ssize_t nconv = plan->nconv;
    if (nconv >= 0) {
        if (plan->extra_args ? nconv > nargs : nconv != nargs) [[unlikely]]
            argcount_error(nconv, nargs, plan->extra_args);
    }
    void (*fn)();
    std::memcpy(&fn, fnslot, sizeof fn);
    if (!fn) [[unlikely]] raise(PyExc_ValueError, "NULL function pointer called");
    if (nargs > kMaxArgCount) [[unlikely]] {
        raise_fmt(bound().argument_error ? bound().argument_error : PyExc_RuntimeError,
                  "too many arguments (%zd), maximum is %zd", nargs, kMaxArgCount);
    }
    // f() of a function declared without arguments: its direct signature, no frame.
    const DirectSig &direct = plan->direct;
    if (nargs == 0 && direct.usable && direct.nargs == 0 && direct.ret != DirectSig::Ret::Memory) [[likely]] {
        InlineStorage rbuf;
        if (call_direct_noargs(direct, fn, rbuf.bytes, plan->flags) < 0) throw PyErrorSet{};
        if (plan->rkind == ResultKind::Simple && !plan->checker) [[likely]]
            return check(simple_result(*plan->rcode, rbuf.bytes));
        return make_result(plan, rbuf.bytes).release();
    }
    if (nconv < 0) nconv = 0;

    Frame f(nargs);
    ArgSpec *specs = plan->specs();
    for (Py_ssize_t i = 0; i < nargs; i++) convert_arg(f, i, i < nconv ? &specs[i] : nullptr, args[i]);

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
    if (rt->size > sizeof(InlineStorage)) [[unlikely]] {
        ResultBuffer big(rt);                   // on the stack up to 64 bytes
        return finish(plan, f, fn, rt, declared_ok, variadic, nconv, nargs, big.get());
    }
    InlineStorage small;
    return finish(plan, f, fn, rt, declared_ok, variadic, nconv, nargs, small.bytes);
}

// ---------------------------------------------------------------- the type
ArgKind parse_kind(PyObject *k) {
    const char *s = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : nullptr;
    if (!s) raise(PyExc_TypeError, "argument kind must be a str");
    std::string_view v(s);
    if (v == "generic") return ArgKind::Generic;
    if (v == "simple") return ArgKind::Simple;
    if (v == "char_p") return ArgKind::CharP;
    if (v == "wchar_p") return ArgKind::WcharP;
    if (v == "void_p") return ArgKind::VoidP;
    if (v == "instance") return ArgKind::Instance;
    if (v == "array") return ArgKind::Array;
    if (v == "pointer") return ArgKind::Pointer;
    raise_fmt(PyExc_ValueError, "unknown argument kind %R", k);
}

ResultKind parse_result_kind(PyObject *k) {
    const char *s = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : nullptr;
    if (!s) raise(PyExc_TypeError, "result kind must be a str");
    std::string_view v(s);
    if (v == "int") return ResultKind::Int;
    if (v == "void") return ResultKind::Void;
    if (v == "simple") return ResultKind::Simple;
    if (v == "object") return ResultKind::Object;
    if (v == "instance") return ResultKind::Instance;
    if (v == "call") return ResultKind::Call;
    if (v == "python") return ResultKind::Python;
    raise_fmt(PyExc_ValueError, "unknown result kind %R", k);
}

const CodeInfo *parse_code(PyObject *c) {
    const CodeInfo *row = nullptr;
    if (PyUnicode_Check(c) && PyUnicode_GET_LENGTH(c) == 1)
        row = find_code(static_cast<int>(PyUnicode_READ_CHAR(c, 0)));
    if (!row) raise_fmt(PyExc_ValueError, "unknown type code %R", c);
    return row;
}

PyTypeObject *cdata_class(PyObject *o, const char *what) {
    if (!PyType_Check(o) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(o), CData_Type))
        raise_fmt(PyExc_TypeError, "%s must be a CData subclass", what);
    return reinterpret_cast<PyTypeObject *>(o);
}

void parse_spec(ArgSpec &s, PyObject *item) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 5)
        raise(PyExc_TypeError, "an argument spec is (kind, converter, argtype, ffi_type, code_or_proto)");
    PyObject *kind = PyTuple_GET_ITEM(item, 0), *conv = PyTuple_GET_ITEM(item, 1),
             *cls = PyTuple_GET_ITEM(item, 2), *ft = PyTuple_GET_ITEM(item, 3),
             *extra = PyTuple_GET_ITEM(item, 4);
    s.kind = parse_kind(kind);
    if (!PyCallable_Check(conv)) raise(PyExc_TypeError, "an argument converter must be callable");
    if (!is_ffitype(ft)) raise(PyExc_TypeError, "an argument ffi_type must be an FFIType");
    if (ffitype_get(ft)->type == FFI_TYPE_VOID) raise(PyExc_TypeError, "an argument ffi_type is void");
    if (s.kind != ArgKind::Generic) {
        // The converter is the class's from_param method: it keeps the class
        // alive for the plan (which so adds no reference to the argtype).
        cdata_class(cls, "a planned argtype");
        if (!PyMethod_Check(conv) || PyMethod_GET_SELF(conv) != cls)
            raise(PyExc_ValueError, "a planned argument's converter must be a method of its argtype");
    }
    if (s.kind == ArgKind::Simple) {
        s.code = parse_code(extra);
        switch (s.code->code) {
        case 'b': case 'B': case 'h': case 'H': case 'i': case 'I': case 'l': case 'L': case 'q': case 'Q':
            s.fast = FastStore::Int;
            s.size = static_cast<unsigned char>(s.code->size);
            break;
        case 'f': s.fast = FastStore::Float; break;
        case 'd': s.fast = FastStore::Double; break;
        case 'g': s.fast = FastStore::LongDouble; break;
        default: s.fast = FastStore::None;
        }
        if (ffitype_get(ft) != ffitype_get(ffitype_for_code(s.code->code == 'v' ? 'h' : s.code->code)))
            raise(PyExc_ValueError, "a simple argument's ffi_type must be its code's");
    }
    if (s.kind == ArgKind::Pointer) {
        if (!PyType_Check(extra)) raise(PyExc_TypeError, "a pointer argument's target must be a type");
        if (PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(cls), reinterpret_cast<PyTypeObject *>(extra)))
            raise(PyExc_ValueError, "a pointer argtype deriving from its target is not planned");
        s.proto = Py_NewRef(extra);
        // the version tag the class has now (a lookup assigns one if it can)
        (void)_PyType_Lookup(reinterpret_cast<PyTypeObject *>(cls), s_type);
        auto *ct = reinterpret_cast<PyTypeObject *>(cls);
        s.version = PyType_HasFeature(ct, Py_TPFLAGS_VALID_VERSION_TAG) ? ct->tp_version_tag : 0;
    }
    if ((s.kind == ArgKind::CharP || s.kind == ArgKind::WcharP || s.kind == ArgKind::VoidP ||
         s.kind == ArgKind::Array || s.kind == ArgKind::Pointer) &&
        ffitype_get(ft)->type != FFI_TYPE_POINTER)
        raise(PyExc_ValueError, "a pointer-like argument's ffi_type must be a pointer");
    s.ffi = ffitype_get(ft);
    s.ffitype = Py_NewRef(ft);
    s.converter = Py_NewRef(conv);
    s.cls = s.kind == ArgKind::Generic ? nullptr : reinterpret_cast<PyTypeObject *>(cls);
}

void plan_clear_fields(CallPlanObject *p) noexcept {
    Ref::steal(std::exchange(p->cif, nullptr)).reset();
    Ref::steal(std::exchange(p->restype, nullptr)).reset();
    Ref::steal(std::exchange(p->checker, nullptr)).reset();
    ArgSpec *specs = p->specs();
    for (Py_ssize_t i = 0; i < Py_SIZE(p); i++) {
        Ref::steal(std::exchange(specs[i].ffitype, nullptr)).reset();
        Ref::steal(std::exchange(specs[i].converter, nullptr)).reset();
        specs[i].cls = nullptr;
        Ref::steal(std::exchange(specs[i].proto, nullptr)).reset();
    }
}

PyObject *plan_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"argspecs", "result", "rtype", "cif", "flags", "extra_args",
                                       nullptr};
        PyObject *argspecs, *result, *rtype, *cif;
        int flags, extra_args;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOip:CallPlan", const_cast<char **>(kwlist),
                                         &argspecs, &result, &rtype, &cif, &flags, &extra_args))
            throw PyErrorSet{};
        if (argspecs != Py_None && !PyTuple_Check(argspecs))
            raise(PyExc_TypeError, "argspecs must be a tuple or None");
        Py_ssize_t n = argspecs == Py_None ? 0 : PyTuple_GET_SIZE(argspecs);
        if (n > kMaxArgCount) raise(PyExc_ValueError, "too many argspecs");
        if (!is_ffitype(rtype)) raise(PyExc_TypeError, "rtype must be an FFIType");
        if (cif != Py_None) {
            if (!is_callinterface(cif)) raise(PyExc_TypeError, "cif must be a CallInterface or None");
            auto *ci = reinterpret_cast<CallInterfaceObject *>(cif);
            if (ci->nfixed >= 0 || static_cast<Py_ssize_t>(ci->cif.nargs) != n ||
                ci->cif.rtype != ffitype_get(rtype))
                raise(PyExc_ValueError, "cif does not match the argspecs and rtype");
        }
        if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 5)
            raise(PyExc_TypeError, "result must be (kind, restype, code, size, checker)");

        Ref self_ref = check_new(tp->tp_alloc(tp, n));
        CallPlanObject *p = as_plan(self_ref.get());
        p->nconv = argspecs == Py_None ? -1 : n;
        p->flags = flags;
        p->extra_args = extra_args != 0;
        p->rtype = Py_NewRef(rtype);
        p->cif = cif == Py_None ? nullptr : Py_NewRef(cif);
        p->direct = p->cif ? direct_sig(reinterpret_cast<CallInterfaceObject *>(p->cif)->cif) : DirectSig{};
        ArgSpec *specs = p->specs();
        for (Py_ssize_t i = 0; i < n; i++) {
            parse_spec(specs[i], PyTuple_GET_ITEM(argspecs, i));
            if (p->cif && reinterpret_cast<CallInterfaceObject *>(p->cif)->atypes()[i] != specs[i].ffi)
                raise(PyExc_ValueError, "cif does not match the argspecs");
        }

        PyObject *rkind = PyTuple_GET_ITEM(result, 0), *robj = PyTuple_GET_ITEM(result, 1),
                 *rcode = PyTuple_GET_ITEM(result, 2), *rsize = PyTuple_GET_ITEM(result, 3),
                 *checker = PyTuple_GET_ITEM(result, 4);
        p->rkind = parse_result_kind(rkind);
        ffi_type *rt = ffitype_get(rtype);
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
            cdata_class(robj, "an instance result's restype");
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
        return self_ref.release();
    });
}

int plan_traverse(PyObject *o, visitproc visit, void *arg) {
    CallPlanObject *p = as_plan(o);
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(p->restype);
    Py_VISIT(p->checker);
    ArgSpec *specs = p->specs();
    for (Py_ssize_t i = 0; i < Py_SIZE(p); i++) {
        Py_VISIT(specs[i].converter);
        Py_VISIT(specs[i].proto);
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
        return plan_call(as_plan(o), &fn, args + 1, nargs - 1);
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
        "CallPlan(argspecs, result, rtype, cif, flags, extra_args): how a foreign function is called.")},
    {0, nullptr},
};

PyType_Spec plan_spec = {
    "pyctypes._rawffi.CallPlan", sizeof(CallPlanObject), sizeof(ArgSpec),
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, plan_slots,
};

}  // namespace

PyObject *plan_call(CallPlanObject *plan, const void *fnslot, PyObject *const *args,
                    Py_ssize_t nargs) noexcept {
    return guard([&] { return call(plan, fnslot, args, nargs); });
}

int init_callplan(PyObject *module) {
    return guard_int([&] {
        s_stginfo = check(PyUnicode_InternFromString("_stginfo_"));
        s_ffi_type = check(PyUnicode_InternFromString("ffi_type"));
        s_as_parameter = check(PyUnicode_InternFromString("_as_parameter_"));
        s_type = check(PyUnicode_InternFromString("_type_"));
        s_empty = check(PyTuple_New(0));
        if (!CallPlan_Type)
            CallPlan_Type = reinterpret_cast<PyTypeObject *>(check(PyType_FromSpec(&plan_spec)));
        if (PyModule_AddType(module, CallPlan_Type) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
