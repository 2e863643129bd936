// memory.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_memory(PyObject *) { return 0; }
}  // namespace rawffi
