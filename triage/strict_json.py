"""Parsing JSON strictly: repeated keys, deep nesting, long numbers, NaN and lone surrogates refused.

The rules are those of :mod:`triage.reading` (see its docstring), which every
file passes through; each refusal is a :class:`~triage.CaseError` naming the
source, the line when the text has more than one, and the key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import CaseError, RepeatedKeyError
from .limits import MAX_DEPTH, MAX_INTEGER_DIGITS, QUOTE_CHARS
from .text import quoted


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
    """Parse JSON strictly (see :mod:`triage.reading`); raise :class:`CaseError` naming the place."""
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


def well_formed(text: str | bytes) -> bool:
    """Whether the text is one JSON document to a lenient reader (the stdlib's, which lets a key
    repeat and reads NaN): refused by :func:`parse_json` only for what it holds, not its form."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True
