"""Fuzzing the readers: every byte string must give data or a CaseError, never another exception.

``read_everything`` feeds one input to every reader (JSON, JSON lines, YAML with
and without aliases, CSV rows, documents, the batch path down to validation,
FHIR included). The tests replay the corpus in ``tests/fuzz_corpus/`` and run a
bounded hypothesis fuzz through it; CI also runs this file with atheris
(coverage-guided, bounded in time)::

    python tests/fuzz_readers.py -max_total_time=20 <a copy of tests/fuzz_corpus>
"""

from __future__ import annotations

import io
import sys


def read_everything(data: bytes, engine=None) -> None:
    """Run ``data`` through every reader; only :class:`CaseError` may come out."""
    from triage.errors import CaseError
    from triage.inputs import _document_entries, case_of, read_csv, read_jsonl
    from triage.reading import decode, parse_document, parse_json, parse_json_line, parse_yaml
    from triage.rows import csv_rows, lines

    def attempt(function, *args):
        try:
            return function(*args)
        except CaseError:
            return None

    text = attempt(decode, data, "fuzz")
    if text is not None:
        for parse in (parse_json, parse_yaml):
            attempt(parse, text, "fuzz")
        attempt(parse_yaml, text, "fuzz", True)
        for suffix in (".json", ".yaml", ""):
            document = attempt(parse_document, text, "fuzz", suffix)
            if document is not None and engine is not None:
                for entry in _document_entries(document, "fuzz"):
                    attempt(lambda e: engine.validate(case_of(e, engine.knowledge_base), e.source), entry)
    attempt(parse_json_line, data, "fuzz:1")
    list(lines(io.BytesIO(data), 64))
    list(csv_rows(io.BytesIO(data), 256))
    for reader in (read_jsonl, read_csv):
        for entry in reader(io.BytesIO(data), "fuzz"):
            if engine is not None:
                attempt(lambda e: engine.validate(case_of(e, engine.knowledge_base), e.source), entry)


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        import triage  # noqa: F401
        import triage.inputs  # noqa: F401
        import triage.reading  # noqa: F401
        import triage.rows  # noqa: F401

    engine = triage.Engine()
    atheris.Setup(sys.argv, lambda data: read_everything(data, engine))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
