"""dlopen / dlsym / dlclose and the RTLD_* constants."""

import os
import pathlib

import pytest

from pyctypes import _rawffi as R


def test_constants():
    assert (R.RTLD_LOCAL, R.RTLD_GLOBAL, R.RTLD_NOW, R.RTLD_LAZY) == \
        (os.RTLD_LOCAL, os.RTLD_GLOBAL, os.RTLD_NOW, os.RTLD_LAZY)


def test_open_process_and_find_symbol():
    h = R.dlopen(None, R.RTLD_NOW)
    assert isinstance(h, int) and h != 0
    assert R.dlsym(h, "strlen") != 0
    assert R.dlsym(h, "PyLong_FromLong") != 0


def test_open_testlib(testlib_path, sym):
    h = R.dlopen(testlib_path, R.RTLD_LAZY | R.RTLD_GLOBAL)
    # dlopen of a loaded library gives the same handle and the same symbols
    assert R.dlsym(h, "t_int") == sym("t_int")
    R.dlclose(h)
    assert sym("t_int") != 0


def test_open_path_like_and_bytes(testlib_path):
    for name in (pathlib.Path(testlib_path), os.fsencode(testlib_path)):
        h = R.dlopen(name, R.RTLD_NOW)
        assert R.dlsym(h, "t_int") != 0
        R.dlclose(h)


def test_open_missing_library():
    with pytest.raises(OSError) as e:
        R.dlopen("/nonexistent/libnothing.so", R.RTLD_NOW)
    assert str(e.value) == \
        "/nonexistent/libnothing.so: cannot open shared object file: No such file or directory"


def test_open_not_a_library(tmp_path):
    p = tmp_path / "junk.so"
    p.write_bytes(b"this is not ELF" * 10)
    with pytest.raises(OSError, match=r"junk\.so: (invalid ELF header|file too short)"):
        R.dlopen(str(p), R.RTLD_NOW)


def test_missing_symbol(testlib, testlib_path):
    with pytest.raises(OSError) as e:
        R.dlsym(testlib, "no_such_function")
    assert str(e.value) == f"{testlib_path}: undefined symbol: no_such_function"


def test_symbol_whose_value_is_null(testlib):
    # an absolute symbol defined as 0: NULL, but dlerror() says nothing, so no error
    assert R.dlsym(testlib, "t_null_symbol") == 0


def test_dlerror_cleared_before_dlsym(testlib):
    with pytest.raises(OSError):
        R.dlsym(testlib, "no_such_function")
    # a stale error from the failure above must not leak into this lookup
    assert R.dlsym(testlib, "t_null_symbol") == 0


def test_argument_errors(testlib):
    with pytest.raises(TypeError):
        R.dlopen(5, R.RTLD_NOW)
    with pytest.raises(TypeError):
        R.dlopen(None)
    with pytest.raises(TypeError):
        R.dlsym(testlib, b"t_int")
    with pytest.raises(TypeError):
        R.dlsym("x", "t_int")
    with pytest.raises(TypeError):
        R.dlclose("x")
    with pytest.raises(ValueError):
        R.dlopen("a\0b", R.RTLD_NOW)
