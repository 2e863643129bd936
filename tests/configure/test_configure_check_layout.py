"""check_layout finds seeded mistakes in hand-written Structures and passes
correct ones."""

import ctypes

import pytest

from pyctypes.configure import ExternalCompilationInfo, LayoutMismatch, check_layout

TIME = ExternalCompilationInfo(includes=["sys/time.h", "time.h"])
NET = ExternalCompilationInfo(includes=["netinet/in.h"])

HEADER = """
struct rec { char tag; unsigned short port; int value; double x; };
struct flags { unsigned ready : 1; unsigned mode : 3; int level : 4; };
struct packed { char c; int i; } __attribute__((packed));
struct with_anon { int kind; union { int i; float f; }; };
struct outer { char c; struct rec inner; };
"""


@pytest.fixture
def mine(tmp_path):
    (tmp_path / "mine.h").write_text(HEADER)
    return ExternalCompilationInfo(includes=["mine.h"], include_dirs=[str(tmp_path)])


def fields(*spec):
    return list(spec)


class timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class in_addr(ctypes.Structure):
    _fields_ = [("s_addr", ctypes.c_uint32)]


class sockaddr_in(ctypes.Structure):
    _fields_ = [("sin_family", ctypes.c_ushort), ("sin_port", ctypes.c_uint16),
                ("sin_addr", in_addr), ("sin_zero", ctypes.c_char * 8)]


class tm(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in ("tm_sec", "tm_min", "tm_hour", "tm_mday",
                                            "tm_mon", "tm_year", "tm_wday", "tm_yday",
                                            "tm_isdst")] + \
               [("tm_gmtoff", ctypes.c_long), ("tm_zone", ctypes.c_char_p)]


@pytest.mark.parametrize("cls, cname, eci", [
    (timeval, "struct timeval", TIME), (tm, "struct tm", TIME),
    (sockaddr_in, "struct sockaddr_in", NET), (in_addr, "struct in_addr", NET)])
def test_correct_layouts_pass(cls, cname, eci):
    report = check_layout(cls, cname, eci)
    assert report.ok, str(report)
    assert bool(report)
    assert "OK" in str(report)
    check_layout(cls, cname, eci, strict=True)


def test_wrong_field_type():
    class bad(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_int)]
    report = check_layout(bad, "struct timeval", TIME)
    assert not report.ok
    text = str(report)
    assert "tv_usec: size Python 4, C 8" in text
    assert len(report.mismatches) == 1

    class bad2(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_int), ("tv_usec", ctypes.c_int)]
    text = str(check_layout(bad2, "struct timeval", TIME))
    assert "(type): size Python 8, C 16" in text
    assert "(type): alignment Python 4, C 8" in text
    assert "tv_sec: size Python 4, C 8" in text
    assert "tv_usec: offset Python 4, C 8" in text


def test_wrong_kind_and_sign(mine):
    class rec(ctypes.Structure):
        _fields_ = [("tag", ctypes.c_char), ("port", ctypes.c_short),
                    ("value", ctypes.c_float), ("x", ctypes.c_double)]
    report = check_layout(rec, "struct rec", mine)
    kinds = {(m.field, m.what) for m in report.mismatches}
    assert kinds == {("port", "signedness"), ("value", "kind")}
    assert "port: signedness Python signed, C unsigned" in str(report)
    assert "value: kind Python float, C integer" in str(report)


def test_missing_field_on_either_side():
    class short_tm(ctypes.Structure):
        _fields_ = tm._fields_[:-1] + [("tm_zonename", ctypes.c_char_p)]
    report = check_layout(short_tm, "struct tm", TIME)
    text = str(report)
    assert "tm_zone: C member (offset 48, size 8) missing in Python" in text
    assert "tm_zonename: in Python (offset 48, size 8) but not a member of the C type" in text
    assert len(report.mismatches) == 2


def test_wrong_packing(mine):
    class rec(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("tag", ctypes.c_char), ("port", ctypes.c_ushort),
                    ("value", ctypes.c_int), ("x", ctypes.c_double)]
    report = check_layout(rec, "struct rec", mine)
    what = {(m.field, m.what) for m in report.mismatches}
    assert {(None, "size"), (None, "alignment"), ("port", "offset"), ("value", "offset"),
            ("x", "offset")} == what

    class packed(ctypes.Structure):              # forgot _pack_
        _fields_ = [("c", ctypes.c_char), ("i", ctypes.c_int)]
    report = check_layout(packed, "struct packed", mine)
    assert ("i", "offset") in {(m.field, m.what) for m in report.mismatches}

    class packed_ok(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("c", ctypes.c_char), ("i", ctypes.c_int)]
    assert check_layout(packed_ok, "struct packed", mine).ok


def test_bitfields(mine):
    class good(ctypes.Structure):
        _fields_ = [("ready", ctypes.c_uint, 1), ("mode", ctypes.c_uint, 3),
                    ("level", ctypes.c_int, 4)]
    assert check_layout(good, "struct flags", mine).ok

    class bad(ctypes.Structure):
        _fields_ = [("ready", ctypes.c_uint, 1), ("mode", ctypes.c_uint, 2),
                    ("level", ctypes.c_uint, 4)]
    report = check_layout(bad, "struct flags", mine)
    what = {(m.field, m.what) for m in report.mismatches}
    assert ("mode", "bit width") in what
    assert ("level", "bit position") in what
    assert ("level", "signedness") in what


def test_nested_and_anonymous(mine):
    class rec(ctypes.Structure):
        _fields_ = [("tag", ctypes.c_char), ("port", ctypes.c_ushort),
                    ("value", ctypes.c_int), ("x", ctypes.c_double)]

    class outer(ctypes.Structure):
        _fields_ = [("c", ctypes.c_char), ("inner", rec)]
    assert check_layout(outer, "struct outer", mine).ok

    class badrec(ctypes.Structure):
        _fields_ = [("tag", ctypes.c_char), ("port", ctypes.c_ushort),
                    ("value", ctypes.c_long)]

    class badouter(ctypes.Structure):
        _fields_ = [("c", ctypes.c_char), ("inner", badrec)]
    report = check_layout(badouter, "struct outer", mine)
    assert "inner.value: size Python 8, C 4" in str(report)

    class U(ctypes.Union):
        _fields_ = [("i", ctypes.c_int), ("f", ctypes.c_float)]

    class with_anon(ctypes.Structure):
        _anonymous_ = ("u",)
        _fields_ = [("kind", ctypes.c_int), ("u", U)]
    assert check_layout(with_anon, "struct with_anon", mine).ok


def test_strict_raises():
    class bad(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_int), ("tv_usec", ctypes.c_int)]
    with pytest.raises(LayoutMismatch) as info:
        check_layout(bad, "struct timeval", TIME, strict=True)
    assert not info.value.report.ok
    assert "tv_usec: offset Python 4, C 8" in str(info.value)


def test_reserved_members_under_padding_are_notes():
    from pyctypes import configure
    full = configure.getstruct("struct stat", "#include <sys/stat.h>", [
        (n, ctypes.c_long) for n in ("st_dev", "st_ino", "st_nlink", "st_mode", "st_uid",
                                     "st_gid", "st_rdev", "st_size", "st_blksize",
                                     "st_blocks", "st_atim", "st_mtim", "st_ctim")])
    report = check_layout(full, "struct stat",
                          ExternalCompilationInfo(includes=["sys/stat.h"]))
    assert report.ok, str(report)
    assert any("__glibc_reserved" in n for n in report.notes)
