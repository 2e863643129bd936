"""The system C compiler: finding it, running it, and reading its diagnostics."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field

from .errors import CompilerNotFound

# Options every probe compile gets; all are understood by both GCC and clang.
BASE_FLAGS = ('-O0', '-w', '-fno-lto', '-fdiagnostics-color=never')

# Environment variables that change what the compiler reads (part of cache keys)
ENV_INPUTS = ('CPATH', 'C_INCLUDE_PATH', 'LIBRARY_PATH', 'GCC_EXEC_PREFIX',
              'COMPILER_PATH', 'SDKROOT', 'MACOSX_DEPLOYMENT_TARGET')

# Counters for measurements: how often the compiler was started in this process
stats = {'compiler_runs': 0, 'probe_runs': 0}


@dataclass(frozen=True)
class Compiler:
    """A C compiler command, e.g. ('gcc',) or ('ccache', 'cc', '-m32')."""
    argv: tuple[str, ...]
    flags: tuple[str, ...] = ()      # extra flags for every compile (CFLAGS)

    @property
    def executable(self) -> str:
        return self.argv[0]

    def fingerprint(self) -> list:
        """Identifies the compiler without running it: every executable in
        argv resolved, with its size and modification time."""
        out = []
        for word in self.argv:
            path = shutil.which(word) if not word.startswith('-') else None
            if path:
                real = os.path.realpath(path)
                st = os.stat(real)
                out.append([word, real, st.st_size, st.st_mtime_ns])
            else:
                out.append([word])
        return out

    def run(self, args: list[str], cwd: str, timeout: float = 120) -> 'Run':
        cmd = list(self.argv) + list(args)
        env = dict(os.environ)
        # ASCII quotes in messages, no colours, no stray dependency output
        env.update(LC_ALL='C', LANG='C', LC_MESSAGES='C', GCC_COLORS='')
        env.pop('DEPENDENCIES_OUTPUT', None)
        env.pop('SUNPRO_DEPENDENCIES', None)
        stats['compiler_runs'] += 1
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout)
        except FileNotFoundError:
            raise CompilerNotFound(
                f"C compiler {self.executable!r} not found: install a C compiler "
                f"or set CC (or PYCTYPES_CC) to one") from None
        except PermissionError as exc:
            raise CompilerNotFound(
                f"C compiler {self.executable!r} cannot be run: {exc}") from None
        except subprocess.TimeoutExpired:
            raise CompilerNotFound(
                f"C compiler {' '.join(cmd)!r} did not finish in {timeout}s") from None
        return Run(proc.returncode, proc.stdout.decode('utf-8', 'replace'))


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def find_compiler(cc=None, cflags=None) -> Compiler:
    """The compiler to use: `cc` if given (a string or a list), else $PYCTYPES_CC,
    else $CC, else the first of cc, gcc, clang on PATH.  Flags come from `cflags`
    or $PYCTYPES_CFLAGS."""
    if cc is None:
        cc = os.environ.get('PYCTYPES_CC') or os.environ.get('CC')
    if cc is None:
        for name in ('cc', 'gcc', 'clang'):
            if shutil.which(name):
                cc = name
                break
        else:
            raise CompilerNotFound(
                "no C compiler found (tried cc, gcc, clang on PATH): install one "
                "or set CC (or PYCTYPES_CC)")
    argv = tuple(shlex.split(cc) if isinstance(cc, str) else cc)
    if not argv:
        raise CompilerNotFound("empty compiler command")
    if shutil.which(argv[0]) is None:
        raise CompilerNotFound(
            f"C compiler {argv[0]!r} not found on PATH: install it or set CC "
            f"(or PYCTYPES_CC) to a compiler")
    if cflags is None:
        cflags = os.environ.get('PYCTYPES_CFLAGS', '')
    flags = tuple(shlex.split(cflags) if isinstance(cflags, str) else cflags)
    return Compiler(argv, flags)


# ---------------------------------------------------------------------------
# Diagnostics

_DIAG = re.compile(r'^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? '
                   r'(?P<sev>fatal error|error|warning|note|remark): (?P<msg>.*)$')
_CONTEXT = re.compile(r'^(?P<file>.+?): (?:In function|At top level|In member'
                      r' function|In instantiation|At global scope)')
_INCLUDED = re.compile(r'^(?:In file included from|\s+from) (?P<file>.+?):(?P<line>\d+)[:,]$')
_LD_FUNC = re.compile(r"^(?P<obj>.+?): [Ii]n function [`'\"](?P<func>[^'`\"]+)['`\"]:?$")
_LD_UNDEF = re.compile(r"undefined (?:reference to|symbol)")
_LD_NOLIB = re.compile(r"cannot find -l\s*(?P<lib>\S+?)(?::|$)|library not found for -l(?P<lib2>\S+)")
_SUMMARY = re.compile(r"ld returned \d+ exit status|linker command failed with exit code")
_MISSING_HEADER = re.compile(r"^'?(?P<header>[^':]+?)'?(?::| file not found)"
                             r"(?: No such file or directory)?")


@dataclass
class Diagnostic:
    """One error of the compiler with its context, notes and caret lines."""
    severity: str
    file: str
    line: int
    message: str
    lines: list[str] = field(default_factory=list)
    # every (file, line) this diagnostic mentions, the error's own first
    places: list[tuple[str, int]] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)   # from linker output

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def missing_header(self) -> str | None:
        if self.severity != 'fatal error':
            return None
        msg = self.message
        if 'No such file' in msg or 'file not found' in msg:
            match = _MISSING_HEADER.match(msg)
            if match:
                return match.group('header').strip()
        return None


def parse_diagnostics(output: str) -> list[Diagnostic]:
    """Split compiler (and linker) output into errors, each with the context
    lines before it and the notes and source lines after it."""
    diags: list[Diagnostic] = []
    pending: list[str] = []
    pending_places: list[tuple[str, int]] = []
    pending_funcs: list[str] = []
    current: Diagnostic | None = None
    for line in output.splitlines():
        if _SUMMARY.search(line):
            continue                  # "ld returned 1 exit status": says nothing new
        match = _DIAG.match(line)
        if match and match.group('sev') in ('error', 'fatal error'):
            current = Diagnostic(match.group('sev'), match.group('file'),
                                 int(match.group('line')), match.group('msg'))
            current.lines = pending + [line]
            current.places = [(current.file, current.line)] + pending_places
            current.functions = pending_funcs
            diags.append(current)
            pending, pending_places, pending_funcs = [], [], []
            continue
        if match and match.group('sev') in ('note', 'remark', 'warning'):
            if current is not None:
                current.lines.append(line)
                current.places.append((match.group('file'), int(match.group('line'))))
            continue
        ctx = _CONTEXT.match(line)
        inc = _INCLUDED.match(line)
        ld = _LD_FUNC.match(line)
        if ctx or inc or ld:
            current = None
            pending.append(line)
            if inc:
                pending_places.append((inc.group('file'), int(inc.group('line'))))
            elif ctx:
                pending_places.append((ctx.group('file'), 0))
                fn = re.search(r"[`'\"]([^'`\"]+)['`\"]", line)
                if fn:
                    pending_funcs.append(fn.group(1))
            else:
                pending_funcs.append(ld.group('func'))
            continue
        if _LD_UNDEF.search(line) or _LD_NOLIB.search(line) \
                or line.startswith(('collect2:', 'clang: error:', '/usr/bin/ld:', 'ld:')):
            current = Diagnostic('error', '<linker>', 0, line.strip())
            current.lines = pending + [line]
            current.functions = pending_funcs
            current.places = list(pending_places)
            diags.append(current)
            pending, pending_places, pending_funcs = [], [], []
            current = None
            continue
        if current is not None:
            current.lines.append(line)          # caret and source lines
        elif line.strip():
            pending.append(line)
    if pending and any(p.strip() for p in pending):
        # text the compiler printed after everything else (e.g. a driver error)
        rest = Diagnostic('error', '<compiler>', 0, pending[-1].strip())
        rest.lines = pending
        rest.places = pending_places
        rest.functions = pending_funcs
        diags.append(rest)
    return diags


def missing_library(diag: Diagnostic) -> str | None:
    match = _LD_NOLIB.search(diag.message)
    if match:
        return match.group('lib') or match.group('lib2')
    return None


def read_depfile(path: str) -> list[str]:
    """The files listed in a make dependency file written by -MD."""
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as f:
            text = f.read()
    except OSError:
        return []
    text = text.replace('\\\n', ' ')
    files: list[str] = []
    for rule in text.splitlines():
        if ':' not in rule:
            continue
        target, _, deps = rule.partition(': ')
        if not deps and rule.endswith(':'):
            continue                    # phony targets from -MP
        words = re.findall(r'(?:\\ |[^\s])+', deps)
        for word in words:
            word = word.replace('\\ ', ' ')
            if word not in files:
                files.append(word)
    return files
