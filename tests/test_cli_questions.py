"""``triage questions``: the questionnaire as text, as data and as FHIR, all from the knowledge base."""

from __future__ import annotations

import json

from click.testing import CliRunner

from triage import fhir
from triage.cli import main
from triage.questions import parse_question


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_every_question_as_data_and_reads_back_as_the_same_question(kb):
    rows = json.loads(run("questions", "--format", "json"))
    assert [row["id"] for row in rows] == [q.id for q in kb.questions]
    assert [parse_question(row) for row in rows] == kb.questions


def test_json_writes_conditions_in_the_rule_file_syntax(kb_copy):
    import yaml

    # The shipped questions have no ask_when (the rules decide): give one a nested condition.
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    data["questions"][-1]["ask_when"] = {"not": {"field": "weakness", "in": ["mild", "severe"]}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rows = json.loads(run("--rules", str(kb_copy), "questions", "--format", "json"))
    text = json.dumps(rows[-1]["ask_when"])
    assert text == '{"not": {"field": "weakness", "in": ["mild", "severe"]}}'


def test_text_lists_each_question_with_its_allowed_answers(kb):
    lines = run("questions").splitlines()
    for question in kb.questions:
        line = next(text for text in lines if text.startswith(question.id + " "))
        assert question.describe_allowed() in line and question.text in line
    assert lines[-1] == f"{len(kb.questions)} questions, knowledge base {kb.name} {kb.version}"
    assert sum(1 for text in lines if "asked when" in text) == sum(1 for q in kb.questions if q.ask_when is not None)


def test_fhir_is_the_questionnaire_of_the_knowledge_base_in_use(kb_copy):
    import yaml

    path = kb_copy / "kb.yaml"
    data = yaml.safe_load(path.read_text())
    data["version"] = "9.9.9-test"
    path.write_text(yaml.safe_dump(data))
    exported = json.loads(run("--rules", str(kb_copy), "questions", "--format", "fhir"))
    assert exported["version"] == "9.9.9-test" and exported["url"].startswith(fhir.BASE)


def test_why_names_the_rules_each_question_can_decide(kb):
    rows = {row["id"]: row for row in json.loads(run("questions", "--format", "json", "--why"))}
    why = rows["breathless_or_chest_pain"]["why"]
    assert why[0]["rule"] == "safety_pulmonary_embolism" and why[0]["urgency"] == "emergency"
    assert "safety_collapse_with_danger_signs" in [r["rule"] for r in why]  # collapse with breathlessness
    # Through a derived fact: the weeks decide pre-eclampsia (from 20 weeks).
    assert "safety_pre_eclampsia" in [r["rule"] for r in rows["weeks_pregnant"]["why"]]
    assert all(rows[q.id]["why"] for q in kb.questions)  # every shipped question can decide something
    text = run("questions", "--why")
    block = text[text.index("breathless_or_chest_pain"):text.index("severe_abdominal_pain")]
    assert "can decide: Sudden breathlessness or chest pain may be a clot in the lungs (EMERGENCY" in block
