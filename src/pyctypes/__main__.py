"""Command line: run programs on pyctypes, and ctypes-configure code generation.

    python -m pyctypes run [options] script.py [args...]   run a script with ctypes bound to pyctypes
    python -m pyctypes [run] [options] -m module [args...] run a module likewise (as python -m would)
    python -m pyctypes configure spec.py -o out.py         generate a module from CConfig classes

options:
    --trace[=PATTERN]    a line per foreign call and callback (PATTERN: comma-separated globs
                         of function names, or of library:name)
    --trace-file FILE    write the trace to FILE (default: stderr)
    --trace-summary      at exit, a table per function: calls, time, errors
    --no-crash-report    no report of the foreign call when the program dies of a signal
"""

import builtins
import os
import pkgutil
import runpy
import signal
import sys
import types

USAGE = __doc__


def _fresh_main_module():
    """A new `__main__` module, as the interpreter makes one for `python script.py`."""
    main = types.ModuleType("__main__")
    main.__annotations__ = {}
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    return main


def _run_script(target):
    """Run a file as `python script.py` does: absolute __file__, no runpy frames."""
    # The interpreter joins the current directory and the path without
    # normalizing it (`./x.py` stays `/cwd/./x.py`).
    path = os.path.join(os.getcwd(), target)
    if pkgutil.get_importer(path) is not None:
        # A directory or zip archive: its __main__ module runs, as python does it.
        sys.path[0] = path
        _fresh_main_module()
        runpy._run_module_as_main("__main__", alter_argv=False)
        return 0
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        print(f"{sys.orig_argv[0]}: can't open file {path!r}: [Errno {exc.errno}] {exc.strerror}",
              file=sys.stderr)
        return 2
    sys.path[0] = os.path.dirname(os.path.realpath(path))     # symlinks resolved, as python does
    main = _fresh_main_module()
    main.__file__ = path
    main.__cached__ = None
    main.__loader__ = _source_loader(path)
    main.__package__ = None
    main.__spec__ = None
    exec(compile(source, path, "exec", dont_inherit=True), vars(main))
    return 0


def _source_loader(path):
    from importlib.machinery import SourceFileLoader
    return SourceFileLoader("__main__", path)


def _report_uncaught(exc):
    """Report an exception as the interpreter does: sys.excepthook, without our frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc.__traceback__ = tb
    sys.excepthook(type(exc), exc, tb)
    if isinstance(exc, KeyboardInterrupt):
        # The interpreter ends by SIGINT after an uncaught KeyboardInterrupt.
        import atexit
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return 1


def _parse_options(argv):
    """The run options at the front of argv: (options, the rest), or None if
    one is malformed."""
    options = {"trace": None, "trace_file": None, "summary": False, "crash_report": True}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        arg = argv[i]
        if arg == "--trace":
            options["trace"] = ""
        elif arg.startswith("--trace="):
            options["trace"] = arg[len("--trace="):]
        elif arg == "--trace-file" and i + 1 < len(argv):
            i += 1
            options["trace_file"] = argv[i]
        elif arg.startswith("--trace-file="):
            options["trace_file"] = arg[len("--trace-file="):]
        elif arg == "--trace-summary":
            options["summary"] = True
        elif arg == "--no-crash-report":
            options["crash_report"] = False
        else:
            return None
        i += 1
    if (options["trace_file"] is not None or options["summary"]) and options["trace"] is None:
        options["trace"] = ""
    return options, argv[i:]


def _run_as_main(target, is_module, args, options):
    """Run target like `python script.py` / `python -m module`, with pyctypes installed."""
    import pyctypes
    pyctypes.install()
    if options["crash_report"]:
        pyctypes.enable_crash_report()
    tracer = None
    if options["trace"] is not None:
        tracer = pyctypes.trace(options["trace"] or None, options["trace_file"], options["summary"])
        tracer.start()
    ours = sys.modules.get("__main__")      # this module: keep it alive while the program runs
    try:
        if is_module:
            # Exactly what `python -m` does (argv[0] is '-m' while the module is looked up).
            sys.argv = ["-m", *args]
            _fresh_main_module()
            runpy._run_module_as_main(target, alter_argv=True)
            return 0
        sys.argv = [target, *args]
        return _run_script(target)
    except SystemExit:
        raise
    except BaseException as exc:
        return _report_uncaught(exc)
    finally:
        if tracer is not None:
            tracer.stop()
        del ours


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    if argv[0] == "run" or argv[0].startswith("--"):
        parsed = _parse_options(argv[1:] if argv[0] == "run" else argv)
        if parsed is not None:
            options, rest = parsed
            if len(rest) >= 2 and rest[0] == "-m":
                return _run_as_main(rest[1], True, rest[2:], options)
            if rest and argv[0] == "run" and rest[0] != "-m":
                return _run_as_main(rest[0], False, rest[1:], options)
        print(USAGE.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "-m" and rest:
        return _run_as_main(rest[0], True, rest[1:], _parse_options([])[0])
    if command == "configure":
        from pyctypes.configure.cli import main as configure_main
        return configure_main(rest)
    print(USAGE.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
