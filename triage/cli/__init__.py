"""The ``triage`` command line: a thin layer of click commands over the library.

Each command module registers itself on :data:`main`; the commands parse their
arguments, make library calls and print. Errors from the library become clean
messages with a non-zero exit, never a traceback.
"""

from __future__ import annotations

from ..streams import guard_standard_streams
from .app import main

guard_standard_streams()  # before anything prints: closed or failing standard streams (see triage.streams)
# Importing a command module registers its commands on main (one line each).
# isort: off
from . import ask  # noqa: F401,E402
from . import assess  # noqa: F401,E402
from . import audit  # noqa: F401,E402
from . import batch  # noqa: F401,E402
from . import questions  # noqa: F401,E402
from . import rules  # noqa: F401,E402
from . import schema  # noqa: F401,E402
from . import serve  # noqa: F401,E402
# isort: on

__all__ = ["main"]
