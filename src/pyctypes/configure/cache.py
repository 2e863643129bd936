"""The cache of probe results, so a program's second run compiles nothing.

An entry is found by a key made of everything that goes into the compiler
without being a header: the compiler (each executable of its command, resolved,
with size and modification time), its flags, the environment variables it
reads, the compilation info and the probe's source.  The entry then lists every
file the compiler read (its -MD dependency output: system headers included) with
a hash of the contents; it is used only if all of them are unchanged.

Location: $XDG_CACHE_HOME/pyctypes/configure (default ~/.cache/...).
PYCTYPES_CONFIGURE_CACHE=0 turns it off; configure(cache=False) too, and
configure(cache="/some/dir") uses another directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

FORMAT = 1


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyctypes" / "configure"


def get_cache(setting=None) -> 'Cache | None':
    """The cache to use for a `cache=` argument (None: the environment decides)."""
    if setting is False:
        return None
    if setting is None or setting is True:
        env = os.environ.get("PYCTYPES_CONFIGURE_CACHE", "").strip().lower()
        if env in ("0", "off", "no", "false") and setting is None:
            return None
        if env and env not in ("0", "1", "on", "yes", "true", "off", "no", "false"):
            return Cache(Path(env))          # a directory given in the variable
        return Cache(default_directory())
    return Cache(Path(setting))


def file_hash(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


class Cache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @staticmethod
    def key(material) -> str:
        text = json.dumps([FORMAT, material], sort_keys=True, default=repr)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str):
        """The stored payload if the entry exists and no file it read changed."""
        try:
            with open(self.path(key), encoding="utf-8") as f:
                entry = json.load(f)
        except (OSError, ValueError):
            return None
        if entry.get("format") != FORMAT:
            return None
        for path, digest in entry.get("deps", {}).items():
            if file_hash(path) != digest:
                return None
        return entry.get("payload")

    def store(self, key: str, deps, payload) -> None:
        digests = {}
        for dep in deps:
            digest = file_hash(dep)
            if digest is None:
                return                     # a file vanished: do not cache
            digests[os.path.abspath(dep)] = digest
        entry = {"format": FORMAT, "deps": digests, "payload": payload}
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, target)
        except OSError:
            pass                           # a read-only home: just do not cache

    def clear(self) -> None:
        import shutil
        shutil.rmtree(self.directory, ignore_errors=True)
