"""The native core as the Python level sees it, and the switch for fast paths.

PYCTYPES_PURE=1 in the environment turns every fast path off: the Python level
then executes everything itself from its plans (DESIGN.md, "one behaviour, two
paths").
"""

import os

from .. import _rawffi as raw

PURE = os.environ.get("PYCTYPES_PURE", "") not in ("", "0")


def native_bases(name):
    """The native type holding a family's fast slots, as a tuple of extra base
    classes for the family's class: (raw.<name>,), or () in PURE mode."""
    return () if PURE else (getattr(raw, name),)


def bind_native(cls, native, *names):
    """Let the native slots of `native` (a base of cls) serve cls.  Each of
    `names` that cls defines in Python is handed to the native core as the
    fallback its slot calls for what it does not do itself (slices, unusual
    values, ...), then the native slot takes its place in cls."""
    for name in names:
        own = cls.__dict__.get(name)
        if own is not None:
            raw.set_fallback(native, name, own)
        slot = native.__dict__.get(name)
        if name == "__new__":
            raw.bind_new(cls, native)   # assigning __new__ would not change the slot
        elif type(slot).__name__ == "getset_descriptor":
            type.__setattr__(cls, name, raw.rebind(slot, cls))     # checks stop at cls
        else:
            type.__setattr__(cls, name, slot)


__all__ = ["raw", "PURE", "native_bases", "bind_native"]
