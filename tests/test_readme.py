"""Every command of the README works as written, from a fresh clone.

Each ```sh block of the README is one of:
- an `apt-get install`: the same packages as a group of .ci/debian-packages,
  which .ci/run installs;
- the test command: .ci/run runs it, word for word;
- a pytest subset: collected here, in this environment;
- anything else: run here, in order, in one shell, in a fresh copy of the
  repository's files with no virtual environment active.
Then the wheel those commands built is installed in a new virtual environment
where no C compiler and no libffi headers can be found, and runs the main job.
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TEST_COMMAND = "pip install '.[test]' && python -m pytest -q"


def _sh_blocks(text=README):
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def _kind(block):
    if block.startswith("apt-get install "):
        return "apt"
    if block == TEST_COMMAND:
        return "test-command"
    if block.startswith("python -m pytest "):
        return "subset"
    return "run"


def _debian_groups():
    groups = {}
    for line in (ROOT / ".ci/debian-packages").read_text().splitlines():
        if line and not line.startswith("#"):
            name, packages = line.split(":", 1)
            groups[name] = packages.split()
    return groups


def test_apt_commands_name_what_ci_installs():
    apt = [b.split()[2:] for b in _sh_blocks() if _kind(b) == "apt"]
    assert apt == [_debian_groups()["build"], _debian_groups()["tests"]]
    ci = (ROOT / ".ci/run").read_text()
    assert "$(sed -n 's/^[a-z]*: //p' .ci/debian-packages)" in ci


def test_ci_runs_the_readme_test_command():
    assert [b for b in _sh_blocks() if _kind(b) == "test-command"] == [TEST_COMMAND]
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    # .ci/run makes and activates the README's virtual environment first.
    venv = next(b for b in _sh_blocks() if b.startswith("python3 -m venv")).splitlines()[0]
    assert ci_lines.index(venv) < ci_lines.index(TEST_COMMAND)


def _collected(args):
    proc = subprocess.run([sys.executable, "-m", "pytest", *args, "--collect-only",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_fast_subset_leaves_out_the_slow_suites():
    [subset] = [b for b in _sh_blocks() if _kind(b) == "subset"]
    args = shlex.split(subset)[3:]
    assert "-q" in args
    chosen = _collected(args)
    assert len(chosen) > 1000
    for slow in ("tests/conformance/test_cpython_suite.py", "tests/programs/test_programs.py",
                 "tests/sanitizers/", "tests/test_readme.py::test_readme_commands_"):
        assert not [t for t in chosen if t.startswith(slow)], slow
    assert [t for t in chosen if t.startswith("tests/test_info.py")]
    assert [t for t in chosen if t.startswith("tests/test_docs.py")]


def test_every_block_is_checked():
    kinds = [_kind(b) for b in _sh_blocks()]
    assert kinds.count("apt") == 2 and kinds.count("subset") == 1
    assert kinds.count("run") >= 3


def test_main_job_example_exists():
    main_job = next(b for b in _sh_blocks() if "pyctypes run" in b)
    script = re.search(r"pyctypes run (\S+)", main_job).group(1)
    assert (ROOT / script).is_file()


def test_docs_build_command():
    # the README's command, which tests/test_docs.py runs
    assert "`python -m mkdocs build --strict`" in README


# ---------------------------------------------------------------------------
# The commands themselves, in a fresh copy.

def fresh_copy(dest):
    """The repository's files as a clone has them (tracked and new, not ignored),
    with their content in the working tree."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, names):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def shell_environment():
    """This environment as a new shell would have it: no virtual environment
    active, no PYTHONPATH, no pyctypes setting."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("PYCTYPES_")}
    if sys.prefix != sys.base_prefix:       # leave this run's own venv off PATH
        own = os.path.join(sys.prefix, "bin")
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                      if os.path.realpath(p) != os.path.realpath(own))
    return env


def _run_shell(script, cwd, env, timeout=900):
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"$ {script}\n--- stdout\n{proc.stdout[-4000:]}\n"
                                  f"--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


# Inside a private mount namespace: no C compiler (GCC's cc1/cc1plus, headers)
# and none of libffi-dev's files, as on a machine without g++ and libffi-dev.
NO_BUILD_TOOLS = r"""
mount -t tmpfs none /usr/include
for d in /usr/lib/gcc /usr/libexec/gcc; do [ -d "$d" ] && mount -t tmpfs none "$d"; done
for f in $(dpkg -L libffi-dev 2>/dev/null); do
    [ -f "$f" ] && [ ! -L "$f" ] && mount --bind /dev/null "$f"
done
if echo 'int main(void) { return 0; }' | gcc -x c - -o /tmp/pyctypes-nocc 2>/dev/null; then
    echo "a C compiler still works" >&2; exit 1
fi
if echo 'int main(void) { return 0; }' | g++ -x c++ - -o /tmp/pyctypes-nocc 2>/dev/null; then
    echo "a C++ compiler still works" >&2; exit 1
fi
if pkg-config --exists libffi 2>/dev/null; then echo "libffi.pc still found" >&2; exit 1; fi
"""


@pytest.mark.slow
@pytest.mark.packaging
def test_readme_commands_from_a_fresh_clone(tmp_path):
    clone = fresh_copy(tmp_path / "clone")
    env = shell_environment()
    blocks = [b for b in _sh_blocks() if _kind(b) == "run"]
    out = _run_shell("\n".join(blocks), clone, env)

    # The main job ran on pyctypes, and said so; --version and info told what runs.
    assert "ctypes runs on pyctypes._ctypes" in out
    assert "qsort -> [-45, -7, 0, 5, 12, 12, 33, 99]" in out
    assert re.search(r"^pyctypes \d+\.\d+\.\d+ \(native mode\) on CPython 3\.\d+\.\d+, libffi ",
                     out, re.M)
    assert re.search(r"^stdlib ctypes\s+/\S+/ctypes$", out, re.M)

    # The wheel and sdist the README names.
    names = re.findall(r"`dist/(pyctypes-[^`]+)`", README)
    assert sorted(names) == sorted(p.name for p in (clone / "dist").iterdir())
    [wheel] = [clone / "dist" / n for n in names if n.endswith(".whl")]

    # What auditwheel says the wheel needs, as the README says it.
    audit = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)],
                           capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stderr
    text = " ".join(audit.stdout.split())
    tag = re.search(r'consistent with the following platform tag: "([^"]+)"', text).group(1)
    assert wheel.name.endswith(f"-{tag}.whl")
    assert f"platform tag `{tag}` only" in README
    glibc = re.search(r'constrains the platform tag to "manylinux_(\d+)_(\d+)_', text)
    assert f"glibc {glibc.group(1)}.{glibc.group(2)}" in README
    external = set(re.findall(r"(lib[\w+-]+\.so\.\d+) with versions", text)) - {"libc.so.6", "libm.so.6"}
    assert external == {"libffi.so.8"}
    assert "`libffi.so.8`" in README

    # Installed where nothing can build it, it runs the main job.
    venv = tmp_path / "wheel-venv"
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = NO_BUILD_TOOLS + f"""
python3 -m venv {venv}
. {venv}/bin/activate
pip install -q --no-index {wheel}
cd {work}
python -m pyctypes run {clone}/examples/libc_tour.py
python -m pyctypes info
"""
    out = _run_shell(f"unshare -m --propagation private bash -euo pipefail -c {shlex.quote(script)}",
                     work, env)
    assert "ctypes runs on pyctypes._ctypes" in out
    assert re.search(rf"^native core\s+{re.escape(str(venv))}/lib/python3\.\d+/site-packages/"
                     r"pyctypes/_rawffi\S+\.so$", out, re.M)
