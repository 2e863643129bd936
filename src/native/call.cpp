// call.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_call(PyObject *) { return 0; }
}  // namespace rawffi
