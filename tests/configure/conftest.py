"""Helpers for the pyctypes.configure tests: the ground truth comes from C
programs compiled and run on the spot (offsetof/sizeof printed at run time,
signedness and bit-fields found by storing -1 and looking at the bytes)."""

import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

from cfg_helpers import ctypes_image_bits, image_bits  # noqa: F401  (re-exported)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import pyctypes.configure  # noqa: F401
except ImportError:            # running from a source tree without installing
    sys.path.insert(0, os.path.join(ROOT, "src"))

CC = os.environ.get("CC", "gcc")


def _need_cc():
    if shutil.which(CC) is None:
        pytest.fail(f"these tests need a C compiler: {CC!r} was not found", pytrace=False)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own, empty configure cache directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("PYCTYPES_CONFIGURE_CACHE", raising=False)


class CProgram:
    """Compile and run a C program; its output lines `label value` as a dict."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.n = 0

    def run(self, prelude: str, body: str, include_dirs=()) -> dict:
        _need_cc()
        self.n += 1
        src = self.tmp / f"oracle{self.n}.c"
        exe = self.tmp / f"oracle{self.n}"
        src.write_text(prelude + "\n#include <stdio.h>\n#include <string.h>\n"
                       "#include <stddef.h>\nint main(void) {\n" + body + "\nreturn 0;\n}\n")
        cmd = [CC, "-w", "-o", str(exe), str(src)] + [f"-I{d}" for d in include_dirs]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, f"oracle does not compile:\n{proc.stderr}\n{src.read_text()}"
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
        values = {}
        for line in out.splitlines():
            label, _, value = line.partition(" ")
            values[label] = int(value, 0) if not value.startswith("x") else value[1:]
        return values

    @staticmethod
    def int_expr(label: str, expr: str) -> str:
        return (f'if (({expr}) < 0) printf("{label} %lld\\n", (long long)({expr})); '
                f'else printf("{label} %llu\\n", (unsigned long long)({expr}));')

    def values(self, prelude: str, exprs: dict, include_dirs=()) -> dict:
        body = "\n".join(self.int_expr(k, v) for k, v in exprs.items())
        return self.run(prelude, body, include_dirs)

    def layout(self, prelude: str, ctype: str, fields: dict, include_dirs=()) -> dict:
        """size, align and per field: offset/size (plain), signed (integers),
        image (bit-fields: the struct's bytes after storing -1 in the field)."""
        lines = [f'printf("size %zu\\n", sizeof({ctype}));',
                 f'printf("align %zu\\n", _Alignof({ctype}));']
        for name, kind in fields.items():
            if kind != "bits":
                lines.append(f'printf("{name}.offset %zu\\n", offsetof({ctype}, {name}));')
                lines.append(f'printf("{name}.size %zu\\n", sizeof((({ctype} *)0)->{name}));')
            if kind in ("int", "bits"):
                lines.append(f"{{ {ctype} s; memset(&s, 0, sizeof s); s.{name} = -1; "
                             f'printf("{name}.signed %d\\n", s.{name} < 0); '
                             f'printf("{name}.image x"); '
                             f"for (size_t i = 0; i < sizeof s; i++) "
                             f'printf("%02x", ((unsigned char *)&s)[i]); printf("\\n"); }}')
        raw = self.run(prelude, "\n".join(lines), include_dirs)
        out = {"size": raw["size"], "align": raw["align"], "fields": {}}
        for name in fields:
            out["fields"][name] = {k.split(".", 1)[1]: v for k, v in raw.items()
                                   if k.startswith(name + ".")}
        return out

    def image(self, prelude: str, ctype: str, assignments: str, include_dirs=()) -> bytes:
        """The bytes of a zeroed `ctype` after C runs the assignments (on `s`)."""
        body = (f"{ctype} s; memset(&s, 0, sizeof s); {assignments}\n"
                'printf("image x"); for (size_t i = 0; i < sizeof s; i++) '
                'printf("%02x", ((unsigned char *)&s)[i]); printf("\\n");')
        return bytes.fromhex(self.run(prelude, body, include_dirs)["image"])


@pytest.fixture
def cprog(tmp_path):
    return CProgram(tmp_path)


@pytest.fixture
def counting_cc(tmp_path, monkeypatch):
    """CC set to a wrapper that logs each run of the compiler; returns a
    function giving the number of runs so far."""
    _need_cc()
    log = tmp_path / "cc-runs.log"
    wrapper = tmp_path / "counting-cc"
    real = shutil.which(CC)
    wrapper.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo run >> '{log}'
        exec '{real}' "$@"
        """))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("CC", str(wrapper))
    monkeypatch.delenv("PYCTYPES_CC", raising=False)

    def runs():
        return len(log.read_text().splitlines()) if log.exists() else 0
    return runs
