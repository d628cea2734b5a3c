"""A list of cases in one JSON or YAML document, read item by item when one item is refused.

The strict readers refuse a whole document for what one mapping in it holds: a key
given twice, ``NaN``, a number of thousands of digits. For a file of one case that
is right, but a list of cases would then lose every other case with it, the
emergencies among them. :func:`parse_cases` reads such a list again, each item by
the same strict reader on its own, so each refused item is a :class:`RefusedItem`
in its place (naming its line) and every other item is kept. Nothing is read more
leniently: an item is either what the strict reader gives, or refused.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from .errors import CaseError
from .limits import MAX_DEPTH
from .strict_json import _too_deep, check_text, parse_json, well_formed
from .strict_yaml import _StrictLoader, _yaml_events_check, _YamlRefused


class RefusedItem(NamedTuple):
    """An item of a list of cases that the strict reader refused; ``problem`` names its line and why."""

    problem: str


def parse_cases(text: str, source: str, suffix: str = "") -> Any:
    """Parse a document of one case or a list of cases, as :func:`triage.reading.parse_document` does.

    When the document is refused and it is a list, each item is read on its own:
    the result is the list, with a :class:`RefusedItem` for each item refused.
    Anything else refused (text that is not JSON or YAML, a single case) raises the
    :class:`CaseError` as before.
    """
    from .reading import parse_document

    try:
        return parse_document(text, source, suffix)
    except CaseError as whole:
        text = text.removeprefix("\ufeff")
        as_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("[", "{"))
        items = _json_items(text, source) if as_json else _yaml_items(text, source)
        if items is None or not any(isinstance(item, RefusedItem) for item in items):
            raise whole from None
        return items


# Strings (escapes included), brackets and commas: enough to find where each item of a list starts and ends.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]')


def _json_items(text: str, source: str) -> list[Any] | None:
    """The items of a top-level JSON array, each parsed strictly on its own; None if the text is not one array."""
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] != "[":
        return None
    if text.count("[") + text.count("{") > MAX_DEPTH and _too_deep(text) is not None:
        return None  # nested too deeply is the whole file's fault, as in the strict reader
    if not well_formed(text):  # only a well-formed list is cut into items: a broken one could be cut wrongly
        return None
    spans, depth, begin = [], 0, start + 1
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
            if depth == 0:
                spans.append((begin, match.start()))
                if text[match.end():].strip():
                    return None  # something after the list: not one document
                break
        elif token == "," and depth == 1:
            spans.append((begin, match.start()))
            begin = match.end()
    else:
        return None  # the list never closes
    if len(spans) == 1 and not text[spans[0][0]:spans[0][1]].strip():
        return []
    items: list[Any] = []
    for begin, end in spans:
        piece = text[begin:end]
        first = begin + len(piece) - len(piece.lstrip())
        line = text.count("\n", 0, first) + 1
        try:
            items.append(parse_json(piece.strip(), source))
        except CaseError as error:
            inner = _line_in(error.source, source)
            items.append(RefusedItem(f"line {line + inner - 1}: {'; '.join(error.problems)}"))
    return items


def _yaml_items(text: str, source: str) -> list[Any] | None:
    """The items of a top-level YAML sequence, each built by the strict loader on its own; None otherwise."""
    try:
        _yaml_events_check(text, source, aliases=False)  # tags, anchors, depth: still the whole file's
        loader = _StrictLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except (CaseError, yaml.YAMLError, RecursionError):
        return None
    if not isinstance(root, yaml.SequenceNode):
        return None
    items: list[Any] = []
    for node in root.value:
        line = node.start_mark.line + 1
        try:
            value = _StrictLoader("").construct_document(node)
            check_text(value, source)
            items.append(value)
        except _YamlRefused as error:
            items.append(RefusedItem(f"line {error.line or line}: {error}"))
        except CaseError as error:
            items.append(RefusedItem(f"line {line}: {'; '.join(error.problems)}"))
    return items


def _line_in(where: str | None, source: str) -> int:
    """The line a strict reader's error names within the piece it read (1 when it names none)."""
    _, found, line = (where or source).rpartition(", line ")
    return int(line) if found and line.isdigit() else 1
