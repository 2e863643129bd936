"""Helpers shared by the configure tests (a module of its own: `conftest` is
also the name of tests/conftest.py)."""


def ctypes_image_bits(ct, cls, name):
    """(lo, width) of field `name` of cls, found by storing -1 (little-endian)."""
    inst = cls()
    setattr(inst, name, -1)
    data = ct.string_at(ct.addressof(inst), ct.sizeof(cls))
    return image_bits(data)


def image_bits(data: bytes):
    idx = [i * 8 + b for i, v in enumerate(data) for b in range(8) if v & (1 << b)]
    return (min(idx), max(idx) - min(idx) + 1) if idx else (0, 0)
