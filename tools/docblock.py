"""Generated blocks in the documentation: a tool that measures something writes
its table between `<!-- NAME -->` and `<!-- /NAME -->` in a Markdown file, with
a line saying which command made it, at which commit and on what.

    from docblock import update, stamp
    update("docs/status.md", "conformance", table + "\n\n" + stamp("python tools/conformance_table.py"))
"""

import datetime
import os
import platform
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _commit():
    def git(*args):
        return subprocess.run(["git", "-C", TOP, *args], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "an unknown commit (not a git checkout)"
    # The generated blocks themselves (docs/, README.md) do not count as changes.
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs", ":!README.md")
    return f"{commit} (with uncommitted changes)" if dirty else commit


def stamp(command):
    """'Made by `command` at commit X on DATE (Python V, platform, N cores).'"""
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return (f"Made by `{command}` at commit {_commit()} on {today} (Python "
            f"{platform.python_version()}, {sys.platform}-{platform.machine()}, "
            f"{os.cpu_count()} cores).")


def update(path, name, text):
    """Replace the block NAME of the Markdown file at path (relative to the
    repository's root) with text; the file must hold the two markers."""
    full = os.path.join(TOP, path)
    with open(full, encoding="utf-8") as f:
        source = f.read()
    pattern = re.compile(rf"(<!-- {re.escape(name)} -->\n).*?(<!-- /{re.escape(name)} -->)", re.S)
    if not pattern.search(source):
        raise SystemExit(f"{path} has no block <!-- {name} --> ... <!-- /{name} -->")
    source = pattern.sub(lambda m: m.group(1) + text.strip("\n") + "\n" + m.group(2), source, count=1)
    with open(full, "w", encoding="utf-8") as f:
        f.write(source)
