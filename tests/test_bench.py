"""The benchmark's documented command regenerates what the docs and README show.

docs/performance.md says `python benchmarks/bench.py --repeat 5 --update`, run
from the repository's root; here the same command with one repeat runs in a
fresh copy of the repository, and must rewrite the table, the plot and the
README's summary, each stamped with the command that made it.
"""

import os
import pathlib
import subprocess
import sys

import pytest

import pyctypes

from test_readme import fresh_copy

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTED = "python benchmarks/bench.py --repeat 5 --update"


def test_the_documented_command_is_the_one_run():
    assert f"\n{DOCUMENTED}\n" in (ROOT / "docs" / "performance.md").read_text()
    assert f"Made by `{DOCUMENTED}`" in (ROOT / "README.md").read_text()


def _block(text, name):
    return text.split(f"<!-- {name} -->\n", 1)[1].split(f"<!-- /{name} -->", 1)[0]


@pytest.mark.slow
def test_bench_update_from_the_root(tmp_path):
    clone = fresh_copy(tmp_path / "clone")
    (clone / "docs" / "ratios.png").unlink()
    command = DOCUMENTED.replace("--repeat 5", "--repeat 1")
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    # the pyctypes under test (installed, or src/ of this tree), not the copy's unbuilt src/
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(pyctypes.__file__))
    proc = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    table = _block((clone / "docs" / "performance.md").read_text(), "bench")
    assert f"Made by `{command}`" in table
    assert "| labs(long) |" in table and "| string_at |" in table and "error" not in table
    summary = _block((clone / "README.md").read_text(), "bench-summary")
    assert "| foreign calls (9) |" in summary and f"Made by `{command}`" in summary
    assert (clone / "docs" / "ratios.png").read_bytes()[:4] == b"\x89PNG"
