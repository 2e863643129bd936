"""The documentation builds with no warning, and its examples run.

Every ```python block of docs/*.md and of the README runs in a fresh
interpreter, in both modes; every ```sh block of docs/ is a README command
(run by test_readme.py), the benchmark's (test_bench.py), or run here.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import pyctypes

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def _blocks(path, lang):
    return [b for b in re.findall(rf"^```{lang}\n(.*?)^```", path.read_text(), re.S | re.M)]


def _examples():
    for page in [*PAGES, ROOT / "README.md"]:
        for i, block in enumerate(_blocks(page, "python")):
            yield pytest.param(page, block, id=f"{page.name}-{i}")


def _environment(pure):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYCTYPES_")}
    # the pyctypes under test (installed, or src/ of this tree), from any directory
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(pyctypes.__file__))]
        + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    if pure:
        env["PYCTYPES_PURE"] = "1"
    return env


def _mkdocs(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "mkdocs", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_docs_build_strictly():
    proc = _mkdocs("build", "--strict")         # the README's command
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr
    for page in PAGES:
        name = "index.html" if page.stem == "index" else f"{page.stem}/index.html"
        assert (ROOT / "site" / name).is_file(), name


def test_a_broken_link_fails_the_build(tmp_path):
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    shutil.copytree(DOCS, tmp_path / "docs")
    with open(tmp_path / "docs" / "index.md", "a") as f:
        f.write("\nSee [nothing](no-such-page.md) and [an anchor](debugging.md#no-such-heading).\n")
    proc = _mkdocs("build", "--strict", cwd=tmp_path)
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stderr
    assert "no-such-heading" in proc.stderr


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in PAGES:
        assert f": {page.name}\n" in nav, page.name


@pytest.mark.parametrize("pure", [False, True], ids=["native", "pure"])
@pytest.mark.parametrize("page,block", list(_examples()))
def test_python_example_runs(tmp_path, page, block, pure):
    script = tmp_path / "example.py"
    script.write_text(block)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_environment(pure),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{page.name}:\n{block}\n{proc.stdout}\n{proc.stderr}"


def test_there_are_examples():
    pages = {p.name for p, in ((param.values[0],) for param in _examples())}
    assert {"getting-started.md", "running-programs.md", "differences.md", "configure.md",
            "debugging.md", "README.md"} <= pages


# Commands of docs/ that are neither the README's nor the benchmark's, run from
# the repository's root with this interpreter first on PATH.
RUN_HERE = {
    "PYCTYPES_PURE=1 python -m pyctypes run examples/libc_tour.py":
        "ctypes runs on pyctypes._ctypes",
}


def test_shell_commands_are_checked():
    readme_lines = {line for b in re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
                    for line in b.splitlines()}
    bench = (ROOT / "tests" / "test_bench.py").read_text()
    for page in PAGES:
        for block in _blocks(page, "sh"):
            for line in block.strip().splitlines():
                assert (line in readme_lines or line in RUN_HERE
                        or (line.startswith("python benchmarks/bench.py") and f'"{line}"' in bench)
                        or line == "pip install '.[bench]'"), f"{page.name}: {line}"


@pytest.mark.parametrize("command", sorted(RUN_HERE))
def test_shell_command_runs(command):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert RUN_HERE[command] in proc.stdout


def test_bench_extra_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^bench = \[", text, re.M)
