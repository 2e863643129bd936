"""Fixtures shared by the _ctypes-level tests: the C test library of
tests/clib/ compiled once per session, and CPython's own _ctypes_test
extension (which CPython's ctypes tests load with CDLL)."""

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def clib_path(tmp_path_factory):
    """Path of tests/clib/funcs.c compiled as a shared library."""
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        pytest.fail(f"these tests need a C compiler: {cc!r} was not found (install gcc, "
                    "or set CC)", pytrace=False)
    out = tmp_path_factory.mktemp("clib") / "libfuncs.so"
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(out),
           os.path.join(HERE, "clib", "funcs.c"), "-lpthread"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"compiling the C test library failed: {' '.join(cmd)}\n{proc.stderr}",
                    pytrace=False)
    return str(out)


@pytest.fixture(scope="session")
def ctypes_test_path():
    """CPython's _ctypes_test extension module, loadable with CDLL."""
    import _ctypes_test
    return _ctypes_test.__file__
