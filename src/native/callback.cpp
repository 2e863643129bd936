// callback.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_callback(PyObject *) { return 0; }
}  // namespace rawffi
