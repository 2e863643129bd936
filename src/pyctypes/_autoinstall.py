"""Bind the processes that a program on pyctypes starts: its children run on pyctypes too.

`pyctypes.install()` (and so `python -m pyctypes run/-m`) sets PYCTYPES_INSTALL=1
in the environment, which every process it starts inherits.  The file
`pyctypes-autoinstall.pth`, which pyctypes' wheel puts into site-packages,
imports this module when a new interpreter starts and finds the variable set;
this module then installs pyctypes before anything imports `ctypes`.  That is
how multiprocessing's spawn and forkserver children -- fresh interpreters, not
copies of the parent -- run on pyctypes like their parent.  Without the
variable the `.pth` line imports nothing.
"""

import os
import sys

ENV_VAR = "PYCTYPES_INSTALL"


def _autoinstall():
    if os.environ.get(ENV_VAR) != "1":
        return
    try:
        from pyctypes._binding import install
        install()
    except Exception as exc:        # never stop the interpreter from starting
        print(f"pyctypes: {ENV_VAR}=1 but binding ctypes to pyctypes failed: {exc!r}",
              file=sys.stderr)


_autoinstall()
