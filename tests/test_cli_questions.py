"""``triage questions``: the questionnaire as text, as data and as FHIR, all from the knowledge base."""

from __future__ import annotations

import json

from click.testing import CliRunner

from triage import fhir
from triage.cli import main
from triage.questions import Question


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_every_question_as_data_and_reads_back_as_the_same_question(kb):
    rows = json.loads(run("questions", "--format", "json"))
    assert [row["id"] for row in rows] == [q.id for q in kb.questions]
    assert [Question.model_validate(row) for row in rows] == kb.questions


def test_json_writes_conditions_in_the_rule_file_syntax(kb):
    rows = {row["id"]: row for row in json.loads(run("questions", "--format", "json"))}
    for question in kb.questions:
        if question.ask_when is not None:
            text = json.dumps(rows[question.id]["ask_when"])
            assert '"in_"' not in text and '"not_"' not in text and "null" not in text


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
