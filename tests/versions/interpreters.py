"""The other CPython versions pyctypes supports, for the tests that run pyctypes
on them (test_other_versions.py): where each interpreter is, and a venv per
version with pyctypes built and installed from this repository.

Interpreters are found, for each supported version other than the running
one, from (first match):

* PYCTYPES_PYTHON_3_12 / PYCTYPES_PYTHON_3_13 ... (a path to the interpreter);
* pyenv's: ``$(pyenv root)/versions/3.12.*/bin/python3`` (``PYENV_ROOT`` or
  ``~/.pyenv``), the highest patch release;
* ``python3.12`` ... on PATH.

A missing one is reported, never skipped silently: the tests of that version
skip with the reason, and the terminal summary names it on a line of its own.

The venv of a version lives under PYCTYPES_VERSIONS_CACHE (default
``~/.cache/pyctypes/versions``) in a directory named after the interpreter and
a hash of the sources that make pyctypes (src/, CMakeLists.txt,
pyproject.toml): it is built once per change of those (``pip install`` of the
repository plus pytest, hypothesis and numpy from PyPI) and reused after.
"""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("PYCTYPES_VERSIONS_CACHE") or os.path.join(
    os.path.expanduser("~"), ".cache", "pyctypes", "versions")
# What a venv needs besides pyctypes (the tests and the programs they run).
REQUIREMENTS = ("pytest>=7", "hypothesis>=6", "numpy>=1.26")
BUILD_TIMEOUT = 1200


def supported_versions():
    """The versions pyctypes supports (pyctypes.SUPPORTED_VERSIONS), read from
    the source without importing it: the running interpreter may not be one."""
    text = open(os.path.join(REPO, "src", "pyctypes", "__init__.py"), encoding="utf-8").read()
    found = re.search(r"SUPPORTED_VERSIONS = (\(.*?\))\n", text, re.S)
    return tuple(tuple(v) for v in eval(found.group(1), {}))      # noqa: S307 (a literal)


def other_versions():
    """The supported versions other than the running one, as "3.12" strings."""
    return ["%d.%d" % v for v in supported_versions() if v != sys.version_info[:2]]


def _version_key(path):
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", path)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


def find_interpreter(version):
    """(path, how it was found) of a CPython `version` ("3.12"), or (None, why not)."""
    variable = "PYCTYPES_PYTHON_" + version.replace(".", "_")
    given = os.environ.get(variable)
    if given:
        if os.access(given, os.X_OK):
            return given, variable
        return None, f"{variable}={given} is not an executable"
    root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    candidates = [p for p in glob.glob(os.path.join(root, "versions", version + ".*", "bin",
                                                    "python3"))
                  if re.search(r"/%s\.\d+/bin" % re.escape(version), p)]
    if candidates:
        return max(candidates, key=_version_key), "pyenv"
    on_path = shutil.which("python" + version)
    if on_path:
        return on_path, "PATH"
    return None, (f"no CPython {version} found ({variable}, pyenv's "
                  f"{root}/versions/{version}.*, python{version} on PATH)")


def _source_hash():
    digest = hashlib.sha256()
    paths = [os.path.join(REPO, "CMakeLists.txt"), os.path.join(REPO, "pyproject.toml")]
    for top, dirs, files in os.walk(os.path.join(REPO, "src")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths += [os.path.join(top, f) for f in sorted(files)
                  if not f.endswith((".so", ".pyc")) and ".so.tmp" not in f]
    for path in paths:
        digest.update(os.path.relpath(path, REPO).encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


class Venv:
    """A venv of one version with pyctypes installed, or the reason there is none."""

    def __init__(self, version):
        self.version = version
        self.python = None          # the venv's interpreter
        self.base = None            # the interpreter it was made from
        self.problem = None         # why there is no venv (a missing interpreter, a failed build)
        self.missing = False        # True when the interpreter itself is missing
        self.log = ""

    def env(self, **extra):
        """An environment for the venv's processes: nothing of this process's
        pyctypes (PYTHONPATH, PYCTYPES_*) leaks in."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
               and not k.startswith(("PYCTYPES_PURE", "PYCTYPES_INSTALL", "PYTEST_"))}
        env["PATH"] = os.path.dirname(self.python) + os.pathsep + env.get("PATH", "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(extra)
        return env


_lock = threading.Lock()
_venvs = {}


def venv(version):
    """The Venv of `version`, made (or found in the cache) on first use."""
    with _lock:
        if version not in _venvs:
            _venvs[version] = _make_venv(version)
        return _venvs[version]


def _run(command, log, **kwargs):
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, **kwargs)
    log.append("$ " + " ".join(command) + "\n" + proc.stdout[-4000:])
    return proc.returncode == 0


def _make_venv(version):
    result = Venv(version)
    base, how = find_interpreter(version)
    if base is None:
        result.problem, result.missing = how, True
        return result
    result.base = base
    which = hashlib.sha256(os.path.realpath(base).encode()).hexdigest()[:8]
    home = os.path.join(CACHE, "%s-%s-%s" % (version, which, _source_hash()))
    python = os.path.join(home, "bin", "python")
    marker = os.path.join(home, "pyctypes-ready")
    if os.path.exists(marker):
        result.python = python
        return result
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(CACHE, exist_ok=True)
    log = []
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    ok = (_run([base, "-m", "venv", home], log, env=env, timeout=300)
          and _run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], log, env=env,
                   timeout=BUILD_TIMEOUT)
          and _run([python, "-m", "pip", "install", "-q", REPO], log, env=env, cwd=home,
                   timeout=BUILD_TIMEOUT))
    result.log = "\n".join(log)
    if not ok:
        result.problem = f"building pyctypes for {version} ({base}) failed:\n{result.log[-3000:]}"
        return result
    with open(marker, "w") as f:
        f.write(base + "\n")
    _prune(home)
    result.python = python
    return result


def _prune(keep):
    """Remove the venvs of older sources of the same interpreter."""
    prefix = os.path.basename(keep).rsplit("-", 1)[0] + "-"
    for entry in os.listdir(CACHE):
        path = os.path.join(CACHE, entry)
        if entry.startswith(prefix) and path != keep:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    # One line per other supported version: where its interpreter is, or that it is missing.
    for _version in other_versions():
        _python, _how = find_interpreter(_version)
        if _python is None:
            print(f"CPython {_version}: MISSING, pyctypes will not be tested on it: {_how}")
        else:
            print(f"CPython {_version}: {_python} ({_how})")
