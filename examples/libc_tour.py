"""A tour of plain ctypes against the C library: calls, a Structure, an array,
and a Python callback that qsort calls.  Nothing here knows about pyctypes:

    python examples/libc_tour.py                  # on CPython's ctypes
    python -m pyctypes run examples/libc_tour.py  # the same program on pyctypes
"""

import ctypes
import ctypes.util
import sys

# Which _ctypes the stdlib package runs on: CPython's extension module, or pyctypes'.
print("ctypes runs on", sys.modules["_ctypes"].__name__)

libc = ctypes.CDLL(ctypes.util.find_library("c"))

# Calls with declared argument and result types.
libc.strlen.argtypes = [ctypes.c_char_p]
libc.strlen.restype = ctypes.c_size_t
libc.labs.argtypes = [ctypes.c_long]
libc.labs.restype = ctypes.c_long
print("strlen(b'hello, world') =", libc.strlen(b"hello, world"))
print("labs(-42) =", libc.labs(-42))

# A variadic call writing into a string buffer.
buf = ctypes.create_string_buffer(64)
libc.snprintf(buf, len(buf), b"%d + %.2f = %s", 2, ctypes.c_double(0.5), b"two and a half")
print("snprintf ->", buf.value.decode())


# A Structure filled by C: div() returns a struct by value.
class div_t(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_int), ("rem", ctypes.c_int)]


libc.div.argtypes = [ctypes.c_int, ctypes.c_int]
libc.div.restype = div_t
result = libc.div(47, 5)
print("div(47, 5) = quot %d, rem %d" % (result.quot, result.rem))


# A structure passed by pointer: gmtime_r fills a struct tm.
class tm(ctypes.Structure):
    _fields_ = [("tm_sec", ctypes.c_int), ("tm_min", ctypes.c_int), ("tm_hour", ctypes.c_int),
                ("tm_mday", ctypes.c_int), ("tm_mon", ctypes.c_int), ("tm_year", ctypes.c_int),
                ("tm_wday", ctypes.c_int), ("tm_yday", ctypes.c_int), ("tm_isdst", ctypes.c_int),
                ("tm_gmtoff", ctypes.c_long), ("tm_zone", ctypes.c_char_p)]


libc.gmtime_r.argtypes = [ctypes.POINTER(ctypes.c_long), ctypes.POINTER(tm)]
libc.gmtime_r.restype = ctypes.POINTER(tm)
when = ctypes.c_long(1_000_000_000)
t = tm()
libc.gmtime_r(ctypes.byref(when), ctypes.byref(t))
print("gmtime(1e9) = %04d-%02d-%02d %02d:%02d:%02d %s" % (
    t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_zone.decode()))

# An array sorted by qsort, calling back into Python.
values = [33, -7, 12, 0, 99, -45, 12, 5]
IntArray = ctypes.c_int * len(values)
array = IntArray(*values)
CMPFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
calls = 0


def compare(a, b):
    global calls
    calls += 1
    return (a[0] > b[0]) - (a[0] < b[0])


libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMPFUNC]
libc.qsort.restype = None
libc.qsort(array, len(array), ctypes.sizeof(ctypes.c_int), CMPFUNC(compare))
print("qsort ->", list(array), "(callback called: %s)" % ("yes" if calls else "no"))
assert list(array) == sorted(values)

# Memory functions and pointers.
src = (ctypes.c_char * 6)(*b"abcdef")
dst = ctypes.create_string_buffer(6)
ctypes.memmove(dst, src, 6)
print("memmove ->", dst.raw, "| string_at ->", ctypes.string_at(ctypes.addressof(src), 3))
p = ctypes.pointer(ctypes.c_int(7))
p.contents.value += 1
print("pointer ->", p[0], "| sizeof(tm) =", ctypes.sizeof(tm))
