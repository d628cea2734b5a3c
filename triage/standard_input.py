"""Standard input as cases (``triage batch -``): JSON lines, or one pretty-printed JSON document.

Standard input is read as JSON lines, one case a line. A JSON document written over
several lines (``json.dumps(case, indent=2)``) would then give an error per line and
lose its cases, so when the first non-blank line is no JSON value on its own and the
whole input, within the size limit, is one, it is read as that document: one case, or
a list of cases. JSON lines never read so (their first line is a whole value).
"""

from __future__ import annotations

import itertools
from typing import IO, Callable, Iterator

from .errors import CaseError
from .inputs import ERROR, Entry, _document_entries, _line_entries
from .list_items import parse_cases
from .reading import decode, max_input_bytes, parse_json_line
from .rows import lines
from .strict_json import well_formed


def read_stdin(handle: IO[bytes], progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """Standard input as JSON lines; or, when its first line is no JSON value on its own but the
    whole of it (within the size limit) is one, as that one JSON document (a case, or a list).

    A pretty-printed document read as JSON lines would give an error per line and lose
    its cases; JSON lines never read as one document (their first line is complete), so
    no case of either is lost. When neither reading works the lines are read as JSON
    lines, an error each, and the first says why it is not one document either; but a
    well-formed document refused for its content (a key given twice) is one error.
    """
    name = "<stdin>"
    source = lines(handle)
    held: list[tuple[int, bytes | str]] = []  # the lines read ahead, blank ones included
    for item in source:
        held.append(item)
        if isinstance(item[1], str) or item[1].strip():
            break
    number, first = held[-1] if held else (0, "")
    first_problem = _json_problem(first, f"{name}:{number}") if isinstance(first, bytes) else None
    if first_problem is not None:
        at, size, limit = len(held) - 1, sum(len(line) for _, line in held), max_input_bytes()
        looks_like_a_document = first.lstrip()[:1] in (b"{", b"[")
        for item in source:
            held.append(item)
            if isinstance(item[1], str) or size + len(item[1]) > limit:
                if looks_like_a_document:
                    held[at] = (number, f"{first_problem}; standard input is read as JSON lines, one case a line, "
                                        "and as one JSON document only within the size limit: give the file name")
                break
            size += len(item[1])
        else:  # all of standard input is held, within the size limit
            text = b"".join(line for _, line in held)
            try:
                data = parse_cases(decode(text, name), name, ".json")  # a refused item is its own record
            except CaseError as error:
                # A first line that is JSON on its own (refused for a repeated key, say) is a JSON
                # line with its own error; otherwise the input may be meant as one document.
                if looks_like_a_document and not well_formed(first):
                    where = (error.source or name)[len(name) + 2:]
                    problem = "; ".join(error.problems) + (f" ({where})" if where else "")
                    if well_formed(text):
                        # One JSON document refused for what it says (a key given twice, NaN):
                        # one error for it, as for a file, not an error for each of its lines.
                        yield Entry(name, ERROR, problem)
                        return
                    held[at] = (number, f"{first_problem}; nor is standard input as a whole one JSON document: {problem}")
            else:
                if progress is not None:
                    progress(size)
                if data == []:
                    yield Entry(name, ERROR, "no cases: standard input is one JSON document, an empty list")
                yield from _document_entries(data, name)
                return
    yield from _line_entries(itertools.chain(held, source), name, progress)


def _json_problem(line: bytes, source: str) -> str | None:
    """Why one line is not a JSON value, or None when it is one."""
    try:
        parse_json_line(line, source)
    except CaseError as error:
        return "; ".join(error.problems)
    return None
