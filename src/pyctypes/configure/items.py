"""The items of a CConfig class: what each asks the compiler and how its answer
becomes a Python value.

Every item writes its own region of the probe (`region`), may adjust itself
after an error (`adjust`: a field that turns out to be a bit-field), names its
error (`make_error`) and builds its result from the values the compiler put in
the object file (`build_result`).
"""

from __future__ import annotations

import ctypes as _stdlib_ctypes
import os
import re

from . import probe as P
from .errors import (ConfigureError, FieldNotFound, ItemError, LinkError,
                     NameNotFound, TypeNotFound)
from .typebuild import (BitMember, Desc, Member, bits_from_image, build_record,
                        resolve_type)


class CConfigEntry:
    """An item answered by the configure() probe."""

    needs_link = False           # answered by linking when the ECI has libraries
    needs_probe = True           # False: answered without the compiler (Library)
    separate_unit = False        # compiled in a translation unit of its own
    cname = ""

    def describe(self) -> str:
        return f"{type(self).__name__} {self.cname!r}"

    def init_state(self, state: dict) -> None:
        pass

    def export_state(self, state: dict) -> dict:
        return {}

    def region(self, k: int, state: dict) -> P.Region:
        raise NotImplementedError

    def adjust(self, state, diags, places) -> bool:
        """Change the item after compile errors; True if it should be tried again."""
        return False

    def make_error(self, key, diags, places, text, headers) -> ConfigureError:
        return item_error(self, key, diags, text, headers)

    def failed_result(self, error: ConfigureError):
        """The answer of an item that failed; by default the error is raised."""
        raise error

    def build_result(self, raw: dict, ctx):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.cname!r}>"


class CConfigSingleEntry(CConfigEntry):
    """An item answered by whether something compiles (Has, Works)."""


def _ifdef(lines, ifdef, otherwise):
    if ifdef is None:
        return lines
    return [f"#ifdef {ifdef}"] + lines + ["#else"] + otherwise + ["#endif"]


def _signed_value(negative, value):
    return value - (1 << 64) if negative else value


# ---------------------------------------------------------------------------

class Struct(CConfigEntry):
    """A struct (or typedef'd struct) of the headers, built as a ctypes Structure.

    interesting_fields: [(name, ctype_hint)] or [(name, ctype_hint, bit_width)];
    the hint may also be another Struct item of the same CConfig.  Each field
    gets its true offset, size and signedness; other bytes become padding.
    """

    is_union = False

    def __init__(self, name, interesting_fields, ifdef=None, *, optional_fields=()):
        self.name = self.cname = name
        self.interesting_fields = list(interesting_fields)
        self.ifdef = ifdef
        self.fields = []
        for spec in self.interesting_fields:
            if len(spec) == 2:
                self.fields.append((spec[0], spec[1], None))
            elif len(spec) == 3:
                self.fields.append((spec[0], spec[1], spec[2]))
            else:
                raise TypeError(f"{type(self).__name__} {name!r}: a field is "
                                f"(name, type) or (name, type, bits), not {spec!r}")
        self.fields += [(f, None, None) for f in optional_fields]
        self.optional = set(optional_fields)

    def init_state(self, state):
        state["bits"] = {f for f, _, w in self.fields if w is not None}
        state["flex"] = set()           # flexible array members: `char name[];`
        state["dropped"] = set()

    def export_state(self, state):
        return {key: sorted(state[key]) for key in ("bits", "flex", "dropped")}

    def region(self, k, state):
        t = f"__pyc_t{k}"
        body = [f"typedef {self.name} {t};",
                f"struct __pyc_w{k} {{ char c; {t} s; }};",
                P.record(k, "s", [1, f"sizeof({t})", f"__builtin_offsetof(struct __pyc_w{k}, s)"])]
        fields = {}
        records = ["s"]
        bitfields = []
        first = 1 if self.ifdef is None else 2
        for j, (fname, _hint, _w) in enumerate(self.fields):
            if fname in state["dropped"]:
                continue
            if fname in state["bits"]:
                body.append(P.record(k, f"b{j}", [], f"{t} p", f"{{ .{fname} = -1 }}"))
                records.append(f"b{j}")
                bitfields.append((j, fname))
            elif fname in state["flex"]:
                typedefs, desc = P.type_desc(f"__pyc_f{k}_{j}", f"(({t} *)0)->{fname}[0]")
                body.append(typedefs + " " + P.record(
                    k, f"x{j}", [f"__builtin_offsetof({t}, {fname})"] + desc))
                records.append(f"x{j}")
            else:
                typedefs, desc = P.type_desc(f"__pyc_f{k}_{j}", f"(({t} *)0)->{fname}")
                body.append(typedefs + " " + P.record(
                    k, f"f{j}", [f"__builtin_offsetof({t}, {fname})"] + desc))
                records.append(f"f{j}")
            fields[first + len(body) - 1] = fname
        runtime, rt_function = [], None
        if bitfields:
            rt_function = f"__pyc_rt_{k}"
            body.append(f"void {rt_function}(void) {{")
            for j, fname in bitfields:
                body.append(f"  {{ {t} s; __builtin_memset(&s, 0, sizeof s); "
                            f"s.{fname} = -1; {P.runtime_print(k, f'b{j}', f's.{fname} < 0')} }}")
                fields[first + len(body) - 1] = fname
                runtime.append(f"b{j}")
            body.append("}")
        otherwise = [P.record(k, "s", [0, 0, 0])]
        if rt_function:
            otherwise.append(f"void {rt_function}(void) {{ }}")
        lines = _ifdef(body, self.ifdef, otherwise)
        if self.ifdef is None:
            return P.Region(lines, fields, records, [], runtime, rt_function)
        return P.Region(lines, fields, ["s"], records[1:], runtime, rt_function)

    def adjust(self, state, diags, places):
        changed, handled = False, set()
        for diag, fname in zip(diags, places):
            if fname is None:
                return False
            if fname in handled:
                continue
            if "bit-field" in diag.text and fname not in state["bits"]:
                state["bits"].add(fname)
            elif ("incomplete type" in diag.text and "[]'" in diag.text
                    and fname not in state["flex"] and fname not in state["bits"]):
                state["flex"].add(fname)
            elif fname in self.optional and fname not in state["dropped"]:
                state["dropped"].add(fname)
            else:
                return False
            handled.add(fname)
            changed = True
        return changed

    def build_result(self, raw, ctx):
        info = raw["s"]["v"]
        if not info[0]:
            return None
        size, align = info[1], info[2]
        ct = ctx.ct
        be = raw["s"]["be"]
        members = []
        for j, (fname, hint, width) in enumerate(self.fields):
            if f"b{j}" in raw:
                image = bytes.fromhex(raw[f"b{j}"]["p"])
                lo, width = bits_from_image(image, be)
                signed = raw.get(f"rt:b{j}")
                if signed is None:       # the probe could not run: trust the hint
                    signed = hint is not None and hint(-1).value < 0
                members.append(BitMember(fname, lo, width, bool(signed)))
            elif f"f{j}" in raw or f"x{j}" in raw:
                values = raw.get(f"f{j}", raw.get(f"x{j}"))["v"]
                desc = Desc.from_values(values[1:])
                if f"x{j}" in raw:          # flexible array: a zero-length array
                    desc = Desc.flexible(desc)
                tp = resolve_type(ct, desc, ctx.hint(hint),
                                  where=f"{self.name}.{fname}")
                members.append(Member(fname, values[0], tp, ct.sizeof(tp)))
        return build_record(ct, self.class_name(), self.is_union, size, align, members, be)

    def class_name(self):
        name = self.name.strip()
        for prefix in ("struct ", "union "):
            if name.startswith(prefix):
                name = name[len(prefix):].strip()
        return name or "anonymous"

    def make_error(self, key, diags, places, text, headers):
        for diag, fname in zip(diags, places):
            if fname is not None and "has no member" in diag.text:
                return FieldNotFound(
                    f"configure item {key!r} ({self.describe()}): {self.name} has no "
                    f"member {fname!r}{_with(headers)}\n{P.indent(text)}",
                    field=fname, item=key, cname=self.name, headers=headers,
                    compiler_output=text)
        return item_error(self, key, diags, text, headers)


class Union(Struct):
    """A union of the headers, built as a ctypes Union (pyctypes extension)."""
    is_union = True


class SimpleType(CConfigEntry):
    """A numeric type of the headers (size_t, off_t, ...) as the ctypes type of
    the same size, signedness and kind; the hint is kept when it agrees."""

    def __init__(self, name, ctype_hint=_stdlib_ctypes.c_int, ifdef=None):
        self.name = self.cname = name
        self.ctype_hint = ctype_hint
        self.ifdef = ifdef

    def region(self, k, state):
        t = f"__pyc_t{k}"
        typedefs, desc = P.type_desc(f"__pyc_f{k}", f"*({t} *)0")
        body = [f"typedef {self.name} {t};", typedefs, P.record(k, "t", [1] + desc)]
        return P.Region(_ifdef(body, self.ifdef, [P.record(k, "t", [0] * 21)]),
                        records=["t"])

    def build_result(self, raw, ctx):
        values = raw["t"]["v"]
        if not values[0]:
            return None
        return resolve_type(ctx.ct, Desc.from_values(values[1:]), ctx.hint(self.ctype_hint),
                            where=self.name)


class ConstantInteger(CConfigEntry):
    """The value of an integer constant expression (a macro, an enum member)."""

    def __init__(self, name):
        self.name = self.cname = name

    def region(self, k, state):
        return P.Region([P.record(k, "v", [f"({self.name}) < 0", f"({self.name})"])],
                        records=["v"])

    def build_result(self, raw, ctx):
        negative, value = raw["v"]["v"]
        return _signed_value(negative, value)


class DefinedConstantInteger(CConfigEntry):
    """The value of an integer macro, or None if it is not #defined."""

    def __init__(self, macro):
        self.name = self.macro = self.cname = macro

    def region(self, k, state):
        body = [P.record(k, "v", [1, f"({self.macro}) < 0", f"({self.macro})"])]
        return P.Region(_ifdef(body, self.macro, [P.record(k, "v", [0, 0, 0])]),
                        records=["v"])

    def build_result(self, raw, ctx):
        defined, negative, value = raw["v"]["v"]
        return _signed_value(negative, value) if defined else None


class DefinedConstantString(CConfigEntry):
    """The value of a string macro, or None if it is not #defined."""

    def __init__(self, macro):
        self.name = self.macro = self.cname = macro

    def region(self, k, state):
        body = [P.record(k, "v", [1], f"char p[sizeof({self.macro})]", f"{self.macro}")]
        return P.Region(_ifdef(body, self.macro, [P.record(k, "v", [0])]), records=["v"])

    def build_result(self, raw, ctx):
        rec = raw["v"]
        if not rec["v"][0]:
            return None
        data = bytes.fromhex(rec["p"] or "")
        if data.endswith(b"\0"):
            data = data[:-1]
        return data.decode("utf-8", "surrogateescape")


class Defined(CConfigEntry):
    """True if the macro is #defined."""

    def __init__(self, macro):
        self.name = self.macro = self.cname = macro

    def region(self, k, state):
        return P.Region(_ifdef([P.record(k, "v", [1])], self.macro, [P.record(k, "v", [0])]),
                        records=["v"])

    def build_result(self, raw, ctx):
        return bool(raw["v"]["v"][0])


class SizeOf(CConfigEntry):
    """sizeof(name) for any type, opaque ones included."""

    def __init__(self, name):
        self.name = self.cname = name

    def region(self, k, state):
        return P.Region([P.record(k, "v", [f"sizeof({self.name})"])], records=["v"])

    def build_result(self, raw, ctx):
        return raw["v"]["v"][0]


class Has(CConfigSingleEntry):
    """True if `name;` compiles (the name is declared) and, when the compilation
    info has libraries, the probe links.  Answered by the same single probe."""

    needs_link = True
    separate_unit = True

    def __init__(self, name):
        self.name = self.cname = name

    def region(self, k, state):
        fn = f"__pyc_has_{k}"
        return P.Region([f"void {fn}(void) {{", f"{self.name};", "}"], functions=[fn])

    def build_result(self, raw, ctx):
        return True

    def failed_result(self, error):
        return False


class Works(CConfigSingleEntry):
    """True if the compilation info compiles and links."""

    needs_link = True
    cname = "(compilation info)"

    def region(self, k, state):
        return P.Region([])

    def build_result(self, raw, ctx):
        return True

    def failed_result(self, error):
        return False


class Library(CConfigEntry):
    """A shared library, found on library_dirs or the system's search path and
    loaded with the ctypes module's CDLL."""

    needs_probe = False

    def __init__(self, name):
        self.name = self.cname = name

    def region(self, k, state):
        return P.Region([])

    def build_result(self, raw, ctx):
        path = find_library(self.name, ctx.eci.library_dirs)
        if path is None:
            raise LinkError(f"configure item {ctx.key!r} ({self.describe()}): library "
                            f"{self.name!r} not found", item=ctx.key, cname=self.name)
        return ctx.ct.CDLL(path)


def find_library(name, library_dirs=()):
    for d in library_dirs:
        for fname in sorted(os.listdir(d)) if os.path.isdir(d) else ():
            if re.fullmatch(rf"lib{re.escape(name)}\.(so(\.[0-9.]+)?|dylib|dll)", fname):
                return os.path.join(d, fname)
    if os.path.sep in name and os.path.exists(name):
        return name
    import ctypes.util
    return ctypes.util.find_library(name)


# ---------------------------------------------------------------------------

def _with(headers):
    return f" (with {', '.join(f'<{h}>' for h in headers)})" if headers else ""


def item_error(entry, key, diags, text, headers) -> ConfigureError:
    """The right ConfigureError subclass for an item's compile errors."""
    msg = " ".join(d.message for d in diags)
    cname = entry.cname
    if re.search(r"incomplete type|unknown type name|storage size of .* isn't known"
                 r"|expected .*before|has an incomplete type|undefined type", msg):
        incomplete = "incomplete type" in msg
        what = ("is an incomplete type (declared but not defined)" if incomplete
                else "is not a known type")
        cls, summary = TypeNotFound, f"{cname!r} {what}"
    elif "has no member" in msg:
        cls, summary = FieldNotFound, "a field is not a member"
    elif "undeclared" in msg or "not declared" in msg or "undeclared identifier" in msg:
        cls, summary = NameNotFound, f"{cname!r} is not declared"
    else:
        cls, summary = ItemError, "does not compile"
    return cls(f"configure item {key!r} ({entry.describe()}): {summary}{_with(headers)}"
               f"\n{P.indent(text)}", item=key, cname=cname, headers=headers,
               compiler_output=text)
