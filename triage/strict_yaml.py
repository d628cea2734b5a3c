"""Parsing YAML strictly: PyYAML's safe loader, refusing what could change or hide an answer.

Repeated and non-text keys, merge keys, tags, and (outside knowledge-base files)
anchors and aliases are refused, and whole numbers are read as people write them;
see :mod:`triage.reading` for why. Each refusal is a :class:`~triage.CaseError`
naming the source and the line.
"""

from __future__ import annotations

import collections
import copy
import re
import threading
from typing import Any

import yaml

from .errors import CaseError, RepeatedKeyError
from .limits import MAX_DEPTH, MAX_INTEGER_DIGITS, MAX_YAML_NODES, QUOTE_CHARS
from .strict_json import check_text
from .text import quoted


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
                    f"field {quoted(key, QUOTE_CHARS)}: given more than once (first at line {seen[key]})", key_node, key)
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
    def __init__(self, message: str, node, repeated_key: str | None = None):
        super().__init__(message)
        self.line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        self.repeated_key = repeated_key


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


# Knowledge-base files parsed before, by their text: each command, engine and check loads the
# same dozen files again, and parsing them is most of the time to load (70 ms, a copy 5 ms).
# Only what parsed cleanly is kept (errors name their own file), and each caller gets its own copy.
_KNOWLEDGE_BASE_TEXTS = 64
_parsed: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
_parsed_lock = threading.Lock()
_MISSING = object()


def parse_yaml(text: str, source: str, aliases: bool = False) -> Any:
    """Parse YAML with the strict safe loader; raise :class:`CaseError` naming the line and key.

    Anchors and aliases are refused unless ``aliases`` (for knowledge-base files).
    """
    if not aliases:
        return _parse_yaml(text, source, aliases)
    with _parsed_lock:
        value = _parsed.get(text, _MISSING)
        if value is not _MISSING:
            _parsed.move_to_end(text)
    if value is not _MISSING:
        return copy.deepcopy(value)
    value = _parse_yaml(text, source, aliases)
    with _parsed_lock:
        _parsed[text] = copy.deepcopy(value)
        while len(_parsed) > _KNOWLEDGE_BASE_TEXTS:
            _parsed.popitem(last=False)
    return value


def _parse_yaml(text: str, source: str, aliases: bool) -> Any:
    try:
        _yaml_events_check(text, source, aliases)
        value = yaml.load(text, Loader=_StrictLoader)
    except _YamlRefused as error:
        where = f"{source}, line {error.line}" if error.line else source
        if error.repeated_key is not None:  # as the JSON reader does: one error type for a key given twice
            raise RepeatedKeyError([str(error)], where, key=error.repeated_key) from None
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
