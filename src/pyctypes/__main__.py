"""Command line: run programs on pyctypes, and ctypes-configure code generation.

    python -m pyctypes run script.py [args...]     run a script with ctypes bound to pyctypes
    python -m pyctypes -m module [args...]         run a module likewise (as python -m would)
    python -m pyctypes configure spec.py -o out.py generate a module from CConfig classes
"""

import os
import runpy
import sys
import traceback

USAGE = __doc__


def _run_as_main(target, is_module, args):
    """Run target like `python script.py` / `python -m module`, with pyctypes installed."""
    import pyctypes
    pyctypes.install()
    sys.argv = [target, *args]
    if not is_module:
        # As `python script.py`: the script's directory is first on sys.path.
        sys.path[0] = os.path.dirname(os.path.abspath(target))
    try:
        if is_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as exc:
        # Print the traceback as the interpreter would, without our own frames.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__):
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb)
        return 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "run" and rest:
        return _run_as_main(rest[0], False, rest[1:])
    if command == "-m" and rest:
        return _run_as_main(rest[0], True, rest[1:])
    if command == "configure":
        from pyctypes.configure.cli import main as configure_main
        return configure_main(rest)
    print(USAGE.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
