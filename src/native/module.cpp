// module.cpp: the _rawffi module object; each concern adds its part.
#include "module.h"

namespace {

int exec_module(PyObject *m) {
    using namespace rawffi;
    for (auto init : {init_memory, init_access, init_ffitypes, init_library, init_call,
                      init_callback, init_helpers, init_bound, init_carg, init_decision, init_callplan,
                      init_funcptr, init_plan, init_fallback, init_basenew, init_simple, init_array,
                      init_pointer, init_field, init_struct, init_metatype, init_crashreport}) {
        if (init(m) < 0) return -1;
    }
    return 0;
}

PyModuleDef_Slot slots[] = {
    {Py_mod_exec, reinterpret_cast<void *>(exec_module)},
    {0, nullptr},
};

PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "pyctypes._rawffi",
    "The native core of pyctypes: raw memory, typed access, libffi calls and closures, dlopen.",
    0, nullptr, slots, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__rawffi(void) { return PyModuleDef_Init(&moduledef); }
