// ffitypes.cpp: (stub, to be written)
#include "module.h"

namespace rawffi {
int init_ffitypes(PyObject *) { return 0; }
}  // namespace rawffi
