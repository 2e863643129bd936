"""The exceptions of pyctypes.configure: one base class, one subclass per cause."""

from __future__ import annotations


class ConfigureError(Exception):
    """A configure step failed.

    Attributes (any may be None):
      item      -- the CConfig attribute name of the failing item
      cname     -- the C name the item asks about ('struct stat', 'O_RDONLY')
      headers   -- the headers of the compilation info, as a tuple
      compiler_output -- the compiler's own message for this item
      results   -- on an error raised by configure(): the answers of the items
                   that did work (a dict), so one bad item sinks nothing else
    """

    def __init__(self, message: str, *, item: str | None = None,
                 cname: str | None = None, headers=(),
                 compiler_output: str | None = None):
        super().__init__(message)
        self.item = item
        self.cname = cname
        self.headers = tuple(headers)
        self.compiler_output = compiler_output
        self.results: dict | None = None


class CompilerNotFound(ConfigureError):
    """No C compiler could be run."""


class HeaderNotFound(ConfigureError):
    """A header of the compilation info does not exist (`header` names it)."""

    def __init__(self, message: str, *, header: str | None = None, **kw):
        super().__init__(message, **kw)
        self.header = header


class ItemError(ConfigureError):
    """An item does not compile: the name it asks about is not what it says."""


class TypeNotFound(ItemError):
    """The struct, union or type named by an item does not exist."""


class FieldNotFound(ItemError):
    """A field named in a Struct's hints is not a member of the C type."""

    def __init__(self, message: str, *, field: str | None = None, **kw):
        super().__init__(message, **kw)
        self.field = field


class NameNotFound(ItemError):
    """A constant, macro or function named by an item is not declared."""


class CompilationFailed(ConfigureError):
    """The compilation info itself does not compile (an error outside items)."""


class LinkError(ConfigureError):
    """Linking the probe failed (a missing library, an undefined symbol)."""


class LayoutError(ConfigureError):
    """ctypes cannot express the C layout (e.g. a 32-byte aligned struct)."""


class ProbeError(ConfigureError):
    """The probe's results could not be read back (an internal failure)."""


class LayoutMismatch(ConfigureError):
    """check_layout(strict=True) found a difference; `report` holds them all."""

    def __init__(self, report):
        super().__init__(str(report), cname=report.cname)
        self.report = report


class ConfigureErrors(ConfigureError):
    """Several items failed; `errors` maps each item name to its exception."""

    def __init__(self, errors: dict[str, ConfigureError]):
        self.errors = dict(errors)
        lines = [f"{len(errors)} configure items failed:"]
        for err in errors.values():
            lines.append("")
            lines.append(str(err))
        super().__init__("\n".join(lines))
