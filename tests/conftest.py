"""Fixtures shared by the _ctypes-level tests: the C test library of
tests/clib/ (compiled once, see cbuild.py), and CPython's own _ctypes_test
extension (which CPython's ctypes tests load with CDLL).

The helper modules beside this file, importable from every test module
(pytest puts this directory on sys.path):
  diffhelp.py  differential tests: outcome(), same(), the normalisers, run_script()
  cbuild.py    C test libraries compiled once per source and compiler
  suiterun.py  the shared half of conformance/runner.py and programs/harness.py
"""

import pathlib

import pytest

import cbuild

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def clib_path():
    """Path of tests/clib/funcs.c compiled as a shared library."""
    return cbuild.shared_library(HERE / "clib" / "funcs.c", "libfuncs", libs=["-lpthread"])


@pytest.fixture(scope="session")
def ctypes_test_path():
    """CPython's _ctypes_test extension module, loadable with CDLL."""
    import _ctypes_test
    return _ctypes_test.__file__
