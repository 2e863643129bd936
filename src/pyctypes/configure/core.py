"""configure(): run the probe for a CConfig class (through the cache) and build
the answers; and the original's one-call helpers (getstruct, has, sizeof, ...)."""

from __future__ import annotations

import importlib
import os
import time

from . import compiler as cc
from . import errors as E
from .cache import get_cache
from .eci import ExternalCompilationInfo
from .items import CConfigEntry, Has, SimpleType, SizeOf, Struct, Works
from .items import ConstantInteger, Defined
from .probe import Probe, ProbeResult, region_file

_LEGACY = ('_includes_', '_libraries_', '_sources_', '_library_dirs_',
           '_include_dirs_', '_header_')

# facts about the last configure() call, for measurements and tests
last_run: dict = {}


def config_entries(CConfig) -> list:
    """The (attribute name, item) pairs of a CConfig class, sorted by name."""
    for attr in _LEGACY:
        if hasattr(CConfig, attr):
            raise E.ConfigureError(f"{CConfig.__name__}: legacy attribute {attr}; "
                                   f"use _compilation_info_ = ExternalCompilationInfo(...)")
    out = []
    for key in dir(CConfig):
        value = getattr(CConfig, key)
        if isinstance(value, CConfigEntry):
            out.append((key, value))
    return out


def compilation_info(CConfig) -> ExternalCompilationInfo:
    eci = getattr(CConfig, '_compilation_info_', None)
    if eci is None:
        return ExternalCompilationInfo()
    if not isinstance(eci, ExternalCompilationInfo):
        raise TypeError(f"{CConfig.__name__}._compilation_info_ must be an "
                        f"ExternalCompilationInfo, not {type(eci).__name__}")
    return eci


def get_ctypes(ctypes_module=None):
    """The ctypes module that result types are built with: the argument, else
    whatever `import ctypes` gives in this process (pyctypes-bound after
    pyctypes.install())."""
    if ctypes_module is None:
        return importlib.import_module("ctypes")
    if isinstance(ctypes_module, str):
        return importlib.import_module(ctypes_module)
    return ctypes_module


# ---------------------------------------------------------------------------
# probing through the cache

def _error_to_json(err: E.ConfigureError) -> dict:
    data = {"class": type(err).__name__, "message": str(err), "item": err.item,
            "cname": err.cname, "headers": list(err.headers),
            "compiler_output": err.compiler_output}
    for extra in ("header", "field"):
        if hasattr(err, extra):
            data[extra] = getattr(err, extra)
    return data


def _error_from_json(data: dict) -> E.ConfigureError:
    cls = getattr(E, data["class"], E.ConfigureError)
    kw = {k: data.get(k) for k in ("item", "cname", "compiler_output")}
    kw["headers"] = data.get("headers") or ()
    for extra in ("header", "field"):
        if extra in data:
            kw[extra] = data[extra]
    return cls(data["message"], **kw)


def cache_material(probe: Probe, compiler: cc.Compiler) -> dict:
    eci = probe.eci
    active = probe.entries
    regions = probe.regions(active)
    return {
        "compiler": compiler.fingerprint(),
        "flags": list(compiler.flags),
        "base": list(cc.BASE_FLAGS),
        "env": {k: os.environ.get(k) for k in cc.ENV_INPUTS},
        "eci": [list(getattr(eci, a)) for a in eci._ATTRIBUTES],
        "cwd": os.getcwd() if any(not os.path.isabs(d) for d in eci.include_dirs) else None,
        "include_dirs": [[d, _mtime(d)] for d in eci.include_dirs],
        "module_files": [[f, _mtime(f)] for f in eci.separate_module_files],
        "source": probe.source(active, regions, True),
        "items": [[key, type(entry).__name__, region_file(key)] for key, entry in active],
    }


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def probe_entries(eci, entries, *, cache=None, cc_command=None, cflags=None) -> ProbeResult:
    """The raw answers for these items: from the cache, else from one probe."""
    started = time.perf_counter()
    compiler = cc.find_compiler(cc_command, cflags)
    probe = Probe(eci, entries, compiler)
    store = get_cache(cache)
    key = None
    if store is not None:
        key = store.key(cache_material(probe, compiler))
        payload = store.load(key)
        if payload is not None:
            result = ProbeResult(payload["raw"],
                                 {k: _error_from_json(v) for k, v in payload["failures"].items()},
                                 None, payload["info"], runs=0)
            last_run.update(runs=0, cached=True, executed=False,
                            seconds=time.perf_counter() - started)
            return result
    result = probe.run()
    if store is not None and result.deps is not None:
        store.store(key, result.deps, {
            "raw": result.raw, "info": result.info,
            "failures": {k: _error_to_json(v) for k, v in result.failures.items()}})
    last_run.update(runs=result.runs, cached=False, executed=result.executed,
                    seconds=time.perf_counter() - started)
    return result


# ---------------------------------------------------------------------------
# building the answers

class _Context:
    def __init__(self, ct, eci, entries, outcome: ProbeResult):
        self.ct = ct
        self.eci = eci
        self.entries = dict(entries)
        self.key_of = {id(entry): key for key, entry in entries}
        self.outcome = outcome
        self.results: dict = {}
        self.errors: dict = {}
        self.building: set = set()
        self.key = None

    def result(self, key):
        if key in self.results:
            return self.results[key]
        if key in self.errors:
            raise self.errors[key]
        if key in self.building:
            raise E.ConfigureError(f"configure item {key!r} depends on itself", item=key)
        entry = self.entries[key]
        self.building.add(key)
        outer, self.key = self.key, key
        try:
            failure = self.outcome.failures.get(key)
            if failure is not None:
                value = entry.failed_result(failure)
            else:
                value = entry.build_result(self.outcome.raw.get(key, {}), self)
        except E.ConfigureError as err:
            if err.item is None:
                err.item = key
            self.errors[key] = err
            raise
        finally:
            self.building.discard(key)
            self.key = outer
        self.results[key] = value
        return value

    def hint(self, hint):
        """A field hint: an item of the same CConfig stands for its answer."""
        if isinstance(hint, CConfigEntry):
            key = self.key_of.get(id(hint))
            if key is None:
                raise E.ConfigureError(f"configure item {self.key!r}: hint {hint!r} is "
                                       f"not an item of this CConfig", item=self.key)
            try:
                return self.result(key)
            except E.ConfigureError as err:
                raise E.ConfigureError(f"configure item {self.key!r} uses item {key!r}, "
                                       f"which failed:\n{err}", item=self.key) from None
        return hint


def configure(CConfig, *, ctypes_module=None, cache=None, cc=None, cflags=None,
              errors="raise") -> dict:
    """Examine the system with the C compiler.

    The CConfig class holds items (Struct, SimpleType, ConstantInteger, ...) as
    attributes; the result maps each attribute name to its answer.  All items
    are answered by one compiler run (plus one per round of failing items).

    ctypes_module -- the ctypes module to build types with (default: `import ctypes`)
    cache        -- None: on unless PYCTYPES_CONFIGURE_CACHE=0; False: off;
                    a path: the cache directory
    cc, cflags   -- the compiler command and extra flags (default $CC / cc; $PYCTYPES_CFLAGS)
    errors       -- "raise": an item that fails raises its ConfigureError (or
                    ConfigureErrors for several) after all others are answered,
                    with their answers in `exc.results`; "return": the failing
                    items' values in the dict are their exceptions.
    """
    if errors not in ("raise", "return"):
        raise ValueError("errors must be 'raise' or 'return'")
    ct = get_ctypes(ctypes_module)
    eci = compilation_info(CConfig)
    entries = config_entries(CConfig)
    if not entries:
        return {}
    if not any(entry.needs_probe for _, entry in entries):
        outcome = ProbeResult({}, {}, None, {})        # nothing to compile (Library items)
    else:
        outcome = probe_entries(eci, entries, cache=cache, cc_command=cc, cflags=cflags)
    ctx = _Context(ct, eci, entries, outcome)
    results, failed = {}, {}
    for key, _ in entries:
        try:
            results[key] = ctx.result(key)
        except E.ConfigureError as err:
            failed[key] = err
    last_run["info"] = outcome.info
    if failed and errors == "raise":
        err = next(iter(failed.values())) if len(failed) == 1 else E.ConfigureErrors(failed)
        err.results = results
        raise err.with_traceback(None)        # the message says it all: no inner frames
    for key, err in failed.items():
        results[key] = err
    return results


# ---------------------------------------------------------------------------
# the original's one-call helpers

def eci_from_header(c_header_source: str) -> ExternalCompilationInfo:
    return ExternalCompilationInfo(pre_include_lines=c_header_source.split("\n"))


def _one(entry, c_header_source=None, eci=None, **options):
    class CConfig:
        _compilation_info_ = eci if eci is not None else eci_from_header(c_header_source)
        RESULT = entry
    return configure(CConfig, **options)["RESULT"]


def getstruct(name, c_header_source, interesting_fields, **options):
    return _one(Struct(name, interesting_fields), c_header_source, **options)


def getsimpletype(name, c_header_source, ctype_hint=None, **options):
    import ctypes as _ct
    return _one(SimpleType(name, ctype_hint or _ct.c_int), c_header_source, **options)


def getconstantinteger(name, c_header_source, **options):
    return _one(ConstantInteger(name), c_header_source, **options)


def getdefined(macro, c_header_source, **options):
    return _one(Defined(macro), c_header_source, **options)


def has(name, c_header_source, **options):
    return _one(Has(name), c_header_source, **options)


def check_eci(eci, **options):
    """True if the compilation info compiles and links."""
    return _one(Works(), eci=eci, **options)


def sizeof(name, eci, **kwds):
    class CConfig:
        _compilation_info_ = eci
        SIZE = SizeOf(name)
    for k, v in kwds.items():
        setattr(CConfig, k, v)
    return configure(CConfig)["SIZE"]


_memory_alignment = None


def memory_alignment():
    """The alignment of memory allocations: enough for pointers and doubles."""
    global _memory_alignment
    if _memory_alignment is None:
        S = getstruct("struct memory_alignment_test", """
           struct memory_alignment_test {
               double d;
               void* p;
           };
        """, [])
        import ctypes as _ct
        result = _ct.alignment(S)
        assert result & (result - 1) == 0, "not a power of two??"
        _memory_alignment = result
    return _memory_alignment
