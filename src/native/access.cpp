// access.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_access(PyObject *) { return 0; }
}  // namespace rawffi
