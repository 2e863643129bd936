// carg.cpp: the CArgObject type (converted call arguments, with CPython's repr) and byref().
#include "carg.h"
#include "ffitypes.h"
#include "module.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace rawffi {

PyTypeObject *CArg_Type = nullptr;

namespace {

PyObject *carg_new(PyTypeObject *tp, PyObject *args, PyObject *kwds) {
    return guard([&]() -> PyObject * {
        static const char *kwlist[] = {"tag", "ffi_type", "obj", nullptr};
        PyObject *tag, *ft, *obj = Py_None;
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "UO|O:CArg", const_cast<char **>(kwlist),
                                         &tag, &ft, &obj))
            throw PyErrorSet{};
        if (PyUnicode_GET_LENGTH(tag) != 1 || PyUnicode_READ_CHAR(tag, 0) > 127)
            raise(PyExc_ValueError, "CArg tag must be one ASCII character");
        if (!is_ffitype(ft)) raise(PyExc_TypeError, "CArg ffi_type must be an FFIType");
        if (ffitype_get(ft)->type == FFI_TYPE_VOID) raise(PyExc_TypeError, "CArg ffi_type is void");
        if (ffitype_get(ft)->size > sizeof(InlineStorage))
            raise(PyExc_ValueError, "CArg ffi_type is larger than the 16-byte value slot");
        Ref self = check_new(tp->tp_alloc(tp, 0));
        CArgObject *a = as_carg(self.get());
        a->tag = static_cast<char>(PyUnicode_READ_CHAR(tag, 0));
        a->ffi = ffitype_get(ft);
        a->ffitype = Ref::borrow(ft).release();
        a->obj = obj == Py_None ? nullptr : Ref::borrow(obj).release();
        return self.release();
    });
}

void carg_dealloc(PyObject *o) {
    CArgObject *a = as_carg(o);
    Ref::steal(std::exchange(a->ffitype, nullptr)).reset();
    Ref::steal(std::exchange(a->obj, nullptr)).reset();
    Py_TYPE(o)->tp_free(o);
}

PyObject *get_tag(PyObject *o, void *) { return PyUnicode_FromOrdinal(as_carg(o)->tag); }
PyObject *get_obj(PyObject *o, void *) {
    PyObject *obj = as_carg(o)->obj;
    return Py_NewRef(obj ? obj : Py_None);
}
int set_obj(PyObject *o, PyObject *value, void *) {
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _obj");
        return -1;
    }
    Ref old = Ref::steal(std::exchange(as_carg(o)->obj, value == Py_None ? nullptr : Py_NewRef(value)));
    return 0;
}
// CPython's PyCArg_repr, format for format: integer tags show the value read as
// the signed type of their size, floats their repr, pointers the address.
PyObject *carg_repr(PyObject *o) {
    CArgObject *a = as_carg(o);
    const char *v = a->value.bytes;
    auto load = [v](auto x) {
        std::memcpy(&x, v, sizeof x);
        return x;
    };
    int tag = static_cast<unsigned char>(a->tag);
    switch (a->tag) {
    case 'b': case 'B': return PyUnicode_FromFormat("<cparam '%c' (%d)>", tag, load(static_cast<signed char>(0)));
    case 'h': case 'H': return PyUnicode_FromFormat("<cparam '%c' (%d)>", tag, load(short{}));
    case 'i': case 'I': return PyUnicode_FromFormat("<cparam '%c' (%d)>", tag, load(int{}));
    case 'l': case 'L': return PyUnicode_FromFormat("<cparam '%c' (%ld)>", tag, load(long{}));
    case 'q': case 'Q': return PyUnicode_FromFormat("<cparam '%c' (%lld)>", tag, load(0LL));
    case 'd': case 'f': {
        Ref f = Ref::steal(PyFloat_FromDouble(a->tag == 'f' ? load(0.0f) : load(0.0)));
        return f ? PyUnicode_FromFormat("<cparam '%c' (%R)>", tag, f.get()) : nullptr;
    }
    case 'c': {
        auto c = static_cast<unsigned char>(v[0]);
        if (c < 128 && Py_UNICODE_ISPRINTABLE(c) && c != '\\' && c != '\'')
            return PyUnicode_FromFormat("<cparam '%c' ('%c')>", tag, c);
        return PyUnicode_FromFormat("<cparam '%c' ('\\x%02x')>", tag, c);
    }
    case 'z': case 'Z': case 'P':
        return PyUnicode_FromFormat("<cparam '%c' (%p)>", tag, load(static_cast<void *>(nullptr)));
    default:
        if (tag < 128 && Py_UNICODE_ISPRINTABLE(tag) && tag != '\\' && tag != '\'')
            return PyUnicode_FromFormat("<cparam '%c' at %p>", tag, static_cast<void *>(o));
        return PyUnicode_FromFormat("<cparam 0x%02x at %p>", tag, static_cast<void *>(o));
    }
}

PyObject *get_ffitype(PyObject *o, void *) { return Py_NewRef(as_carg(o)->ffitype); }
PyObject *get_address(PyObject *o, void *) { return PyLong_FromVoidPtr(as_carg(o)->value.bytes); }

PyGetSetDef carg_getset[] = {
    {"_tag", get_tag, nullptr, "the tag (a type code, 'P' for byref)", nullptr},
    {"_obj", get_obj, set_obj, "the object the value points into (kept alive)", nullptr},
    {"_ffi_type", get_ffitype, nullptr, "the FFIType the argument is passed as", nullptr},
    {"_address", get_address, nullptr, "address of the value slot (16 bytes)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject carg_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    t.tp_name = "CArgObject";     // as CPython's (module builtins)
    t.tp_basicsize = sizeof(CArgObject);
    t.tp_dealloc = carg_dealloc;
    t.tp_repr = carg_repr;
    t.tp_flags = Py_TPFLAGS_DEFAULT;
    t.tp_doc = "CArgObject(tag, ffi_type, obj=None): a converted call argument: its value in a\n"
               "16-byte slot (at _address), passed as ffi_type, keeping obj alive.";
    t.tp_getset = carg_getset;
    t.tp_new = carg_new;
    return t;
}();

// Non-GC like CPython's CArgObject (its _obj cannot lead back to it).
PyObject *carg_alloc(PyTypeObject *tp) { return tp->tp_alloc(tp, 0); }

PyObject *fn_byref(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&]() -> PyObject * {
        if (kwnames && PyTuple_GET_SIZE(kwnames)) raise(PyExc_TypeError, "byref() takes no keyword arguments");
        if (nargs < 1 || nargs > 2) {
            PyErr_Format(PyExc_TypeError, "byref expected %s %d argument%s, got %zd",
                         nargs < 1 ? "at least" : "at most", nargs < 1 ? 1 : 2,
                         nargs < 1 ? "" : "s", nargs);
            throw PyErrorSet{};
        }
        PyObject *obj = args[0];
        if (!is_cdata(obj)) {
            PyErr_Format(PyExc_TypeError, "byref() argument must be a ctypes instance, not '%s'",
                         _PyType_Name(Py_TYPE(obj)));
            throw PyErrorSet{};
        }
        uintptr_t offset = 0;
        if (nargs == 2) {
            Ref index = check_new(PyNumber_Index(args[1]));
            offset = static_cast<uintptr_t>(PyLong_AsUnsignedLongLongMask(index.get()));
            if (offset == static_cast<uintptr_t>(-1) && PyErr_Occurred()) throw PyErrorSet{};
        }
        Ref self = check_new(carg_alloc(CArg_Type));
        CArgObject *a = as_carg(self.get());
        a->tag = 'P';
        a->ffi = &ffi_type_pointer;
        a->ffitype = Py_NewRef(ffitype_for_code('P'));
        a->obj = Py_NewRef(obj);
        void *p = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(cdata_ptr(obj)) + offset);
        std::memcpy(a->value.bytes, &p, sizeof p);
        return self.release();
    });
}

// The type's name, its module included ("_ctypes.CArgObject" from 3.12): the
// Python level chooses it (_ctypes/versions.py) when it loads.  A static
// type's __module__ and __name__ are read from tp_name each time.
PyObject *fn_name_carg_type(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        static std::string name;
        const char *s = PyUnicode_AsUTF8(arg);
        if (!s) throw PyErrorSet{};
        name = s;
        carg_type.tp_name = name.c_str();
        PyType_Modified(&carg_type);
        Py_RETURN_NONE;
    });
}

PyMethodDef carg_functions[] = {
    {"name_carg_type", fn_name_carg_type, METH_O,
     "name_carg_type(name): CArgObject's full name (\"_ctypes.CArgObject\": module _ctypes)."},
    {"byref", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn_byref)), METH_FASTCALL | METH_KEYWORDS,
     "byref(obj, offset=0): a CArgObject 'P' holding the address of obj's memory plus\n"
     "offset, keeping obj."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_carg(PyObject *module) {
    return guard_int([&] {
        if (PyType_Ready(&carg_type) < 0) throw PyErrorSet{};
        CArg_Type = &carg_type;
        if (PyModule_AddType(module, &carg_type) < 0) throw PyErrorSet{};
        if (PyModule_AddFunctions(module, carg_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
