"""What differs between the CPython versions pyctypes runs on: one flag per
behaviour, each named for what it does, each set here and nowhere else.

pyctypes' `_ctypes` is the running interpreter's `_ctypes`, with that
version's behaviour: the families read the flags below and never
``sys.version_info``.  To see what differs on 3.13, read the 3.13 lines.

A flag is True on the versions that have the behaviour.  What the stdlib
package's own files do differently (3.12's ctypes.c_time_t and path-like
CDLL names, 3.13's big-endian unions in big-endian structures and
SetPointerType's DeprecationWarning) needs no flag: that version's file runs.
"""

import sys

VERSION = sys.version_info[:2]

# ---------------------------------------------------------------- 3.12

# A structure class with _use_broken_old_ctypes_structure_semantics_ lays its
# fields out ignoring its base class's (3.11 only).
OLD_STRUCTURE_SEMANTICS = VERSION < (3, 12)

# _ctypes.SIZEOF_TIME_T (ctypes.c_time_t is made from it).
HAS_SIZEOF_TIME_T = VERSION >= (3, 12)

# PEP 3118 formats of structures name their padding ("T{<c:a:3x<i:b:}"), and
# a packed structure has one too (3.11: "B").
PEP3118_PADDING = VERSION >= (3, 12)

# A simple type's from_param that refuses a value raises its setter's error
# ("'str' object cannot be interpreted as an integer"; 3.11: "wrong type"),
# and so does a call through argtypes ("argument 1: TypeError: ...").
SIMPLE_FROM_PARAM_KEEPS_ERROR = VERSION >= (3, 12)

# byref()'s and from_param's CArgObject type is _ctypes.CArgObject (before:
# builtins.CArgObject).
CARG_OBJECT_IN_CTYPES = VERSION >= (3, 12)

# ---------------------------------------------------------------- 3.13

# The metaclasses make a type's plan in __init__ rather than __new__ (a
# metaclass's own __init__ runs before it), and a second __init__ raises.
TYPE_DATA_IN_INIT = VERSION >= (3, 13)

# A common metaclass base, _ctypes.CType_Type, holding __mul__ and __sizeof__.
CTYPE_TYPE = VERSION >= (3, 13)

# Structure._align_ and Union._align_: a minimum alignment of the type.
ALIGN_ATTRIBUTE = VERSION >= (3, 13)

# c_char_p, c_wchar_p and c_void_p's from_param name the type they refuse
# ("'bytes' object cannot be interpreted as ctypes.c_wchar_p"; before: "wrong
# type").
POINTER_FROM_PARAM_NAMES_TYPE = VERSION >= (3, 13)

# An exception a callback raises, or its result's conversion, is reported
# with the callback named in the message ("Exception ignored on calling ctypes
# callback function <function f at 0x...>") and no object (before: the
# callback as the hook's object).
UNRAISABLE_MESSAGE_NAMES_OBJECT = VERSION >= (3, 13)

# cast() to something that is not a ctypes type says only "cast() argument 2
# must be a pointer type" (before: ", not <its type>").
CAST_ERROR_NAMES_CTYPES_ONLY = VERSION >= (3, 13)
