// plan.cpp: the TypePlan type (made by the Python level, read by the fast slots) and plan_of.
#include "plan.h"
#include "construct.h"
#include "memory.h"
#include "metatype.h"
#include "module.h"

#include <cstring>
#include <utility>

namespace rawffi {

PyTypeObject *TypePlan_Type = nullptr;

namespace {

PyObject *s_plan_attr = nullptr;  // "_rawffi_plan_", interned

// The names of PlanKind, in its order: raw.TypeKind's members (lower case here).
constexpr const char *kKindNames[] = {"simple", "simple_subclass", "struct", "union",
                                      "array",  "pointer",         "funcptr", "other"};
constexpr long kKindCount = sizeof kKindNames / sizeof kKindNames[0];
PyObject *g_type_kind = nullptr;    // raw.TypeKind

TypePlan *as_plan(PyObject *o) noexcept { return reinterpret_cast<TypePlan *>(o); }

PlanKind to_kind(PyObject *o) {
    long k = PyLong_Check(o) ? PyLong_AsLong(o) : -1;
    if (k < 0 || k >= kKindCount) {
        PyErr_Clear();
        raise_fmt(PyExc_ValueError, "a TypePlan's kind must be a TypeKind, not %R", o);
    }
    return static_cast<PlanKind>(k);
}

const char *kind_name(PlanKind kind) noexcept { return kKindNames[static_cast<int>(kind)]; }

// TypePlan(type, kind, size, align, length, flags, *, code=None, swapped=False,
//          item=None, itemsize=0, init=None, final=False)
PyObject *plan_new(PyTypeObject *cls, PyObject *args, PyObject *kwargs) {
    return guard([&] {
        static const char *names[] = {"type", "kind", "size", "align", "length", "flags", "code",
                                      "swapped", "item", "itemsize", "init", "final", nullptr};
        PyObject *type, *kind, *code = Py_None, *item = Py_None, *init = Py_None;
        Py_ssize_t size, align, length, itemsize = 0;
        unsigned long flags;
        int swapped = 0, final = 0;
        if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!Onnnk|$OpOnOp:TypePlan",
                                         const_cast<char **>(names), &PyType_Type, &type, &kind,
                                         &size, &align, &length, &flags, &code, &swapped, &item,
                                         &itemsize, &init, &final))
            throw PyErrorSet{};
        if (size < 0 || align < 0 || length < 0 || itemsize < 0)
            raise(PyExc_ValueError, "TypePlan sizes must not be negative");
        const CodeInfo *row = nullptr;
        if (code != Py_None) {
            if (!PyUnicode_Check(code) || PyUnicode_GET_LENGTH(code) != 1)
                raise(PyExc_TypeError, "code must be a str of length 1");
            Py_UCS4 c = PyUnicode_READ_CHAR(code, 0);
            if (c != 'v') {     // VARIANT_BOOL has no row: its values go through Python
                row = find_code(static_cast<int>(c));
                if (!row) raise_fmt(PyExc_ValueError, "unknown type code %R", code);
            }
        }
        if (swapped && row && !row->swappable)
            raise_fmt(PyExc_ValueError, "type code '%c' has no byte-swapped form", row->code);
        if (!PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(type), CData_Type))
            raise(PyExc_TypeError, "TypePlan(): type must be a CData subclass");
        if (item != Py_None && !(PyType_Check(item) &&
                                 PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(item), CData_Type)))
            raise(PyExc_TypeError, "TypePlan(): item must be a CData subclass or None");
        if (init != Py_None && !PyTuple_Check(init)) raise(PyExc_TypeError, "init must be a tuple");
        PlanKind plan_kind = to_kind(kind);

        Ref self = check_new(cls->tp_alloc(cls, 0));
        TypePlan *p = as_plan(self.get());
        p->type = reinterpret_cast<PyTypeObject *>(Ref::borrow(type).release());
        p->item = item == Py_None ? nullptr : reinterpret_cast<PyTypeObject *>(Ref::borrow(item).release());
        p->init = init == Py_None ? nullptr : Ref::borrow(init).release();
        if (p->item) p->item_plan = Py_XNewRef(reinterpret_cast<PyObject *>(plan_of(p->item)));
        p->code = row;
        p->load = row ? row->loads[swapped ? 1 : 0] : nullptr;
        p->store = row ? row->stores[swapped ? 1 : 0] : nullptr;
        p->size = size;
        p->align = align;
        p->length = length;
        p->itemsize = itemsize;
        p->flags = flags;
        p->kind = plan_kind;
        p->swapped = swapped;
        p->final = final;
        p->construct = construction_for(p);
        if (p->construct) enable_construction(p->type);
        return self.release();
    });
}

int plan_traverse(PyObject *self, visitproc visit, void *arg) {
    TypePlan *p = as_plan(self);
    Py_VISIT(p->type);
    Py_VISIT(p->item);
    Py_VISIT(p->init);
    Py_VISIT(p->item_plan);
    return 0;
}

int plan_clear(PyObject *self) {
    TypePlan *p = as_plan(self);
    Ref type = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(p->type, nullptr)));
    Ref item = Ref::steal(reinterpret_cast<PyObject *>(std::exchange(p->item, nullptr)));
    Ref init = Ref::steal(std::exchange(p->init, nullptr));
    Ref item_plan = Ref::steal(std::exchange(p->item_plan, nullptr));
    return 0;
}

void plan_dealloc(PyObject *self) {
    PyObject_GC_UnTrack(self);
    plan_clear(self);
    Py_TYPE(self)->tp_free(self);
}

PyObject *plan_repr(PyObject *self) {
    TypePlan *p = as_plan(self);
    return PyUnicode_FromFormat("<TypePlan %s of %s: size %zd, align %zd, length %zd>",
                                kind_name(p->kind), p->type ? p->type->tp_name : "?", p->size,
                                p->align, p->length);
}

PyObject *plan_retire(PyObject *self, PyObject *) {
    as_plan(self)->retired = true;
    Py_RETURN_NONE;
}

PyMethodDef plan_methods[] = {
    {"retire", plan_retire, METH_NOARGS,
     "retire(): the type has a newer plan; instances made with this one look it up."},
    {nullptr, nullptr, 0, nullptr},
};

PyObject *get_kind(PyObject *self, void *) {
    return PyObject_CallFunction(g_type_kind, "i", static_cast<int>(as_plan(self)->kind));
}
PyObject *get_code(PyObject *self, void *) {
    const CodeInfo *code = as_plan(self)->code;
    if (!code) Py_RETURN_NONE;
    return PyUnicode_FromStringAndSize(&code->code, 1);
}
PyObject *get_type(PyObject *self, void *) {
    PyObject *t = reinterpret_cast<PyObject *>(as_plan(self)->type);
    return Py_NewRef(t ? t : Py_None);
}
PyObject *get_item(PyObject *self, void *) {
    PyObject *t = reinterpret_cast<PyObject *>(as_plan(self)->item);
    return Py_NewRef(t ? t : Py_None);
}
template <Py_ssize_t TypePlan::*Field>
PyObject *get_ssize(PyObject *self, void *) { return PyLong_FromSsize_t(as_plan(self)->*Field); }
template <bool TypePlan::*Field>
PyObject *get_bool(PyObject *self, void *) { return PyBool_FromLong(as_plan(self)->*Field); }

PyGetSetDef plan_getset[] = {
    {"kind", get_kind, nullptr, "what the type is (simple, simple_subclass, struct, ...)", nullptr},
    {"code", get_code, nullptr, "type code of a simple type (None if it has no native row)", nullptr},
    {"type", get_type, nullptr, "the class the plan was made for", nullptr},
    {"item", get_item, nullptr, "array item / pointer target type", nullptr},
    {"size", get_ssize<&TypePlan::size>, nullptr, "size in bytes", nullptr},
    {"align", get_ssize<&TypePlan::align>, nullptr, "alignment in bytes", nullptr},
    {"length", get_ssize<&TypePlan::length>, nullptr, "array length / number of fields", nullptr},
    {"itemsize", get_ssize<&TypePlan::itemsize>, nullptr, "array item size", nullptr},
    {"swapped", get_bool<&TypePlan::swapped>, nullptr, "byte-swapped simple type", nullptr},
    {"final", get_bool<&TypePlan::final>, nullptr, "the type was final when planned", nullptr},
    {"retired", get_bool<&TypePlan::retired>, nullptr, "replaced by a newer plan", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject plan_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.TypePlan";
    t.tp_basicsize = sizeof(TypePlan);
    t.tp_dealloc = plan_dealloc;
    t.tp_repr = plan_repr;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
    t.tp_doc = "TypePlan(type, kind, size, align, length, flags, *, code=None, swapped=False, "
               "item=None, itemsize=0, init=None, final=False): the native plan of a ctypes type.";
    t.tp_traverse = plan_traverse;
    t.tp_clear = plan_clear;
    t.tp_getset = plan_getset;
    t.tp_methods = plan_methods;
    t.tp_alloc = PyType_GenericAlloc;
    t.tp_new = plan_new;
    t.tp_free = PyObject_GC_Del;
    return t;
}();

}  // namespace

PlanCacheEntry g_plan_cache[kPlanCacheSize];

TypePlan *plan_lookup(PyTypeObject *type) noexcept {
    PyObject *found = _PyType_Lookup(type, s_plan_attr);
    TypePlan *plan = found && Py_IS_TYPE(found, &plan_type) ? as_plan(found) : nullptr;
    if (PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG))
        plan_cache_entry(type) = PlanCacheEntry{type, type->tp_version_tag, plan};
    return plan;
}

int init_plan(PyObject *module) {
    return guard_int([&] {
        s_plan_attr = check(PyUnicode_InternFromString("_rawffi_plan_"));
        if (PyType_Ready(&plan_type) < 0) throw PyErrorSet{};
        TypePlan_Type = &plan_type;
        if (PyModule_AddType(module, &plan_type) < 0) throw PyErrorSet{};
        add_int_enum(module, "TypeKind", {"SIMPLE", "SIMPLE_SUBCLASS", "STRUCT", "UNION", "ARRAY",
                                          "POINTER", "FUNCPTR", "OTHER"});
        g_type_kind = check(PyObject_GetAttrString(module, "TypeKind"));
        return 0;
    });
}

}  // namespace rawffi
