"""ExternalCompilationInfo: what a probe includes, and how it is compiled and linked."""

from __future__ import annotations

_ATTRIBUTES = ('pre_include_lines', 'includes', 'include_dirs',
               'post_include_lines', 'libraries', 'library_dirs',
               'separate_module_sources', 'separate_module_files',
               'compile_extra', 'link_extra')

# merge() keeps the first occurrence of these; the others are concatenated
_NO_DUPLICATES = frozenset(('includes', 'include_dirs', 'libraries',
                            'library_dirs', 'separate_module_sources',
                            'separate_module_files'))


class ExternalCompilationInfo:
    """The C context of a CConfig class (its `_compilation_info_`).

    pre_include_lines  -- lines put before the #includes (e.g. #define _GNU_SOURCE)
    includes           -- header names, each becomes #include <name>
    include_dirs       -- directories passed as -I
    post_include_lines -- lines put after the #includes (declarations, macros)
    libraries, library_dirs -- -l and -L, used when something must link
                          (Has/Works items, check_eci)
    separate_module_sources, separate_module_files -- extra C translation
                          units linked in with the libraries
    compile_extra, link_extra -- extra compiler / linker arguments (pyctypes
                          extension, e.g. ['-D_FILE_OFFSET_BITS=64'])
    """

    _ATTRIBUTES = _ATTRIBUTES

    def __init__(self, pre_include_lines=(), includes=(), include_dirs=(),
                 post_include_lines=(), libraries=(), library_dirs=(),
                 separate_module_sources=(), separate_module_files=(),
                 compile_extra=(), link_extra=()):
        values = locals()
        for name in _ATTRIBUTES:
            value = values[name]
            if isinstance(value, (str, bytes)) or not hasattr(value, '__iter__'):
                raise TypeError(f"ExternalCompilationInfo: {name} must be a list "
                                f"of strings, not {type(value).__name__}")
            value = tuple(str(v) for v in value)
            setattr(self, name, value)

    @classmethod
    def from_header(cls, c_header_source: str) -> 'ExternalCompilationInfo':
        """An ECI whose only content is the given C text (put before includes)."""
        return cls(pre_include_lines=c_header_source.split('\n'))

    def _value(self):
        return tuple(getattr(self, name) for name in _ATTRIBUTES)

    def __hash__(self):
        return hash(self._value())

    def __eq__(self, other):
        return type(self) is type(other) and self._value() == other._value()

    def __repr__(self):
        parts = [f"{name}={getattr(self, name)!r}" for name in _ATTRIBUTES
                 if getattr(self, name)]
        return f"<ExternalCompilationInfo ({', '.join(parts)})>"

    def merge(self, *others: 'ExternalCompilationInfo') -> 'ExternalCompilationInfo':
        """One ECI holding the content of self and others, in that order."""
        merged = {}
        for name in _ATTRIBUTES:
            values = []
            for eci in (self,) + others:
                for value in getattr(eci, name):
                    if name in _NO_DUPLICATES and value in values:
                        continue
                    values.append(value)
            merged[name] = values
        return ExternalCompilationInfo(**merged)

    def c_header(self) -> str:
        """The C text that starts every probe of this ECI."""
        lines = list(self.pre_include_lines)
        lines += [f"#include <{header}>" for header in self.includes]
        lines += list(self.post_include_lines)
        return "\n".join(lines) + "\n"

    def write_c_header(self, fileobj) -> None:
        fileobj.write(self.c_header())

    def header_names(self) -> tuple[str, ...]:
        """The headers this ECI includes, for error messages."""
        names = list(self.includes)
        for line in self.pre_include_lines + self.post_include_lines:
            stripped = line.strip()
            if stripped.startswith('#') and 'include' in stripped:
                rest = stripped.lstrip('#').strip()
                if rest.startswith('include'):
                    names.append(rest[len('include'):].strip().strip('<>"'))
        return tuple(names)

    def needs_linking(self) -> bool:
        return bool(self.libraries or self.separate_module_sources
                    or self.separate_module_files)
