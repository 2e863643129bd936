"""The member names of a C struct or union, read from the preprocessed headers.

check_layout needs the C members a hand-written Structure may have missed.  The
compiler cannot list them, so they are read from the preprocessor's output with
a small declaration reader; it may be wrong on exotic declarations, which is
harmless: every name it finds is then checked by the compiler in the probe, and
names that are not members are dropped.
"""

from __future__ import annotations

import os
import re
import tempfile

from . import compiler as cc
from .cache import get_cache

_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|[A-Za-z_]\w*|\d[\w.]*'
                    r'|->|\.\.\.|\S')

_NOT_NAMES = frozenset("""
    auto break case char const continue default do double else enum extern float
    for goto if inline int long register restrict return short signed sizeof static
    struct switch typedef union unsigned void volatile while _Bool _Complex _Atomic
    _Alignas _Noreturn _Thread_local __restrict __restrict__ __const __volatile__
    __signed__ __inline __extension__ __int128 __attribute__ __asm__ __thread
    __float128 _Float128 _Float64 _Float32 _Float64x __complex__ __typeof__ typeof
""".split())

_SKIP_CALLS = ("__attribute__", "__attribute", "_Alignas", "__asm__", "__asm",
               "__declspec", "_Static_assert", "__alignas", "alignas")


def tokenize(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return _TOKEN.findall("\n".join(lines))


def _match(toks, i):
    """Index of the bracket closing toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    opening = toks[i]
    closing = pairs[opening]
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] == opening:
            depth += 1
        elif toks[j] == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _strip(toks):
    """Drop attributes, __extension__, _Alignas(...) and the like."""
    out = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok in _SKIP_CALLS and i + 1 < len(toks) and toks[i + 1] == "(":
            i = _match(toks, i + 1) + 1
            continue
        if tok == "__extension__":
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def _split(toks, sep):
    parts, current, depth = [], [], 0
    for tok in toks:
        if tok in "({[":
            depth += 1
        elif tok in ")}]":
            depth -= 1
        if tok == sep and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(tok)
    if current:
        parts.append(current)
    return parts


def _is_name(tok):
    return re.fullmatch(r"[A-Za-z_]\w*", tok) is not None and tok not in _NOT_NAMES


def declarator_name(toks) -> str | None:
    toks = _strip(toks)
    for stop in (":", "="):
        parts = _split(toks, stop)
        toks = parts[0] if parts else []
    for i, tok in enumerate(toks):
        if tok == "(" and i + 1 < len(toks) and toks[i + 1] in ("*", "^"):
            end = _match(toks, i)
            return declarator_name(toks[i + 1:end])
    depth = 0
    for i, tok in enumerate(toks):
        if tok in "([" and depth == 0:
            toks = toks[:i]
            break
    names = [t for t in toks if _is_name(t)]
    return names[-1] if names else None


def member_names(body) -> list[str]:
    """The names of the members declared in a struct body (anonymous members'
    names included, as C makes them accessible)."""
    names = []
    for decl in _split(body, ";"):
        decl = _strip(decl)
        if not decl:
            continue
        if decl[0] in ("struct", "union", "enum") and "{" in decl:
            start = decl.index("{")
            end = _match(decl, start)
            rest = decl[end + 1:]
            if decl[0] != "enum" and not any(_is_name(t) for t in rest):
                names += member_names(decl[start + 1:end])
                continue
            declarators = _split(rest, ",")
        else:
            declarators = _split(decl, ",")
        for d in declarators:
            name = declarator_name(d)
            if name and name not in names:
                names.append(name)
    return names


def find_body(toks, cname: str, depth: int = 0):
    """The tokens of the body of `struct x`, `union x` or a typedef name."""
    words = cname.split()
    if depth > 8:
        return None
    if len(words) == 2 and words[0] in ("struct", "union"):
        kw, tag = words
        for i in range(len(toks) - 2):
            if toks[i] == kw and toks[i + 1] == tag and toks[i + 2] == "{":
                return toks[i + 3:_match(toks, i + 2)]
        return None
    if len(words) != 1:
        return None
    name = words[0]
    i = 0
    while i < len(toks):
        if toks[i] != "typedef":
            i += 1
            continue
        j = i
        level = 0
        while j < len(toks) and not (toks[j] == ";" and level == 0):
            if toks[j] in "({[":
                level += 1
            elif toks[j] in ")}]":
                level -= 1
            j += 1
        decl = _strip(toks[i + 1:j])
        i = j + 1
        body = spec = None
        declarators = decl
        if "{" in decl:
            start = decl.index("{")
            end = _match(decl, start)
            body = decl[start + 1:end]
            spec, declarators = decl[:start], decl[end + 1:]
        names = [declarator_name(d) for d in _split(declarators, ",")]
        if name not in names:
            continue
        if body is not None:
            return body if spec and spec[0] in ("struct", "union") else None
        first = _split(decl, ",")[0]
        if len(first) >= 3 and first[0] in ("struct", "union"):
            return find_body(toks, f"{first[0]} {first[1]}", depth + 1)
        base = [t for t in first if _is_name(t) and t != name]
        if base:
            return find_body(toks, base[-1], depth + 1)
    return None


def c_members(eci, cname: str, compiler: cc.Compiler, cache=None) -> list[str]:
    """The member names of `cname` (cached like probes; [] if not found)."""
    store = get_cache(cache)
    key = None
    if store is not None:
        key = store.key({"members": cname, "compiler": compiler.fingerprint(),
                         "flags": list(compiler.flags),
                         "env": {k: os.environ.get(k) for k in cc.ENV_INPUTS},
                         "eci": [list(getattr(eci, a)) for a in eci._ATTRIBUTES]})
        hit = store.load(key)
        if hit is not None:
            return hit
    with tempfile.TemporaryDirectory(prefix="pyctypes-configure-") as tmp:
        with open(os.path.join(tmp, "members.c"), "w") as f:
            f.write(eci.c_header())
        args = list(compiler.flags) + [f"-I{os.path.abspath(d)}" for d in eci.include_dirs]
        args += list(eci.compile_extra) + ["-E", "-P", "members.c", "-o", "members.i",
                                            "-MD", "-MF", "members.d"]
        run = compiler.run(args, cwd=tmp)
        if not run.ok:
            return []
        with open(os.path.join(tmp, "members.i"), encoding="utf-8", errors="replace") as f:
            text = f.read()
        deps = [os.path.normpath(os.path.join(tmp, d))
                for d in cc.read_depfile(os.path.join(tmp, "members.d"))]
        deps = [d for d in deps if not d.startswith(os.path.join(tmp, ""))]
    body = find_body(tokenize(text), " ".join(cname.split()))
    names = member_names(body) if body is not None else []
    if store is not None and deps:
        store.store(key, deps, names)
    return names
