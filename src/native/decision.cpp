// decision.cpp: the Pass enum and ArgDecision record the Python level decides
// with, and the per-site inline cache of its decisions.
#include "decision.h"
#include "carg.h"
#include "ffitypes.h"
#include "memory.h"
#include "module.h"

#include <initializer_list>
#include <utility>

namespace rawffi {

namespace {

PyTypeObject *ArgDecision_Type = nullptr;

PyStructSequence_Field decision_fields[] = {
    {"how", "the Pass action"},
    {"obj", "the object the action applies to"},
    {"detail", "Store: the type code; Memory: the FFIType; else None"},
    {"cacheable", "true if the action holds for every value of obj's exact type"},
    {"converted", "None, or a CArgObject holding obj already stored (passed this time instead)"},
    {nullptr, nullptr},
};

PyStructSequence_Desc decision_desc = {
    "pyctypes._rawffi.ArgDecision",
    "ArgDecision((how, obj, detail, cacheable[, converted])): how one call argument is "
    "passed, as the Python level decided it.",
    decision_fields, 4,     // `converted` may be left out (None)
};

[[noreturn, gnu::cold]] void malformed(const char *what) {
    PyErr_Format(PyExc_TypeError, "malformed ArgDecision: %s", what);
    throw PyErrorSet{};
}

// The key of a value: its exact type; CArgObjects also their tag and _obj's type.
struct Key {
    PyTypeObject *type;
    PyTypeObject *objtype = nullptr;
    char tag = 0;
    explicit Key(PyObject *v) noexcept : type(Py_TYPE(v)) {
        if (is_carg(v)) [[unlikely]] {
            objtype = SiteCache::obj_type(v);
            tag = as_carg(v)->tag;
        }
    }
};

PyObject *fn_forget_decisions(PyObject *, PyObject *) {
    forget_decisions();
    Py_RETURN_NONE;
}

PyMethodDef decision_functions[] = {
    {"forget_decisions", fn_forget_decisions, METH_NOARGS,
     "forget_decisions(): every call site forgets its remembered argument decisions "
     "(what a rule decided from has changed)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

Decision read_decision(PyObject *record) {
    if (!Py_IS_TYPE(record, ArgDecision_Type)) malformed("not an ArgDecision");
    PyObject *how = PyStructSequence_GET_ITEM(record, 0), *obj = PyStructSequence_GET_ITEM(record, 1),
             *detail = PyStructSequence_GET_ITEM(record, 2);
    long n = PyLong_Check(how) ? PyLong_AsLong(how) : -1;
    if (n < 0 || n >= kPassCount) {
        PyErr_Clear();
        malformed("unknown Pass action");
    }
    int truth = PyObject_IsTrue(PyStructSequence_GET_ITEM(record, 3));
    if (truth < 0) throw PyErrorSet{};
    PyObject *converted = PyStructSequence_GET_ITEM(record, 4);
    Decision d{{static_cast<Pass>(n), StoreKind::Row, nullptr, nullptr}, obj, nullptr, truth != 0,
               converted == Py_None ? nullptr : converted};
    if (d.converted && (d.action.pass != Pass::Store || !is_carg(d.converted)))
        malformed("only a Store may come converted, in a CArgObject");
    switch (d.action.pass) {
    case Pass::Null:
        break;
    case Pass::Store:
        d.action.row = find_code(detail);
        if (!d.action.row) malformed("Store needs a type code");
        d.ffitype = ffitype_for_code(d.action.row->code);
        if (!d.ffitype) throw PyErrorSet{};
        d.action.ffi = ffitype_get(d.ffitype);
        d.action.store = store_kind(*d.action.row);
        break;
    case Pass::Int:
        if (!PyLong_Check(obj)) malformed("Int needs an int");
        break;
    case Pass::Memory:
        if (!is_cdata(obj)) malformed("Memory needs a ctypes instance");
        if (!is_ffitype(detail) || ffitype_get(detail)->type == FFI_TYPE_VOID)
            malformed("Memory needs a non-void FFIType");
        if (static_cast<Py_ssize_t>(ffitype_get(detail)->size) > cdata_size(obj))
            malformed("Memory: the instance is smaller than its ffi type");
        d.ffitype = detail;
        d.action.ffi = ffitype_get(detail);
        break;
    case Pass::Address:
        if (!is_cdata(obj)) malformed("Address needs a ctypes instance");
        break;
    case Pass::CArg:
        if (!is_carg(obj)) malformed("CArg needs a CArgObject");
        break;
    }
    return d;
}

unsigned g_decision_epoch = 1;

void forget_decisions() noexcept { ++g_decision_epoch; }

StoreKind store_kind(const CodeInfo &row) noexcept {
    switch (row.code) {
    case 'b': case 'B': case 'h': case 'H': case 'i': case 'I': case 'l': case 'L': case 'q': case 'Q':
        return row.size == 1 ? StoreKind::Int1 : row.size == 2 ? StoreKind::Int2
             : row.size == 4 ? StoreKind::Int4 : StoreKind::Int8;
    case 'f': return StoreKind::Float;
    case 'd': return StoreKind::Double;
    case 'g': return StoreKind::LongDouble;
    case 'z': return StoreKind::CharP;
    default: return StoreKind::Row;
    }
}

const Action *SiteCache::find_slow(PyObject *v) noexcept {
    if (epoch_ != g_decision_epoch) [[unlikely]] {
        clear();
        epoch_ = g_decision_epoch;
        return nullptr;
    }
    PyTypeObject *type = Py_TYPE(v);
    for (const Entry &e : entries_) {
        if (e.type != type) continue;
        if (e.tag == 0) [[likely]] return &e.action;
        Key k(v);
        if (e.tag == k.tag && e.objtype == k.objtype) return &e.action;
    }
    return nullptr;
}

void SiteCache::remember(PyObject *v, const Decision &d) noexcept {
    if (epoch_ != g_decision_epoch) {
        clear();
        epoch_ = g_decision_epoch;
    }
    Key k(v);
    Entry &e = entries_[next_];
    next_ = static_cast<unsigned char>((next_ + 1) % kWays);
    Ref old_type = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(e.type, nullptr)));
    Ref old_objtype = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(e.objtype, nullptr)));
    Ref old_ffitype = Ref::steal(std::exchange(e.ffitype, nullptr));
    e.type = reinterpret_cast<PyTypeObject *>(Py_NewRef(k.type));
    e.objtype = reinterpret_cast<PyTypeObject *>(Py_XNewRef(k.objtype));
    e.tag = k.tag;
    e.ffitype = Py_XNewRef(d.ffitype);
    e.action = d.action;
    // the old references go last: a type freed here runs no code that sees a half entry
}

void SiteCache::clear() noexcept {
    for (Entry &e : entries_) {
        Ref t = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(e.type, nullptr)));
        Ref o = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(e.objtype, nullptr)));
        Ref f = Ref::steal(std::exchange(e.ffitype, nullptr));
        e.tag = 0;
    }
}

int SiteCache::traverse(visitproc visit, void *arg) {
    for (Entry &e : entries_) {
        Py_VISIT(e.type);
        Py_VISIT(e.objtype);
    }
    return 0;
}

void add_int_enum(PyObject *module, const char *name, std::initializer_list<const char *> names) {
    Ref members = check_new(PyList_New(0));
    long value = 0;
    for (const char *member : names) {
        Ref item = check_new(Py_BuildValue("(sl)", member, value++));
        if (PyList_Append(members.get(), item.get()) < 0) throw PyErrorSet{};
    }
    Ref enum_module = check_new(PyImport_ImportModule("enum"));
    Ref int_enum = check_new(PyObject_GetAttrString(enum_module.get(), "IntEnum"));
    Ref kwargs = check_new(Py_BuildValue("{ss}", "module", PyModule_GetName(module)));
    Ref args = check_new(Py_BuildValue("(sO)", name, members.get()));
    Ref type = check_new(PyObject_Call(int_enum.get(), args.get(), kwargs.get()));
    if (PyModule_AddObjectRef(module, name, type.get()) < 0) throw PyErrorSet{};
}

void add_struct_sequence(PyObject *module, PyTypeObject *&type, PyStructSequence_Desc *desc) {
    if (!type)
        type = reinterpret_cast<PyTypeObject *>(check(reinterpret_cast<PyObject *>(PyStructSequence_NewType(desc))));
    if (PyModule_AddType(module, type) < 0) throw PyErrorSet{};
}

int init_decision(PyObject *module) {
    return guard_int([&] {
        add_struct_sequence(module, ArgDecision_Type, &decision_desc);
        add_int_enum(module, "Pass", {"NULL", "STORE", "INT", "MEMORY", "ADDRESS", "CARG"});
        if (PyModule_AddFunctions(module, decision_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
