// callback.h: Closure, an ffi closure whose C entry point calls a Python callable.
#pragma once
#include "refs.h"

namespace rawffi {

// The Closure type object (set by init_callback).
extern PyTypeObject *Closure_Type;

}  // namespace rawffi
