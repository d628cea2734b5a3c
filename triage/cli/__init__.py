"""The ``triage`` command line: a thin layer of click commands over the library.

Each command module registers itself on :data:`main`; the commands parse their
arguments, make library calls and print. Errors from the library become clean
messages with a non-zero exit, never a traceback.
"""

from __future__ import annotations

from .app import main
from . import assess, rules  # noqa: F401,E402  (registers the commands)

__all__ = ["main"]
