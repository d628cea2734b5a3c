"""Reading the inputs of a batch: cases from files and directories, as a stream of entries.

Inputs (see :func:`read_inputs`) are any mix of files and directories:

- ``.json``: one case, or a list of cases;  ``.yaml`` / ``.yml``: the same in YAML;
- ``.jsonl``: one case per line (blank lines are skipped);
- ``.csv``: a header of field names, then one case per row; an empty cell is
  unknown; yes/no, true/false and 1/0 are accepted for yes-or-no questions;
- a directory: every file above inside it, recursively, in sorted order
  (hidden files are skipped);
- ``-``: JSONL from standard input, or one pretty-printed JSON document
  (:mod:`triage.standard_input`).

Reading never stops at a bad case. Each case becomes one :class:`Entry`, and so
does each thing that could not be read (a missing file, a line that is not JSON,
a CSV row with too many cells): it carries the error, so that it gets its own
record and nothing is lost silently.

An entry's ``source`` is the file, plus ``:N`` for the line of a JSONL file, the
line where a CSV row starts (the header is line 1, as in a spreadsheet; a quoted
cell spanning lines makes lines and rows differ) or the item of a list in a JSON
or YAML file (from 1). A case's id is its ``id`` field, else its
source.

Turning an entry into a case mapping (:func:`case_of`) runs where the case is
assessed, in the worker processes, so the reading process only reads. Other
record formats hook in at :func:`case_from_record`. The records written for the
cases are made by :mod:`triage.records`.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple

from .errors import CaseError
from .list_items import RefusedItem, parse_cases
from .reading import (
    decode,
    describe_os_error,
    display_name,
    parse_json_line,
    read_bytes,
)
from .rows import csv_rows, lines
from .text import quoted

SUFFIXES = (".json", ".jsonl", ".yaml", ".yml", ".csv")

# Kinds of entry: what ``payload`` holds.
CASE = "case"    # a parsed record (JSON or YAML)
LINE = "line"    # one line of a JSONL file, as bytes, parsed where it is assessed
ROW = "row"      # one CSV row, as a mapping of column names to cell texts
ERROR = "error"  # the text of an error: the input could not be read
INVALID = "invalid"  # (problems, case id) of a case found invalid before it was sent (assess_many)


class Entry(NamedTuple):
    """One case as read, not yet parsed or validated; or what stopped it from being read."""

    source: str
    kind: str
    payload: Any


# ---------------------------------------------------------------------------
# Reading


def read_inputs(
    inputs: Iterable[str], stdin: IO[bytes] | None = None, progress: Callable[[int], None] | None = None
) -> Iterator[Entry]:
    """Every case in ``inputs`` (files, directories, ``-``), in order, as a stream of entries.

    ``progress(n)``, when given, is told of every ``n`` bytes read.
    """
    # An input that holds no case at all is an error, not a silent "0 cases": an
    # empty export, a wrong directory or a cut-off pipe must not pass as a success.
    for name in inputs:
        if name == "-":
            handle = stdin if stdin is not None else sys.stdin.buffer if sys.stdin is not None else None
            if handle is None:
                yield Entry("<stdin>", ERROR, "standard input is closed")
                continue
            from .standard_input import read_stdin  # it reads entries with this module's readers

            yield from _or_nothing(read_stdin(handle, progress),
                                   Entry("<stdin>", ERROR, "no cases: standard input is empty (it is read as JSONL)"))
            continue
        if name == "":
            yield Entry("''", ERROR, "an empty name is not a file or directory")
            continue
        path = Path(name)
        if path.is_dir():
            found = directory_entries(path)
            if not found:
                yield Entry(display_name(name), ERROR, f"no case files in this directory (looked for {', '.join(SUFFIXES)})")
            for file, problem in found:
                if problem is None:
                    yield from read_file(file, progress)
                else:
                    yield Entry(display_name(file), ERROR, problem)
        else:
            yield from read_file(path, progress)


def _or_nothing(entries: Iterator[Entry], instead: Entry) -> Iterator[Entry]:
    """The entries, or ``instead`` when there are none."""
    empty = True
    for entry in entries:
        empty = False
        yield entry
    if empty:
        yield instead


def input_size(inputs: Iterable[str]) -> int | None:
    """The bytes :func:`read_inputs` will read, or None when standard input is among them."""
    total = 0
    for name in inputs:
        if name == "-":
            return None
        if name == "":  # not the current directory: read_inputs refuses it
            continue
        path = Path(name)
        for file in files_in(path) if path.is_dir() else [path]:
            try:
                total += file.stat().st_size
            except OSError:
                pass
    return total


def files_in(directory: Path, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """The files with these suffixes in a directory and its subdirectories, sorted, hidden ones left out."""
    return [path for path, problem in directory_entries(directory, suffixes) if problem is None]


def directory_entries(directory: Path, suffixes: tuple[str, ...] = SUFFIXES) -> list[tuple[Path, str | None]]:
    """(path, None) for each case file in a directory tree, sorted, and (path, problem) for what cannot be read.

    Nothing that could hold cases is passed over in silence: a subdirectory that
    cannot be listed, and an entry with a case file's suffix that is not a regular
    file (a dangling or looping symbolic link, a FIFO, a device, a link to a
    directory, which is not followed), each come with the problem. Hidden files
    and directories are left out.
    """
    found: list[tuple[Path, str | None]] = []

    def unreadable(error: OSError) -> None:
        found.append((Path(error.filename), f"cannot read directory: {error.strerror or error}"))

    for root, dirs, files in os.walk(directory, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():  # os.walk does not follow it: say so
                found.append((base / name, "a symbolic link to a directory, not followed"))
        for name in files:
            path = base / name
            if name.startswith(".") or path.suffix.lower() not in suffixes:
                continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError as error:
                found.append((path, f"cannot read file: {error.strerror or error}"))
                continue
            found.append((path, None if regular else "not a regular file (a FIFO, a device or a socket)"))
    return sorted(found, key=lambda item: os.fsencode(item[0]))


def read_file(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """The entries of one file, by its suffix (anything else is read as JSON or YAML).

    A file that holds no case (a blank JSONL file, a CSV header alone, an empty
    list) gives one error entry, like an unreadable file.
    """
    yield from _or_nothing(_read_file(path, progress), Entry(display_name(path), ERROR, "no cases in the file"))


def _read_file(path: Path, progress: Callable[[int], None] | None) -> Iterator[Entry]:
    name = display_name(path)
    suffix = path.suffix.lower()
    try:
        mode = path.stat().st_mode
    except OSError as error:
        yield Entry(name, ERROR, describe_os_error(error))
        return
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):  # /dev/urandom never ends, line after line
        yield Entry(name, ERROR, "is a device, not a file")
        return
    if suffix not in (".jsonl", ".csv"):
        try:
            data = parse_cases(decode(read_bytes(path), name), name, suffix)  # a refused item is its own record
        except CaseError as error:
            # The record's source is the file; the line, when known, goes with the problem.
            where = error.source or name
            line = where[len(name) + 2:] + ": " if where.startswith(name + ", ") else ""
            yield Entry(name, ERROR, line + "; ".join(error.problems))
            return
        if progress is not None:
            progress(_size(path))
        yield from _document_entries(data, name)
        return
    try:
        handle = open(path, "rb")
    except OSError as error:
        yield Entry(name, ERROR, describe_os_error(error))
        return
    with handle:
        try:
            yield from (read_jsonl if suffix == ".jsonl" else read_csv)(handle, name, progress)
        except OSError as error:  # a read error half-way (EIO): say where reading stopped
            yield Entry(name, ERROR, f"{describe_os_error(error)}; the rest of the file was not read")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_jsonl(handle: IO[bytes], name: str, progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """One entry per non-blank line; each line is parsed later, where it is assessed."""
    return _line_entries(lines(handle), name, progress)


def _line_entries(numbered: Iterable[tuple[int, bytes | str]], name: str,
                  progress: Callable[[int], None] | None) -> Iterator[Entry]:
    """One entry per non-blank numbered line (a line that is text: its problem, as an error entry)."""
    for number, line in numbered:
        if isinstance(line, str):  # over the size limit
            yield Entry(f"{name}:{number}", ERROR, line)
            continue
        if progress is not None:
            progress(len(line))
        if line.strip():
            yield Entry(f"{name}:{number}", LINE, line)


def read_csv(handle: IO[bytes], name: str, progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """One entry per non-empty row, as a mapping of the header's field names to cell texts.

    A row that cannot be read is an error entry and the next row is read: the
    rows after a bad one are never lost. When the header itself is unusable,
    every row gets an error entry saying so.
    """
    rows = csv_rows(handle)
    first = next(rows, None)
    while first is not None and first[1] == []:  # blank lines before the header
        first = next(rows, None)
    if first is None:
        yield Entry(name, ERROR, "the file is empty")
        return
    header: list[str] = []
    header_problem = None
    if isinstance(first[1], str):
        header_problem = f"the header (row 1) cannot be read: {first[1]}"
    else:
        header = [column.strip() for column in first[1]]
        repeated = sorted({column for column in header if header.count(column) > 1})
        if repeated:
            header_problem = f"field {quoted(repeated[0])}: the header names it more than once"
    rows_seen = 0
    for number, row in rows:
        if progress is not None:
            progress(sum(map(len, row)) + len(row) if isinstance(row, list) else 0)
        where = f"{name}:{number}"
        if isinstance(row, str):
            yield Entry(where, ERROR, row)
        elif not row:
            continue  # a blank line is no row; a row of empty cells (",,") is a case answered "don't know"
        elif header_problem:
            yield Entry(where, ERROR, f"not read: {header_problem}")
        elif len(row) != len(header):
            yield Entry(where, ERROR, f"the row has {len(row)} cells but the header names {len(header)}")
        else:
            yield Entry(where, ROW, dict(zip(header, row, strict=True)))
        rows_seen += 1
    if header_problem and not rows_seen:
        yield Entry(f"{name}:1", ERROR, header_problem)


def _document_entries(data: Any, name: str) -> Iterator[Entry]:
    """The entries of a parsed JSON or YAML document: one case, or a list of cases."""
    if data is None:
        yield Entry(name, ERROR, "the file is empty")
    elif isinstance(data, list):
        for number, item in enumerate(data, start=1):
            if isinstance(item, RefusedItem):
                yield Entry(f"{name}:{number}", ERROR, item.problem)
            else:
                yield Entry(f"{name}:{number}", CASE, item)
    else:
        yield Entry(name, CASE, data)


# ---------------------------------------------------------------------------
# From an entry to a case mapping (runs where the case is assessed)


def case_of(entry: Entry, kb) -> Any:
    """The case an entry holds, ready to validate against ``kb``; raises :class:`CaseError` if it cannot be read."""
    source, kind, payload = entry
    if kind == ERROR:
        raise CaseError([payload], source)
    if kind == INVALID:
        raise CaseError(payload[0], source, payload[1])
    if kind == LINE:
        record = parse_json_line(payload, source)
    elif kind == ROW:
        record = case_from_row(payload, kb.question_by_id)
    else:
        record = payload
    return case_from_record(record, source)


def case_from_record(record: Any, source: str) -> Any:
    """Turn one parsed record into a case mapping: the hook for other record formats.

    Every record read from a file passes here, in the process that assesses it.
    A record is a case mapping already (FHIR QuestionnaireResponse records are
    recognised when the case is validated, by :meth:`triage.Engine.validate`).
    An audit vignette is refused with a pointer to ``triage audit``, rather than
    with an error for each of its audit fields.
    """
    if isinstance(record, dict) and "expected_urgency" in record:
        vignette_id = record.get("id")
        raise CaseError(["an audit vignette (it has expected_urgency), not a case: check vignettes with 'triage audit'"],
                        source, vignette_id if isinstance(vignette_id, str) else None)
    return record


def case_from_row(row: dict[str, str], questions: dict) -> dict[str, Any]:
    """A CSV row as a case: empty cells left out (unknown), cells read by their question's type.

    A cell that does not read as its question's type is kept as text, so that
    validation names the field and what it expected.
    """
    case: dict[str, Any] = {}
    for column, cell in row.items():
        text = cell.strip() if isinstance(cell, str) else cell
        if text == "" or text is None:
            continue
        question = questions.get(column)
        if question is None:
            case[column] = text
        else:
            case[column] = question.parse_cell(text)
    return case
