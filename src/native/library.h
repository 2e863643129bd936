// library.h: dlopen/dlsym/dlclose for the Python level (no C++ interface of its own).
#pragma once
#include "refs.h"
