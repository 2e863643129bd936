// library.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_library(PyObject *) { return 0; }
}  // namespace rawffi
