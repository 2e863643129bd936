// memory.cpp: the CData type (owned/borrowed blocks, keep-alive slots, buffer protocol),
// at_address/view/resize/buffer_address, and the shared argument helpers.
#include "memory.h"
#include "fallback.h"
#include "module.h"
#include "plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace rawffi {

PyTypeObject *CData_Type = nullptr;

namespace {

PyObject *s_size_attr = nullptr;     // "_rawffi_size_", interned
PyObject *s_pep3118_attr = nullptr;  // "_rawffi_pep3118_", interned

constexpr Py_ssize_t kAlign = alignof(InlineStorage);

// ---------------------------------------------------------------- blocks
// A zeroed heap block of at least size bytes, 16-aligned: from Python's allocator
// (pymalloc's blocks and the system malloc's are 16-aligned on the 64-bit
// platforms we build for; checked, never assumed).
char *alloc_block(Py_ssize_t size) {
    if (size > PY_SSIZE_T_MAX - kAlign) [[unlikely]] throw std::bad_alloc();
    size_t n = size == 0 ? kAlign : (static_cast<size_t>(size) + kAlign - 1) & ~static_cast<size_t>(kAlign - 1);
    void *p = PyMem_Malloc(n);     // and memset: glibc's calloc costs more for large blocks
    if (!p) [[unlikely]] throw std::bad_alloc();
    if (reinterpret_cast<uintptr_t>(p) % kAlign != 0) [[unlikely]] {
        PyMem_Free(p);
        raise(PyExc_SystemError, "the memory allocator returned a block that is not 16-aligned");
    }
    return static_cast<char *>(std::memset(p, 0, n));
}

void free_block(CData *c) noexcept {
    if (c->b_needsfree && c->b_ptr && !c->uses_inline()) PyMem_Free(c->b_ptr);
    c->b_ptr = nullptr;
    c->b_needsfree = 0;
}

bool inline_is_aligned(CData *c) noexcept {
    return reinterpret_cast<uintptr_t>(c->b_value.bytes) % kAlign == 0;
}

PyTypeObject *to_cdata_type(PyObject *cls, const char *fname) {
    if (!PyType_Check(cls) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(cls), CData_Type))
        raise_fmt(PyExc_TypeError, "%s() argument 1 must be a CData subclass, not %.200s", fname,
                  PyType_Check(cls) ? reinterpret_cast<PyTypeObject *>(cls)->tp_name
                                    : Py_TYPE(cls)->tp_name);
    return reinterpret_cast<PyTypeObject *>(cls);
}

CData *to_cdata(PyObject *o, const char *fname, const char *argname) {
    if (!is_cdata(o))
        raise_fmt(PyExc_TypeError, "%s() argument '%s' must be a CData instance, not %.200s", fname,
                  argname, Py_TYPE(o)->tp_name);
    return as_cdata(o);
}

// ---------------------------------------------------------------- type slots
// Whether cdata_new makes a plain new_owned instance of a class with this plan.
// Not for a structure or union type that is not final yet (or abstract): the
// Python level's __new__ checks it and makes it final, then comes back here.
bool new_is_direct(PyTypeObject *type, const TypePlan *plan) noexcept {
    return !(plan->is_record() && !(plan->type == type && plan->final));
}

PyObject *cdata_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    return guard([&] {
        TypePlan *plan = plan_of(type);
        if (plan && !new_is_direct(type, plan)) [[unlikely]]
            return call_fallback_tuple(Fallback::StructNew, reinterpret_cast<PyObject *>(type), args,
                                       kwargs).release();
        return new_owned(type, plan, plan ? plan->size : type_block_size(type)).release();
    });
}

// Accepts and ignores any arguments, so that a Python subclass's __init__ may
// call super().__init__(*args) (object.__init__ would reject them).
int cdata_init(PyObject *, PyObject *, PyObject *) { return 0; }

int cdata_traverse(PyObject *self, visitproc visit, void *arg) {
    CData *c = as_cdata(self);
    Py_VISIT(c->b_base);
    Py_VISIT(c->b_objects);
    Py_VISIT(c->b_plan);
    return 0;
}

int cdata_clear(PyObject *self) {
    CData *c = as_cdata(self);
    Ref base = Ref::steal(std::exchange(c->b_base, nullptr));
    Ref objects = Ref::steal(std::exchange(c->b_objects, nullptr));
    Ref plan = Ref::steal(std::exchange(c->b_plan, nullptr));
    return 0;
}

// CData is not a GC type, as CPython's _CData is not: the Python classes of
// the families and every ctypes class are (all heap types are), and their
// subtype_dealloc untracks the instance, then reaches this dealloc without
// tracking it again (it does that only for a GC base).  Instances of the
// native types themselves are never tracked.  (FuncPtr, a GC type, untracks
// its own before calling this.)
void cdata_dealloc(PyObject *self) {
    CData *c = as_cdata(self);
    if (c->b_needsfree && !c->uses_inline()) PyMem_Free(c->b_ptr);
    // Nothing reaches self any more (untracked, no references left): its own
    // references are dropped as they are, without clearing the fields.
    Ref::steal(c->b_plan).reset();
    Ref::steal(c->b_objects).reset();
    Ref::steal(c->b_base).reset();
    Py_TYPE(self)->tp_free(self);
}

// ---------------------------------------------------------------- buffer protocol
// What one export owns: the format string and the shape/strides array.
struct Export {
    Ref format;
    std::vector<Py_ssize_t> dims;  // shape[ndim] then strides[ndim]
};

int cdata_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    return guard_int([&] {
        if (!view) raise(PyExc_BufferError, "CData: view==NULL argument is obsolete");
        CData *c = as_cdata(self);
        const char *format = "B";
        Py_ssize_t itemsize = 1;
        auto export_ = std::make_unique<Export>();
        if (PyObject *spec = _PyType_Lookup(Py_TYPE(self), s_pep3118_attr)) {
            Ref owned = Ref::borrow(spec);  // borrowed from the type; to_size may run __index__
            if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 3)
                raise(PyExc_TypeError, "_rawffi_pep3118_ must be a (format, itemsize, shape) tuple");
            PyObject *fmt = PyTuple_GET_ITEM(spec, 0), *shape = PyTuple_GET_ITEM(spec, 2);
            if (!PyUnicode_Check(fmt)) raise(PyExc_TypeError, "_rawffi_pep3118_ format must be a str");
            if (!PyTuple_Check(shape)) raise(PyExc_TypeError, "_rawffi_pep3118_ shape must be a tuple");
            itemsize = to_size(PyTuple_GET_ITEM(spec, 1), "_rawffi_pep3118_ itemsize");
            format = PyUnicode_AsUTF8(fmt);
            if (!format) throw PyErrorSet{};
            export_->format = Ref::borrow(fmt);
            Py_ssize_t ndim = PyTuple_GET_SIZE(shape);
            if (ndim > PyBUF_MAX_NDIM) raise(PyExc_BufferError, "_rawffi_pep3118_ shape has too many dimensions");
            export_->dims.resize(2 * ndim);
            Py_ssize_t total = itemsize;
            for (Py_ssize_t i = 0; i < ndim; i++) {
                Py_ssize_t n = to_size(PyTuple_GET_ITEM(shape, i), "_rawffi_pep3118_ shape item");
                export_->dims[i] = n;
                total = n != 0 && total > PY_SSIZE_T_MAX / n ? PY_SSIZE_T_MAX : total * n;
            }
            for (Py_ssize_t i = ndim - 1, stride = itemsize; i >= 0; i--) {
                export_->dims[ndim + i] = stride;
                if (__builtin_mul_overflow(stride, export_->dims[i], &stride))
                    raise(PyExc_BufferError, "_rawffi_pep3118_ shape is too large");
            }
            if (ndim > 0 && total > c->b_size)
                raise(PyExc_BufferError, "_rawffi_pep3118_ shape exceeds the memory block");
        }
        Py_ssize_t ndim = static_cast<Py_ssize_t>(export_->dims.size() / 2);
        if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS) {
            int big = 0;
            for (Py_ssize_t i = 0; i < ndim; i++) big += export_->dims[i] > 1;
            if (big > 1) raise(PyExc_BufferError, "CData buffer is not Fortran contiguous");
        }
        view->buf = c->b_ptr;
        view->len = c->b_size;
        view->readonly = 0;
        view->itemsize = itemsize;
        view->format = (flags & PyBUF_FORMAT) ? const_cast<char *>(format) : nullptr;
        if ((flags & PyBUF_ND) == PyBUF_ND) {
            view->ndim = static_cast<int>(ndim);
            view->shape = ndim ? export_->dims.data() : nullptr;
            view->strides = ndim && (flags & PyBUF_STRIDES) == PyBUF_STRIDES
                                ? export_->dims.data() + ndim : nullptr;
        } else {
            view->ndim = 1;
            view->shape = nullptr;
            view->strides = nullptr;
        }
        view->suboffsets = nullptr;
        view->internal = export_.release();
        view->obj = Py_NewRef(self);
        c->b_exports++;
        return 0;
    });
}

void cdata_releasebuffer(PyObject *self, Py_buffer *view) {
    delete static_cast<Export *>(view->internal);
    view->internal = nullptr;
    as_cdata(self)->b_exports--;
}

PyBufferProcs cdata_as_buffer = {cdata_getbuffer, cdata_releasebuffer};

// ---------------------------------------------------------------- getset
PyObject *get_base(PyObject *self, void *) {
    PyObject *b = as_cdata(self)->b_base;
    return Py_NewRef(b ? b : Py_None);
}
PyObject *get_needsfree(PyObject *self, void *) { return PyLong_FromLong(as_cdata(self)->b_needsfree); }
PyObject *get_objects(PyObject *self, void *) {
    PyObject *o = as_cdata(self)->b_objects;
    return Py_NewRef(o ? o : Py_None);
}
int set_objects(PyObject *self, PyObject *value, void *) {
    Ref old = Ref::steal(std::exchange(as_cdata(self)->b_objects, Ref::borrow(value).release()));
    return 0;
}
PyObject *get_address(PyObject *self, void *) { return PyLong_FromVoidPtr(as_cdata(self)->b_ptr); }
PyObject *get_size(PyObject *self, void *) { return PyLong_FromSsize_t(as_cdata(self)->b_size); }

// _b_index_ and _b_length_: plain Py_ssize_t members, read/write.
template <Py_ssize_t CData::*Field>
PyObject *get_ssize(PyObject *self, void *) { return PyLong_FromSsize_t(as_cdata(self)->*Field); }
template <Py_ssize_t CData::*Field>
int set_ssize(PyObject *self, PyObject *value, void *) {
    return guard_int([&] {
        if (!value) raise(PyExc_AttributeError, "cannot delete this attribute");
        as_cdata(self)->*Field = to_ssize(value);
        return 0;
    });
}

// __class__: read as object's; an assignment is the Python level's (basics.py,
// _set_class: object's own setter, then the checks ctypes memory needs).
PyObject *get_class(PyObject *self, void *) { return Py_NewRef(reinterpret_cast<PyObject *>(Py_TYPE(self))); }
int set_class(PyObject *self, PyObject *value, void *) {
    return guard_int([&] {
        if (!value) raise(PyExc_TypeError, "can't delete __class__ attribute");
        call_fallback(Fallback::CDataClass, self, {value});
        return 0;
    });
}

PyGetSetDef cdata_getset[] = {
    {"__class__", get_class, set_class, "the type of the object", nullptr},
    {"_b_base_", get_base, nullptr, "the object this is a view into, or None", nullptr},
    {"_b_needsfree_", get_needsfree, nullptr, "1 if the memory block is owned", nullptr},
    {"_objects", get_objects, nullptr, "the keep-alive slot (read-only)", nullptr},
    {"_b_objects_", get_objects, set_objects, "the keep-alive slot", nullptr},
    {"_b_address_", get_address, nullptr, "address of the memory block", nullptr},
    {"_b_size_", get_size, nullptr, "size of the memory block in bytes", nullptr},
    {"_b_index_", get_ssize<&CData::b_index>, set_ssize<&CData::b_index>,
     "index in the base's _objects", nullptr},
    {"_b_length_", get_ssize<&CData::b_length>, set_ssize<&CData::b_length>,
     "element count (arrays)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject cdata_type = [] {
    PyTypeObject t{};
    t.ob_base.ob_base.ob_refcnt = 1;
    // Named in module _ctypes: numpy (and others) recognise a ctypes class by
    // '_ctypes' in the module of the last base before object (numpy's
    // npy_ctypes_check); on CPython that base is _ctypes._CData.
    t.tp_name = "_ctypes._CDataBase";
    t.tp_basicsize = sizeof(CData);
    t.tp_dealloc = cdata_dealloc;
    t.tp_as_buffer = &cdata_as_buffer;
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;   // not GC: see cdata_dealloc
    t.tp_doc = "Base type of every ctypes instance: a memory block and its keep-alives.";
    t.tp_traverse = cdata_traverse;
    t.tp_clear = cdata_clear;
    t.tp_getset = cdata_getset;
    t.tp_init = cdata_init;
    t.tp_alloc = PyType_GenericAlloc;
    t.tp_new = cdata_new;
    t.tp_free = PyObject_Free;
    return t;
}();

// ---------------------------------------------------------------- functions
PyObject *fn_at_address(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"cls", "address"};
        PyObject *a[2];
        parse_args("at_address", args, nargs, kwnames, names, 2, 2, a);
        PyTypeObject *cls = to_cdata_type(a[0], "at_address");
        return cdata_view(cls, to_address(a[1]), nullptr, 0).release();
    });
}

// new_instance(cls): what CData's tp_new makes, called directly: a class whose
// own tp_new differs (pointers) may not be given to CData.__new__.
PyObject *fn_new_instance(PyObject *, PyObject *cls) {
    return guard([&] {
        PyTypeObject *type = to_cdata_type(cls, "new_instance");
        Ref empty = check_new(PyTuple_New(0));
        return check_new(cdata_new(type, empty.get(), nullptr)).release();
    });
}

PyObject *fn_view(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"cls", "address", "base", "index"};
        PyObject *a[4];
        parse_args("view", args, nargs, kwnames, names, 4, 3, a);
        PyTypeObject *cls = to_cdata_type(a[0], "view");
        void *address = to_address(a[1]);
        to_cdata(a[2], "view", "base");
        Py_ssize_t index = a[3] ? to_ssize(a[3]) : 0;
        return cdata_view(cls, address, a[2], index).release();
    });
}

PyObject *fn_resize(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return guard([&] {
        static const char *const names[] = {"obj", "size"};
        PyObject *a[2];
        parse_args("resize", args, nargs, kwnames, names, 2, 2, a);
        CData *c = to_cdata(a[0], "resize", "obj");
        Py_ssize_t size = to_size(a[1], "size");
        if (!c->b_needsfree)
            raise(PyExc_ValueError, "Memory cannot be resized because this object doesn't own it");
        if (c->b_exports > 0)
            raise(PyExc_BufferError, "Memory cannot be resized while its buffer is exported");
        Py_ssize_t old = c->b_size;
        if (c->uses_inline() && size <= static_cast<Py_ssize_t>(sizeof c->b_value)) {
            if (size > old) std::memset(c->b_ptr + old, 0, size - old);
        } else {
            char *block = alloc_block(size);
            std::memcpy(block, c->b_ptr, std::min(old, size));
            free_block(c);
            c->b_ptr = block;
            c->b_needsfree = 1;
        }
        c->b_size = size;
        Py_RETURN_NONE;
    });
}

// The address of a C-contiguous buffer.  Asked for as CPython's from_buffer
// does (a full request, as PyMemoryView_FromObject makes it), then checked
// with PyBuffer_IsContiguous: a simple request would refuse an empty strided
// view, which is contiguous.
PyObject *fn_buffer_address(PyObject *, PyObject *obj) {
    return guard([&] {
        BufferView view(obj, PyBUF_FULL_RO);
        if (!PyBuffer_IsContiguous(view.get(), 'C'))
            raise(PyExc_TypeError, "underlying buffer is not C contiguous");
        return PyLong_FromVoidPtr(view->buf);
    });
}

#define FASTCALL_KW(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)), METH_FASTCALL | METH_KEYWORDS

PyMethodDef memory_functions[] = {
    {"at_address", FASTCALL_KW(fn_at_address),
     "at_address(cls, address): an instance of cls viewing address, owning nothing."},
    {"new_instance", fn_new_instance, METH_O,
     "new_instance(cls): a zeroed instance of cls owning its memory (CData's tp_new; no __init__)."},
    {"view", FASTCALL_KW(fn_view),
     "view(cls, address, base, index=0): an instance of cls viewing address inside base."},
    {"resize", FASTCALL_KW(fn_resize),
     "resize(obj, size): grow or shrink an owned block, new bytes zeroed."},
    {"buffer_address", fn_buffer_address, METH_O,
     "buffer_address(obj): address of the buffer of obj."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

// ---------------------------------------------------------------- exported helpers
Py_ssize_t type_block_size(PyTypeObject *cls) {
    PyObject *v = _PyType_Lookup(cls, s_size_attr);
    if (!v) [[unlikely]] raise(PyExc_TypeError, "abstract class");
    if (!PyLong_Check(v)) [[unlikely]]
        raise_fmt(PyExc_TypeError, "_rawffi_size_ must be an int, not %.200s", Py_TYPE(v)->tp_name);
    Py_ssize_t size = PyLong_AsSsize_t(v);
    if (size < 0) [[unlikely]] {
        if (PyErr_Occurred()) throw PyErrorSet{};
        raise(PyExc_ValueError, "_rawffi_size_ must not be negative");
    }
    return size;
}

Ref new_owned(PyTypeObject *cls, TypePlan *plan, Py_ssize_t size) {
    Ref self = check_new(cls->tp_alloc(cls, 0));
    CData *c = as_cdata(self.get());
    c->b_plan = Py_XNewRef(reinterpret_cast<PyObject *>(plan));
    c->b_ptr = size <= static_cast<Py_ssize_t>(sizeof c->b_value) && inline_is_aligned(c)
                   ? c->b_value.bytes
                   : alloc_block(size);
    c->b_size = size;
    c->b_needsfree = 1;
    return self;
}

Ref cdata_view(PyTypeObject *cls, void *address, PyObject *base, Py_ssize_t index) {
    return cdata_view(plan_of(cls), cls, address, base, index);
}

namespace {

// A zeroed instance from tp_alloc (b_needsfree is 0) made a view.
void make_view(PyObject *self, TypePlan *plan, Py_ssize_t size, void *address, PyObject *base,
               Py_ssize_t index) noexcept {
    CData *c = as_cdata(self);
    c->b_plan = Py_XNewRef(reinterpret_cast<PyObject *>(plan));
    c->b_ptr = static_cast<char *>(address);
    c->b_size = size;
    c->b_base = Py_XNewRef(base);
    c->b_index = index;
}

}  // namespace

Ref cdata_view(TypePlan *plan, PyTypeObject *cls, void *address, PyObject *base, Py_ssize_t index) {
    Py_ssize_t size = plan ? plan->size : type_block_size(cls);
    Ref self = check_new(cls->tp_alloc(cls, 0));
    make_view(self.get(), plan, size, address, base, index);
    return self;
}

PyObject *new_view(TypePlan *plan, PyTypeObject *cls, void *address, PyObject *base,
                   Py_ssize_t index) noexcept {
    PyObject *self = cls->tp_alloc(cls, 0);
    if (self) [[likely]] make_view(self, plan, plan->size, address, base, index);
    return self;
}

void *to_address(PyObject *o) {
    Ref index;
    if (!PyLong_Check(o)) [[unlikely]] {
        index = check_new(PyNumber_Index(o));
        o = index.get();
    }
    void *p = PyLong_AsVoidPtr(o);
    if (!p && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    return p;
}

Py_ssize_t to_ssize(PyObject *o) {
    Py_ssize_t n = PyLong_Check(o) ? PyLong_AsSsize_t(o) : PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) [[unlikely]] throw PyErrorSet{};
    return n;
}

Py_ssize_t to_size(PyObject *o, const char *what) {
    Py_ssize_t n = to_ssize(o);
    if (n < 0) [[unlikely]] raise_fmt(PyExc_ValueError, "%s must not be negative", what);
    return n;
}

void parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                const char *const *names, int nnames, int nrequired, PyObject **out) {
    if (nargs > nnames) [[unlikely]]
        raise_fmt(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, nnames, nargs);
    for (int i = 0; i < nnames; i++) out[i] = i < nargs ? args[i] : nullptr;
    if (kwnames) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t k = 0; k < nkw; k++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, k);
            int j = 0;
            while (j < nnames && PyUnicode_CompareWithASCIIString(key, names[j]) != 0) j++;
            if (j == nnames)
                raise_fmt(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
            if (out[j])
                raise_fmt(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[j]);
            out[j] = args[nargs + k];
        }
    }
    for (int i = 0; i < nrequired; i++)
        if (!out[i]) [[unlikely]]
            raise_fmt(PyExc_TypeError, "%s() missing required argument '%s' (pos %d)", fname,
                      names[i], i + 1);
}

int init_memory(PyObject *module) {
    return guard_int([&] {
        s_size_attr = check(PyUnicode_InternFromString("_rawffi_size_"));
        s_pep3118_attr = check(PyUnicode_InternFromString("_rawffi_pep3118_"));
        if (PyType_Ready(&cdata_type) < 0) throw PyErrorSet{};
        CData_Type = &cdata_type;
        if (PyModule_AddObjectRef(module, "CData", reinterpret_cast<PyObject *>(&cdata_type)) < 0)
            throw PyErrorSet{};
        if (PyModule_AddFunctions(module, memory_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
