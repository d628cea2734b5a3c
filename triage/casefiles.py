"""Reading and writing case files: JSON or YAML, from a path or standard input.

Files are read by :mod:`triage.reading` (strict: repeated keys, aliases, huge
numbers and deep nesting refused; see there). Problems become :class:`CaseError`
naming the file, line and field, so the command line can show them without a
traceback. Writing is atomic, and a failed write is an :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

from .errors import CaseError, OutputError, TriageError
from .reading import parse_document, read_document


# Parsing lives in triage.reading, behind every file triage reads; these names stay for callers.
parse_text = parse_document


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
            raise TriageError(f"{path}: cannot write the output file: it is a directory")
        try:
            handle = open(target, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise TriageError(f"{path}: cannot write the output file: {error.strerror}") from None
        with handle:
            yield handle
        return
    if target.exists() and not target.stat().st_mode & 0o222:
        raise TriageError(f"{path}: cannot write the output file: it is read-only")
    try:
        # mkstemp's mode 0600 is kept on purpose: the records are health data.
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as error:
        raise TriageError(f"{path}: cannot write the output file: {error.strerror}") from None
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
