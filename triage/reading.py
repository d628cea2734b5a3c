"""Reading every file triage reads, strictly: JSON, JSON lines, YAML and CSV.

(Files of many records are cut into lines and CSV rows by :mod:`triage.rows`.)

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
import json
import os
import re
from typing import IO, Any

import yaml

from .errors import CaseError, RepeatedKeyError, TriageError
from .text import quoted

DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # cases nest 2 levels, FHIR responses about 6, rule files about 12
MAX_INTEGER_DIGITS = 32
MAX_YAML_NODES = 1_000_000  # what a knowledge-base file's aliases may expand to
QUOTE_CHARS = 80

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


# ---------------------------------------------------------------------------
# Bytes and text


KNOWLEDGE_BASE_BYTES = 64 * 1024 * 1024  # each knowledge-base file: not tied to the case limit


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
# JSON


class _Refused(ValueError):
    """Raised inside a parser hook; carries the message, and the key or text to find its line by."""

    def __init__(self, message: str, needle: str | None = None):
        super().__init__(message)
        self.needle = needle


def _unique_pairs(pairs: list) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"field {quoted(key, QUOTE_CHARS)}: given more than once", key)
        result[key] = value
    return result


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"a number with {len(text.lstrip('-')):,} digits (at most {MAX_INTEGER_DIGITS})", text[:40])
    return int(text)


def _no_constant(name: str):
    raise _Refused(f"{name} is not a JSON number", name)


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_pairs, parse_int=_whole_number, parse_constant=_no_constant)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _json_scan(text: str) -> tuple[int, int, str] | None:
    """Find the first place the JSON nests too deeply or repeats a key: (offset, kind, key), or None."""
    stack: list[set | None] = []
    last: tuple[str, int] | None = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            stack.append(set() if token == "{" else None)
            if len(stack) > MAX_DEPTH:
                return match.start(), 0, ""
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ":":
            if stack and stack[-1] is not None and last is not None:
                try:
                    key = json.loads(last[0])
                except ValueError:
                    key = last[0]
                if key in stack[-1]:
                    return last[1], 1, key
                stack[-1].add(key)
        else:
            last = (token, match.start())
    return None


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str) -> int | None:
    """The offset where the JSON first nests more than MAX_DEPTH levels, or None (brackets in strings ignored)."""
    # Strings become "" (a JSON string holds no raw newline, so line numbers stay right).
    bare = _STRING.sub('""', text)
    depth = 0
    for match in _BRACKET.finditer(bare):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _offset_in(text, bare, match.start())
        else:
            depth -= 1
    return None


def _offset_in(text: str, bare: str, offset: int) -> int:
    """An offset in ``text`` on the same line as ``offset`` in ``bare`` (they have the same lines)."""
    line = bare.count("\n", 0, offset)
    position = -1
    for _ in range(line):
        position = text.find("\n", position + 1)
    return position + 1


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def _at(source: str, text: str, offset: int) -> str:
    """The source with the line of ``offset`` when the text has more than one line."""
    if "\n" not in text.strip():
        return source
    return f"{source}, line {_line_of(text, offset)}"


def parse_json(text: str, source: str) -> Any:
    """Parse JSON strictly (see the module docstring); raise :class:`CaseError` naming the place."""
    # Counting brackets is fast; the exact scan runs only when the count could exceed the depth limit.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        deep = _too_deep(text)
        if deep is not None:
            raise CaseError([f"nested more than {MAX_DEPTH} levels deep"], _at(source, text, deep))
    try:
        value, end = _DECODER.raw_decode(text, len(text) - len(text.lstrip()))
    except _Refused as error:
        offset = -1
        if error.args[0].endswith("given more than once"):
            found = _json_scan(text)
            offset = found[0] if found else -1
            where = _at(source, text, offset) if offset >= 0 else source
            raise RepeatedKeyError([str(error)], where, key=error.needle or "") from None
        if error.needle:
            offset = text.find(error.needle)
        raise CaseError([str(error)], _at(source, text, offset) if offset >= 0 else source) from None
    except json.JSONDecodeError as error:
        multiline = error.lineno > 1 or "\n" in text.strip()
        where = f" (line {error.lineno}, column {error.colno})" if multiline else f" (column {error.colno})"
        raise CaseError([f"not valid JSON: {error.msg}{where}"], source) from None
    except RecursionError:  # only past MAX_DEPTH, which the scan above refuses first
        raise CaseError([f"nested more than {MAX_DEPTH} levels deep"], source) from None
    if text[end:].strip():
        raise CaseError([f"not valid JSON: extra data after the value (line {_line_of(text, end)})"], source)
    if "\\u" in text:  # only an escape can make a lone surrogate
        check_text(value, source)
    return value


def check_text(value: Any, source: str) -> None:
    """Refuse strings (keys included) that are not valid Unicode: lone surrogates."""
    stack = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _valid_text(item, path, source)
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str):
                    _valid_text(key, key, source)
                stack.append((inner, path or str(key)))
        elif isinstance(item, list):
            stack.extend((inner, path) for inner in item)


def _valid_text(text: str, field: str, source: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where = f"field {quoted(field, QUOTE_CHARS)}: " if field else ""
        raise CaseError([f"{where}not valid text (a lone surrogate such as \\ud800)"], source) from None


# ---------------------------------------------------------------------------
# YAML


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader, refusing repeated and non-text keys, and reading whole numbers as people write them."""

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        seen: dict[str, int] = {}  # key -> the line it was first given on
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _YamlRefused("merge keys (<<) are not allowed", key_node)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                if isinstance(key_node, yaml.ScalarNode):
                    raise _YamlRefused(f"key {quoted(key_node.value, QUOTE_CHARS)} is not text (quote it)", key_node)
                raise _YamlRefused(f"a key must be text, not a {key_node.id}", key_node)
            key = key_node.value
            if key in seen:
                raise _YamlRefused(
                    f"field {quoted(key, QUOTE_CHARS)}: given more than once (first at line {seen[key]})", key_node)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        """Plain decimal digits with an optional minus, as a person means them: ``030`` is 30.

        YAML 1.1 (PyYAML's dialect) reads ``030`` as octal 24, ``0x1E`` and
        ``0b11110`` as 30 and ``1:30`` as 90: someone's answer would silently become
        another number. Digits with leading zeros are decimal (as in YAML 1.2);
        every other form (``+30``, ``3_0``, ``0x1E``, ``1:30``) is kept as text,
        which validation refuses with a message naming the field.
        """
        text = self.construct_scalar(node)
        if not re.fullmatch(r"-?[0-9]+", text):
            return text
        if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
            raise _YamlRefused(f"a number with {len(text.lstrip('-')):,} digits (at most {MAX_INTEGER_DIGITS})", node)
        return int(text, 10)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


class _YamlRefused(ValueError):
    def __init__(self, message: str, node):
        super().__init__(message)
        self.line = node.start_mark.line + 1 if node is not None and node.start_mark else None


def _yaml_events_check(text: str, source: str, aliases: bool) -> None:
    """One pass over the YAML events, before anything is built: refuse tags, deep nesting, and aliases.

    With ``aliases`` (knowledge-base files, which tools such as ``yaml.safe_dump``
    write with anchors), an alias is allowed, but what the document expands to is
    counted, and more than :data:`MAX_YAML_NODES` nodes is refused: nested
    aliases can expand exponentially.
    """
    depth = 0
    expanded = 0  # nodes, counting each alias as the nodes it stands for
    sizes: dict[str, int] = {}
    open_anchors: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=_StrictLoader):
        if getattr(event, "tag", None) is not None:
            # An explicit tag changes what a written value means: `!!null true` would turn a
            # warning sign answered yes into "unknown" without a word. Nothing here needs one.
            line = event.start_mark.line + 1 if event.start_mark else None
            raise CaseError([f"YAML tags ({event.tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed"],
                            f"{source}, line {line}" if line else source)
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not aliases:
            line = event.start_mark.line + 1 if event.start_mark else None
            where = f"{source}, line {line}" if line else source
            raise CaseError(["YAML anchors and aliases (&name, *name) are not allowed"], where)
        if isinstance(event, yaml.AliasEvent):
            expanded += sizes.get(anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if anchor is not None:
                sizes[anchor] = 1
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            expanded += 1
            open_anchors.append((anchor, expanded))
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise CaseError([f"nested more than {MAX_DEPTH} levels deep"], f"{source}, line {line}" if line else source)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            name, start = open_anchors.pop()
            if name is not None:
                sizes[name] = expanded - start + 1
        if expanded > MAX_YAML_NODES:
            raise CaseError([f"the aliases expand to more than {MAX_YAML_NODES:,} values"], source)


def parse_yaml(text: str, source: str, aliases: bool = False) -> Any:
    """Parse YAML with the strict safe loader; raise :class:`CaseError` naming the line and key.

    Anchors and aliases are refused unless ``aliases`` (for knowledge-base files).
    """
    try:
        _yaml_events_check(text, source, aliases)
        value = yaml.load(text, Loader=_StrictLoader)
    except _YamlRefused as error:
        where = f"{source}, line {error.line}" if error.line else source
        raise CaseError([str(error)], where) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).replace("\n", " ")
        raise CaseError([f"not valid YAML: {quoted(problem, 200, quotes=False)}{where}"], source) from None
    except RecursionError:  # not reached past the depth check; kept so no input can give a traceback
        raise CaseError([f"nested more than {MAX_DEPTH} levels deep"], source) from None
    check_text(value, source)
    return value


# ---------------------------------------------------------------------------
# Documents: one file, JSON or YAML


def parse_document(text: str, source: str, suffix: str = "") -> Any:
    """Parse a document as JSON (``.json``, or no suffix and it starts with ``{`` or ``[``) or else YAML."""
    text = text.removeprefix("\ufeff")
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("[", "{")):
        return parse_json(text, source)
    return parse_yaml(text, source)


def read_document(path: str | os.PathLike, stdin: IO[bytes] | None = None) -> tuple[Any, str]:
    """Read and parse one JSON or YAML file (``-`` is standard input); return (data, source name)."""
    if str(path) == "-":
        import sys

        handle = stdin if stdin is not None else sys.stdin.buffer if sys.stdin is not None else None
        if handle is None:
            raise CaseError(["standard input is closed"], "<stdin>")
        return parse_document(decode(read_stream(handle, "<stdin>"), "<stdin>"), "<stdin>"), "<stdin>"
    source = display_name(path)
    suffix = os.path.splitext(str(path))[1].lower()
    return parse_document(decode(read_bytes(path), source), source, suffix), source


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
