"""One C probe for all items of a configure() call: write it, compile it once,
isolate the items that do not compile, and read the answers back.

The answers are computed by the compiler, not by running a program: every item
puts its values into a constant object tagged with a marker string
(`const struct {char m[32]; unsigned long long v[N]; ...} = {"@pyctypes:3:s@", ...}`),
and the values are read from the object file's bytes by finding the marker.
No link and no run are needed, and this works for any object format.  Only the
signedness of bit-fields needs the program to run (C has no constant expression
for it); such probes are linked and run.

Each item's code sits in its own region, opened by `#line 1 "<item NAME>"`, so
the compiler's diagnostics name the item they are about, and the line inside
the region names the field.  Items with errors are dropped (or adjusted, e.g.
a field found to be a bit-field) and the rest compiled again.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field

from . import compiler as cc
from .errors import (CompilationFailed, ConfigureError, HeaderNotFound,
                     LinkError, ProbeError)

MAGIC = 0x0102030405060708
HEADER_VALUES = 4           # magic, count, payload offset, payload size

HELPERS = r"""
#define __pyc_cls(e) __builtin_classify_type(e)
#define __pyc_isint(e) (__pyc_cls(e) >= 1 && __pyc_cls(e) <= 4)
#define __pyc_isarr(e) (__pyc_cls(e) == 5 && !__builtin_types_compatible_p(__typeof__(e), __typeof__(0 ? (e) : (e))))
#define __pyc_signed(e) ((__typeof__(__builtin_choose_expr(__pyc_isint(e), (e), 0)))-1 < 0)
#define __pyc_kind(e) _Generic((e), _Bool: 1, char: 2, float: 3, double: 4, long double: 5, default: 0)
#define __pyc_elem(e) (*__builtin_choose_expr(__pyc_isarr(e), (e), (char *)0))
""".strip()

DESC_LEVELS = 4        # a field, its element, the element's element, ... (3-D arrays)
DESC_WIDTH = 5         # values per level: size, class, kind, signed, is-array


def marker(k: int, tag: str) -> str:
    text = f"@pyctypes:{k}:{tag}@"
    assert len(text) < 32, text
    return text


def record(k: int, tag: str, values, payload_decl: str | None = None,
           payload_init: str | None = None) -> str:
    """One line of C defining a tagged constant record of values."""
    name = f"__pyc_r_{k}_{tag}"
    vals = [f"(unsigned long long)({v})" for v in values]
    n = HEADER_VALUES + len(vals)
    if payload_decl:
        off = f"__builtin_offsetof(struct {name}, p)"
        size = f"sizeof(((struct {name} *)0)->p)"
        decl = f" {payload_decl};"
        init = f", {payload_init}"
    else:
        off = size = "0"
        decl = init = ""
    head = [f"{MAGIC:#x}ULL", str(n), off, size]
    return (f"const struct {name} {{ char m[32]; unsigned long long v[{n}];{decl} }} "
            f"{name} = {{ \"{marker(k, tag)}\", {{ {', '.join(head + vals)} }}{init} }};")


def type_desc(prefix: str, lvalue: str) -> tuple[str, list[str]]:
    """Typedefs and values describing the type of `lvalue` and, for arrays, of
    its elements (DESC_LEVELS levels)."""
    typedefs = [f"typedef __typeof__({lvalue}) {prefix}_0;"]
    for level in range(1, DESC_LEVELS):
        typedefs.append(f"typedef __typeof__(__pyc_elem(*({prefix}_{level - 1} *)0)) "
                        f"{prefix}_{level};")
    values = []
    for level in range(DESC_LEVELS):
        e = f"*({prefix}_{level} *)0"
        values += [f"sizeof({e})", f"__pyc_cls({e})", f"__pyc_kind({e})",
                   f"__pyc_signed({e})", f"__pyc_isarr({e})"]
    return " ".join(typedefs), values


def runtime_print(k: int, tag: str, expr: str) -> str:
    return f'__builtin_printf("{marker(k, tag)} %lld\\n", (long long)({expr}));'


@dataclass
class Region:
    """What one item contributes to the probe."""
    lines: list[str]
    fields: dict[int, str] = field(default_factory=dict)   # line -> field id
    records: list[str] = field(default_factory=list)       # tags to read back
    maybe_records: list[str] = field(default_factory=list) # read if present (#ifdef)
    runtime: list[str] = field(default_factory=list)       # tags printed at run time
    rt_function: str | None = None                         # called from main()
    functions: list[str] = field(default_factory=list)     # for linker messages


def region_file(key: str) -> str:
    return f"<item {key}>"


@dataclass
class ProbeResult:
    raw: dict                     # key -> {tag: {"v": [...], "p": hex|None}}
    failures: dict                # key -> ConfigureError
    deps: list | None             # files the compiler read (None: do not cache)
    info: dict                    # compiler facts (version, pointer size, ...)
    runs: int = 0                 # compiler runs
    executed: bool = False        # was the probe program run


class Probe:
    """Runs the probe for a list of (key, entry) items of one compilation info."""

    def __init__(self, eci, entries, compiler: cc.Compiler):
        self.eci = eci
        self.entries = list(entries)
        self.compiler = compiler
        self.index = {key: i + 1 for i, (key, _) in enumerate(self.entries)}
        self.state = {key: {} for key, _ in self.entries}
        for key, entry in self.entries:
            entry.init_state(self.state[key])
        self.headers = eci.header_names()
        self.runs = 0

    # -- source ---------------------------------------------------------

    def regions(self, active) -> dict:
        return {key: entry.region(self.index[key], self.state[key])
                for key, entry in active}

    def unit_source(self, active, regions) -> str:
        """The second translation unit: items compiled apart (Has), so that one
        that does not compile leaves the main probe's object intact."""
        parts = ["/* probe generated by pyctypes.configure: Has items */",
                 self.eci.c_header().rstrip("\n")]
        for key, _ in active:
            parts.append(f'#line 1 "{region_file(key)}"')
            parts.extend(regions[key].lines)
        return "\n".join(parts) + "\n"

    def source(self, active, regions, executable: bool) -> str:
        parts = ["/* probe generated by pyctypes.configure */",
                 self.eci.c_header().rstrip("\n"),
                 '#line 1 "<pyctypes helpers>"', HELPERS,
                 "#ifdef __VERSION__",
                 record(0, "cc", ["sizeof(void *)", "sizeof(long)", "_Alignof(long double)"],
                        "char p[sizeof(__VERSION__)]", "__VERSION__"),
                 "#endif"]
        for key, _ in active:
            parts.append(f'#line 1 "{region_file(key)}"')
            parts.extend(regions[key].lines)
        if executable:
            parts.append('#line 1 "<pyctypes main>"')
            parts.append("int main(void) {")
            for key, _ in active:
                fn = regions[key].rt_function
                if fn:
                    parts.append(f"  {fn}();")
            parts.append("  return 0;\n}")
        return "\n".join(parts) + "\n"

    # -- compiling ------------------------------------------------------

    def compile(self, tmp: str, src: str, executable: bool, link_libs: bool,
                unit_src: str | None = None):
        """Compile `src` (and `unit_src`, as a second translation unit in the
        same compiler run) in `tmp`; returns (Run, output file, dependency files)."""
        for name in os.listdir(tmp):
            if name.endswith(('.d', '.o')) or name == 'probe':
                os.unlink(os.path.join(tmp, name))
        with open(os.path.join(tmp, "probe.c"), "w") as f:
            f.write(src)
        if unit_src is not None:
            with open(os.path.join(tmp, "has.c"), "w") as f:
                f.write(unit_src)
        eci = self.eci
        args = list(cc.BASE_FLAGS) + list(self.compiler.flags)
        args += [f"-I{os.path.abspath(d)}" for d in eci.include_dirs] + list(eci.compile_extra)
        args += ["-MD"]
        if executable:
            out = "probe"
            args += ["probe.c"]
            if link_libs:
                args += self._extra_sources(tmp)
            args += ["-o", out]
            if link_libs:
                args += [f"-L{os.path.abspath(d)}" for d in eci.library_dirs]
                args += list(eci.link_extra)
                args += [f"-l{lib}" for lib in eci.libraries]
        else:
            out = "probe.o"
            if unit_src is None:
                args += ["-c", "probe.c", "-o", out]
            else:                           # writes probe.o and has.o
                args += ["-c", "probe.c", "has.c"]
        self.runs += 1
        run = self.compiler.run(args, cwd=tmp)
        deps = []
        for name in sorted(os.listdir(tmp)):
            if name.endswith('.d'):
                for dep in cc.read_depfile(os.path.join(tmp, name)):
                    dep = os.path.normpath(os.path.join(tmp, dep))
                    if not dep.startswith(os.path.join(tmp, "")) and dep not in deps:
                        deps.append(dep)
        return run, os.path.join(tmp, out), deps

    def _extra_sources(self, tmp: str) -> list[str]:
        files = []
        for i, source in enumerate(self.eci.separate_module_sources):
            name = f"module_{i}.c"
            with open(os.path.join(tmp, name), "w") as f:
                f.write(self.eci.c_header())
                f.write(source if source.endswith("\n") else source + "\n")
            files.append(name)
        files += [os.path.abspath(p) for p in self.eci.separate_module_files]
        return files

    # -- the main loop --------------------------------------------------

    def run(self) -> ProbeResult:
        """Compile until every item either compiled or failed, then read the answers."""
        self.active = list(self.entries)
        self.failures: dict[str, ConfigureError] = {}
        self.cacheable = True
        self.link_libs = (any(entry.needs_link for _, entry in self.active)
                          and self.eci.needs_linking())
        if self.link_libs:
            self.cacheable = False      # the libraries' files are not in the dependencies
        with tempfile.TemporaryDirectory(prefix="pyctypes-configure-") as tmp:
            self.tmp = tmp
            while True:
                regions = self.regions(self.active)
                executable = self.link_libs or any(r.rt_function for r in regions.values())
                apart = ([] if executable else
                         [(k, e) for k, e in self.active if e.separate_unit])
                apart_keys = {k for k, _ in apart}
                main = [(k, e) for k, e in self.active if k not in apart_keys]
                run, out, deps = self.compile(
                    tmp, self.source(main, regions, executable), executable, self.link_libs,
                    self.unit_source(apart, regions) if apart else None)
                if run.ok:
                    break
                diags = cc.parse_diagnostics(run.output)
                by_item, general = self.attribute(diags, self.active, regions)
                if (apart and by_item and not general and set(by_item) <= apart_keys
                        and os.path.exists(out) and not _error_limit(run.output)):
                    # only the separately compiled items failed: the main object is good
                    self.fail_items(by_item, regions, adjust=False)
                    break
                if not by_item and not general:
                    general = [cc.Diagnostic('error', '<compiler>', 0, 'the compiler failed',
                                             lines=run.output.splitlines())]
                if general and self.fail_general(tmp, general):
                    break
                self.fail_items(by_item, regions, adjust=True)
                if not self.active:
                    self.cacheable = self.cacheable and bool(deps)
                    break
            raw, info, executed = {}, {}, False
            if self.active:
                raw, info, executed = self.read(out, regions)
        if not deps:
            self.cacheable = False
        return ProbeResult(raw, self.failures, deps if self.cacheable else None, info,
                           runs=self.runs, executed=executed)

    def fail_items(self, by_item, regions, adjust: bool) -> None:
        """Items with errors fail, unless they can change and try again."""
        entries = dict(self.active)
        for key, diags in by_item.items():
            entry = entries.get(key)
            if entry is None:
                continue
            places = [self.field_of(d, key, regions[key]) for d in diags]
            if adjust and entry.adjust(self.state[key], diags, places):
                continue                    # e.g. a field turned out to be a bit-field
            text = self.clean("\n".join(d.text for d in diags))
            self.failures[key] = entry.make_error(key, diags, places, text, self.headers)
        self.active = [(k, e) for k, e in self.active if k not in self.failures]

    def fail_general(self, tmp, general) -> bool:
        """Errors that name no item: a missing header fails everything (returns
        True: stop); a missing library fails the items that link; anything
        else is narrowed down to items by bisection."""
        text = self.clean("\n".join(d.text for d in general))
        header = next((d.missing_header for d in general if d.missing_header), None)
        if header:
            for key, entry in self.active:
                self.failures[key] = HeaderNotFound(
                    f"configure item {key!r} ({entry.describe()}): header <{header}> "
                    f"not found\n{indent(text)}", header=header, item=key,
                    cname=entry.cname, headers=self.headers, compiler_output=text)
            self.active = []
            self.cacheable = False          # the header may appear later
            return True
        linker = [d for d in general if cc.missing_library(d) or d.file == '<linker>']
        if self.link_libs and linker and len(linker) == len(general):
            libs = [cc.missing_library(d) for d in linker if cc.missing_library(d)]
            what = f"library {', '.join(libs)} not found" if libs else "linking failed"
            for key, entry in self.active:
                if entry.needs_link:
                    self.failures[key] = LinkError(
                        f"configure item {key!r} ({entry.describe()}): {what}\n"
                        f"{indent(text)}", item=key, cname=entry.cname,
                        headers=self.headers, compiler_output=text)
            self.link_libs = False
        else:
            self.failures.update(self.bisect(tmp, self.active, general))
        self.active = [(k, e) for k, e in self.active if k not in self.failures]
        return not self.active

    def read(self, out: str, regions):
        """The answers of the active items from the compiled probe (and its run)."""
        with open(out, "rb") as f:
            blob = f.read()
        try:
            info = self.read_info(blob)
        except ProbeError:
            info = {}
        raw = {}
        for key, entry in self.active:
            k = self.index[key]
            raw[key] = {tag: read_record(blob, k, tag) for tag in regions[key].records}
            for tag in regions[key].maybe_records:
                try:
                    raw[key][tag] = read_record(blob, k, tag)
                except ProbeError:
                    pass                    # #ifdef'd out
            raw[key]["state"] = entry.export_state(self.state[key])
        executed = any(regions[key].runtime for key, _ in self.active)
        if executed:
            printed = self.execute(out)
            for key, _ in self.active:
                k = self.index[key]
                for tag in regions[key].runtime:
                    if (k, tag) in printed:         # absent: #ifdef'd out
                        raw[key]["rt:" + tag] = printed[(k, tag)]
        return raw, info, executed


    def attribute(self, diags, active, regions):
        """Map each error to the items whose regions it mentions."""
        files = {region_file(key): key for key, _ in active}
        functions = {}
        for key, _ in active:
            for fn in regions[key].functions:
                functions[fn] = key
        by_item: dict[str, list] = {}
        general = []
        for diag in diags:
            keys = []
            for path, _line in diag.places:
                key = files.get(path)
                if key and key not in keys:
                    keys.append(key)
            for fn in diag.functions:
                key = functions.get(fn)
                if key and key not in keys:
                    keys.append(key)
            if not keys:
                general.append(diag)
            for key in keys:
                by_item.setdefault(key, []).append(diag)
        return by_item, general

    @staticmethod
    def field_of(diag, key, region) -> str | None:
        name = region_file(key)
        for path, line in diag.places:
            if path == name and line in region.fields:
                return region.fields[line]
        return None

    def bisect(self, tmp, active, general):
        """Errors that name no item: find the items that cause them by compiling
        subsets (the prelude alone first).  Costs a few extra compiler runs, only
        in this rare case."""
        text = self.clean("\n".join(d.text for d in general))
        run, _, _ = self.compile(tmp, self.source([], {}, False), False, False)
        if not run.ok:
            out = {}
            for key, entry in active:
                out[key] = CompilationFailed(
                    f"configure item {key!r} ({entry.describe()}): the compilation "
                    f"info itself does not compile\n{indent(text)}", item=key,
                    cname=entry.cname, headers=self.headers, compiler_output=text)
            return out
        failures = {}

        def search(group):
            regions = self.regions(group)
            run, _, _ = self.compile(tmp, self.source(group, regions, False), False, False)
            if run.ok:
                return
            if len(group) == 1:
                key, entry = group[0]
                msg = self.clean(run.output.strip())
                failures[key] = entry.make_error(key, [], [], msg, self.headers)
                return
            half = len(group) // 2
            search(group[:half])
            search(group[half:])

        search(list(active))
        if not failures:       # the error needs several items together: blame all
            for key, entry in active:
                failures[key] = CompilationFailed(
                    f"configure item {key!r} ({entry.describe()}): does not compile "
                    f"together with the other items\n{indent(text)}", item=key,
                    cname=entry.cname, headers=self.headers, compiler_output=text)
        return failures

    def clean(self, text: str) -> str:
        return (text.replace(os.path.join(self.tmp, ""), "").replace("probe.c:", "<probe>:")
                .replace("has.c:", "<probe>:"))

    # -- results ----------------------------------------------------------

    def read_info(self, blob: bytes) -> dict:
        rec = read_record(blob, 0, "cc")
        version = bytes.fromhex(rec["p"]).rstrip(b"\0").decode("utf-8", "replace")
        ptr, long_, ldalign = rec["v"]
        return {"version": version, "sizeof_pointer": ptr, "sizeof_long": long_,
                "big_endian": rec["be"]}

    def execute(self, path: str) -> dict:
        cc.stats['probe_runs'] += 1
        try:
            proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProbeError(f"the probe program could not be run ({exc}); "
                             f"bit-field signedness needs it") from None
        if proc.returncode != 0:
            raise ProbeError(f"the probe program failed with exit code {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')}")
        printed = {}
        for line in proc.stdout.decode(errors='replace').splitlines():
            if not line.startswith("@pyctypes:"):
                continue
            mark, _, value = line.partition(" ")
            _, k, tag = mark.strip("@").split(":")
            printed[(int(k), tag)] = int(value)
        return printed


def read_record(blob: bytes, k: int, tag: str) -> dict:
    """The values of record (k, tag) from an object file or executable."""
    mark = marker(k, tag).encode().ljust(32, b"\0")
    pos = blob.find(mark)
    if pos < 0:
        raise ProbeError(f"record {marker(k, tag)} not found in the compiled probe")
    base = pos + 32
    head = blob[base:base + 8]
    if int.from_bytes(head, "little") == MAGIC:
        order = "little"
    elif int.from_bytes(head, "big") == MAGIC:
        order = "big"
    else:
        raise ProbeError(f"record {marker(k, tag)} is garbled in the compiled probe")

    def value(i):
        return int.from_bytes(blob[base + 8 * i: base + 8 * i + 8], order)

    n = value(1)
    values = [value(i) for i in range(n)]
    payload = None
    if values[3]:
        start = pos + values[2]
        payload = blob[start:start + values[3]].hex()
    return {"v": values[HEADER_VALUES:], "p": payload, "be": order == "big"}


def _error_limit(output: str) -> bool:
    """Did the compiler stop reporting errors early (clang's -ferror-limit)?"""
    return "too many errors emitted" in output or "compilation terminated" in output


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
