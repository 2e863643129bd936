"""A program that crashes in C on purpose: run it with `python -m pyctypes run
examples/crash.py` to see the crash report name the call."""

import ctypes
import ctypes.util

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.strlen.argtypes = [ctypes.c_void_p]
libc.strlen.restype = ctypes.c_size_t

name = ctypes.create_string_buffer(b"pyctypes")
print(libc.strlen(ctypes.addressof(name)))
print(libc.strlen(0x10))        # a bad pointer: SIGSEGV inside strlen
