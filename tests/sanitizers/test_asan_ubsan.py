"""The test suite against _rawffi built with AddressSanitizer and UBSan.

Builds the extension from src/native with -DPYCTYPES_SANITIZE=ON into a
temporary directory, lays it over a copy of the pyctypes package, and runs the
native and Python-level tests in a subprocess with libasan (and libstdc++, which
python3 does not link: ASan must intercept C++ exceptions) preloaded.  Any
ASan report or UBSan runtime error fails the run (UBSan is built with
-fno-sanitize-recover, so it aborts).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import pyctypes

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Fast, memory-heavy modules: the whole native suite and the Python level's own.
SUITES = ["tests/native", "tests/test_primitive.py", "tests/test_array.py",
          "tests/test_pointer.py", "tests/test_structure.py", "tests/test_function.py",
          "tests/test_callback.py", "tests/test_library.py", "tests/test_fastpath_calls.py",
          "tests/test_fastpath_access.py", "tests/test_mro.py"]

pytestmark = pytest.mark.slow


def _tool(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def sanitized_package(tmp_path_factory):
    if not (ROOT / "src" / "native").is_dir():
        pytest.fail("the sanitizer run needs the source tree (src/native)", pytrace=False)
    build = tmp_path_factory.mktemp("asan-build")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DPYCTYPES_SANITIZE=ON",
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DPython_EXECUTABLE={sys.executable}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    overlay = tmp_path_factory.mktemp("asan-site")
    package = pathlib.Path(pyctypes.__file__).parent
    shutil.copytree(package, overlay / "pyctypes",
                    ignore=shutil.ignore_patterns("_rawffi*.so", "__pycache__"))
    for so in build.glob("_rawffi*.so"):
        shutil.copy(so, overlay / "pyctypes")
    return overlay


def test_suite_under_asan_and_ubsan(sanitized_package):
    preload = " ".join([_tool(["gcc", "-print-file-name=libasan.so"]),
                        _tool(["g++", "-print-file-name=libstdc++.so"])])
    env = dict(os.environ, LD_PRELOAD=preload, PYTHONPATH=str(sanitized_package),
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1")
    env.pop("PYCTYPES_PURE", None)
    check = subprocess.run([sys.executable, "-c", "import pyctypes._rawffi as r; print(r.__file__)"],
                           env=env, capture_output=True, text=True, cwd=ROOT)
    assert check.stdout.strip().startswith(str(sanitized_package)), check.stderr
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:xdist",
                           "-p", "no:cacheprovider", *SUITES],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=1500)
    output = proc.stdout + proc.stderr
    reports = [line for line in output.splitlines()
               if "ERROR: AddressSanitizer" in line or "runtime error:" in line]
    assert not reports, "\n".join(reports[:20])
    assert proc.returncode == 0, output[-4000:]
    # pytest's summary line is the last line of stdout (stderr may hold warnings).
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
    print("under ASan+UBSan:", summary)
