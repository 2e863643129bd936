// bound.h: the Python level's family classes whose attribute descriptors the
// native core checks instances against (bound once by fastpath.install).
#pragma once
#include "refs.h"

namespace rawffi {

struct BoundClasses {
    PyTypeObject *pointer = nullptr;      // _Pointer
    PyTypeObject *simple = nullptr;       // _SimpleCData
};

// The bound classes (members NULL until bound; never freed).
extern BoundClasses g_bound_classes;
inline const BoundClasses &bound() noexcept { return g_bound_classes; }

}  // namespace rawffi
