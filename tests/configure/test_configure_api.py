"""The API of ctypes-configure 0.1, with the meanings it has there."""

import ctypes
import struct

from pyctypes import configure
from pyctypes.configure import ExternalCompilationInfo


DIRENT = """
    struct dirent  /* for this example only, not the exact dirent */
    {
        long d_ino;
        int d_off;
        unsigned short d_reclen;
        char d_name[32];
    };
"""


def test_getstruct_gaps_become_padding():
    dirent = configure.getstruct("struct dirent", DIRENT, [("d_reclen", ctypes.c_ushort)])
    assert issubclass(dirent, ctypes.Structure)
    assert dirent.__name__ == "dirent"
    ssize = ctypes.sizeof(ctypes.c_long) + ctypes.sizeof(ctypes.c_int) + 2 + 32
    ssize += (-ssize) % ctypes.alignment(ctypes.c_long)
    assert ctypes.sizeof(dirent) == ssize
    assert ctypes.alignment(dirent) == ctypes.alignment(ctypes.c_long)
    assert dirent.d_reclen.offset == ctypes.sizeof(ctypes.c_long) + ctypes.sizeof(ctypes.c_int)
    assert dict(dirent._fields_)["d_reclen"] is ctypes.c_ushort


def test_hints_are_only_hints():
    S = configure.getstruct("struct S", """
        struct S {
            signed char c; unsigned char uc; short s; unsigned short us;
            int i; unsigned int ui; long l; unsigned long ul;
            long long ll; unsigned long long ull; float f; double d;
        };""", [("c", ctypes.c_int), ("uc", ctypes.c_int), ("s", ctypes.c_uint),
                ("us", ctypes.c_int), ("i", ctypes.c_int), ("ui", ctypes.c_int),
                ("l", ctypes.c_int), ("ul", ctypes.c_int), ("ll", ctypes.c_int),
                ("ull", ctypes.c_int), ("f", ctypes.c_double), ("d", ctypes.c_float)])
    fields = dict(S._fields_)
    assert fields["c"] is ctypes.c_byte
    assert fields["uc"] is ctypes.c_ubyte
    assert fields["s"] is ctypes.c_short
    assert fields["us"] is ctypes.c_ushort
    assert fields["i"] is ctypes.c_int
    assert fields["ui"] is ctypes.c_uint
    assert fields["l"] is ctypes.c_long
    assert fields["ul"] is ctypes.c_ulong
    assert fields["ll"] is ctypes.c_longlong
    assert fields["ull"] is ctypes.c_ulonglong
    assert fields["f"] is ctypes.c_float
    assert fields["d"] is ctypes.c_double


def test_getsimpletype():
    assert configure.getsimpletype("test_t", "typedef unsigned short test_t;",
                                   ctypes.c_int) is ctypes.c_ushort
    assert configure.getsimpletype("test_t", "typedef double test_t;") is ctypes.c_double
    assert configure.getsimpletype("test_t", "typedef void *test_t;") is ctypes.c_void_p


def test_getconstantinteger():
    assert configure.getconstantinteger("BLAH", "#define BLAH (6*7)") == 42
    assert configure.getconstantinteger("BLAH", "#define BLAH (-2147483648LL)") == -2147483648
    assert configure.getconstantinteger("BLAH", "#define BLAH (3333333333ULL)") == 3333333333
    assert configure.getconstantinteger("BLAH", "#define BLAH (~0ULL)") == 2 ** 64 - 1
    assert configure.getconstantinteger("BLAH", "#define BLAH (-1LL << 63)") == -2 ** 63
    assert configure.getconstantinteger("E", "enum { A, B, E = -7 };") == -7


def test_getdefined():
    assert not configure.getdefined("ALFKJLKJFLKJFKLEJDLKEWMECEE", "")
    assert configure.getdefined("ALFKJLKJFLKJFKLEJDLKEWMECEE",
                                "#define ALFKJLKJFLKJFKLEJDLKEWMECEE")


def test_configure_with_include_dir(tmp_path):
    (tmp_path / "test_ctypes_platform.h").write_text("#define XYZZY 42\n")

    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(
            pre_include_lines=["/* a C comment */", "#include <stdio.h>",
                               "#include <test_ctypes_platform.h>"],
            include_dirs=[str(tmp_path)])
        FILE = configure.Struct("FILE", [])
        ushort = configure.SimpleType("unsigned short")
        XYZZY = configure.ConstantInteger("XYZZY")

    res = configure.configure(CConfig)
    assert issubclass(res["FILE"], ctypes.Structure)
    assert res == {"FILE": res["FILE"], "ushort": ctypes.c_ushort, "XYZZY": 42}


def test_ifdef():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            "/* a C comment */", "#define XYZZY 42", "typedef int foo;",
            "struct s {", "int i;", "double f;", "};"])
        s = configure.Struct("struct s", [("i", ctypes.c_int)], ifdef="XYZZY")
        z = configure.Struct("struct z", [("i", ctypes.c_int)], ifdef="FOOBAR")
        foo = configure.SimpleType("foo", ifdef="XYZZY")
        bar = configure.SimpleType("bar", ifdef="FOOBAR")

    res = configure.configure(CConfig)
    assert res["s"] is not None and ctypes.sizeof(res["s"]) == 16
    assert res["z"] is None
    assert res["foo"] is ctypes.c_int
    assert res["bar"] is None


def test_nested_structs():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines="""
            struct x { int foo; unsigned long bar; };
            struct y { char c; struct x x; };
            """.split("\n"))
        x = configure.Struct("struct x", [("bar", ctypes.c_short)])
        y = configure.Struct("struct y", [("x", x)])

    res = configure.configure(CConfig)
    c_x, c_y = res["x"], res["y"]
    assert issubclass(c_x, ctypes.Structure) and issubclass(c_y, ctypes.Structure)
    assert dict(c_y._fields_)["x"] is c_x
    assert dict(c_x._fields_)["bar"] is ctypes.c_ulong
    assert c_y.x.offset == ctypes.alignment(ctypes.c_ulong)


def test_array():
    dirent = configure.getstruct("struct dirent", DIRENT, [("d_name", ctypes.c_char * 0)])
    assert dirent.d_name.size == 32
    assert dict(dirent._fields_)["d_name"] is ctypes.c_char * 32


def test_has():
    assert configure.has("x", "int x = 3;")
    assert not configure.has("x", "")
    assert not configure.has("x", "#include <some/path/which/cannot/exist>")


def test_check_eci():
    assert configure.check_eci(ExternalCompilationInfo())
    assert not configure.check_eci(ExternalCompilationInfo(
        libraries=["some_name_that_doesnt_exist_"]))
    assert configure.check_eci(ExternalCompilationInfo(libraries=["m"]))


def test_sizeof():
    assert configure.sizeof("char", ExternalCompilationInfo()) == 1
    assert configure.sizeof("struct tm", ExternalCompilationInfo(includes=["time.h"])) > 0


def test_memory_alignment():
    a = configure.memory_alignment()
    assert a % struct.calcsize("P") == 0


def test_defined_constants():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            '#define NAME "hello" " world"', "#define NUM (-5)"])
        name = configure.DefinedConstantString("NAME")
        nothing = configure.DefinedConstantString("NOTHING_HERE")
        num = configure.DefinedConstantInteger("NUM")
        nonum = configure.DefinedConstantInteger("NO_NUM_HERE")

    res = configure.configure(CConfig)
    assert res == {"name": "hello world", "nothing": None, "num": -5, "nonum": None}


def test_library():
    class CConfig:
        libm = configure.Library("m")

    res = configure.configure(CConfig)
    assert isinstance(res["libm"], ctypes.CDLL)
    res["libm"].cos.restype = ctypes.c_double
    res["libm"].cos.argtypes = [ctypes.c_double]
    assert res["libm"].cos(0.0) == 1.0


def test_eci_merge_and_equality():
    a = ExternalCompilationInfo(includes=["a.h"], libraries=["m"])
    b = ExternalCompilationInfo(includes=["b.h", "a.h"], pre_include_lines=["#define X"])
    m = a.merge(b)
    assert m.includes == ("a.h", "b.h")
    assert m.libraries == ("m",)
    assert m.pre_include_lines == ("#define X",)
    assert m == a.merge(b) and hash(m) == hash(a.merge(b))
    assert "#include <a.h>" in m.c_header()


def test_ctypes_module_argument():
    """Result types are built with the ctypes module given."""
    class Fake:
        pass

    fake = Fake()
    for name in dir(ctypes):
        setattr(fake, name, getattr(ctypes, name))
    made = []

    class Base(ctypes.Structure):
        def __init_subclass__(cls, **kw):
            made.append(cls)
            super().__init_subclass__(**kw)

    fake.Structure = Base
    tm = configure.getstruct("struct tm", "#include <time.h>", [("tm_sec", ctypes.c_int)],
                             ctypes_module=fake)
    assert issubclass(tm, Base) and tm in made


def test_union_item():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            "union u { int i; double d; char b[12]; };"])
        u = configure.Union("union u", [("i", ctypes.c_int), ("d", ctypes.c_float),
                                        ("b", ctypes.c_char * 0)])

    u = configure.configure(CConfig)["u"]
    assert issubclass(u, ctypes.Union)
    assert ctypes.sizeof(u) == 16 and ctypes.alignment(u) == 8
    assert dict(u._fields_)["d"] is ctypes.c_double
    assert dict(u._fields_)["b"] is ctypes.c_char * 12
