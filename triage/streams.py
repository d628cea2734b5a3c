"""The standard streams of the ``triage`` command, made safe to use whatever state they are in.

Started with a standard stream closed (``>&-``, ``2>&-``, ``<&-``), Python sets
``sys.stdout`` (or the others) to None, and the next file opened takes the
closed descriptor: an output file could become "standard output" for anything
that prints, workers included. :func:`guard_standard_streams` puts
``/dev/null`` on each closed descriptor first, and then:

- a closed standard output refuses every write with an :class:`OutputError`
  (exit 3): a result that cannot be delivered is not a success;
- a closed standard error discards what is written to it (the exit status
  still tells);
- a closed standard input reads as empty (end of input).

Standard output is also wrapped so that a failing write (``> /dev/full``) is an
:class:`OutputError` naming it, not a traceback.
"""

from __future__ import annotations

import io
import os
import sys

from .errors import OutputError

STDOUT = "standard output"
_closed: set[str] = set()


def guard_standard_streams() -> None:
    """Make the three standard streams safe to use (see the module docstring); run once at start-up."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)  # takes the lowest free descriptor: this one
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            _closed.add(name)
    if "stdin" in _closed or sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")
    if "stderr" in _closed or sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if "stdout" in _closed or sys.stdout is None:
        sys.stdout = _ClosedOutput()
    elif sys.stdout is sys.__stdout__ and type(sys.stdout) is io.TextIOWrapper:  # not a test's capture
        sys.stdout = sys.__stdout__ = GuardedOutput(sys.stdout)


def stdout_closed() -> bool:
    """Whether standard output was closed when the command started."""
    return "stdout" in _closed


class GuardedOutput(io.TextIOWrapper):
    """Standard output whose write errors (a full disk) are :class:`OutputError`; a closed pipe stays BrokenPipeError."""

    def __init__(self, stream: io.TextIOWrapper):
        stream.flush()
        super().__init__(stream.detach(), encoding=stream.encoding, errors=stream.errors,
                         line_buffering=stream.line_buffering, write_through=False)

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"{STDOUT}: cannot write: {error.strerror or error}") from None

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"{STDOUT}: cannot write: {error.strerror or error}") from None


class _ClosedOutput(io.TextIOBase):
    """Standard output when it was closed: every write is an :class:`OutputError`."""

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OutputError(f"{STDOUT} is closed: the result cannot be delivered")

    def isatty(self) -> bool:
        return False
