"""The tests of CPython's own multiprocessing suite that cover `multiprocessing.sharedctypes`.

CPython 3.11 builds `test.test_multiprocessing_fork`, `..._forkserver` and
`..._spawn` from `test._test_multiprocessing` with
`install_tests_in_module_dict(globals(), start_method)`; this module does the
same, with the start method taken from PYCTYPES_MP_START_METHOD, and keeps the
test classes and tests that use ctypes objects in shared memory.  It must be an
importable module (not `__main__`): spawn and forkserver children import it by
name to find the test classes whose methods they run.
"""

import os
import unittest

import test._test_multiprocessing as _mp_tests

START_METHOD = os.environ.get("PYCTYPES_MP_START_METHOD", "spawn")

# Base class of test._test_multiprocessing -> tests kept (None: all of them).
SELECTED = {
    "_TestValue": None,           # Value, RawValue, get_obj/get_lock, shared across processes
    "_TestArray": None,           # Array, RawArray, slices, get_obj/get_lock
    "_TestSharedCTypes": None,    # Value/Array of c_double, c_longlong, a Structure; synchronized; copy
    "_TestCondition": ("test_waitfor", "test_waitfor_timeout"),     # shared Value as the state
    "_TestImportStar": None,      # multiprocessing.sharedctypes imports on this _ctypes
}

_all = {"__name__": __name__}
_mp_tests.install_tests_in_module_dict(_all, START_METHOD)


def _base_of(cls):
    for base in cls.__mro__:
        if base.__name__ in SELECTED:
            return base.__name__
    return None


TEST_CLASSES = {}
for _name, _value in _all.items():
    if isinstance(_value, type) and issubclass(_value, unittest.TestCase) and _base_of(_value):
        TEST_CLASSES[_name] = _value
        globals()[_name] = _value

setUpModule = _all["setUpModule"]
tearDownModule = _all["tearDownModule"]


def load_tests(loader, standard_tests, pattern):
    suite = unittest.TestSuite()
    for name, cls in sorted(TEST_CLASSES.items()):
        tests = SELECTED[_base_of(cls)]
        names = tests if tests is not None else loader.getTestCaseNames(cls)
        suite.addTests(cls(test) for test in names)
    return suite
