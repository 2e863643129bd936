// library.cpp: dlopen, dlsym, dlclose, with dlerror() text in the OSErrors, and the RTLD_* constants.
#include "library.h"
#include "module.h"

#include <dlfcn.h>

namespace rawffi {

namespace {

[[noreturn]] void raise_dlerror(const char *fallback) {
    const char *msg = dlerror();
    raise(PyExc_OSError, msg ? msg : fallback);
}

void *handle_arg(PyObject *o) {
    void *p = PyLong_AsVoidPtr(o);
    if (!p && PyErr_Occurred()) throw_if_error();
    return p;
}

PyObject *lib_dlopen(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&]() -> PyObject * {
        if (nargs != 2) raise(PyExc_TypeError, "dlopen() takes exactly 2 arguments (name, mode)");
        long mode = PyLong_AsLong(args[1]);
        if (mode == -1 && PyErr_Occurred()) throw_if_error();
        Ref name;  // bytes, or empty for the process itself
        if (args[0] != Py_None) {
            PyObject *b = nullptr;
            if (!PyUnicode_FSConverter(args[0], &b)) throw_if_error();
            name = Ref::steal(b);
        }
        dlerror();
        void *h = dlopen(name ? PyBytes_AS_STRING(name.get()) : nullptr, static_cast<int>(mode));
        if (!h) raise_dlerror("dlopen failed");
        return PyLong_FromVoidPtr(h);
    });
}

PyObject *lib_dlsym(PyObject *, PyObject *const *args, Py_ssize_t nargs) {
    return guard([&]() -> PyObject * {
        if (nargs != 2) raise(PyExc_TypeError, "dlsym() takes exactly 2 arguments (handle, name)");
        void *h = handle_arg(args[0]);
        if (!PyUnicode_Check(args[1])) raise(PyExc_TypeError, "dlsym() symbol name must be a str");
        const char *name = PyUnicode_AsUTF8(args[1]);
        if (!name) throw_if_error();
        dlerror();
        void *p = dlsym(h, name);
        if (!p) {
            const char *msg = dlerror();
            if (msg) raise(PyExc_OSError, msg);
        }
        return PyLong_FromVoidPtr(p);
    });
}

PyObject *lib_dlclose(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        void *h = handle_arg(arg);
        dlerror();
        if (dlclose(h) != 0) raise_dlerror("dlclose failed");
        Py_RETURN_NONE;
    });
}

// dladdr(address) -> (library path, symbol name or None), or None when no
// loaded object holds the address.
PyObject *lib_dladdr(PyObject *, PyObject *arg) {
    return guard([&]() -> PyObject * {
        void *p = handle_arg(arg);
        Dl_info info{};
        if (!p || !dladdr(p, &info) || !info.dli_fname) Py_RETURN_NONE;
        bool exact = info.dli_sname && info.dli_saddr == p;
        return Py_BuildValue("(Nz)", PyUnicode_DecodeFSDefault(info.dli_fname), exact ? info.dli_sname : nullptr);
    });
}

PyMethodDef lib_methods[] = {
    {"dladdr", lib_dladdr, METH_O,
     "dladdr(address) -> (path of the object holding it, the symbol starting there or None), or None."},
    {"dlopen", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(lib_dlopen)), METH_FASTCALL,
     "dlopen(name, mode) -> handle of the library (None: the process); OSError(dlerror text)."},
    {"dlsym", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(lib_dlsym)), METH_FASTCALL,
     "dlsym(handle, name) -> address of the symbol; OSError(dlerror text) when missing."},
    {"dlclose", lib_dlclose, METH_O, "dlclose(handle); OSError(dlerror text) on failure."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_library(PyObject *module) {
    return guard_int([&] {
        if (PyModule_AddFunctions(module, lib_methods) < 0 ||
            PyModule_AddIntConstant(module, "RTLD_LOCAL", RTLD_LOCAL) < 0 ||
            PyModule_AddIntConstant(module, "RTLD_GLOBAL", RTLD_GLOBAL) < 0 ||
            PyModule_AddIntConstant(module, "RTLD_NOW", RTLD_NOW) < 0 ||
            PyModule_AddIntConstant(module, "RTLD_LAZY", RTLD_LAZY) < 0)
            throw_if_error();
        return 0;
    });
}

}  // namespace rawffi
