"""The native core as the Python level sees it, and the switch for fast paths.

PYCTYPES_PURE=1 in the environment turns every fast path off: the Python level
then executes everything itself from its plans (DESIGN.md, "one behaviour, two
paths").
"""

import os

from .. import _rawffi as raw

PURE = os.environ.get("PYCTYPES_PURE", "") not in ("", "0")

__all__ = ["raw", "PURE"]
