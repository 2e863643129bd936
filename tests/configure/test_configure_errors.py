"""An item that does not compile does not sink the others; errors name the
item, the headers and show the compiler's own message."""

import ctypes
import traceback

import pytest

from pyctypes import configure
from pyctypes.configure import (CompilerNotFound, ConfigureError, ConfigureErrors,
                                ExternalCompilationInfo, FieldNotFound, HeaderNotFound,
                                NameNotFound, TypeNotFound)
from pyctypes.configure import core

ECI = ExternalCompilationInfo(includes=["time.h", "stdio.h"])


def test_one_bad_struct_is_isolated(counting_cc):
    class CConfig:
        _compilation_info_ = ECI
        tm = configure.Struct("struct tm", [("tm_sec", ctypes.c_int)])
        bad = configure.Struct("struct no_such_struct", [("x", ctypes.c_int)])
        EOF_ = configure.ConstantInteger("EOF")

    with pytest.raises(TypeNotFound) as info:
        configure.configure(CConfig)
    err = info.value
    assert err.item == "bad"
    assert err.cname == "struct no_such_struct"
    assert err.headers == ("time.h", "stdio.h")
    assert "'bad'" in str(err) and "<time.h>" in str(err)
    assert "struct no_such_struct" in err.compiler_output
    assert "error:" in str(err)                     # the compiler's own message
    # the others answered
    assert err.results["EOF_"] == -1
    assert issubclass(err.results["tm"], ctypes.Structure)
    assert counting_cc() == 2                       # the probe, then without 'bad'


def test_missing_field_named():
    class CConfig:
        _compilation_info_ = ECI
        tm = configure.Struct("struct tm", [("tm_sec", ctypes.c_int),
                                            ("tm_no_such_field", ctypes.c_int)])
        size = configure.SizeOf("struct tm")

    with pytest.raises(FieldNotFound) as info:
        configure.configure(CConfig)
    assert info.value.field == "tm_no_such_field"
    assert info.value.item == "tm"
    assert "has no member named 'tm_no_such_field'" in str(info.value)
    assert info.value.results["size"] > 0


def test_undeclared_constant_and_errors_return():
    class CConfig:
        _compilation_info_ = ECI
        good = configure.ConstantInteger("BUFSIZ")
        nope = configure.ConstantInteger("NO_SUCH_CONSTANT_XYZ")
        typ = configure.SimpleType("no_such_type_t")
        has = configure.Has("NO_SUCH_THING")

    res = configure.configure(CConfig, errors="return")
    assert res["good"] > 0
    assert isinstance(res["nope"], NameNotFound)
    assert "NO_SUCH_CONSTANT_XYZ" in str(res["nope"])
    assert isinstance(res["typ"], TypeNotFound)
    assert res["has"] is False                      # Has answers False, not an error
    with pytest.raises(ConfigureErrors) as info:
        configure.configure(CConfig)
    assert set(info.value.errors) == {"nope", "typ"}
    assert info.value.results["good"] == res["good"]


def test_has_false_costs_no_second_run(counting_cc):
    class CConfig:
        _compilation_info_ = ECI
        a = configure.Has("printf")
        b = configure.Has("no_such_function_abc")
        c = configure.Has("also_missing_def")
        n = configure.ConstantInteger("BUFSIZ")
        t = configure.Struct("struct tm", [("tm_min", ctypes.c_int)])

    res = configure.configure(CConfig)
    assert (res["a"], res["b"], res["c"]) == (True, False, False)
    assert res["n"] > 0
    assert counting_cc() == 1


def test_missing_header():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["stdio.h", "no/such/header.h"])
        x = configure.ConstantInteger("EOF")
        h = configure.Has("printf")

    with pytest.raises(HeaderNotFound) as info:
        configure.configure(CConfig)
    err = info.value
    assert err.header == "no/such/header.h"
    assert err.item == "x"
    assert "no/such/header.h" in str(err) and "No such file or directory" in str(err)
    assert err.results == {"h": False}


def test_missing_compiler(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/bin/cc-that-is-not-there")
    monkeypatch.delenv("PYCTYPES_CC", raising=False)

    class CConfig:
        x = configure.ConstantInteger("1")

    with pytest.raises(CompilerNotFound) as info:
        configure.configure(CConfig)
    assert "cc-that-is-not-there" in str(info.value)
    assert "CC" in str(info.value)
    # no traceback from deep inside subprocess
    assert info.value.__cause__ is None
    text = "".join(traceback.format_exception(info.value))
    assert "subprocess.py" not in text


def test_missing_compiler_argument():
    class CConfig:
        x = configure.ConstantInteger("1")
    with pytest.raises(CompilerNotFound):
        configure.configure(CConfig, cc="no-such-compiler-xyz", cache=False)


def test_broken_compilation_info_blames_no_item_wrongly():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=["int broken(;"])
        x = configure.ConstantInteger("1")
        h = configure.Has("x")

    res = configure.configure(CConfig, errors="return", cache=False)
    assert isinstance(res["x"], ConfigureError)
    assert "does not compile" in str(res["x"])
    assert res["h"] is False


def test_error_in_macro_expansion_is_attributed():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            "#define BAD (undeclared_thing + 1)", "#define GOOD 5"])
        bad = configure.ConstantInteger("BAD")
        good = configure.ConstantInteger("GOOD")

    res = configure.configure(CConfig, errors="return")
    assert res["good"] == 5
    assert isinstance(res["bad"], NameNotFound)
    assert "undeclared_thing" in str(res["bad"])


def test_dependent_item_fails_with_its_dependency():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            "struct outer { int a; struct inner_missing *p; };"])
        inner = configure.Struct("struct inner_missing", [])
        outer = configure.Struct("struct outer", [("a", ctypes.c_int)])

    res = configure.configure(CConfig, errors="return")
    assert isinstance(res["inner"], TypeNotFound)
    assert "incomplete" in str(res["inner"])
    assert ctypes.sizeof(res["outer"]) == 16


def test_bitfield_found_without_hint(counting_cc):
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(post_include_lines=[
            "struct f { unsigned a : 3; int b : 5; };"])
        f = configure.Struct("struct f", [("a", ctypes.c_int), ("b", ctypes.c_int)])
        g = configure.Struct("struct f", [("a", ctypes.c_int, 3), ("b", ctypes.c_int, 5)])

    res = configure.configure(CConfig)
    for cls in (res["f"], res["g"]):
        s = cls()
        s.a, s.b = -1, -1
        assert (s.a, s.b) == (7, -1)
        assert bytes(s) == b"\xff\x00\x00\x00"
    assert counting_cc() == 2          # one more run to learn that 'f' has bit-fields
    assert core.last_run["executed"]   # bit-field signedness needs the program to run


def test_legacy_attributes_rejected():
    class CConfig:
        _includes_ = ["stdio.h"]
        x = configure.ConstantInteger("1")
    with pytest.raises(ConfigureError, match="legacy"):
        configure.configure(CConfig)


def test_link_errors_with_libraries():
    """With libraries, Has and Works link; an undefined symbol makes only its Has
    False, a missing library makes every linking item False."""
    class Linked:
        _compilation_info_ = ExternalCompilationInfo(
            includes=["math.h"], libraries=["m"],
            post_include_lines=["int undefined_fn_xyz(void);"])
        has_cos = configure.Has("cos")
        has_undefined = configure.Has("undefined_fn_xyz()")
        has_undeclared = configure.Has("nothing_declared_here")
        works = configure.Works()
        size = configure.SizeOf("double")

    res = configure.configure(Linked)
    assert res == {"has_cos": True, "has_undefined": False, "has_undeclared": False,
                   "works": True, "size": 8}

    class Missing:
        _compilation_info_ = ExternalCompilationInfo(includes=["math.h"],
                                                     libraries=["no_such_lib_qq"])
        has_cos = configure.Has("cos")
        works = configure.Works()
        size = configure.SizeOf("double")

    res = configure.configure(Missing)
    assert res == {"has_cos": False, "works": False, "size": 8}
