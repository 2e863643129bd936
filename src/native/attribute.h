// attribute.h: Attribute, the native data descriptor of one attribute of a family's
// instances (x.value, p.contents): what a getset descriptor of the family's class
// does, with the getter and setter called straight from the attribute lookup.
#pragma once
#include "bound.h"

namespace rawffi {

struct AttributeDef {
    const char *name;
    const char *doc;
    getter get;                              // (instance, NULL)
    setter set;                              // (instance, value or NULL to delete, NULL)
    PyTypeObject *BoundClasses::*family;     // instances must be of this Python-level class
};

// Put the attribute into native's dict: native is ready, and def lives as long
// as the process.  Instances are checked against the family class bound by
// bind_classes (against native while that is unbound).  Throws PyErrorSet.
void add_attribute(PyTypeObject *native, const AttributeDef &def);

}  // namespace rawffi
