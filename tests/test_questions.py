"""The question types: a discriminated union whose classes each hold everything that depends
on the type (triage.questions), so that adding a type touches one class."""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path
from typing import Literal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import triage
from triage import fhir
from triage.prompts import Item, Prompt
from triage.questions import (
    QUESTION_CLASSES,
    QUESTION_TYPES,
    BooleanQuestion,
    ChoiceQuestion,
    IntegerQuestion,
    QuestionBase,
    QuestionSet,
    parse_question,
)
from triage.schemas import case_schema

# One question of every type: adding a type to the union without an example here fails
# test_every_type_has_an_example, so each new class gets these tests too.
EXAMPLES = {
    "boolean": {"id": "fever", "text": "Fever?", "help": "h", "type": "boolean", "red_flag": True},
    "integer": {"id": "weeks", "text": "Weeks?", "help": "h", "type": "integer", "min": 4, "max": 12},
    "choice": {"id": "weakness", "text": "Weak?", "help": "h", "type": "choice",
               "choices": [{"value": "none", "label": "No weakness"}, {"value": "mild", "label": "Mild"},
                           {"value": "severe", "label": "Severe weakness"}], "red_flag": ["severe"]},
}
NUMBERED = {"id": "trimester", "text": "Trimester?", "help": "h", "type": "choice",
            "choices": [{"value": 1, "label": "First"}, {"value": 2, "label": "Second"}, {"value": 3, "label": "Third"}]}


def example(kind: str) -> QuestionBase:
    return parse_question(EXAMPLES[kind])


# ---------------------------------------------------------------------------- the union covers every type


def test_every_type_literal_in_the_union_has_its_own_class():
    literals = {cls: cls.model_fields["type"].annotation.__args__ for cls in QUESTION_CLASSES}
    assert all(len(values) == 1 for values in literals.values())  # one type per class, no class shares one
    assert sorted(v[0] for v in literals.values()) == sorted(QUESTION_TYPES)
    assert len(set(QUESTION_TYPES)) == len(QUESTION_CLASSES) == 3
    assert {BooleanQuestion, IntegerQuestion, ChoiceQuestion} == set(QUESTION_CLASSES)


def test_every_type_has_an_example():
    assert set(EXAMPLES) == set(QUESTION_TYPES)


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_each_type_validates_as_its_class(kind):
    question = example(kind)
    assert type(question) in QUESTION_CLASSES
    assert question.type == kind
    assert type(question).model_fields["type"].annotation.__args__ == (kind,)


@pytest.mark.parametrize("cls", QUESTION_CLASSES, ids=lambda c: c.__name__)
def test_every_class_implements_every_method(cls):
    required = QuestionBase.__abstractmethods__
    assert {"domain", "accepts", "describe_allowed", "describe_replies", "reply_hint", "parse_reply", "parse_cell",
            "answer_type", "random_answer", "fhir_value", "fhir_read"} <= required
    assert not cls.__abstractmethods__
    for name in required:
        assert getattr(cls, name) is not getattr(QuestionBase, name), f"{cls.__name__} does not implement {name}"
    assert isinstance(cls.fhir_type, str) and isinstance(cls.fhir_value_type, str)


def test_a_new_type_missing_a_method_cannot_be_made():
    class DateQuestion(QuestionBase):  # a type that says how to describe its answers, and nothing else
        type: Literal["date"]

        def describe_allowed(self) -> str:
            return "a date"

    with pytest.raises(TypeError, match="abstract") as error:
        DateQuestion(id="when", text="When?", help="h", type="date")
    assert "parse_cell" in str(error.value) and "fhir_read" in str(error.value)


def test_a_question_of_an_unknown_type_is_refused_naming_the_type():
    with pytest.raises(ValidationError) as error:
        parse_question({"id": "when", "text": "When?", "help": "h", "type": "date"})
    assert "'date'" in str(error.value)
    assert all(repr(kind) in str(error.value) for kind in QUESTION_TYPES)  # and what is allowed


def test_a_knowledge_base_with_a_question_of_an_unknown_type_is_refused(kb_copy):
    edit_questions(kb_copy, lambda q: q["fever"].update(type="date"))
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    assert any("question fever" in p and "'date'" in p for p in error.value.problems), error.value.problems


def test_a_question_without_a_type_is_refused_naming_the_field(kb_copy):
    edit_questions(kb_copy, lambda q: q["fever"].pop("type"))
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    assert any("question fever" in p and "'type'" in p for p in error.value.problems), error.value.problems


def test_errors_in_a_question_name_the_field_without_the_type_tag(kb_copy):
    def change(q):
        q["weeks_pregnant"].pop("max")
        q["fever"]["min"] = 3

    edit_questions(kb_copy, change)
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    problems = error.value.problems
    assert any(p.endswith("question weeks_pregnant: max: Field required") for p in problems), problems
    assert any(p.endswith("question fever: min: Extra inputs are not permitted") for p in problems), problems


def test_the_front_end_models_take_exactly_the_question_types():
    assert set(Item.model_fields["type"].annotation.__args__) == set(QUESTION_TYPES)
    assert set(Prompt.model_fields["type"].annotation.__args__) == {*QUESTION_TYPES, "group"}


def test_no_module_switches_on_the_question_type():
    package = Path(triage.__file__).parent
    switch = re.compile(r"\.type\s*(==|!=|\bin\b|\bnot in\b)")
    found = [f"{path.relative_to(package)}:{number}" for path in package.rglob("*.py") if path.parent.name != "questions"
             for number, line in enumerate(path.read_text().splitlines(), 1) if switch.search(line)]
    assert found == []


# ---------------------------------------------------------------------------- shapes


def test_each_type_takes_only_its_own_fields():
    assert example("integer").type_fields() == {"min": 4, "max": 12}
    assert [c.value for c in example("choice").type_fields()["choices"]] == ["none", "mild", "severe"]
    assert example("boolean").type_fields() == {}
    for kind, extra in (("boolean", {"min": 1}), ("boolean", {"choices": NUMBERED["choices"]}),
                        ("choice", {"max": 3}), ("integer", {"choices": NUMBERED["choices"]})):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            parse_question({**EXAMPLES[kind], **extra})


def test_an_integer_question_needs_its_bounds_in_order():
    with pytest.raises(ValidationError, match="min <= max"):
        parse_question({**EXAMPLES["integer"], "min": 13})
    with pytest.raises(ValidationError, match="Field required"):
        parse_question({k: v for k, v in EXAMPLES["integer"].items() if k != "max"})


def test_a_choice_question_needs_choices_holding_its_red_flags():
    with pytest.raises(ValidationError, match="needs choices"):
        parse_question({**EXAMPLES["choice"], "choices": [], "red_flag": False})
    with pytest.raises(ValidationError, match="not among the choices"):
        parse_question({**EXAMPLES["choice"], "red_flag": ["numb"]})
    with pytest.raises(ValidationError):  # only a choice lists red-flag values
        parse_question({**EXAMPLES["boolean"], "red_flag": [True]})


def test_questions_dump_in_the_order_questions_yaml_writes_them():
    assert list(example("integer").model_dump()) == ["id", "text", "help", "type", "min", "max", "red_flag",
                                                     "ask_when", "required", "detail"]
    assert list(example("choice").model_dump())[:6] == ["id", "text", "help", "type", "choices", "red_flag"]


def test_a_group_holds_only_yes_or_no_questions():
    with pytest.raises(ValidationError, match="not a yes-or-no question"):
        QuestionSet.model_validate({"questions": [EXAMPLES["integer"]],
                                    "groups": [{"id": "g", "text": "g?", "help": "h", "questions": ["weeks"]}]})
    qset = QuestionSet.model_validate({"questions": list(EXAMPLES.values()),
                                       "groups": [{"id": "g", "text": "g?", "help": "h", "rest": True}]})
    assert qset.group_members() == {"g": ["fever"]}


# ---------------------------------------------------------------------------- answers


def test_domains():
    assert example("boolean").domain() == (True, False)
    assert example("integer").domain() == tuple(range(4, 13))
    assert example("integer").domain(limit=9) == tuple(range(4, 13))
    assert example("integer").domain(limit=8) is None  # too many to list: the callers test each answer instead
    assert example("choice").domain() == ("none", "mild", "severe")
    assert example("choice").domain(limit=2) is None
    assert parse_question(NUMBERED).domain() == (1, 2, 3)


def test_accepts_exactly_the_domain():
    for kind in QUESTION_TYPES:
        question = example(kind)
        for value in question.domain():
            assert question.accepts(value)
        for value in (None, "x", 1.5, 3, 13, -1, [True], "Mild"):
            if value not in question.domain():
                assert not question.accepts(value), (kind, value)
    from_zero = parse_question({**EXAMPLES["integer"], "min": 0})
    assert from_zero.accepts(1) and not from_zero.accepts(True)  # True == 1 in Python, but is not a number of weeks
    assert not parse_question(NUMBERED).accepts(True) and not parse_question(NUMBERED).accepts("1")
    assert not example("boolean").accepts(1)


def test_descriptions():
    assert example("boolean").describe_allowed() == "true or false"
    assert example("integer").describe_allowed() == "a whole number from 4 to 12"
    assert example("choice").describe_allowed() == "one of 'none', 'mild', 'severe'"
    assert parse_question(NUMBERED).describe_allowed() == "one of 1, 2, 3"
    assert example("boolean").describe_replies() == "y or n"
    assert example("integer").describe_replies() == "a whole number from 4 to 12"
    assert example("choice").describe_replies() == "a number from 1 to 3, or one of: none, mild, severe (n means none)"
    assert parse_question(NUMBERED).describe_replies() == "a number from 1 to 3, or one of: 1, 2, 3"
    assert [example(k).reply_hint() for k in ("boolean", "integer", "choice")] == ["y/n", "4-12", "1-3"]


def test_red_flag_answers():
    assert example("boolean").is_red_flag_answer(True) and not example("boolean").is_red_flag_answer(False)
    assert [v for v in example("choice").domain() if example("choice").is_red_flag_answer(v)] == ["severe"]
    assert not any(example("integer").is_red_flag_answer(v) for v in example("integer").domain())
    assert not parse_question({**EXAMPLES["boolean"], "red_flag": False}).is_red_flag_answer(True)


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_random_answers_are_valid_and_reach_every_answer(kind):
    question = example(kind)
    rnd = random.Random(1)
    drawn = [question.random_answer(rnd) for _ in range(600)]
    assert all(question.accepts(value) for value in drawn)
    assert set(drawn) == set(question.domain())


def test_random_yes_is_rarer_than_no():
    rnd = random.Random(2)
    yes = sum(example("boolean").random_answer(rnd) for _ in range(2000))
    assert 500 < yes < 700  # 3 in 10: warning signs are rare in samples


def test_answer_types_validate_exactly_what_the_question_accepts():
    for question in (*(example(k) for k in QUESTION_TYPES), parse_question(NUMBERED)):
        adapter = TypeAdapter(question.answer_type())
        for value in question.domain():
            assert adapter.validate_python(value, strict=True) == value
        for value in (True, "1", 13, "numb", 0):
            if not question.accepts(value):
                with pytest.raises(ValidationError):
                    adapter.validate_python(value, strict=True)


def test_json_schema_is_the_case_schemas_property(kb):
    properties = case_schema(kb)["properties"]
    for question in kb.questions:
        assert properties[question.id]["anyOf"] == [question.json_schema(), {"type": "null"}]
    assert example("integer").json_schema() == {"type": "integer", "minimum": 4, "maximum": 12}
    assert example("choice").json_schema() == {"type": "string", "enum": ["none", "mild", "severe"]}
    assert example("boolean").json_schema() == {"type": "boolean"}


# ---------------------------------------------------------------------------- typed text and CSV cells

REPLIES = {
    "boolean": {"y": True, "yes": True, "n": False, "no": False, "1": None, "true": None, "maybe": None},
    "integer": {"4": 4, "12": 12, "3": None, "13": None, "-4": None, "+5": None, "5.0": None, "٥": None,
                "5" * 21: None, "five": None},
    "choice": {"1": "none", "3": "severe", "0": None, "4": None, "mild": "mild", "severe weakness": "severe",
               "n": "none", "no": "none", "y": None, "numb": None},
}
CELLS = {
    "boolean": {"yes": True, "Y": True, "TRUE": True, "1": True, "no": False, "N": False, "False": False, "0": False,
                "maybe": "maybe", "2": "2"},
    "integer": {"30": 30, "-4": -4, "+30": "+30", "3_0": "3_0", "٣٠": "٣٠", "1" * 33: "1" * 33, "1" * 32: int("1" * 32),
                "x": "x"},
    "choice": {"MILD": "mild", "Severe": "severe", "none": "none", "numb": "numb", "1": "1"},
}


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_parse_reply(kind):
    assert set(REPLIES) == set(QUESTION_TYPES)
    for reply, value in REPLIES[kind].items():
        assert example(kind).parse_reply(reply) == value, reply


def test_no_means_none_only_where_there_is_a_none_choice():
    assert parse_question(NUMBERED).parse_reply("n") is None
    assert parse_question(NUMBERED).parse_reply("2") == 2 and parse_question(NUMBERED).parse_reply("second") == 2


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_parse_cell(kind):
    assert set(CELLS) == set(QUESTION_TYPES)
    for cell, value in CELLS[kind].items():
        parsed = example(kind).parse_cell(cell)
        assert parsed == value and type(parsed) is type(value), cell


def test_a_choice_of_numbers_reads_cells_as_numbers():
    numbered = parse_question(NUMBERED)
    assert numbered.parse_cell("2") == 2 and numbered.parse_cell("+2") == "+2" and numbered.parse_cell("two") == "two"


# ---------------------------------------------------------------------------- FHIR


def test_fhir_item_types_and_answer_keys(kb):
    exported = {item["linkId"]: item for item in fhir.questionnaire(kb)["item"]}
    for question in kb.questions:
        item = exported[question.id]
        assert item["type"] == question.fhir_type == question.type
        assert item.get("extension", []) == question.fhir_extensions()
        assert item.get("answerOption", []) == question.fhir_answer_options()
    assert {q.fhir_value_type for q in kb.questions} == {"Boolean", "Integer", "Coding"}
    assert example("integer").fhir_extensions() == [{"url": fhir.MIN_VALUE, "valueInteger": 4},
                                                    {"url": fhir.MAX_VALUE, "valueInteger": 12}]
    assert example("boolean").fhir_extensions() == [] and example("choice").fhir_extensions() == []
    assert [o["valueCoding"]["code"] for o in parse_question(NUMBERED).fhir_answer_options()] == ["1", "2", "3"]


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_fhir_values_read_back_as_the_same_answer(kind):
    question = example(kind)
    for value in question.domain():
        written = question.fhir_value(value)
        back = question.fhir_read(written)
        assert back == value and type(back) is type(value)
    assert fhir.response_answer(question, question.domain()[0]) == {
        "value" + question.fhir_value_type: question.fhir_value(question.domain()[0])}


def test_fhir_codes_are_the_values_as_text_in_the_questions_system():
    numbered = parse_question(NUMBERED)
    assert numbered.fhir_value(2) == {"system": fhir.answer_system(numbered), "code": "2", "display": "Second"}
    assert numbered.fhir_read({"code": "3"}) == 3
    with pytest.raises(KeyError):
        numbered.fhir_value(True)  # True == 1, but is not the first trimester


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("boolean", 1, "valueBoolean must be true or false, not 1"),
    ("boolean", "true", "valueBoolean must be true or false"),
    ("integer", True, "valueInteger must be a whole number, not True"),
    ("integer", 5.0, "valueInteger must be a whole number"),
    ("integer", 13, "13 is out of range; expected a whole number from 4 to 12"),
    ("choice", "mild", "valueCoding needs a code, one of 'none', 'mild', 'severe'"),
    ("choice", {"code": 1}, "valueCoding needs a code"),
    ("choice", {"code": "numb"}, "'numb' is not an allowed option; expected one of 'none', 'mild', 'severe'"),
    ("choice", {"system": "http://other", "code": "mild"}, "code system 'http://other' is not the question's"),
])
def test_fhir_read_refuses_what_is_not_an_answer(kind, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        example(kind).fhir_read(value)


def test_only_integers_are_ordered():
    assert [cls.__name__ for cls in QUESTION_CLASSES if cls.ordered] == ["IntegerQuestion"]


def edit_questions(kb_copy, change):
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    change({q["id"]: q for q in data["questions"]})
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# ---------------------------------------------------------------------------- text that looks like a number

# Each is something int() or str.isdigit() half-reads: a plain-digits check must refuse them all.
NOT_PLAIN_NUMBERS = ["--5", "-", "+5", "٣", "３", "5.0", "1e3", "0x1f", "5_0", "- 5", "-+5", "5-", "²", "−5"]


@pytest.mark.parametrize("text", NOT_PLAIN_NUMBERS)
def test_number_like_text_is_no_typed_answer_and_no_traceback(text):
    # parse_reply is given the stripped, lower-case reply
    assert example("integer").parse_reply(text) is None
    assert parse_question(NUMBERED).parse_reply(text) is None
    with pytest.raises(triage.AnswerError, match="whole number from 0 to 42"):
        triage.Questionnaire().interpret("weeks_pregnant", text)
    with pytest.raises(triage.AnswerError, match="whole number from 0 to 10"):
        triage.Questionnaire().interpret("pain_severity", text)


@pytest.mark.parametrize("text", NOT_PLAIN_NUMBERS)
def test_number_like_cells_stay_text_so_validation_names_the_field(text):
    assert example("integer").parse_cell(text) == text
    assert parse_question(NUMBERED).parse_cell(text) == text


def test_spaces_round_a_typed_number_are_trimmed():
    assert triage.Questionnaire().interpret("weeks_pregnant", " 5 ").value == 5


@functools.cache
def questionnaire():
    return triage.Questionnaire()


@given(st.text(max_size=8))
def test_any_typed_text_is_a_number_in_range_or_an_answer_error(text):
    try:
        reply = questionnaire().interpret("weeks_pregnant", text)
    except triage.AnswerError:
        return
    if reply.kind == "answer":
        assert re.fullmatch(r"-?[0-9]+", text.strip()) and reply.value == int(text.strip()) and 0 <= reply.value <= 42


@given(st.text(max_size=8))
def test_any_cell_is_a_whole_number_only_when_written_in_plain_digits(text):
    cell = example("integer").parse_cell(text)
    assert cell == text or (re.fullmatch(r"-?[0-9]+", text) and cell == int(text))
