"""The README's set-up commands are what CI runs and what a new user types."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_commands():
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [b.strip() for b in blocks]


def test_ci_runs_the_readme_test_command():
    test_command = _readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert test_command in ci_lines


def test_main_job_example_exists():
    main_job = _readme_commands()[0]
    script = re.search(r"pyctypes run (\S+)", main_job).group(1)
    assert (ROOT / script).is_file()
