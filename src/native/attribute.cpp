// attribute.cpp: the Attribute descriptor type (attribute.h).  A getset descriptor
// reaches its getter through getset_get's checks and a PyType_IsSubtype call; an
// Attribute's __get__ is the slot the attribute lookup calls, and checks the class
// named first in the instance's MRO without a call.
#include "attribute.h"

namespace rawffi {
namespace {

struct Attribute {
    PyObject_HEAD
    const AttributeDef *def;
    PyTypeObject *native;   // a static type (never freed)
    PyObject *name;         // owned, interned
};

Attribute *as_attribute(PyObject *o) noexcept { return reinterpret_cast<Attribute *>(o); }

PyTypeObject *checked_class(const Attribute *a) noexcept {
    PyTypeObject *family = bound().*(a->def->family);
    return family ? family : a->native;
}

// A class's name as a C type's tp_name reads: "module.qualname" (CPython's family
// classes are C types of module _ctypes).
Ref qualified_name(PyTypeObject *cls) {
    if (!(cls->tp_flags & Py_TPFLAGS_HEAPTYPE)) return check_new(PyUnicode_FromString(cls->tp_name));
    PyObject *module = PyDict_GetItemString(cls->tp_dict, "__module__");
    PyObject *qualname = reinterpret_cast<PyHeapTypeObject *>(cls)->ht_qualname;
    if (module && PyUnicode_Check(module) && qualname && PyUnicode_CompareWithASCIIString(module, "builtins") != 0)
        return check_new(PyUnicode_FromFormat("%U.%U", module, qualname));
    return check_new(PyUnicode_FromString(cls->tp_name));
}

// getset's descr_check: the attribute of the family class applies to its instances only.
[[noreturn, gnu::cold]] void raise_not_applicable(Attribute *a, PyObject *obj) {
    Ref owner = qualified_name(checked_class(a));
    PyErr_Format(PyExc_TypeError, "descriptor '%U' for '%U' objects doesn't apply to a '%.100s' object",
                 a->name, owner.get(), Py_TYPE(obj)->tp_name);
    throw PyErrorSet{};
}

// Whether obj is an instance of the family class, checked without a call when the
// class is the type of obj or its first base (c_int's _SimpleCData).
inline bool applies_directly(Attribute *a, PyObject *obj) noexcept {
    PyTypeObject *type = Py_TYPE(obj), *cls = checked_class(a);
    if (type == cls) return true;
    PyObject *mro = type->tp_mro;
    return mro && PyTuple_GET_SIZE(mro) > 1 && PyTuple_GET_ITEM(mro, 1) == reinterpret_cast<PyObject *>(cls);
}

// The rest of the check (PyType_IsSubtype), then the getter or the TypeError.
[[gnu::noinline]] PyObject *get_checked(Attribute *a, PyObject *obj) noexcept {
    if (PyType_IsSubtype(Py_TYPE(obj), checked_class(a))) return a->def->get(obj, nullptr);
    return guard([&]() -> PyObject * { raise_not_applicable(a, obj); });
}

[[gnu::noinline]] int set_checked(Attribute *a, PyObject *obj, PyObject *value) noexcept {
    if (PyType_IsSubtype(Py_TYPE(obj), checked_class(a))) return a->def->set(obj, value, nullptr);
    return guard_int([&]() -> int { raise_not_applicable(a, obj); });
}

PyObject *attribute_get(PyObject *self, PyObject *obj, PyObject *) {
    Attribute *a = as_attribute(self);
    if (!obj) return Py_NewRef(self);
    if (applies_directly(a, obj)) [[likely]] return a->def->get(obj, nullptr);
    return get_checked(a, obj);
}

int attribute_set(PyObject *self, PyObject *obj, PyObject *value) {
    Attribute *a = as_attribute(self);
    if (applies_directly(a, obj)) [[likely]] return a->def->set(obj, value, nullptr);
    return set_checked(a, obj, value);
}

PyObject *attribute_repr(PyObject *self) {
    Attribute *a = as_attribute(self);
    return guard([&] {
        Ref owner = qualified_name(checked_class(a));
        return PyUnicode_FromFormat("<attribute '%U' of '%U' objects>", a->name, owner.get());
    });
}

void attribute_dealloc(PyObject *self) {
    Ref name = Ref::steal(as_attribute(self)->name);
    Py_TYPE(self)->tp_free(self);
}

PyObject *get_name(PyObject *self, void *) { return Py_NewRef(as_attribute(self)->name); }
PyObject *get_qualname(PyObject *self, void *) {
    Attribute *a = as_attribute(self);
    PyTypeObject *cls = checked_class(a);
    PyObject *qualname = cls->tp_flags & Py_TPFLAGS_HEAPTYPE
                             ? reinterpret_cast<PyHeapTypeObject *>(cls)->ht_qualname : nullptr;
    if (qualname) return PyUnicode_FromFormat("%U.%U", qualname, a->name);
    return PyUnicode_FromFormat("%s.%U", cls->tp_name, a->name);
}
PyObject *get_objclass(PyObject *self, void *) {
    return Py_NewRef(reinterpret_cast<PyObject *>(checked_class(as_attribute(self))));
}
PyObject *get_doc(PyObject *self, void *) {
    const char *doc = as_attribute(self)->def->doc;
    if (!doc) Py_RETURN_NONE;
    return PyUnicode_FromString(doc);
}

PyGetSetDef attribute_getset[] = {
    {"__name__", get_name, nullptr, nullptr, nullptr},
    {"__qualname__", get_qualname, nullptr, nullptr, nullptr},
    {"__objclass__", get_objclass, nullptr, nullptr, nullptr},
    {"__doc__", get_doc, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject attribute_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "pyctypes._rawffi.Attribute";
    t.tp_basicsize = sizeof(Attribute);
    t.tp_dealloc = attribute_dealloc;
    t.tp_repr = attribute_repr;
    t.tp_flags = Py_TPFLAGS_DEFAULT;
    t.tp_getset = attribute_getset;
    t.tp_descr_get = attribute_get;
    t.tp_descr_set = attribute_set;
    return t;
}();

}  // namespace

void add_attribute(PyTypeObject *native, const AttributeDef &def) {
    if (PyType_Ready(&attribute_type) < 0) throw PyErrorSet{};
    Ref name = check_new(PyUnicode_InternFromString(def.name));
    Attribute *a = PyObject_New(Attribute, &attribute_type);
    if (!a) throw PyErrorSet{};
    Ref attribute = Ref::steal(reinterpret_cast<PyObject *>(a));
    a->def = &def;
    a->native = native;
    a->name = name.release();
    if (PyDict_SetItem(native->tp_dict, a->name, attribute.get()) < 0) throw PyErrorSet{};
    PyType_Modified(native);
}

}  // namespace rawffi
