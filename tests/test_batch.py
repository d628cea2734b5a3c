"""Reading batches of cases as a stream of entries, and the records written for them."""

from __future__ import annotations

import io
import json

import pytest

from triage.casefiles import atomic_output
from triage.errors import CaseError
from triage.inputs import (
    CASE,
    ERROR,
    LINE,
    ROW,
    Entry,
    case_from_row,
    case_of,
    files_in,
    read_inputs,
)
from triage.records import write_records
from conftest import EXAMPLES

MIXED = EXAMPLES / "batch" / "mixed"


def test_a_directory_is_read_recursively_in_sorted_order():
    assert [p.relative_to(MIXED).as_posix() for p in files_in(MIXED)] == [
        "cases.csv", "cases.jsonl", "more/list.json", "more/one.yaml",
    ]


def test_every_case_of_every_format_becomes_one_entry_with_its_source():
    sources = [entry.source.replace(str(MIXED), "M") for entry in read_inputs([str(MIXED)])]
    assert sources == [
        "M/cases.csv:2", "M/cases.csv:3", "M/cases.csv:4", "M/cases.csv:5",
        "M/cases.jsonl:1", "M/cases.jsonl:2", "M/cases.jsonl:3", "M/cases.jsonl:4", "M/cases.jsonl:5",
        "M/cases.jsonl:6",
        "M/more/list.json:1", "M/more/list.json:2", "M/more/list.json:3",
        "M/more/one.yaml",
    ]


def test_jsonl_lines_are_read_as_bytes_and_blank_lines_skipped(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"leg_cramps": true}\n\n  \n{"fever": false}\n')
    assert list(read_inputs([str(path)])) == [
        Entry(f"{path}:1", LINE, b'{"leg_cramps": true}\n'),
        Entry(f"{path}:4", LINE, b'{"fever": false}\n'),
    ]


def test_standard_input_is_jsonl():
    entries = list(read_inputs(["-"], stdin=io.BytesIO(b'{"fever": true}\n')))
    assert entries == [Entry("<stdin>:1", LINE, b'{"fever": true}\n')]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.json", None, "file not found"),
        ("empty.yaml", "", "the file is empty"),
        ("broken.json", '{"leg_cramps": tru', "not valid JSON"),
        ("broken.yaml", "a: [", "not valid YAML"),
        ("latin1.json", b'{"id": "\xe9"}', "cannot read file"),
        ("empty.csv", "", "the file is empty"),
    ],
)
def test_what_cannot_be_read_is_one_error_entry_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    [entry] = read_inputs([str(path)])
    assert entry.kind == ERROR and entry.source == str(path) and message in entry.payload


def test_a_csv_row_with_too_many_cells_is_an_error_and_the_others_are_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("leg_cramps,fever\nyes,no\nyes,no,extra\n\nno,yes\n")
    entries = list(read_inputs([str(path)]))
    assert [(e.source, e.kind) for e in entries] == [
        (f"{path}:2", ROW), (f"{path}:3", ERROR), (f"{path}:5", ROW),
    ]
    assert "3 cells" in entries[1].payload


def test_csv_cells_are_read_by_their_question_type(kb):
    row = {"id": "r1", "leg_cramps": "Yes", "fever": "0", "night_cramps": "TRUE", "weeks_pregnant": "30",
           "trimester": "3", "weakness": "mild", "numbness": "", "pain_severity": "x", "leg_cramp": "yes"}
    assert case_from_row(row, kb.question_by_id) == {
        "id": "r1", "leg_cramps": True, "fever": False, "night_cramps": True, "weeks_pregnant": 30,
        "trimester": 3, "weakness": "mild", "pain_severity": "x", "leg_cramp": "yes",
    }


def test_case_of_parses_a_line_and_names_the_source_of_bad_json(kb):
    assert case_of(Entry("f:1", LINE, b'{"fever": true}\n'), kb) == {"fever": True}
    with pytest.raises(CaseError, match=r"f:2: not valid JSON: .*\(column 11\)"):
        case_of(Entry("f:2", LINE, b'{"fever": tru}\n'), kb)
    with pytest.raises(CaseError, match="f:3: file not found"):
        case_of(Entry("f:3", ERROR, "file not found"), kb)
    assert case_of(Entry("f:4", CASE, [1]), kb) == [1]  # validation says what is wrong


class _Chunk:
    def __init__(self, texts):
        self.texts = texts


@pytest.mark.parametrize("chunks, expected", [([], []), ([["{}"], []], [{}]), ([["{}", "[1]"], ["2"]], [{}, [1], 2])])
def test_json_output_is_one_valid_list_however_the_chunks_fall(chunks, expected):
    out = io.StringIO()
    write_records([_Chunk(c) for c in chunks], out, "json")
    assert json.loads(out.getvalue()) == expected


def test_atomic_output_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as handle:
            handle.write("partial\n")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as handle:
        handle.write("whole\n")
    assert target.read_text() == "whole\n" and list(tmp_path.iterdir()) == [target]
