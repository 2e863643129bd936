"""pyctypes.configure: sizes, layouts and constants read from the real C headers.

The API of ctypes-configure 0.1 (same names, same meanings), plus:
one compiler run per configure() call, failing items isolated and named, a
cache keyed by the headers' contents, check_layout() for hand-written
Structures, and code generation (python -m pyctypes configure spec.py -o out.py).
"""

from .core import (check_eci, config_entries, configure, eci_from_header,
                   getconstantinteger, getdefined, getsimpletype, getstruct, has,
                   memory_alignment, sizeof)
from .eci import ExternalCompilationInfo
from .errors import (CompilationFailed, CompilerNotFound, ConfigureError,
                     ConfigureErrors, FieldNotFound, HeaderNotFound, ItemError,
                     LayoutError, LayoutMismatch, LinkError, NameNotFound,
                     ProbeError, TypeNotFound)
from .items import (CConfigEntry, CConfigSingleEntry, ConstantInteger, Defined,
                    DefinedConstantInteger, DefinedConstantString, Has, Library,
                    SimpleType, SizeOf, Struct, Union, Works)
from .layout import LayoutReport, Mismatch, check_layout
from .typebuild import ConfigureWarning

__all__ = [
    'configure', 'ExternalCompilationInfo', 'eci_from_header',
    'CConfigEntry', 'CConfigSingleEntry', 'Struct', 'Union', 'SimpleType',
    'ConstantInteger', 'DefinedConstantInteger', 'DefinedConstantString',
    'Defined', 'Has', 'Works', 'SizeOf', 'Library',
    'getstruct', 'getsimpletype', 'getconstantinteger', 'getdefined', 'has',
    'check_eci', 'sizeof', 'memory_alignment',
    'check_layout', 'LayoutReport', 'Mismatch',
    'ConfigureError', 'ConfigureErrors', 'CompilerNotFound', 'HeaderNotFound',
    'ItemError', 'TypeNotFound', 'FieldNotFound', 'NameNotFound',
    'CompilationFailed', 'LinkError', 'LayoutError', 'ProbeError',
    'LayoutMismatch', 'ConfigureWarning',
]
