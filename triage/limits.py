"""The limits on what triage reads: the input size, nesting depth, number length, YAML aliases.

They exist so that no input, however large or hostile, can exhaust memory or
reach Python's own limits (a ``RecursionError``, a ``ValueError`` from ``int``):
each is refused as a :class:`~triage.CaseError` by :mod:`triage.reading` instead.
"""

from __future__ import annotations

import os

from .errors import TriageError
from .text import quoted

DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # cases nest 2 levels, FHIR responses about 6, rule files about 12
MAX_INTEGER_DIGITS = 32
MAX_YAML_NODES = 1_000_000  # what a knowledge-base file's aliases may expand to
QUOTE_CHARS = 80  # characters of the input a message quotes at most
KNOWLEDGE_BASE_BYTES = 64 * 1024 * 1024  # each knowledge-base file: not tied to the case limit

_limit: list[int | None] = [None]  # set on first use, from TRIAGE_MAX_INPUT_BYTES or the default


def max_input_bytes() -> int:
    """The largest input read: a JSON or YAML file, standard input for one case, a JSONL line, a CSV row.

    ``TRIAGE_MAX_INPUT_BYTES`` (a whole number of bytes) sets it; a value that is
    not one is a :class:`TriageError`, not silently the default.
    """
    if _limit[0] is None:
        text = os.environ.get("TRIAGE_MAX_INPUT_BYTES", "").strip()
        if text and not (text.isascii() and text.isdigit() and 0 < int(text[:18] or 0)):
            raise TriageError(f"TRIAGE_MAX_INPUT_BYTES: {quoted(text)} is not a whole number of bytes")
        _limit[0] = int(text[:18]) if text else DEFAULT_MAX_INPUT_BYTES
    return _limit[0]


def set_max_input_bytes(limit: int) -> None:
    """Change :func:`max_input_bytes` (``--max-input-size``, or ``TRIAGE_MAX_INPUT_BYTES``)."""
    if limit < 1:
        raise ValueError("the input size limit must be at least 1 byte")
    _limit[0] = limit


def too_big(limit: int | None = None) -> str:
    """The message for an input over the size limit."""
    limit = limit or max_input_bytes()
    return f"larger than the input size limit of {limit:,} bytes (--max-input-size or TRIAGE_MAX_INPUT_BYTES raises it)"
