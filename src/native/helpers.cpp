// helpers.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_helpers(PyObject *) { return 0; }
}  // namespace rawffi
