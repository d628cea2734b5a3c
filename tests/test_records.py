"""The records of ``triage batch``: one formatter, the same record in every format, ``--full`` as its argument."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.errors import CaseError
from triage.records import RECORD_FIELDS, Outcome, format_record
from conftest import EXAMPLES

CASE = {"id": "c1", "weeks_pregnant": 31, "leg_cramps": True, "night_cramps": True}


def outcome_of(engine, case, source="cases.jsonl:1"):
    valid = engine.validate(case, source)
    return Outcome.assessed(source, valid, engine.fire(valid))


def test_every_format_holds_the_same_fields_in_the_same_order(engine):
    outcome = outcome_of(engine, CASE)
    line = format_record(engine.knowledge_base, outcome, "jsonl")
    value = format_record(engine.knowledge_base, outcome, "json")
    row = next(csv.reader(io.StringIO(format_record(engine.knowledge_base, outcome, "csv"))))
    assert line == value + "\n" and list(json.loads(value)) == list(RECORD_FIELDS)
    record = json.loads(value)
    assert record["case_id"] == "c1" and record["urgency"] == engine.assess(CASE).urgency.value
    assert row == [" ".join(v) if isinstance(v, list) else "" if v is None else v for v in record.values()]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_full_adds_the_assessment_triage_assess_gives_and_changes_nothing_else(engine, fmt):
    outcome = outcome_of(engine, CASE)
    short = json.loads(format_record(engine.knowledge_base, outcome, fmt))
    full = json.loads(format_record(engine.knowledge_base, outcome, fmt, full=True))
    assert full.pop("assessment") == json.loads(engine.assess(CASE).model_dump_json())
    assert full == short


def test_full_gives_a_case_that_could_not_be_assessed_a_null_assessment_and_its_error(kb):
    outcome = Outcome.failed("cases.jsonl:2", CaseError(["field 'leg_cramp': not a question"], "cases.jsonl:2"))
    record = json.loads(format_record(kb, outcome, "jsonl", full=True))
    assert record["assessment"] is None and record["urgency"] is None
    assert record["case_id"] == "cases.jsonl:2"  # no id: the source stands for it
    assert record["error"] == "field 'leg_cramp': not a question"


def test_a_csv_record_cannot_hold_the_whole_assessment_and_an_unknown_format_is_refused(engine):
    outcome = outcome_of(engine, CASE)
    with pytest.raises(ValueError, match="jsonl or json"):
        format_record(engine.knowledge_base, outcome, "csv", full=True)
    with pytest.raises(ValueError, match="unknown record format 'xml'"):
        format_record(engine.knowledge_base, outcome, "xml")


def test_triage_batch_full_writes_one_record_per_case_with_null_for_the_broken_ones():
    result = CliRunner().invoke(main, ["batch", str(EXAMPLES / "batch" / "mixed"), "--full", "--format", "json", "-q"])
    assert result.exit_code == 1, result.output
    records = json.loads(result.stdout)
    broken = [r for r in records if r["error"] is not None]
    assert broken and all(r["assessment"] is None for r in broken)
    assert all(r["assessment"]["urgency"] == r["urgency"] for r in records if r["error"] is None)


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_a_record_made_without_the_safety_pack_says_so_in_every_format(tmp_path, fmt):
    # Breathlessness with a swollen leg is self-care without the safety pack: a file of such
    # records read later must never pass for a checked one (hostile trial 3).
    case = tmp_path / "pe.json"
    case.write_text('{"breathless_or_chest_pain": true, "one_leg_swollen": true, "leg_pain": true}')
    without = CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "batch", str(case), "-q", "--format", fmt])
    shipped = CliRunner().invoke(main, ["batch", str(case), "-q", "--format", fmt])
    if fmt == "csv":
        [record] = list(csv.DictReader(io.StringIO(without.stdout)))
        [checked] = list(csv.DictReader(io.StringIO(shipped.stdout)))
    else:
        [record] = [json.loads(line) for line in without.stdout.splitlines() if line.startswith("{")]
        [checked] = [json.loads(line) for line in shipped.stdout.splitlines() if line.startswith("{")]
    assert record["urgency"] == "self_care" and checked["urgency"] == "emergency"
    assert "safety pack was not selected" in (record["warnings"] if fmt == "csv" else record["warnings"][0])
    assert checked["warnings"] in ("", [])
