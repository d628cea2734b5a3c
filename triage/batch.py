"""Batches of cases: reading them from files as a stream, and one output record per case.

Inputs (see :func:`read_inputs`) are any mix of files and directories:

- ``.json``: one case, or a list of cases;  ``.yaml`` / ``.yml``: the same in YAML;
- ``.jsonl``: one case per line (blank lines are skipped);
- ``.csv``: a header of field names, then one case per row; an empty cell is
  unknown; yes/no, true/false and 1/0 are accepted for yes-or-no questions;
- a directory: every file above inside it, recursively, in sorted order
  (hidden files are skipped);
- ``-``: JSONL from standard input.

Reading never stops at a bad case. Each case becomes one :class:`Entry`, and so
does each thing that could not be read (a missing file, a line that is not JSON,
a CSV row with too many cells): it carries the error, so that it gets its own
record and nothing is lost silently.

An entry's ``source`` is the file, plus ``:N`` for the line of a JSONL file, the
row of a CSV file (the header is row 1, as in a spreadsheet) or the item of a
list in a JSON or YAML file (from 1). A case's id is its ``id`` field, else its
source.

Turning an entry into a case mapping (:func:`case_of`) runs where the case is
assessed, in the worker processes, so the reading process only reads. Other
record formats hook in at :func:`case_from_record`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple

from .casefiles import parse_text
from .conclusions import Summary
from .errors import CaseError

SUFFIXES = (".json", ".jsonl", ".yaml", ".yml", ".csv")
TRUE_WORDS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}

# Kinds of entry: what ``payload`` holds.
CASE = "case"    # a parsed record (JSON or YAML)
LINE = "line"    # one line of a JSONL file, as bytes, parsed where it is assessed
ROW = "row"      # one CSV row, as a mapping of column names to cell texts
ERROR = "error"  # the text of an error: the input could not be read


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
            yield from _or_nothing(read_jsonl(stdin if stdin is not None else sys.stdin.buffer, "<stdin>", progress),
                                   Entry("<stdin>", ERROR, "no cases: standard input is empty (it is read as JSONL)"))
            continue
        path = Path(name)
        if path.is_dir():
            files = files_in(path)
            if not files:
                yield Entry(name, ERROR, f"no case files in this directory (looked for {', '.join(SUFFIXES)})")
            for file in files:
                yield from read_file(file, progress)
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
        path = Path(name)
        for file in files_in(path) if path.is_dir() else [path]:
            try:
                total += file.stat().st_size
            except OSError:
                pass
    return total


def files_in(directory: Path, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """The files with these suffixes in a directory and its subdirectories, sorted, hidden ones left out."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.suffix.lower() in suffixes
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def read_file(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """The entries of one file, by its suffix (anything else is read as JSON or YAML).

    A file that holds no case (a blank JSONL file, a CSV header alone, an empty
    list) gives one error entry, like an unreadable file.
    """
    yield from _or_nothing(_read_file(path, progress), Entry(str(path), ERROR, "no cases in the file"))


def _read_file(path: Path, progress: Callable[[int], None] | None) -> Iterator[Entry]:
    name = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            with open(path, "rb") as handle:
                yield from read_jsonl(handle, name, progress)
            return
        if suffix == ".csv":
            with open(path, encoding="utf-8", newline="") as handle:
                yield from read_csv(handle, name)
        else:
            yield from read_document(path.read_text(encoding="utf-8"), name, suffix)
        if progress is not None:
            progress(path.stat().st_size)
    except FileNotFoundError:
        yield Entry(name, ERROR, "file not found")
    except IsADirectoryError:
        yield Entry(name, ERROR, "is a directory")
    except (OSError, UnicodeDecodeError) as error:
        yield Entry(name, ERROR, f"cannot read file: {error}")


def read_jsonl(handle: IO[bytes], name: str, progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """One entry per non-blank line; each line is parsed later, where it is assessed."""
    for number, line in enumerate(handle, start=1):
        if progress is not None:
            progress(len(line))
        if line.strip():
            yield Entry(f"{name}:{number}", LINE, line)


def read_csv(handle: IO[str], name: str) -> Iterator[Entry]:
    """One entry per non-empty row, as a mapping of the header's field names to cell texts."""
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as error:
        yield Entry(f"{name}:1", ERROR, f"not valid CSV: {error}")
        return
    if header is None:
        yield Entry(name, ERROR, "the file is empty")
        return
    header = [column.strip().lstrip("\ufeff") for column in header]  # a BOM from spreadsheet exports
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        yield Entry(f"{name}:1", ERROR, f"field {repeated[0]!r}: the header names it more than once")
        return
    row_number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Entry(f"{name}:{row_number + 1}", ERROR, f"not valid CSV: {error}")
            return
        row_number += 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Entry(f"{name}:{row_number}", ERROR, f"the row has {len(row)} cells but the header names {len(header)}")
            continue
        yield Entry(f"{name}:{row_number}", ROW, dict(zip(header, row, strict=True)))


def read_document(text: str, name: str, suffix: str) -> Iterator[Entry]:
    """The entries of a JSON or YAML document: one case, or a list of cases."""
    try:
        data = parse_text(text, name, ".json" if suffix == ".json" else ".yaml" if suffix in (".yaml", ".yml") else "")
    except CaseError as error:
        yield Entry(name, ERROR, "; ".join(error.problems))
        return
    if data is None:
        yield Entry(name, ERROR, "the file is empty")
    elif isinstance(data, list):
        for number, item in enumerate(data, start=1):
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
    if kind == LINE:
        try:
            record = json.loads(payload.rstrip(b"\r\n") if isinstance(payload, bytes) else payload)
        except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
            where = f" (column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
            message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise CaseError([f"not valid JSON: {message}{where}"], source) from None
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
        elif question.type == "boolean":
            case[column] = TRUE_WORDS.get(text.lower(), text)
        elif question.type == "integer" or all(isinstance(v, int) for v in question.values or ()):
            case[column] = _integer(text)
        else:  # a choice, in any letter case (spreadsheets capitalise)
            case[column] = next((v for v in question.values if str(v).lower() == text.lower()), text)
    return case


def _integer(text: str):
    try:
        return int(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------
# Records: what `triage batch` writes for each case

RECORD_FIELDS = ("case_id", "source", "urgency", "causes", "red_flags", "advice", "error")


def record(case_id: str | None, source: str, summary: Summary | None, error: str | None) -> dict[str, Any]:
    """The output record of one case: its summary, or its error (never both)."""
    return {
        "case_id": case_id,
        "source": source,
        "urgency": summary.urgency.value if summary else None,
        "causes": list(summary.causes) if summary else [],
        "red_flags": list(summary.red_flags) if summary else [],
        "advice": list(summary.advice) if summary else [],
        "error": error,
    }


def format_record(data: dict[str, Any], fmt: str) -> str:
    """One record as text: a JSON line (``jsonl``), a JSON value (``json``) or a CSV row (``csv``).

    In CSV, the lists of ids are joined with spaces.
    """
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(
            [" ".join(value) if isinstance(value, list) else "" if value is None else value for value in data.values()]
        )
        return out.getvalue()
    text = json.dumps(data, ensure_ascii=False)
    return text + "\n" if fmt == "jsonl" else text


def csv_header() -> str:
    """The header line of the CSV output."""
    return ",".join(RECORD_FIELDS) + "\n"


def write_records(chunks: Iterable, out: IO[str], fmt: str) -> None:
    """Write chunks of formatted records (each with ``.texts``) as one jsonl, csv or json document."""
    if fmt == "csv":
        out.write(csv_header())
    if fmt != "json":
        for chunk in chunks:
            out.write("".join(chunk.texts))
        return
    out.write("[")
    separator = "\n"
    for chunk in chunks:
        for text in chunk.texts:
            out.write(separator + text)
            separator = ",\n"
    out.write("\n]\n" if separator != "\n" else "]\n")
