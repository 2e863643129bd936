// fallback.h: the Python-level methods the native slots hand over to for whatever they do
// not do themselves (slices, unusual values, missing plans, errors with Python's texts).
#pragma once
#include "refs.h"

#include <initializer_list>

namespace rawffi {

// One per native slot that can hand over; the Python level registers each with
// set_fallback(native_type, name, method) when it binds the slot.
enum class Fallback : int {
    SimpleInit, SimpleValue,
    ArrayInit, ArrayGetItem, ArraySetItem, ArrayDelItem,
    PointerNew /* a check only */, PointerInit, PointerGetItem, PointerSetItem, PointerDelItem, PointerContents,
    StructNew, StructInit,
    FieldGet, FieldSet, FieldDelete,
    MetaMul, MetaRMul,
    CDataClass,
    Count,
};

// fallback(self, *args): a new reference.  Throws PyErrorSet.
Ref call_fallback(Fallback f, PyObject *self, std::initializer_list<PyObject *> args);
// fallback(self, *args, **kwargs) with args a tuple, kwargs a dict or NULL.  Throws PyErrorSet.
Ref call_fallback_tuple(Fallback f, PyObject *self, PyObject *args, PyObject *kwargs);
// The fallback is a descriptor (a property): its __get__ / __set__ (value NULL: __delete__).
Ref fallback_get(Fallback f, PyObject *self);
void fallback_set(Fallback f, PyObject *self, PyObject *value);

int init_fallback(PyObject *module);

}  // namespace rawffi
