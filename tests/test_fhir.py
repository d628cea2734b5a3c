"""FHIR in and out (triage.fhir): every emitted resource is checked with the
fhir.resources R4B models, plus the Questionnaire rules those models do not
enforce; a QuestionnaireResponse is assessed exactly as the same case file is.

The helpers below play the other side: ``fill`` is a form filler that knows only
the exported Questionnaire (it picks options by their label and answers only
enabled items), and ``fhir_enabled`` evaluates enableWhen as FHIR R4 defines it.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest
import yaml
from click.testing import CliRunner
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage import fhir
from triage.casefiles import read_single_case
from triage.cli import main
from triage.conditions import evaluate, walk
from triage.questions import BooleanQuestion, ChoiceQuestion, IntegerQuestion, Question
from conftest import EXAMPLES, REPO

CASE_FILES = sorted(p for p in (EXAMPLES / "cases").iterdir())
EXAMPLE_QR = EXAMPLES / "fhir" / "questionnaire-response-night-cramps.json"
EXAMPLE_QR_CASE = EXAMPLES / "cases" / "night_cramps_third_trimester.json"
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
              "url", "choice", "open-choice", "attachment", "reference", "quantity"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def exported():
    """The Questionnaire as `triage questions --format fhir` prints it."""
    result = run("questions", "--format", "fhir")
    assert result.exit_code == 0
    return json.loads(result.output)


# --------------------------------------------------------------------------- the other side


def items_of(questionnaire: dict):
    """Every item, nested ones too."""
    stack = list(questionnaire.get("item", []))
    while stack:
        item = stack.pop(0)
        yield item
        stack[:0] = item.get("item", [])


def answer_value(answer: dict):
    [key] = [k for k in answer if k.startswith("value") or k.startswith("answer")]
    return answer[key]


def same_value(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):  # Codings: system and code
        return (a.get("system"), a.get("code")) == (b.get("system"), b.get("code"))
    return a == b and type(a) is type(b)


def condition_holds(condition: dict, given: list) -> bool:
    """One enableWhen, by the R4 definitions of the operators; ``given`` are the item's answers."""
    expected = answer_value(condition)
    values = [answer_value(a) for a in given]
    operator = condition["operator"]
    if operator == "exists":
        return bool(values) == expected
    if operator == "=":
        return any(same_value(v, expected) for v in values)
    if operator == "!=":
        return not any(same_value(v, expected) for v in values)
    compare = {">": lambda v: v > expected, "<": lambda v: v < expected,
               ">=": lambda v: v >= expected, "<=": lambda v: v <= expected}[operator]
    return any(compare(v) for v in values)


def fhir_enabled(item: dict, answers: dict) -> bool:
    """Whether FHIR enables ``item`` given ``answers`` ({linkId: [answer, ...]})."""
    conditions = item.get("enableWhen", [])
    if not conditions:
        return True
    results = [condition_holds(c, answers.get(c["question"], [])) for c in conditions]
    return all(results) if item.get("enableBehavior", "all") == "all" else any(results)


def fhir_answer(item: dict, question: Question, value) -> dict:
    """How a person answers ``item`` with ``value``: an option is picked by its label."""
    if item["type"] == "boolean":
        return {"valueBoolean": value}
    if item["type"] == "integer":
        return {"valueInteger": value}
    label = next(c.label for c in question.choices if c.value == value)
    option = next(o for o in item["answerOption"] if o["valueCoding"]["display"] == label)
    return {"valueCoding": dict(option["valueCoding"])}


def fill(questionnaire: dict, kb, case: dict) -> dict:
    """Fill the Questionnaire in with a case's answers, like a form: disabled items take no answer."""
    answers: dict[str, list] = {}
    items = []
    for item in questionnaire["item"]:
        value = case.get(item["linkId"])
        if value is None or not fhir_enabled(item, answers):
            continue
        answers[item["linkId"]] = [fhir_answer(item, kb.question_by_id[item["linkId"]], value)]
        items.append({"linkId": item["linkId"], "text": item["text"], "answer": answers[item["linkId"]]})
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "completed",
        "authored": "2024-05-01T10:00:00Z",
        "item": items,
    }
    if case.get("id"):
        response["id"] = case["id"]
    return response


def questionnaire_problems(questionnaire: dict) -> list[str]:
    """The Questionnaire rules the fhir.resources models do not enforce (R4 que-1..12 and friends)."""
    problems = []
    items = list(items_of(questionnaire))
    by_link = {}
    for item in items:
        if item["linkId"] in by_link:
            problems.append(f"que-2: duplicate linkId {item['linkId']}")
        by_link[item["linkId"]] = item
    if questionnaire.get("status") not in {"draft", "active", "retired", "unknown"}:
        problems.append(f"status {questionnaire.get('status')!r} is not a questionnaire status")
    for item in items:
        link, kind = item["linkId"], item["type"]
        if kind not in ITEM_TYPES:
            problems.append(f"{link}: unknown item type {kind}")
        if "answerOption" in item and "answerValueSet" in item:
            problems.append(f"que-4: {link} has both answerOption and answerValueSet")
        if "answerValueSet" in item and kind not in ("choice", "open-choice"):
            problems.append(f"que-5: {link} is {kind} but has answerValueSet")
        if kind == "choice" and not ("answerOption" in item or "answerValueSet" in item):
            problems.append(f"{link}: a choice item without answerOption or answerValueSet")
        for option in item.get("answerOption", []):
            expected = {"choice": "valueCoding", "open-choice": "valueCoding", "integer": "valueInteger"}.get(kind)
            if expected not in option:
                problems.append(f"{link}: answerOption {option} is not a {expected}")
        if kind == "display":
            if item.get("item"):
                problems.append(f"que-1: display item {link} has children")
            if "code" in item:
                problems.append(f"que-3: display item {link} has a code")
            if "required" in item or "repeats" in item or "readOnly" in item:
                problems.append(f"que-6/9: display item {link} has required, repeats or readOnly")
        if kind == "group" and not item.get("item"):
            problems.append(f"que-1: group {link} has no items")
        if len(item.get("enableWhen", [])) > 1 and item.get("enableBehavior") not in ("all", "any"):
            problems.append(f"que-12: {link} has several enableWhen but no enableBehavior")
        for condition in item.get("enableWhen", []):
            target = by_link.get(condition["question"])
            if target is None or target["type"] in ("display", "group"):
                problems.append(f"{link}: enableWhen refers to {condition['question']}, which is not a question")
                continue
            if condition["operator"] not in OPERATORS:
                problems.append(f"{link}: unknown enableWhen operator {condition['operator']}")
            answer_keys = [k for k in condition if k.startswith("answer")]
            wanted = "answerBoolean" if condition["operator"] == "exists" else {
                "boolean": "answerBoolean", "integer": "answerInteger", "choice": "answerCoding"}[target["type"]]
            if answer_keys != [wanted]:
                problems.append(f"{link}: enableWhen on {target['linkId']} answers with {answer_keys}, not {wanted}")
            elif wanted == "answerCoding" and not any(
                same_value(o["valueCoding"], condition["answerCoding"]) for o in target.get("answerOption", [])
            ):
                problems.append(f"{link}: enableWhen answerCoding is not an option of {target['linkId']}")
        limits = {e["url"]: e for e in item.get("extension", []) if e["url"] in (fhir.MIN_VALUE, fhir.MAX_VALUE)}
        if limits:
            if kind != "integer" or any("valueInteger" not in e for e in limits.values()):
                problems.append(f"{link}: minValue/maxValue must be valueInteger on an integer item")
            elif len(limits) == 2 and limits[fhir.MIN_VALUE]["valueInteger"] > limits[fhir.MAX_VALUE]["valueInteger"]:
                problems.append(f"{link}: minValue above maxValue")
    return problems


# --------------------------------------------------------------------------- Questionnaire


def test_exported_questionnaire_is_valid_r4b_and_is_the_library_one(kb, exported):
    Questionnaire.model_validate(exported)
    assert exported == fhir.questionnaire(kb)


def test_exported_questionnaire_keeps_the_rules_the_models_do_not_enforce(exported):
    assert questionnaire_problems(exported) == []


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (lambda q: q["item"].append(dict(q["item"][0])), "que-2"),
        (lambda q: q["item"][1].update(answerValueSet="http://example.org/vs"), "que-4"),
        (lambda q: q["item"][2].update(answerValueSet="http://example.org/vs"), "que-5"),
        (lambda q: q["item"][1].update(enableWhen=[{"question": "nope", "operator": "exists", "answerBoolean": True}]),
         "not a question"),
        (lambda q: q["item"][1].update(enableWhen=[{"question": "weeks_pregnant", "operator": "exists", "answerBoolean": True}] * 2),
         "que-12"),
        (lambda q: q["item"][1].update(enableWhen=[{"question": "lower_back_pain", "operator": "=", "answerInteger": 1}]),
         "not answerBoolean"),
        (lambda q: q["item"][1]["answerOption"].append({"valueInteger": 4}), "is not a valueCoding"),
        (lambda q: q["item"][0]["item"][0].update(required=True), "que-6/9"),
    ],
)
def test_the_questionnaire_checks_catch_what_they_check(kb, break_it, expected):
    broken = json.loads(json.dumps(fhir.questionnaire(kb)))
    break_it(broken)
    assert any(expected in p for p in questionnaire_problems(broken))


def test_every_question_is_an_item_with_its_type_range_options_and_help(kb, exported):
    items = {item["linkId"]: item for item in exported["item"]}
    assert list(items) == [q.id for q in kb.questions]
    for question in kb.questions:
        item = items[question.id]
        assert item["type"] == question.type and item["text"] == question.text
        [help_item] = item["item"]
        assert help_item["type"] == "display" and help_item["text"] == question.help
        limits = {e["url"]: e["valueInteger"] for e in item.get("extension", [])}
        if question.type == "integer":
            assert limits == {fhir.MIN_VALUE: question.min, fhir.MAX_VALUE: question.max}
        else:
            assert limits == {} and "answerValueSet" not in item
        if question.type == "choice":
            labels = [o["valueCoding"]["display"] for o in item["answerOption"]]
            assert labels == [c.label for c in question.choices]
            assert {o["valueCoding"]["system"] for o in item["answerOption"]} == {fhir.answer_system(question)}
        else:
            assert "answerOption" not in item
        assert item.get("required", False) is getattr(question, "required", False)


def test_trimester_is_a_choice_coded_by_its_value(exported):
    item = next(i for i in exported["item"] if i["linkId"] == "trimester")
    assert item["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in item["answerOption"]] == ["1", "2", "3"]


def test_standard_codes_only_where_verified(exported):
    coded = {item["linkId"]: item["code"] for item in items_of(exported) if "code" in item}
    assert coded == {
        "weeks_pregnant": [{"system": "http://loinc.org", "code": "49051-6", "display": "Gestational age in weeks"}],
        "pain_severity": [{"system": "http://loinc.org", "code": "72514-3",
                           "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}],
    }


def test_a_code_is_dropped_when_the_question_no_longer_fits_it(kb_copy):
    data = yaml.safe_load((kb_copy / "questions.yaml").read_text())
    next(q for q in data["questions"] if q["id"] == "pain_severity")["max"] = 5
    (kb_copy / "questions.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    items = {i["linkId"]: i for i in fhir.questionnaire(triage.load_knowledge_base(kb_copy))["item"]}
    assert "code" not in items["pain_severity"] and "code" in items["weeks_pregnant"]


# --------------------------------------------------------------------------- enableWhen


def answer_grid(condition, questions, limit=20000):
    """Answer sets to try: every field the condition tests, unknown or each value (integers at the edges)."""
    fields = sorted({t.field for t in walk(condition) if hasattr(t, "field")})
    domains = []
    for name in fields:
        question = questions[name]
        if question.type == "boolean":
            values = [True, False]
        elif question.type == "choice":
            values = list(question.values)
        else:
            points = {question.min, question.max}
            for test in walk(condition):
                if getattr(test, "field", None) == name and test.operator != "known":
                    for x in (test.operand if test.operator == "in" else [test.operand]):
                        points |= {x - 1, x, x + 1}
            values = sorted(v for v in points if question.min <= v <= question.max)
        domains.append([None] + values)
    grid = list(itertools.product(*domains)) if fields else [()]
    if len(grid) > limit:
        grid = random.Random(6).sample(grid, limit)
    return [{f: v for f, v in zip(fields, values, strict=True) if v is not None} for values in grid]


def check_mapping(condition, questions) -> tuple[bool, int]:
    """Assert the enableWhen of ``condition`` is safe (and exact when it says so); return (exact, cases tried)."""
    mapped = fhir.enable_when(condition, questions)
    item = {"enableWhen": mapped.conditions}
    if mapped.behavior:
        item["enableBehavior"] = mapped.behavior
    assert len(mapped.conditions) <= 1 or mapped.behavior in ("all", "any")
    assert all(c["operator"] != "!=" for c in mapped.conditions)  # unanswered != is read both ways by tools
    grid = answer_grid(condition, questions)
    for answers in grid:
        as_fhir = {}
        for name, value in answers.items():
            question = questions[name]
            if question.type == "choice":
                choice = next(c for c in question.choices if c.value == value)
                as_fhir[name] = [{"valueCoding": fhir.answer_coding(question, choice)}]
            else:
                as_fhir[name] = [{"valueBoolean" if question.type == "boolean" else "valueInteger": value}]
        relevant, enabled = evaluate(condition, answers), fhir_enabled(item, as_fhir)
        assert enabled or not relevant, f"hides a relevant question for {answers}"
        if mapped.exact:
            assert enabled == relevant, f"said exact but differs for {answers}"
    return mapped.exact, len(grid)


@pytest.mark.parametrize("question_id", [q.id for q in triage.load_knowledge_base().questions])
def test_shipped_ask_when_maps_to_a_safe_enable_when(kb, exported, question_id):
    from triage.relevance import relevance_for

    question = kb.question_by_id[question_id]
    item = next(i for i in exported["item"] if i["linkId"] == question_id)
    # A question a rule uses for an urgency or a warning sign is asked whatever its ask_when.
    if question.ask_when is None or question_id in relevance_for(kb).decisive:
        assert "enableWhen" not in item
        return
    exact, tried = check_mapping(question.ask_when, kb.question_by_id)
    assert tried >= 3
    mapped = fhir.enable_when(question.ask_when, kb.question_by_id)
    assert item.get("enableWhen", []) == mapped.conditions
    assert item.get("enableBehavior") == mapped.behavior


SYNTHETIC = {
    q.id: q
    for q in (
        BooleanQuestion(id="b1", text="b1?", help="h", type="boolean"),
        BooleanQuestion(id="b2", text="b2?", help="h", type="boolean"),
        BooleanQuestion(id="b3", text="b3?", help="h", type="boolean"),
        IntegerQuestion(id="n", text="n?", help="h", type="integer", min=0, max=12),
        IntegerQuestion(id="w", text="w?", help="h", type="integer", min=0, max=200),
        ChoiceQuestion(id="c", text="c?", help="h", type="choice",
                       choices=[{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}, {"value": "z", "label": "Z"}]),
        ChoiceQuestion(id="t", text="t?", help="h", type="choice",
                       choices=[{"value": 1, "label": "one"}, {"value": 2, "label": "two"}, {"value": 3, "label": "three"}]),
    )
}


def cond(data):
    return BooleanQuestion(id="q", text="q?", help="h", type="boolean", ask_when=data).ask_when


# (condition, exact?) — exact ones must match FHIR on every answer set; the rest must only never hide.
SYNTHETIC_CONDITIONS = [
    ({"field": "b1", "equals": True}, True),
    ({"field": "b1", "equals": False}, True),
    ({"field": "b1", "known": True}, True),
    ({"field": "b1", "known": False}, True),
    ({"not": {"field": "b1", "known": False}}, True),
    ({"not": {"field": "b1", "equals": True}}, True),
    ({"field": "c", "in": ["x", "z"]}, True),
    ({"not": {"field": "c", "in": ["x", "z"]}}, True),
    ({"not": {"field": "c", "in": ["x", "y", "z"]}}, True),
    ({"field": "t", "equals": 2}, True),
    ({"not": {"field": "t", "equals": 2}}, True),
    ({"field": "n", ">=": 5}, True),
    ({"field": "n", "<": 5}, True),
    ({"not": {"field": "n", ">": 7}}, True),
    ({"field": "n", "in": [0, 1, 2, 7, 9, 10]}, True),
    ({"not": {"field": "n", "equals": 6}}, True),
    ({"not": {"field": "n", "in": [0, 4, 5, 12]}}, True),
    ({"all": [{"field": "b1", "equals": True}, {"field": "n", ">=": 3}, {"field": "c", "equals": "y"}]}, True),
    ({"any": [{"field": "b1", "equals": True}, {"not": {"field": "b2", "equals": False}}]}, True),
    ({"not": {"all": [{"field": "b1", "equals": False}, {"field": "b2", "equals": False}]}}, True),
    ({"all": [{"any": [{"field": "b1", "equals": True}, {"field": "b2", "equals": True}]}]}, True),
    # Not expressible as one flat list: approximated, on the safe side.
    ({"all": [{"field": "b1", "equals": True}, {"any": [{"field": "b2", "equals": True}, {"field": "b3", "equals": True}]}]}, False),
    ({"any": [{"all": [{"field": "b1", "equals": True}, {"field": "b2", "equals": True}]}, {"field": "c", "equals": "x"}]}, False),
    ({"not": {"any": [{"field": "b1", "equals": True}, {"field": "b2", "equals": True}]}}, False),
    ({"all": [{"not": {"field": "b1", "equals": True}}, {"field": "n", "<=": 4}]}, False),
    ({"all": [{"not": {"field": "b1", "equals": True}}, {"not": {"field": "c", "equals": "x"}}]}, False),
    ({"not": {"all": [{"any": [{"field": "b1", "equals": True}, {"field": "n", ">": 3}]}, {"field": "t", "equals": 1}]}}, False),
    ({"all": [{"fact": "third_trimester"}, {"field": "b1", "equals": True}]}, False),
    ({"not": {"fact": "third_trimester"}}, False),
    # Too many single values to list: enabled always.
    ({"not": {"field": "w", "in": [10, 100]}}, False),
    ({"not": {"field": "w", "in": [10, 40]}}, True),
]


@pytest.mark.parametrize("data, exact", SYNTHETIC_CONDITIONS, ids=[json.dumps(c) for c, _ in SYNTHETIC_CONDITIONS])
def test_synthetic_ask_when_maps_to_a_safe_enable_when(data, exact):
    said_exact, tried = check_mapping(cond(data), SYNTHETIC)
    assert said_exact is exact
    assert tried >= 1


def test_not_of_an_answer_enables_an_unanswered_question():
    mapped = fhir.enable_when(cond({"not": {"field": "b1", "equals": True}}), SYNTHETIC)
    assert mapped.behavior == "any"
    assert mapped.conditions == [
        {"question": "b1", "operator": "exists", "answerBoolean": False},
        {"question": "b1", "operator": "=", "answerBoolean": False},
    ]


def test_a_condition_of_an_unknown_kind_is_refused_not_guessed():
    class Sometimes:  # neither a test nor all/any/not: the mapping must not treat it as an `all`
        all = ()

    with pytest.raises(TypeError, match="no enableWhen mapping for a condition of type Sometimes"):
        fhir._flatten(Sometimes(), SYNTHETIC)


def test_integer_tails_use_comparisons_and_inner_gaps_use_equals():
    def said(data):
        return [(c["operator"], c.get("answerInteger", c.get("answerBoolean")))
                for c in fhir.enable_when(cond(data), SYNTHETIC).conditions]

    # n is 0..12: what `not in [0, 4, 5, 12]` leaves is 1-3 and 6-11, neither at an end.
    assert said({"not": {"field": "n", "in": [0, 4, 5, 12]}}) == [("exists", False)] + [("=", v) for v in (1, 2, 3, 6, 7, 8, 9, 10, 11)]
    assert said({"not": {"field": "n", "<=": 3}}) == [("exists", False), (">=", 4)]
    assert said({"not": {"field": "n", "equals": 6}}) == [("exists", False), ("<=", 5), (">=", 7)]
    assert said({"field": "n", "in": [0, 1, 2, 7]}) == [("<=", 2), ("=", 7)]


def test_a_condition_that_cannot_be_said_is_approximated_by_dropping_the_inner_any():
    mapped = fhir.enable_when(
        cond({"all": [{"field": "b1", "equals": True},
                      {"any": [{"field": "b2", "equals": True}, {"field": "b3", "equals": True}]}]}),
        SYNTHETIC,
    )
    assert not mapped.exact and mapped.behavior is None
    assert mapped.conditions == [{"question": "b1", "operator": "=", "answerBoolean": True}]


def in_real_terms(condition) -> bool:
    """Whether a synthetic condition can be written over the shipped questions (ask_when tests no facts; w has no twin)."""
    text = json.dumps(condition)
    return "fact" not in text and '"w"' not in text


def test_a_synthetic_knowledge_base_exports_a_valid_questionnaire(kb_copy):
    data = yaml.safe_load((kb_copy / "questions.yaml").read_text())
    for number, (condition, _) in enumerate(SYNTHETIC_CONDITIONS):
        if not in_real_terms(condition):
            continue
        text = json.dumps(condition)
        for old, new in (("b1", "leg_cramps"), ("b2", "leg_pain"), ("b3", "fever"), ('"n"', '"weeks_pregnant"'),
                         ('"c"', '"numbness"'), ('"x"', '"none"'), ('"y"', '"tingling"'), ('"z"', '"numb"'),
                         ('"t"', '"trimester"')):
            text = text.replace(old, new)
        data["questions"].append({"id": f"synthetic_{number}", "text": "Synthetic?", "help": "A test question.",
                                  "type": "boolean", "ask_when": json.loads(text)})
    (kb_copy / "questions.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    kb = triage.load_knowledge_base(kb_copy)
    exported = fhir.questionnaire(kb)
    Questionnaire.model_validate(exported)
    assert questionnaire_problems(exported) == []
    synthetic = [i for i in exported["item"] if i["linkId"].startswith("synthetic_")]
    assert len(synthetic) == len([c for c, _ in SYNTHETIC_CONDITIONS if in_real_terms(c)]) >= 25
    assert sum(1 for i in synthetic if i.get("enableBehavior") == "any") >= 5
    for question in kb.questions:
        if question.id.startswith("synthetic_"):
            check_mapping(question.ask_when, kb.question_by_id)


# --------------------------------------------------------------------------- QuestionnaireResponse in


def test_the_example_response_is_valid_and_assessed_like_its_case_file(engine):
    response = json.loads(EXAMPLE_QR.read_text())
    QuestionnaireResponse.model_validate(response)
    case, _ = read_single_case(str(EXAMPLE_QR_CASE))
    assert engine.assess(response) == engine.assess(case)
    assert engine.assess(response).case_id == case["id"]


def test_assess_reads_a_response_file_like_the_case_file():
    from_response = run("assess", "--format", "json", str(EXAMPLE_QR))
    from_case = run("assess", "--format", "json", str(EXAMPLE_QR_CASE))
    assert from_response.exit_code == 0 and json.loads(from_response.output) == json.loads(from_case.output)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_a_filled_in_export_is_assessed_like_the_case_file(kb, exported, tmp_path, path):
    """Done when: export, fill in as a FHIR tool would, assess: the same as the case file."""
    case, _ = read_single_case(str(path))
    response = fill(exported, kb, case)
    QuestionnaireResponse.model_validate(response)
    assert {i["linkId"] for i in response["item"]} == {k for k, v in case.items() if k != "id" and v is not None}
    file = tmp_path / "response.json"
    file.write_text(json.dumps(response))
    from_response = run("assess", "--format", "json", str(file))
    from_case = run("assess", "--format", "json", str(path))
    assert from_response.exit_code == 0, from_response.output
    assert json.loads(from_response.output) == json.loads(from_case.output)


def case_strategy(kb):
    def answers(q: Question):
        if q.type == "boolean":
            return st.booleans()
        if q.type == "integer":
            return st.integers(q.min, q.max)
        return st.sampled_from(q.values)

    return st.fixed_dictionaries({}, optional={q.id: answers(q) for q in kb.questions})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_answers_a_form_can_record_are_assessed_the_same(kb, engine, exported, data):
    case = data.draw(case_strategy(kb))
    response = fill(exported, kb, case)
    recorded = {i["linkId"]: case[i["linkId"]] for i in response["item"]}
    try:
        expected = engine.assess(recorded)
    except triage.CaseError:  # e.g. trimester disagreeing with weeks: refused both ways
        with pytest.raises(triage.CaseError):
            engine.assess(response)
        return
    assert engine.assess(response) == expected
    assert engine.validate(response).answers() == engine.validate(recorded).answers()


def response_with(*items, **extra):
    resource = {"resourceType": "QuestionnaireResponse", "id": "r1", "status": "completed", "item": list(items)}
    resource.update(extra)
    return resource


def item(link, *answers):
    return {"linkId": link, "answer": list(answers)} if answers else {"linkId": link}


@pytest.mark.parametrize(
    "resource, expected",
    [
        (response_with(item("leg_cramp", {"valueBoolean": True})),
         "linkId 'leg_cramp': unknown linkId, not a question of this questionnaire (did you mean 'leg_cramps'?)"),
        (response_with(item("leg_cramps", {"valueString": "yes"})), "linkId 'leg_cramps': wrong type: valueString given, expected valueBoolean"),
        (response_with(item("leg_cramps", {"valueBoolean": "yes"})), "linkId 'leg_cramps': wrong type: valueBoolean must be true or false"),
        (response_with(item("weeks_pregnant", {"valueInteger": 43})), "linkId 'weeks_pregnant': 43 is out of range; expected a whole number from 0 to 42"),
        (response_with(item("weeks_pregnant", {"valueDecimal": 30.5})), "linkId 'weeks_pregnant': wrong type: valueDecimal given, expected valueInteger"),
        (response_with(item("weeks_pregnant", {"valueInteger": True})), "linkId 'weeks_pregnant': wrong type"),
        (response_with(item("numbness", {"valueCoding": {"system": fhir.ANSWER_SYSTEM + "/numbness", "code": "some"}})),
         "linkId 'numbness': 'some' is not an allowed option; expected one of 'none', 'tingling', 'numb'"),
        (response_with(item("numbness", {"valueCoding": {"system": "http://snomed.info/sct", "code": "numb"}})),
         "linkId 'numbness': code system 'http://snomed.info/sct' is not the question's"),
        (response_with(item("numbness", {"valueString": "numb"})), "linkId 'numbness': wrong type: valueString given, expected valueCoding"),
        (response_with(item("trimester", {"valueInteger": 2})), "linkId 'trimester': wrong type: valueInteger given, expected valueCoding"),
        (response_with(item("fever", {"valueBoolean": True}, {"valueBoolean": False})), "linkId 'fever': 2 answers, but the question takes one"),
        (response_with(item("fever", {"valueBoolean": True}), item("fever", {"valueBoolean": True})), "linkId 'fever': the question appears more than once"),
        (response_with(item("fever.help", {"valueBoolean": True})), "linkId 'fever.help': a help text (display item) takes no answer"),
        (response_with(item("fever", {})), "linkId 'fever': an answer needs exactly one value[x]"),
        (response_with({"answer": [{"valueBoolean": True}]}), "item[0]: an item needs a linkId"),
        (response_with(item("leg_pain", {"valueBoolean": True}), questionnaire="http://example.org/Questionnaire/phq-9"),
         "questionnaire: answers 'http://example.org/Questionnaire/phq-9'"),
        (response_with(item("leg_pain", {"valueBoolean": True}), status="entered-in-error"), "entered-in-error"),
        # hostile trial (round 3): a contained that is not a list was ignored, unread
        (response_with(item("leg_pain", {"valueBoolean": True}), contained=5), "contained: must be a list of resources"),
        (response_with(item("leg_pain", {"valueBoolean": True}), contained={"resourceType": "QuestionnaireResponse"}),
         "contained: must be a list of resources"),
        ({"resourceType": "Patient", "id": "p1"}, "a FHIR Patient is not a case; send a QuestionnaireResponse"),
    ],
)
def test_a_bad_response_is_refused_naming_the_linkid(engine, resource, expected):
    with pytest.raises(triage.CaseError) as error:
        engine.assess(resource, source="r.json")
    assert expected in str(error.value) and "r.json" in str(error.value)


def test_every_problem_of_a_response_is_reported_at_once(engine):
    resource = response_with(item("leg_cramp", {"valueBoolean": True}), item("weeks_pregnant", {"valueInteger": -1}))
    with pytest.raises(triage.CaseError) as error:
        engine.assess(resource)
    assert len(error.value.problems) == 2 and error.value.case_id == "r1"


def test_a_bad_response_file_exits_1_naming_file_and_linkid(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(response_with(item("weeks_pregnant", {"valueInteger": 99}))))
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert str(path) in result.output and "linkId 'weeks_pregnant': 99 is out of range" in result.output


def test_unanswered_nested_and_display_items_are_read_as_fhir_tools_write_them(engine):
    resource = response_with(
        {"linkId": "fever", "text": "Fever?"},                          # shown, not answered: unknown
        {"linkId": "fever.help", "text": "A temperature of ..."},       # a display item echoed back
        {"linkId": "leg_cramps", "answer": [{"valueBoolean": True, "item": [
            {"linkId": "leg_cramps.help"},
            {"linkId": "night_cramps", "answer": [{"valueBoolean": True}]},
        ]}]},
        {"linkId": "trimester", "answer": [{"valueCoding": {"code": "3"}}]},  # system may be left out
    )
    case = engine.validate(resource)
    assert case.answers() == {"leg_cramps": True, "night_cramps": True, "trimester": 3}
    assert case.id == "r1"


def test_a_trimester_code_is_read_as_its_number_and_still_checked_against_weeks(engine):
    trimester = {"valueCoding": {"system": fhir.ANSWER_SYSTEM + "/trimester", "code": "2"}}
    assert engine.validate(response_with(item("trimester", trimester))).trimester == 2
    with pytest.raises(triage.CaseError, match="disagrees"):
        engine.validate(response_with(item("trimester", trimester), item("weeks_pregnant", {"valueInteger": 30})))


def test_the_case_id_falls_back_to_the_identifier(engine):
    resource = response_with(item("leg_pain", {"valueBoolean": True}))
    del resource["id"]
    assert engine.validate(resource).id is None
    resource["identifier"] = {"system": "urn:example", "value": "form-17"}
    assert engine.validate(resource).id == "form-17"


def test_triage_assess_the_library_call_takes_a_response_too():
    response = json.loads(EXAMPLE_QR.read_text())
    assert triage.assess(response).urgency is triage.Urgency.SELF_CARE


def test_a_case_becomes_a_response_and_back(kb, engine):
    for path in CASE_FILES:
        case = engine.validate(read_single_case(str(path))[0])
        response = fhir.questionnaire_response(case, kb)
        QuestionnaireResponse.model_validate(response)
        assert engine.validate(response) == case


# --------------------------------------------------------------------------- RiskAssessment out


def contained_by_id(resource):
    return {c["id"]: c for c in resource.get("contained", [])}


@pytest.mark.parametrize("path", CASE_FILES + [EXAMPLE_QR], ids=lambda p: p.name)
def test_assess_format_fhir_is_a_valid_risk_assessment(engine, path):
    result = run("assess", "--format", "fhir", str(path))
    assert result.exit_code == 0
    resource = json.loads(result.output)
    RiskAssessment.model_validate(resource)
    case, source = read_single_case(str(path))
    assessment = engine.assess(case, source=source)

    assert resource["status"] == "final"
    [urgency] = resource["extension"]
    assert urgency["url"] == fhir.URGENCY_EXTENSION
    assert urgency["valueCodeableConcept"]["coding"] == [
        {"system": fhir.URGENCY_SYSTEM, "code": assessment.urgency.value, "display": assessment.urgency.label}]
    assert urgency["valueCodeableConcept"]["text"] == assessment.action
    info = assessment.knowledge_base
    assert resource["method"]["coding"][0]["code"] == info.name and info.version in resource["method"]["text"]

    predictions = resource.get("prediction", [])
    assert [p["outcome"]["coding"][0]["code"] for p in predictions] == assessment.cause_ids
    for prediction in predictions:
        [risk] = prediction["qualitativeRisk"]["coding"]
        assert risk["system"] == fhir.RISK_PROBABILITY and risk["code"] in {"high", "moderate", "low"}
    for text in [assessment.action] + [a.text for a in assessment.advice]:
        assert text in resource["mitigation"]
    assert resource["note"][-1]["text"] == assessment.disclaimer
    assert [n["text"] for n in resource["note"][:-1]] == [f"Warning sign: {f.reason} [{f.id}]" for f in assessment.red_flags]

    [basis] = resource["basis"]
    if case.get("resourceType"):
        assert basis["reference"] == f"QuestionnaireResponse/{case['id']}" and "contained" not in resource
        assert resource["subject"] == case["subject"]
    else:
        assert basis["reference"] == "#answers"
        answers = contained_by_id(resource)["answers"]
        QuestionnaireResponse.model_validate(answers)
        assert engine.validate(answers).answers() == engine.validate(case).answers()


def test_a_response_without_id_is_contained_as_the_basis(kb, engine):
    response = json.loads(EXAMPLE_QR.read_text())
    del response["id"]
    resource = fhir.risk_assessment(engine.assess(response), kb, response)
    RiskAssessment.model_validate(resource)
    assert resource["basis"] == [{"reference": "#answers", "type": "QuestionnaireResponse"}]
    assert engine.validate(contained_by_id(resource)["answers"]).answers() == engine.validate(response).answers()


def test_qualitative_risk_is_high_for_warning_sign_causes_and_follows_urgency_otherwise(kb, engine):
    case = {"lower_back_pain": True, "weakness": "severe", "painful_urination": True}
    assessment = engine.assess(case)
    resource = fhir.risk_assessment(assessment, kb, case)
    risks = {p["outcome"]["coding"][0]["code"]: p["qualitativeRisk"]["coding"][0]["code"] for p in resource["prediction"]}
    flagged = {f.rule for f in assessment.red_flags}
    for cause in assessment.causes:
        if flagged & set(cause.rules) or cause.urgency.rank >= triage.Urgency.URGENT.rank:
            assert risks[cause.id] == "high"
        elif cause.urgency is triage.Urgency.WITHIN_24H:
            assert risks[cause.id] == "moderate"
        else:
            assert risks[cause.id] == "low"
    assert set(risks.values()) >= {"high", "low"}
    assert risks["pregnancy_back_pain"] == "low" and risks["urinary_infection"] == "moderate"


def test_the_urgency_code_system_is_shipped_valid_and_documented():
    generated = fhir.urgency_code_system()
    CodeSystem.model_validate(generated)
    assert [c["code"] for c in generated["concept"]] == [u.value for u in triage.Urgency]
    shipped = json.loads((EXAMPLES / "fhir" / "CodeSystem-urgency.json").read_text())
    assert shipped == generated
    readme = (REPO / "README.md").read_text()
    assert fhir.URGENCY_SYSTEM in readme and fhir.URGENCY_EXTENSION in readme


# --------------------------------------------------------------------------- through triage batch


def batch_records(*args):
    result = CliRunner().invoke(main, ["batch", "--format", "json", "--full", "--quiet", *map(str, args)])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_assesses_a_response_like_its_case_file(tmp_path, workers):
    response = json.loads(EXAMPLE_QR.read_text())
    (tmp_path / "one.json").write_text(json.dumps(response))
    (tmp_path / "lines.jsonl").write_text(json.dumps(response) + "\n" + EXAMPLE_QR_CASE.read_text().replace("\n", "") + "\n")
    code, records = batch_records("--workers", workers, tmp_path, EXAMPLE_QR_CASE)
    assert code == 0 and [r["error"] for r in records] == [None] * 4
    assert [r["source"] for r in records] == [f"{tmp_path}/lines.jsonl:1", f"{tmp_path}/lines.jsonl:2",
                                             f"{tmp_path}/one.json", str(EXAMPLE_QR_CASE)]
    assert {r["case_id"] for r in records} == {"night-cramps-31w"}
    assert all(r["assessment"] == records[-1]["assessment"] for r in records)


def test_batch_names_the_linkid_of_a_bad_response_and_assesses_the_rest(tmp_path):
    good = json.loads(EXAMPLE_QR.read_text())
    bad = response_with(item("weeks_pregnant", {"valueInteger": 50}))
    anonymous = {k: v for k, v in good.items() if k != "id"} | {"identifier": {"value": "form-9"}}
    (tmp_path / "list.json").write_text(json.dumps([good, bad, anonymous]))
    code, records = batch_records("--workers", "1", tmp_path / "list.json")
    assert code == 1
    assert [r["case_id"] for r in records] == ["night-cramps-31w", "r1", "form-9"]
    assert records[0]["error"] is None and records[2]["error"] is None
    assert "linkId 'weeks_pregnant': 50 is out of range" in records[1]["error"]
    assert records[1]["source"] == f"{tmp_path / 'list.json'}:2"


def test_assess_many_takes_responses_among_plain_cases():
    response = json.loads(EXAMPLE_QR.read_text())
    case, _ = read_single_case(str(EXAMPLE_QR_CASE))
    first, second = triage.assess_many([response, case], workers=1)
    assert first == second and first.case_id == "night-cramps-31w"


@pytest.mark.parametrize("response, expected", [
    ({"resourceType": "QuestionnaireResponse", "contained": [{"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": True}]}]}]}, "inside another is not read"),
    ({"resourceType": "QuestionnaireResponse", "modifierExtension": [{"url": "urn:x", "valueBoolean": True}]},
     "QuestionnaireResponse: modifierExtension"),
    ({"resourceType": "QuestionnaireResponse", "item": [{"linkId": "breathless_or_chest_pain", "answer": [
        {"valueBoolean": False, "modifierExtension": [{"url": "urn:negate", "valueBoolean": True}]}]}]},
     "answer: modifierExtension"),
])
def test_answers_that_would_be_ignored_or_changed_by_a_modifier_are_refused(response, expected):
    # hostile trial (issue 10): a contained response's answers and unknown modifiers were ignored
    with pytest.raises(triage.CaseError, match=expected):
        triage.assess(response)


DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UNKNOWN_ANSWERS = [
    {"valueBoolean": False, "extension": [{"url": DAR, "valueCode": "unknown"}]},
    {"valueBoolean": False, "_valueBoolean": {"extension": [{"url": DAR, "valueCode": "asked-declined"}]}},
    {"_valueBoolean": {"extension": [{"url": DAR, "valueCode": "asked-unknown"}]}},
    {"valueBoolean": False, "_valueBoolean": {"id": "v1"}},
]


def test_an_item_marked_unknown_beside_its_answer_is_refused():
    response = {"resourceType": "QuestionnaireResponse", "item": [{
        "linkId": "breathless_or_chest_pain", "extension": [{"url": DAR, "valueCode": "unknown"}],
        "answer": [{"valueBoolean": False}]}]}
    with pytest.raises(triage.CaseError, match="'breathless_or_chest_pain': the item carries a data-absent-reason"):
        triage.assess(response)


@pytest.mark.parametrize("answer", UNKNOWN_ANSWERS)
def test_an_answer_marked_unknown_is_refused_never_read_as_its_value(tmp_path, answer):
    # hostile trial 3 (10): {"valueBoolean": false} marked data-absent-reason "unknown" was read as "no"
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": [{"linkId": "breathless_or_chest_pain", "answer": [answer]}]}
    expected = "linkId 'breathless_or_chest_pain': the answer carries a data-absent-reason"
    with pytest.raises(triage.CaseError, match=expected) as error:
        triage.assess(response)
    assert "leave the answer out" in str(error.value)
    (tmp_path / "r.json").write_text(json.dumps(response))
    result = CliRunner().invoke(main, ["assess", str(tmp_path / "r.json")])
    assert result.exit_code != 0 and "data-absent-reason" in result.output
    code, [record] = batch_records("--workers", "1", tmp_path / "r.json")
    assert code == 1 and "leave the answer out" in record["error"]


WRONG_ELEMENTS = [
    ({"subject": "Patient/1"}, "subject: must be a Reference (an object), not a string"),
    ({"subject": {"reference": 5}}, "subject.reference: must be a string, not a number"),
    ({"id": {}}, "id: must be a FHIR id (a string), not an object"),
    ({"id": "has space"}, "id: must be a FHIR id"),
    ({"identifier": "x"}, "identifier: must be an object, not a string"),
    ({"status": 5}, "status: must be a code (a string), not a number"),
    ({"status": "bogus"}, "status: must be one of in-progress, completed"),
    ({"meta": "x"}, "meta: must be an object"),
    ({"extension": "x"}, "extension: must be a list of objects"),
    ({"extension": [{"valueBoolean": True}]}, "extension: each extension needs a url"),
    ({"basedOn": 5}, "basedOn: must be a list of objects"),
    ({"questionnaire": 5}, "questionnaire: must be a string"),
    ({"authored": "2026-13-45T99:99:99Z"}, "authored: '2026-13-45T99:99:99Z' is not a dateTime: there is no month 13"),
    ({"authored": "2026-02-29"}, "authored: '2026-02-29' is not a dateTime: 2026-02 has no day 29"),
    ({"authored": "2026-05-01T10:00:00"}, "authored: '2026-05-01T10:00:00' is not a dateTime"),
    ({"authored": 2026}, "authored: must be a dateTime (a string)"),
]


@pytest.mark.parametrize("element, expected", WRONG_ELEMENTS)
def test_an_element_of_the_wrong_fhir_type_is_refused_naming_it(tmp_path, element, expected):
    # hostile trial 3 (9): these were kept (and echoed back by $next-question)
    response = {"resourceType": "QuestionnaireResponse", **element,
                "item": [{"linkId": "leg_cramps", "answer": [{"valueBoolean": True}]}]}
    with pytest.raises(triage.CaseError) as error:
        triage.assess(response)
    assert any(problem.startswith(expected) for problem in error.value.problems), error.value.problems
    (tmp_path / "r.json").write_text(json.dumps(response))
    code, [record] = batch_records("--workers", "1", tmp_path / "r.json")
    assert code == 1 and expected in record["error"]


@pytest.mark.parametrize("authored", ["2026", "2026-05", "2026-05-01", "2026-05-01T10:00:00Z", "2026-06-30T23:59:60Z",
                                      "2026-05-01T10:00:00.123456789+14:00", "2024-02-29T00:00:00-05:00"])
def test_every_valid_fhir_date_time_is_kept_valid(authored):
    response = {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": authored,
                "item": [{"linkId": "leg_cramps", "answer": [{"valueBoolean": True}]}]}
    assert triage.assess(response).urgency == triage.assess({"leg_cramps": True}).urgency
    assert fhir.date_time_problem(authored) is None
