"""Reading every file triage reads, strictly: JSON, JSON lines, YAML and CSV.

(Files of many records are cut into lines and CSV rows by :mod:`triage.rows`; the
parsers themselves are :mod:`triage.strict_json` and :mod:`triage.strict_yaml`, the
limits :mod:`triage.limits`. Every name is importable from here.)

Cases, vignettes, rule files, questions, the catalogue and ``kb.yaml`` all pass
here, so one set of rules holds for all of them. What is refused, and why:

- a mapping that repeats a key (``{"fever": true, "fever": false}``): "last one
  wins" could silently drop a red flag;
- a key that is not text (YAML ``1:``, ``? [a]``, ``yes:``);
- YAML anchors and aliases (``&a`` / ``*a``) in cases and vignettes: no case
  needs them, and nested aliases expand exponentially ("billion laughs").
  Knowledge-base files may use them (``yaml.safe_dump`` writes them), up to
  :data:`MAX_YAML_NODES` values once expanded;
- nesting deeper than :data:`MAX_DEPTH`, and whole numbers longer than
  :data:`MAX_INTEGER_DIGITS` digits (before Python's own limits turn them into a
  ``RecursionError`` or ``ValueError``);
- ``NaN`` and ``Infinity`` in JSON, text that is not UTF-8, and lone surrogates
  (``"\\ud800"``), which are not text at all;
- an input larger than the limit (:func:`max_input_bytes`, 16 MiB unless raised):
  a JSON or YAML file read whole, standard input for one case, a JSONL line, a CSV row.

Every refusal is a :class:`CaseError` naming the source (``file:line`` when the
line is known) and the key. Messages quote at most :data:`QUOTE_CHARS` characters
of what they echo, with control characters escaped.
"""

from __future__ import annotations

import codecs
import os
from typing import IO, Any

from .errors import CaseError
from .limits import (
    DEFAULT_MAX_INPUT_BYTES,
    KNOWLEDGE_BASE_BYTES,
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    MAX_YAML_NODES,
    QUOTE_CHARS,
    max_input_bytes,
    set_max_input_bytes,
    too_big,
)
from .strict_json import check_text, parse_json
from .strict_yaml import parse_yaml

__all__ = [  # the parsers and limits are read here, where every file passes
    "DEFAULT_MAX_INPUT_BYTES", "KNOWLEDGE_BASE_BYTES", "MAX_DEPTH", "MAX_INTEGER_DIGITS", "MAX_YAML_NODES", "QUOTE_CHARS",
    "check_text", "decode", "describe_os_error", "display_name", "max_input_bytes", "parse_document", "parse_json",
    "parse_json_line", "parse_yaml", "read_bytes", "read_document", "read_stream", "set_max_input_bytes", "too_big",
]


# ---------------------------------------------------------------------------
# Bytes and text


def read_bytes(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of a file (at most the size limit), or :class:`CaseError` saying why it cannot be read."""
    limit = limit or max_input_bytes()
    name = display_name(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise CaseError([describe_os_error(error)], name) from None
    if len(data) > limit:
        raise CaseError([too_big(limit)], name)
    return data


def read_stream(handle: IO[bytes], name: str, limit: int | None = None) -> bytes:
    """All of a binary stream (standard input), at most the size limit."""
    limit = limit or max_input_bytes()
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise CaseError([too_big(limit)], name)
    return data


def describe_os_error(error: OSError) -> str:
    """Why a file could not be read, in a few words."""
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, PermissionError):
        return "cannot read file: permission denied"
    return f"cannot read file: {error.strerror or error}"


def display_name(path: str | os.PathLike) -> str:
    """A file name as text that can always be printed: undecodable bytes as ``\\xNN``."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace")


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a byte-order mark dropped); anything else is a :class:`CaseError` naming the line."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CaseError(["the file is UTF-16; save it as UTF-8"], source)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CaseError([f"cannot read file: not UTF-8 text (line {line}, byte 0x{data[error.start]:02x})"], source) from None


# ---------------------------------------------------------------------------
# Documents: one file, JSON or YAML


def parse_document(text: str, source: str, suffix: str = "") -> Any:
    """Parse a document as JSON (``.json``, or no suffix and it starts with ``{`` or ``[``) or else YAML."""
    text = text.removeprefix("\ufeff")
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("[", "{")):
        return parse_json(text, source)
    return parse_yaml(text, source)


def read_document(path: str | os.PathLike, stdin: IO[bytes] | None = None, parse=None) -> tuple[Any, str]:
    """Read and parse one JSON or YAML file (``-`` is standard input); return (data, source name).

    ``parse`` is :func:`parse_document` unless given (``triage.list_items.parse_cases``
    for a list of cases, read item by item when one is refused).
    """
    parse = parse or parse_document
    if str(path) == "-":
        import sys

        handle = stdin if stdin is not None else sys.stdin.buffer if sys.stdin is not None else None
        if handle is None:
            raise CaseError(["standard input is closed"], "<stdin>")
        return parse(decode(read_stream(handle, "<stdin>"), "<stdin>"), "<stdin>"), "<stdin>"
    source = display_name(path)
    suffix = os.path.splitext(str(path))[1].lower()
    return parse(decode(read_bytes(path), source), source, suffix), source


# ---------------------------------------------------------------------------
# One line of a JSONL file (the lines themselves are read by triage.rows)


def parse_json_line(line: bytes | str, source: str) -> Any:
    """One line of a JSONL file, parsed strictly."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CaseError([f"not UTF-8 text (byte 0x{line[error.start]:02x})"], source) from None
    else:
        text = line
    return parse_json(text.removeprefix("\ufeff").rstrip("\r\n"), source)
