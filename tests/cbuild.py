"""C test libraries compiled with the system compiler (CC, default gcc), once.

    path = shared_library(SOURCE_TEXT, "libp")                   # C source as text
    path = shared_library(pathlib.Path(c_file), "libfuncs", libs=["-lpthread"])

The library is kept in a cache directory, keyed on the source, the compiler
(its path and its --version) and the flags, so that a library is compiled
once per source and compiler, not once per session or per test.  The cache is
$PYCTYPES_TEST_CACHE, or else $XDG_CACHE_HOME/pyctypes/clib (~/.cache/...).
A missing compiler or a failed compilation fails the test that asked, with
the compiler's output.  Every module under tests/ can ``import cbuild``.
"""

import functools
import hashlib
import os
import shutil
import subprocess

import pytest

DEFAULT_FLAGS = ("-O1", "-Wall")


def cache_dir():
    root = os.environ.get("PYCTYPES_TEST_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "pyctypes", "clib")
    return root


@functools.lru_cache(maxsize=None)
def compiler(cc=None):
    """(path, version text) of the C compiler; fails the test if there is none."""
    cc = cc or os.environ.get("CC", "gcc")
    path = shutil.which(cc)
    if path is None:
        pytest.fail(f"these tests need a C compiler: {cc!r} was not found (install gcc, "
                    "or set CC)", pytrace=False)
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return path, version


def shared_library(source, name, *, flags=DEFAULT_FLAGS, libs=()):
    """Path of `source` (C text, or a path-like naming a .c file) compiled with
    ``cc -shared -fPIC <flags> -o <name>.so <source> <libs>``, from the cache
    when the same source was compiled by the same compiler with the same flags."""
    if isinstance(source, os.PathLike):
        with open(source, "rb") as f:
            text = f.read()
    else:
        text = source.encode()
    cc, version = compiler()
    key = hashlib.sha256(repr((cc, version, tuple(flags), tuple(libs))).encode() + b"\0" + text)
    directory = os.path.join(cache_dir(), key.hexdigest()[:24])
    target = os.path.join(directory, name + ".so")
    if os.path.exists(target):
        return target
    os.makedirs(directory, exist_ok=True)
    c_file = os.path.join(directory, name + ".c")
    staging = f"{target}.tmp{os.getpid()}"
    with open(c_file + f".tmp{os.getpid()}", "wb") as f:
        f.write(text)
    os.replace(c_file + f".tmp{os.getpid()}", c_file)
    cmd = [cc, "-shared", "-fPIC", *flags, "-o", staging, c_file, *libs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"compiling a C test library failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}",
                    pytrace=False)
    os.replace(staging, target)         # whole or not at all, for parallel sessions
    return target
