"""The records ``triage batch`` writes: one per case, as a JSON line, a JSON value or a CSV row.

A record holds the case's id (else its source), its source, and either the short
form of its assessment (urgency, and the ids of the causes, red flags and advice)
or the error that stopped it from being assessed, never both; and the warnings of
the knowledge base it was made with (the safety pack left out). ``--full`` adds the
whole assessment, as ``triage assess`` writes it, to each JSON record.

:class:`Outcome` is what a worker knows of one case once it is assessed;
:func:`format_record` turns it into the record's text, the same way wherever the
case was assessed; :func:`write_records` joins the records into one document.
"""

from __future__ import annotations

import csv
import io
import json
from typing import IO, Any, Iterable, NamedTuple

from .case import CaseBase
from .conclusions import Firing, Summary, conclude, summarise
from .errors import CaseError
from .knowledge import KnowledgeBase
from .text import printable, safe_json

FORMATS = ("jsonl", "json", "csv")
RECORD_FIELDS = ("case_id", "source", "urgency", "causes", "red_flags", "advice", "error", "warnings")


class Outcome(NamedTuple):
    """One case of a batch once assessed: the rules that fired on its answers, or why it could not be assessed."""

    source: str  # where it was read: the file, and its line, row or item
    case_id: str  # its id, else its source
    summary: Summary | None  # None when it could not be assessed
    firings: list[Firing]
    case: CaseBase | None  # the validated case; None when it could not be assessed
    error: str | None  # what is wrong with it, naming the field; None when assessed

    @classmethod
    def assessed(cls, source: str, case: CaseBase, firings: list[Firing]) -> "Outcome":
        """The outcome of a validated case the rules ran on."""
        return cls(source, case.id or source, summarise(firings), firings, case, None)

    @classmethod
    def failed(cls, source: str, error: CaseError) -> "Outcome":
        """The outcome of a case that could not be read or was invalid."""
        return cls(source, error.case_id or source, None, [], None, "; ".join(error.problems))


def record_fields(outcome: Outcome, warnings: Iterable[str] = ()) -> dict[str, Any]:
    """The fields of a case's record, in :data:`RECORD_FIELDS` order.

    ``warnings`` are the knowledge base's (:attr:`KnowledgeBase.warnings`): a record made
    without the safety pack says so itself, as the assessment does, so a file of records
    read later can never pass for a checked one.
    """
    summary = outcome.summary
    return {
        "case_id": outcome.case_id,
        "source": outcome.source,
        "urgency": summary.urgency.value if summary else None,
        "causes": list(summary.causes) if summary else [],
        "red_flags": list(summary.red_flags) if summary else [],
        "advice": list(summary.advice) if summary else [],
        "error": outcome.error,
        "warnings": list(warnings),
    }


def format_record(kb: KnowledgeBase, outcome: Outcome, fmt: str, full: bool = False) -> str:
    """The record of one case as text: a JSON line (``jsonl``), a JSON value (``json``) or a CSV row (``csv``).

    In CSV the lists of ids are joined with spaces. ``full`` (JSON only) adds the
    field ``assessment``: the whole assessment, built from the firings against
    ``kb`` (``null`` for a case that could not be assessed).
    """
    fields = record_fields(outcome, kb.warnings)
    if fmt == "csv":
        if full:
            raise ValueError("a CSV record cannot hold the whole assessment: use jsonl or json")
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(
            [csv_cell(("; " if name == "warnings" else " ").join(value) if isinstance(value, list)
                      else "" if value is None else str(value))
             for name, value in fields.items()]
        )
        return out.getvalue()
    if fmt not in FORMATS:
        raise ValueError(f"unknown record format {fmt!r}: one of {', '.join(FORMATS)}")
    text = safe_json(json.dumps(fields, ensure_ascii=False))
    if full:
        # The assessment is written by its own model, exactly as `triage assess`
        # writes it, as the last field of the same object.
        assessment = "null"
        if outcome.case is not None:
            assessment = conclude(kb, outcome.case_id, outcome.firings, outcome.case.answers()).model_dump_json()
        text = text[:-1] + ', "assessment": ' + assessment + "}"
    return text + "\n" if fmt == "jsonl" else text


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will show, never run: formula starts neutralised, control characters escaped.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    read as a formula by spreadsheets (``=HYPERLINK(...)`` in a case id would run
    when the file is opened), so it gets a leading ``'``, as OWASP recommends.
    """
    text = printable(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
