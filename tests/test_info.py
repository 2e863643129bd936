"""`python -m pyctypes --version` and `info` say what runs, and say it truly:
each fact is checked here against a source that does not go through pyctypes
(the interpreter's own ctypes, pkg-config, ldd)."""

import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import sys

import pytest

import pyctypes
from pyctypes import _rawffi


def _run(*args, pure=False):
    env = dict(os.environ)
    env.pop("PYCTYPES_PURE", None)
    if pure:
        env["PYCTYPES_PURE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "pyctypes", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("pure", [False, True])
def test_info_facts(pure):
    facts = json.loads(_run("info", "--json", pure=pure))
    assert facts["pyctypes"] == pyctypes.__version__
    assert facts["mode"].split(" ")[0] == ("PURE" if pure else "native")
    assert facts["interpreter"] == f"{platform.python_implementation()} {platform.python_version()}"
    assert facts["executable"] == sys.executable
    # The stdlib package bound is the interpreter's own, the one plain `import ctypes` gives.
    assert facts["stdlib ctypes"] == os.path.dirname(ctypes.__file__)
    assert facts["native core"] == _rawffi.__file__
    # What the dynamic loader maps for the native core, as ldd resolves it.
    ldd = subprocess.run(["ldd", _rawffi.__file__], capture_output=True, text=True, check=True).stdout
    mapped = re.search(r"^\s*libffi\S*\s+=>\s+(\S+)", ldd, re.M).group(1)
    loaded = facts["libffi loaded"].split(" -> ")
    assert os.path.realpath(loaded[0]) == os.path.realpath(mapped)
    assert loaded[-1] == os.path.realpath(mapped)


def test_libffi_build_version_is_pkg_configs():
    if shutil.which("pkg-config") is None:
        pytest.fail("pkg-config is needed to build pyctypes and to check this")
    expected = subprocess.run(["pkg-config", "--modversion", "libffi"], capture_output=True,
                              text=True, check=True).stdout.strip()
    assert _rawffi.libffi_build_version == expected
    assert json.loads(_run("info", "--json"))["libffi"].startswith(expected + " ")


def test_version_line():
    line = _run("--version").strip()
    assert "\n" not in line
    assert line.startswith(f"pyctypes {pyctypes.__version__} (native mode) on "
                           f"{platform.python_implementation()} {platform.python_version()}, "
                           f"libffi {_rawffi.libffi_build_version} (")
    assert line.endswith(f"stdlib ctypes {os.path.dirname(ctypes.__file__)}")
    assert "(PURE mode)" in _run("--version", pure=True)


def test_info_text_lists_the_facts():
    text = _run("info")
    for key in ("pyctypes", "mode", "libffi", "libffi loaded", "interpreter", "stdlib ctypes"):
        assert re.search(rf"^{re.escape(key)}\s{{2,}}\S", text, re.M), key
