"""The binding of the stdlib `ctypes` package to pyctypes (pyctypes._binding, pyctypes.__main__).

* process-wide: `python -m pyctypes run script.py` and `python -m pyctypes -m module`
  make `import ctypes` run on pyctypes' `_ctypes`, and otherwise run the program
  exactly as plain `python script.py` / `python -m module` do (sys.argv,
  __main__, exit status, traceback) -- checked against plain python;
* side by side: `from pyctypes import ctypes` is a separate copy of the
  package tree on pyctypes while plain `import ctypes` stays CPython's;
* `pyctypes.install()`: before `import ctypes` only.

Every case runs in a fresh interpreter, so what this process imported does not matter.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import pytest

import pyctypes

# The sys.path entry of the pyctypes under test (installed, or src/ of a checkout):
# child processes must run that one.
PYCTYPES_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(pyctypes.__file__)))



def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PYCTYPES_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for name in ("PYTHONSTARTUP", "PYCTYPES_INSTALL"):     # plain python stays plain
        env.pop(name, None)
    return env


def python(*args, cwd=None, timeout=60):
    """Run the interpreter; return (returncode, stdout, stderr)."""
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def pyctypes(*args, cwd=None):
    return python("-m", "pyctypes", *args, cwd=cwd)


def run_code(code, cwd=None):
    """Run `code` with `python -c`; fail the test with its stderr if it fails."""
    rc, out, err = python("-c", textwrap.dedent(code), cwd=cwd)
    assert rc == 0, err
    return out


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# What a program can see of how it was started.
FACTS = """
    import json, sys, __main__
    print(json.dumps({
        "argv": sys.argv,
        "name": __name__,
        "file": __file__,
        "package": __package__,
        "spec": None if __spec__ is None else __spec__.name,
        "loader": type(__loader__).__name__,
        "path0": sys.path[0],
        "main_is_this_module": vars(__main__) is globals(),
        "builtins_is_module": __builtins__ is __import__("builtins"),
        "main_has_ctypes": "ctypes" in sys.modules,
    }))
"""


@pytest.fixture
def program(tmp_path):
    """A directory with a script, a package with a module and a runnable package."""
    write(tmp_path / "script.py", FACTS)
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "mod.py", FACTS)
    write(tmp_path / "pkg" / "__main__.py", FACTS)
    with zipfile.ZipFile(tmp_path / "app.pyz", "w") as archive:
        archive.writestr("__main__.py", textwrap.dedent(FACTS))
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "link.py").symlink_to(tmp_path / "script.py")
    return tmp_path


# -- python -m pyctypes run / -m: ctypes is pyctypes' --------------------------------

BOUND = """
    import sys
    print(sys.modules["_ctypes"].__name__)      # bound before anything imports ctypes
    import ctypes, _ctypes
    print(sys.modules["_ctypes"].__name__, _ctypes.__name__)
    print(ctypes._SimpleCData is sys.modules["pyctypes._ctypes"]._SimpleCData)
    print(ctypes.c_int.__mro__[1].__module__, ctypes.sizeof(ctypes.c_int(7)), ctypes.c_int(7).value)
"""
BOUND_OUTPUT = "pyctypes._ctypes\npyctypes._ctypes pyctypes._ctypes\nTrue\n_ctypes 4 7\n"


def test_run_script_binds_ctypes_to_pyctypes(tmp_path):
    write(tmp_path / "bound.py", BOUND)
    rc, out, err = pyctypes("run", "bound.py", cwd=tmp_path)
    assert (rc, err) == (0, "")
    assert out == BOUND_OUTPUT


def test_run_module_binds_ctypes_to_pyctypes(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "bound.py", BOUND)
    rc, out, err = pyctypes("-m", "pkg.bound", cwd=tmp_path)
    assert (rc, err) == (0, "")
    assert out == BOUND_OUTPUT


def test_binding_comes_before_the_program_and_imports_nothing(tmp_path):
    # `_ctypes` is pyctypes' from the start, and the stdlib ctypes is not preloaded.
    write(tmp_path / "early.py", """
        import sys
        print(sys.modules["_ctypes"].__name__, "ctypes" in sys.modules)
        import os, pyctypes
        print(pyctypes.installed(), os.environ.get("PYCTYPES_INSTALL"))   # children bind too
    """)
    assert pyctypes("run", "early.py", cwd=tmp_path) == (0, "pyctypes._ctypes False\nTrue 1\n", "")


# -- python -m pyctypes run / -m: the program runs as under plain python ------------

@pytest.mark.parametrize("plain, wrapped", [
    (["script.py", "a", "-b"], ["run", "script.py", "a", "-b"]),
    (["./script.py"], ["run", "./script.py"]),
    (["{dir}/script.py", "x"], ["run", "{dir}/script.py", "x"]),
    (["-m", "pkg.mod", "a", "-m"], ["-m", "pkg.mod", "a", "-m"]),
    (["-m", "pkg"], ["-m", "pkg"]),
    (["pkg"], ["run", "pkg"]),
    (["app.pyz", "z"], ["run", "app.pyz", "z"]),
    (["links/link.py"], ["run", "links/link.py"]),
], ids=["script", "dot-script", "absolute-script", "module", "package", "directory", "zip",
        "symlink"])
def test_program_sees_what_plain_python_gives(program, plain, wrapped):
    plain = [a.format(dir=program) for a in plain]
    wrapped = [a.format(dir=program) for a in wrapped]
    rc, out, err = python(*plain, cwd=program)
    assert (rc, err) == (0, "")
    rc2, out2, err2 = pyctypes(*wrapped, cwd=program)
    assert (rc2, err2) == (0, "")
    expected, got = json.loads(out), json.loads(out2)
    assert got == expected


EXITS = {
    "normal": "print('done')",
    "exit-0": "import sys; sys.exit(0)",
    "exit-none": "import sys; sys.exit()",
    "exit-3": "import sys; print('out'); sys.exit(3)",
    "exit-message": "import sys; sys.exit('fatal: no luck')",
    "raise": """
        def inner():
            raise ValueError("boom")
        def outer():
            inner()
        outer()
    """,
    "chained": """
        try:
            {}["key"]
        except KeyError as exc:
            raise RuntimeError("while looking up") from exc
    """,
    "context": """
        try:
            1 / 0
        except ZeroDivisionError:
            undefined_name
    """,
    "syntax-error": "def f(:\n    pass\n",
    "excepthook": """
        import sys
        sys.excepthook = lambda t, v, tb: print("hooked", t.__name__, v, file=sys.stderr)
        raise KeyError("k")
    """,
    "atexit": """
        import atexit
        atexit.register(print, "at exit")
        raise SystemExit(5)
    """,
}


@pytest.mark.parametrize("how", ["script", "module"])
@pytest.mark.parametrize("case", list(EXITS))
def test_exit_status_and_traceback_as_plain_python(tmp_path, case, how):
    write(tmp_path / "prog" / "__init__.py", "")
    write(tmp_path / "prog" / "main.py", EXITS[case])
    if how == "script":
        plain, wrapped = ["prog/main.py"], ["run", "prog/main.py"]
    else:
        plain, wrapped = ["-m", "prog.main"], ["-m", "prog.main"]
    assert pyctypes(*wrapped, cwd=tmp_path) == python(*plain, cwd=tmp_path)


def test_traceback_shape(tmp_path):
    # Only the program's frames (and, for -m, runpy's two, as plain python shows).
    write(tmp_path / "prog" / "__init__.py", "")
    write(tmp_path / "prog" / "main.py", EXITS["raise"])
    rc, _, err = pyctypes("run", "prog/main.py", cwd=tmp_path)
    path = os.path.join(str(tmp_path), "prog", "main.py")
    assert rc == 1
    assert [line for line in err.splitlines() if line.startswith("  File")] == [
        f'  File "{path}", line 6, in <module>',
        f'  File "{path}", line 5, in outer',
        f'  File "{path}", line 3, in inner']
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("ValueError: boom\n")
    rc, _, err = pyctypes("-m", "prog.main", cwd=tmp_path)
    files = [line.split(",")[0] for line in err.splitlines() if line.startswith("  File")]
    assert files == ['  File "<frozen runpy>"'] * 2 + [f'  File "{path}"'] * 3
    assert "pyctypes" not in err


def test_missing_script_and_module_as_plain_python(tmp_path):
    assert pyctypes("run", "missing.py", cwd=tmp_path) == python("missing.py", cwd=tmp_path)
    (tmp_path / "empty").mkdir()
    assert pyctypes("run", "empty", cwd=tmp_path) == python("empty", cwd=tmp_path)
    assert pyctypes("-m", "missing_mod", cwd=tmp_path) == python("-m", "missing_mod", cwd=tmp_path)


def test_keyboard_interrupt_ends_by_sigint(tmp_path):
    write(tmp_path / "kbd.py", "raise KeyboardInterrupt")
    rc, out, err = pyctypes("run", "kbd.py", cwd=tmp_path)
    assert (rc, out, err) == python("kbd.py", cwd=tmp_path)
    assert rc == -signal.SIGINT
    assert err.endswith("KeyboardInterrupt\n")


def test_stdin_and_pickling_of_main_classes(tmp_path):
    # Classes of the program live in a real __main__ module: pickle finds them.
    write(tmp_path / "pick.py", """
        import pickle, sys
        class Point:
            def __init__(self, x):
                self.x = x
        p = pickle.loads(pickle.dumps(Point(3)))
        print(type(p) is Point, p.x, sys.stdin.read().strip())
    """)
    proc = subprocess.run([sys.executable, "-m", "pyctypes", "run", "pick.py"], cwd=tmp_path,
                          env=_env(), input="from stdin", capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True 3 from stdin\n", "")


def test_usage():
    rc, out, err = pyctypes()
    assert rc == 2 and "python -m pyctypes run [options] script.py" in out
    rc, out, err = pyctypes("--help")
    assert rc == 0 and "[options] -m module" in out and "python -m pyctypes --version" in out
    rc, out, err = pyctypes("bogus")
    assert rc == 2 and "usage" not in out and "python -m pyctypes run" in err


# -- side by side: from pyctypes import ctypes ------------------------------------------

def test_side_by_side_leaves_plain_ctypes_alone():
    out = run_code("""
        import sys
        from pyctypes import ctypes as P
        # Loading the copy imports neither the stdlib ctypes nor CPython's _ctypes.
        print("ctypes" in sys.modules, "_ctypes" in sys.modules)
        import ctypes as C
        print(P is not C, P.c_int is not C.c_int, P.Structure is not C.Structure)
        print(sys.modules["_ctypes"].__name__, C._SimpleCData.__module__)
        print(P._SimpleCData is sys.modules["pyctypes._ctypes"]._SimpleCData)
        print(sys.modules["pyctypes.ctypes"] is P, sys.modules["ctypes"] is C)
        print(isinstance(P.c_int(1), C._SimpleCData), isinstance(C.c_int(1), P._SimpleCData))
        print(P.c_int(5).value, C.c_int(5).value)
    """)
    assert out.splitlines() == ["False False", "True True True", "_ctypes _ctypes", "True",
                                "True True", "False False", "5 5"]


def test_side_by_side_after_plain_ctypes():
    out = run_code("""
        import sys
        import ctypes as C, ctypes.util
        cpython = sys.modules["_ctypes"]
        from pyctypes import ctypes as P
        print(sys.modules["_ctypes"] is cpython, sys.modules["ctypes"] is C)
        print(P.c_int is not C.c_int, C.c_int.__mro__[1] is cpython._SimpleCData)
        print(type(P.c_int) is not type(C.c_int), C.util is not P.util)
        from pyctypes import ctypes as again
        print(again is P)
    """)
    assert out.splitlines() == ["True True", "True True", "True True", "True"]


def test_side_by_side_submodules():
    out = run_code("""
        import sys
        import ctypes as C, ctypes.util, ctypes.wintypes, ctypes._endian
        from pyctypes import ctypes as P
        for name in ("util", "_endian", "wintypes"):
            module = getattr(P, name)
            print(name, module is sys.modules["pyctypes.ctypes." + name],
                  module is not getattr(C, name))
        print(P.util.find_library("c") == C.util.find_library("c"))
        print(P.wintypes.DWORD is P.c_ulong, C.wintypes.DWORD is C.c_ulong)
        print(P._endian.BigEndianStructure.__mro__[1] is P.Structure)
        print(P.BigEndianStructure is P._endian.BigEndianStructure)
    """)
    assert out.splitlines() == ["util True True", "_endian True True", "wintypes True True",
                                "True", "True True", "True", "True"]


# -- pyctypes.install() -------------------------------------------------------------------

def test_install_after_import_ctypes_raises():
    out = run_code("""
        import sys
        import ctypes
        import pyctypes
        try:
            pyctypes.install()
        except RuntimeError as exc:
            print("RuntimeError", "python -m pyctypes run" in str(exc))
        print(sys.modules["_ctypes"].__name__, pyctypes.installed())
    """)
    assert out.splitlines() == ["RuntimeError True", "_ctypes False"]


def test_install_before_import_ctypes():
    out = run_code("""
        import sys
        import pyctypes
        print(pyctypes.installed())
        pyctypes.install()
        pyctypes.install()      # a second call changes nothing
        import ctypes
        print(pyctypes.installed(), sys.modules["_ctypes"].__name__)
        print(ctypes._SimpleCData is sys.modules["pyctypes._ctypes"]._SimpleCData)
    """)
    assert out.splitlines() == ["False", "True pyctypes._ctypes", "True"]


def test_side_by_side_once_installed_is_the_plain_package():
    out = run_code("""
        import pyctypes
        pyctypes.install()
        import ctypes
        from pyctypes import ctypes as P
        print(P is ctypes, P.util is ctypes.util)
    """)
    assert out.splitlines() == ["True True"]


def test_side_by_side_load_error_is_not_masked():
    # `from X import Y` turns an AttributeError from X.__getattr__ into
    # "cannot import name": the binding keeps the real error visible.
    out = run_code("""
        import builtins, sys
        real_import = builtins.__import__
        def failing_import(name, *args, **kwargs):
            if name == "ctypes.wintypes":
                raise AttributeError("broken while loading")
            return real_import(name, *args, **kwargs)
        builtins.__import__ = failing_import
        try:
            from pyctypes import ctypes
        except ImportError as exc:
            print(type(exc.__cause__).__name__, exc.__cause__)
            print("broken while loading" in str(exc))
        print(sorted(n for n in sys.modules if "ctypes" in n and not n.startswith("pyctypes")))
    """)
    assert out.splitlines() == ["AttributeError broken while loading", "True", "[]"]
