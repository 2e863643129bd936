"""Child processes of a program on pyctypes run on pyctypes too.

`pyctypes.install()` (so `python -m pyctypes run/-m`) sets PYCTYPES_INSTALL=1;
the `pyctypes-autoinstall.pth` file that the wheel installs at the root of
site-packages binds every interpreter started with that variable.  That covers
multiprocessing's spawn and forkserver children, which are fresh interpreters;
fork children are copies of their parent and are bound already.

The mechanism is tested from the sources: an overlay venv (no pip, the system
site-packages visible) holds the repository's .pth file, and pyctypes comes
from src/ on PYTHONPATH.  That the wheel puts the .pth where site finds it is
checked on the installed distribution when this repository is installed, else
on a wheel built here.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import pytest

import pyctypes

# The sys.path entry of the pyctypes under test (installed, or src/ of a checkout):
# child processes must run that one.
PYCTYPES_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(pyctypes.__file__)))

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(TOP, "src")
PTH_NAME = "pyctypes-autoinstall.pth"
PTH_SOURCE = os.path.join(SRC, PTH_NAME)


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory):
    """An interpreter whose site-packages holds the repository's .pth file."""
    home = tmp_path_factory.mktemp("overlay-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(home)], check=True)
    python = str(home / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    shutil.copy(PTH_SOURCE, os.path.join(purelib, PTH_NAME))
    return python


def _env(**extra):
    env = dict(os.environ)
    for name in ("PYCTYPES_INSTALL", "PYCTYPES_PURE", "PYTHONSTARTUP"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([PYCTYPES_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


def _run(python, args, cwd, timeout=120, **env):
    proc = subprocess.run([python, *args], cwd=cwd, env=_env(**env), capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# The parent shares ctypes objects with a child of each start method; the
# child reports which _ctypes it runs on and changes the shared values.
SHARED_PROGRAM = """
    import json, multiprocessing, sys
    from ctypes import Structure, c_double, c_int

    class Point(Structure):
        _fields_ = [("x", c_int), ("y", c_double)]

    def child(value, array, point, raw, queue):
        try:
            import _ctypes, ctypes
            with value.get_lock():
                value.value += 41
            for i in range(len(array)):
                array[i] = array[i] * 2
            point.x, point.y = int(point.y), float(point.x)
            raw.value = b"child"
            queue.put({"_ctypes": _ctypes.__name__,
                       # the shared objects were rebuilt on the child's _ctypes
                       "objects": [isinstance(value.get_obj(), ctypes.c_int),
                                   type(array.get_obj())._type_ is ctypes.c_double,
                                   isinstance(point.get_obj(), _ctypes.Structure),
                                   isinstance(raw, _ctypes.Array)],
                       "env": __import__("os").environ.get("PYCTYPES_INSTALL")})
        except BaseException as exc:
            queue.put({"error": repr(exc)})

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        value = ctx.Value("i", 1)
        array = ctx.Array(c_double, [0.5, 1.5, 2.5])
        point = ctx.Value(Point, 7, 3.0)
        raw = ctx.RawArray("c", 8)
        queue = ctx.Queue()
        proc = ctx.Process(target=child, args=(value, array, point, raw, queue))
        proc.start()
        seen = queue.get(timeout=60)
        proc.join(60)
        import _ctypes
        print(json.dumps({"child": seen, "parent": _ctypes.__name__,
                          "exitcode": proc.exitcode, "value": value.value,
                          "array": list(array), "point": [point.x, point.y],
                          "raw": raw.value.decode()}))
"""


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_multiprocessing_child_runs_on_pyctypes(venv_python, tmp_path, method):
    script = tmp_path / "shared.py"
    script.write_text(textwrap.dedent(SHARED_PROGRAM))
    out = _run(venv_python, ["-m", "pyctypes", "run", str(script), method], cwd=tmp_path)
    result = json.loads(out.splitlines()[-1])
    assert result == {
        "child": {"_ctypes": "pyctypes._ctypes", "objects": [True] * 4, "env": "1"},
        "parent": "pyctypes._ctypes", "exitcode": 0, "value": 42,
        "array": [1.0, 3.0, 5.0], "point": [3, 7.0], "raw": "child"}


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_multiprocessing_child_of_cpython_stays_on_cpython(venv_python, tmp_path, method):
    # Without pyctypes in the parent, nothing binds the children.
    script = tmp_path / "shared.py"
    script.write_text(textwrap.dedent(SHARED_PROGRAM))
    result = json.loads(_run(venv_python, [str(script), method], cwd=tmp_path).splitlines()[-1])
    assert result["parent"] == "_ctypes"
    assert result["child"] == {"_ctypes": "_ctypes", "objects": [True] * 4, "env": None}
    assert result["value"] == 42


PROBE = "import sys, ctypes; print(sys.modules['_ctypes'].__name__, 'pyctypes' in sys.modules)"


def test_variable_binds_a_fresh_interpreter(venv_python, tmp_path):
    assert _run(venv_python, ["-c", PROBE], tmp_path, PYCTYPES_INSTALL="1").split() == \
        ["pyctypes._ctypes", "True"]


def test_without_the_variable_nothing_is_imported(venv_python, tmp_path):
    # The .pth line costs one environment look-up: pyctypes is not even imported.
    out = _run(venv_python, ["-c", "import sys; print('pyctypes' in sys.modules)"], tmp_path)
    assert out.split() == ["False"]
    for value in ("0", "", "yes"):
        assert _run(venv_python, ["-c", PROBE], tmp_path, PYCTYPES_INSTALL=value).split() == \
            ["_ctypes", "False"]


def test_install_sets_the_variable_for_subprocesses(venv_python, tmp_path):
    code = textwrap.dedent(f"""
        import os, subprocess, sys
        assert 'PYCTYPES_INSTALL' not in os.environ
        import pyctypes
        pyctypes.install()
        print(os.environ['PYCTYPES_INSTALL'])
        sys.stdout.flush()
        subprocess.run([sys.executable, '-c', {PROBE!r}], check=True)
    """)
    assert _run(venv_python, ["-c", code], tmp_path).split() == ["1", "pyctypes._ctypes", "True"]


def test_a_failed_install_does_not_set_the_variable(venv_python, tmp_path):
    code = textwrap.dedent("""
        import os, ctypes, pyctypes
        try:
            pyctypes.install()
        except RuntimeError:
            print('refused', os.environ.get('PYCTYPES_INSTALL'))
    """)
    assert _run(venv_python, ["-c", code], tmp_path).split() == ["refused", "None"]


def test_pure_mode_reaches_the_children(venv_python, tmp_path):
    code = textwrap.dedent("""
        import multiprocessing, os
        def child(q):
            import _ctypes
            q.put((_ctypes.__name__, os.environ.get('PYCTYPES_PURE')))
        if __name__ == '__main__':
            ctx = multiprocessing.get_context('spawn')
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print(*q.get(timeout=60))
            p.join()
    """)
    script = tmp_path / "pure.py"
    script.write_text(code)
    out = _run(venv_python, ["-m", "pyctypes", "run", str(script)], tmp_path, PYCTYPES_PURE="1")
    assert out.split() == ["pyctypes._ctypes", "1"]


def test_pth_line_is_one_guarded_import():
    with open(PTH_SOURCE) as f:
        lines = f.read().splitlines()
    # site executes a .pth line only if it starts with "import"; one line, no side effects
    # unless the variable is set.
    assert len(lines) == 1 and lines[0].startswith("import ")
    assert "PYCTYPES_INSTALL" in lines[0] and "pyctypes._autoinstall" in lines[0]


def _installed_distribution():
    try:
        return importlib.metadata.distribution("pyctypes")
    except importlib.metadata.PackageNotFoundError:
        return None


def test_wheel_installs_the_pth_at_the_site_packages_root(tmp_path):
    dist = _installed_distribution()
    if dist is not None:
        files = {str(f): f for f in dist.files}
        assert PTH_NAME in files, f"the installed pyctypes has no {PTH_NAME}: reinstall it"
        installed = files[PTH_NAME].locate()
        assert os.path.dirname(installed) in (sysconfig.get_path("purelib"),
                                              sysconfig.get_path("platlib"))
        with open(installed) as a, open(PTH_SOURCE) as b:
            assert a.read() == b.read()
        return
    # Not installed: build the wheel (outside the repository's build directory).
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"),
           f"-Cbuild-dir={tmp_path / 'build'}", TOP]
    try:
        import scikit_build_core  # noqa: F401  (no isolated build environment needed)
        cmd.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    subprocess.run(cmd, check=True, timeout=600)
    (wheel,) = (tmp_path / "wheel").glob("pyctypes-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert PTH_NAME in names                      # at the root: platlib = site-packages
        assert "pyctypes/_autoinstall.py" in names
        assert zf.read(PTH_NAME).decode() == open(PTH_SOURCE).read()
