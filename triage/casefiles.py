"""Reading and writing case files: JSON or YAML, from a path or standard input.

Parsing problems become :class:`CaseError` naming the file (and line, for JSON
syntax errors), so the command line can show them without a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

from .errors import CaseError, OutputError


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list) -> dict:
    # A repeated answer ({"fever": true, "fever": false}) must not be settled silently
    # by "last one wins": that could drop a red flag.
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe YAML loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        """An integer as a person means it: ``030`` is 30, and ``1:30`` is not a number.

        YAML 1.1 (PyYAML's dialect) reads ``030`` as octal 24 and ``1:30`` as 90:
        someone's 30 weeks would silently become 24. Digits with leading zeros are
        read as decimal, as YAML 1.2 does, and ``1:30`` is kept as text, which
        validation then refuses with a message naming the field.
        """
        text = self.construct_scalar(node).replace("_", "")
        if re.fullmatch(r"[-+]?0[0-9]+", text):
            return int(text, 10)
        if ":" in text:
            return self.construct_scalar(node)
        return super().construct_yaml_int(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_yaml_int)


def parse_text(text: str, source: str, suffix: str = "") -> Any:
    """Parse a document as JSON (``.json``) or YAML (anything else; JSON is valid YAML).

    A byte-order mark is ignored; a mapping that repeats a field is an error.
    """
    text = text.removeprefix("\ufeff")
    try:
        if suffix == ".json" or (not suffix and text.lstrip()[:1] in "[{"):
            try:
                return json.loads(text, object_pairs_hook=_unique_pairs)
            except json.JSONDecodeError as error:
                raise CaseError([f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"], source) from None
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as error:
        raise CaseError([f"field {error.args[0]!r}: given more than once"], source) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CaseError([f"not valid YAML: {problem}{where}"], source) from None


def read_document(path: str) -> tuple[Any, str]:
    """Read and parse one case file (``-`` is standard input); return (data, source name)."""
    if path == "-":
        return parse_text(sys.stdin.read(), "<stdin>"), "<stdin>"
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError(["file not found"], path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CaseError([f"cannot read file: {error}"], path) from None
    return parse_text(text, path, file.suffix.lower()), path


def read_single_case(path: str) -> tuple[dict, str]:
    """Read a file that holds exactly one case (a mapping); return (case, source name)."""
    data, source = read_document(path)
    if isinstance(data, list):
        if len(data) == 1:
            data = data[0]
        else:
            raise CaseError([f"holds {len(data)} cases; assess one at a time or use 'triage batch'"], source)
    if data is None:
        raise CaseError(["the file is empty"], source)
    if not isinstance(data, dict):
        raise CaseError([f"a case must be a mapping of field names to answers, not {type(data).__name__}"], source)
    return data, source


def write_case(path: str | os.PathLike, case: dict[str, Any]) -> None:
    """Write one case atomically: YAML for ``.yaml``/``.yml``, else JSON; ``None`` is written as null (unknown).

    The file is written under a temporary name in the same directory and renamed into
    place, so it is either complete or not there at all.
    """
    target = Path(path)
    if target.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(case, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
    with atomic_output(target) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[IO[str]]:
    """A text file written under a temporary name beside ``path``, renamed to it at the end.

    If anything goes wrong (or the run is interrupted) the temporary file is
    removed, so a file at ``path`` is always complete. A symbolic link is written
    through (the file it names is replaced); a device or a pipe (``/dev/null``, a
    FIFO) cannot be replaced, so it is written to directly; a read-only file or a
    directory is refused.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise OutputError(f"{path}: cannot write the output file: it is a directory")
        try:
            handle = open(target, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise OutputError(f"{path}: cannot write the output file: {error.strerror}") from None
        with handle:
            yield handle
        return
    if target.exists() and not target.stat().st_mode & 0o222:
        raise OutputError(f"{path}: cannot write the output file: it is read-only")
    try:
        # mkstemp's mode 0600 is kept on purpose: the records are health data.
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as error:
        raise OutputError(f"{path}: cannot write the output file: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
