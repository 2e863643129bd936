"""`python -m pyctypes configure spec.py -o generated.py`: run the CConfig classes
of spec.py and write their answers as a plain Python module."""

from __future__ import annotations

import argparse
import os
import runpy
import shlex
import sys

from . import core
from .codegen import generate
from .compiler import find_compiler
from .errors import ConfigureError
from .items import CConfigEntry


def config_classes(namespace: dict) -> list:
    """The CConfig classes of a spec module: classes defined there that hold
    configure items or a _compilation_info_."""
    out = []
    for value in namespace.values():
        if not isinstance(value, type) or value.__module__ != namespace.get("__name__"):
            continue
        if hasattr(value, "_compilation_info_") or any(
                isinstance(getattr(value, attr), CConfigEntry) for attr in dir(value)):
            out.append(value)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pyctypes configure",
        description="Run the CConfig classes of a spec file with the C compiler and "
                    "write the answers as a Python module that needs no compiler.")
    parser.add_argument("spec", help="a Python file defining CConfig classes")
    parser.add_argument("-o", "--output", help="the module to write (default: stdout)")
    parser.add_argument("--no-cache", action="store_true", help="do not use the probe cache")
    parser.add_argument("--cc", help="the C compiler command (default: $CC or cc)")
    parser.add_argument("--cflags", help="extra compiler flags")
    args = parser.parse_args(argv)

    spec_name = "__pyctypes_configure_spec__"
    spec_dir = os.path.dirname(os.path.abspath(args.spec))
    sys.path.insert(0, spec_dir)
    try:
        namespace = runpy.run_path(args.spec, run_name=spec_name)
    except OSError as exc:
        print(f"configure: cannot read {args.spec}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        if sys.path and sys.path[0] == spec_dir:
            del sys.path[0]
    classes = config_classes(namespace)
    if not classes:
        print(f"configure: {args.spec} defines no CConfig class", file=sys.stderr)
        return 2

    ct = core.get_ctypes()
    results: dict = {}
    info: dict = {}
    try:
        compiler = find_compiler(args.cc, args.cflags)
        for cls in classes:
            answers = core.configure(cls, cache=False if args.no_cache else None,
                                     cc=args.cc, cflags=args.cflags)
            info = info or dict(core.last_run.get("info") or {})
            for name, value in answers.items():
                if name in results and results[name] != value:
                    print(f"configure: {name} is answered differently by two CConfig "
                          f"classes", file=sys.stderr)
                    return 1
                results[name] = value
    except ConfigureError as exc:
        print(f"configure: {exc}", file=sys.stderr)
        return 1

    info["compiler"] = (f"{' '.join(compiler.argv)} {info.get('version', '')}".strip()
                        + (f" {' '.join(compiler.flags)}" if compiler.flags else ""))
    command = "python -m pyctypes configure " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    text = generate(results, ct, source=os.path.basename(args.spec), command=command,
                    info=info)
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
