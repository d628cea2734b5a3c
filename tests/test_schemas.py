"""JSON Schemas (triage.schemas): the shipped examples and the real output validate with jsonschema,
and the case schema accepts and refuses what the case model does (but one documented cross-field rule)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import triage
from triage.casefiles import read_single_case
from triage.cli import main
from triage.schemas import assessment_schema, case_schema
from conftest import EXAMPLES

CASE_FILES = sorted((EXAMPLES / "cases").iterdir())


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def case_validator():
    schema = json.loads(run("schema", "case"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def assessment_validator():
    schema = json.loads(run("schema", "assessment"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_commands_print_the_library_schemas(kb):
    assert json.loads(run("schema", "case")) == case_schema(kb)
    assert json.loads(run("schema", "assessment")) == assessment_schema()
    assert case_schema(kb)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_case_schema_has_every_question_and_forbids_others(kb):
    schema = case_schema(kb)
    assert set(schema["properties"]) == {q.id for q in kb.questions} | {"id"}
    assert schema["additionalProperties"] is False and not schema.get("required")


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_example_case_validates_against_the_case_schema(case_validator, path):
    case, _ = read_single_case(str(path))
    assert list(case_validator.iter_errors(case)) == []


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_example_assessment_validates_against_the_assessment_schema(assessment_validator, path):
    output = json.loads(run("assess", "--format", "json", str(path)))
    assert list(assessment_validator.iter_errors(output)) == []


@pytest.mark.parametrize(
    "case",
    [
        {"leg_cramp": True},
        {"weeks_pregnant": 43},
        {"weeks_pregnant": "30"},
        {"pain_severity": -1},
        {"numbness": "some"},
        {"fever": "yes"},
        {"trimester": 4},
        {"trimester": "2"},
        {"id": 7},
        {"weeks_pregnant": 30, "trimester": 2},
        {"weeks_pregnant": 13, "trimester": 2},
        {"leg_cramps": False, "night_cramps": True},
        {"leg_cramps": False, "cramp_lasting_over_10_min": True},
        {"vaginal_bleeding": False, "bleeding_amount": "spotting"},
    ],
)
def test_the_case_schema_refuses_what_the_case_model_refuses(case_validator, engine, case):
    assert list(case_validator.iter_errors(case))
    with pytest.raises(triage.CaseError):
        engine.validate(case)


def test_an_assessment_missing_a_field_or_with_a_bad_urgency_is_refused(assessment_validator, engine):
    output = json.loads(engine.assess({"leg_cramps": True}).model_dump_json())
    assert list(assessment_validator.iter_errors(output)) == []
    assert list(assessment_validator.iter_errors({**output, "urgency": "soonish"}))
    assert list(assessment_validator.iter_errors({k: v for k, v in output.items() if k != "disclaimer"}))


def value_strategy(question):
    good = (st.booleans() if question.type == "boolean"
            else st.integers(question.min, question.max) if question.type == "integer"
            else st.sampled_from(question.values))
    bad = st.one_of(st.none(), st.booleans(), st.integers(-3, 50), st.sampled_from(["yes", "none", "numb", "2", "mild"]))
    return st.one_of(good, good, bad)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_schema_and_model_agree_on_generated_cases(kb, engine, case_validator, data):
    case = data.draw(st.fixed_dictionaries({}, optional={q.id: value_strategy(q) for q in kb.questions}))
    schema_ok = not list(case_validator.iter_errors(case))
    try:
        engine.validate(case)
        model_ok, message = True, ""
    except triage.CaseError as error:
        model_ok, message = False, str(error)
    # The rules across fields (trimester and weeks; triage.case.FOLLOW_UPS) are in the schema too.
    assert schema_ok == model_ok, (case, message)


@pytest.mark.parametrize("case", [
    {"weeks_pregnant": 13, "trimester": 1}, {"weeks_pregnant": 14, "trimester": 2}, {"weeks_pregnant": 28, "trimester": 3},
    {"weeks_pregnant": 30, "trimester": None}, {"weeks_pregnant": None, "trimester": 1},
    {"leg_cramps": False, "night_cramps": False}, {"leg_cramps": False, "night_cramps": None},
    {"leg_cramps": True, "night_cramps": True}, {"vaginal_bleeding": None, "bleeding_amount": "heavy"},
])
def test_the_cross_field_rules_accept_what_agrees(case_validator, engine, case):
    assert list(case_validator.iter_errors(case)) == []
    engine.validate(case)


def test_the_assessment_schema_requires_every_field_an_assessment_always_writes():
    # New-user trial 4: `warnings` was optional in the schema, so a generated client could drop it.
    from triage.schemas import assessment_schema

    assert {"warnings", "out_of_scope", "unanswered_red_flags"} <= set(assessment_schema()["required"])
