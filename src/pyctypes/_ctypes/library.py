"""PLACEHOLDER: dlopen and friends (being written)."""
from ._native import raw
RTLD_LOCAL = 0
RTLD_GLOBAL = 256
def dlopen(name, mode=RTLD_LOCAL): raise NotImplementedError
def dlsym(handle, name): raise NotImplementedError
def dlclose(handle): raise NotImplementedError
