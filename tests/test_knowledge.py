"""Loading a knowledge base: broken copies are refused with file, rule and field named."""

from __future__ import annotations

import pytest
import yaml

import triage
from triage.knowledge.verify import check_knowledge_base


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def problems_of(path, **kwargs):
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(path, **kwargs)
    return error.value.problems


def test_the_shipped_knowledge_base_passes_every_check():
    assert check_knowledge_base() == []


def test_unknown_key_in_a_rule_names_file_rule_and_field(kb_copy):
    edit_yaml(kb_copy / "documents" / "cramps.yaml", lambda d: d["rules"][0].update(urgancy="urgent"))
    [problem] = problems_of(kb_copy)
    assert "cramps.yaml" in problem and "rule doc_night_cramps" in problem and "urgancy" in problem


def test_unknown_field_in_a_condition_is_named_with_a_suggestion(kb_copy):
    edit_yaml(kb_copy / "documents" / "back.yaml", lambda d: d["rules"][0].update(when={"field": "lower_back_pian", "equals": True}))
    [problem] = problems_of(kb_copy)
    assert "rule doc_back_pain_self_care" in problem and "did you mean 'lower_back_pain'" in problem


def test_value_of_the_wrong_type_in_a_condition_is_refused(kb_copy):
    edit_yaml(kb_copy / "documents" / "back.yaml", lambda d: d["rules"][0].update(when={"field": "pain_severity", "equals": 11}))
    [problem] = problems_of(kb_copy)
    assert "pain_severity" in problem and "0 to 10" in problem


def test_duplicate_rule_ids_are_refused(kb_copy):
    def duplicate(data):
        data["rules"].append(dict(data["rules"][0]))

    edit_yaml(kb_copy / "documents" / "back.yaml", duplicate)
    assert any("duplicate rule id" in p for p in problems_of(kb_copy))


def test_unknown_cause_and_advice_and_fact_are_refused(kb_copy):
    def break_it(data):
        data["rules"][0]["then"]["causes"] = ["moon_phase"]
        data["rules"][0]["then"]["advice"] = ["howl"]
        data["rules"][1]["when"] = {"fact": "full_moon"}

    edit_yaml(kb_copy / "documents" / "cramps.yaml", break_it)
    text = "\n".join(problems_of(kb_copy))
    assert "moon_phase" in text and "howl" in text and "full_moon" in text


def test_invalid_yaml_names_the_file(kb_copy):
    (kb_copy / "documents" / "back.yaml").write_text("rules: [\n  - id: x\n")
    [problem] = problems_of(kb_copy)
    assert "back.yaml" in problem and "not valid YAML" in problem


def test_a_rule_without_examples_or_sources_is_refused(kb_copy):
    def strip(data):
        del data["rules"][0]["examples"]
        data["rules"][0]["sources"] = []

    edit_yaml(kb_copy / "documents" / "back.yaml", strip)
    text = "\n".join(problems_of(kb_copy))
    assert "examples" in text and "sources" in text


def test_a_failing_example_is_reported_by_check(kb_copy):
    edit_yaml(
        kb_copy / "documents" / "back.yaml",
        lambda d: d["rules"][0]["examples"].update(does_not_fire=[{"lower_back_pain": True}]),
    )
    problems = check_knowledge_base(kb_copy)
    assert len(problems) == 1 and "doc_back_pain_self_care" in problems[0] and "does_not_fire" in problems[0]


def test_cyclic_facts_are_refused(kb_copy):
    def cycle(data):
        data["rules"][0]["when"] = {"fact": "before_20_weeks"}  # which is derived from first_trimester
        data["rules"][0]["then"]["derive"] = ["first_trimester"]
        data["rules"][0]["examples"] = {"fires": [{}], "does_not_fire": [{}]}

    edit_yaml(kb_copy / "core" / "stage.yaml", cycle)
    assert any("cycle" in p for p in check_knowledge_base(kb_copy))


def test_packs_can_be_selected_and_unknown_packs_are_refused():
    kb = triage.load_knowledge_base(packs=["core"])
    assert kb.packs == ["core"] and all(r.pack == "core" for r in kb.rules)
    with pytest.raises(triage.KnowledgeBaseError, match="unknown pack"):
        triage.load_knowledge_base(packs=["astrology"])


def test_a_knowledge_base_may_add_questions(kb_copy):
    def add(data):
        data["questions"].append({"id": "knee_pain", "text": "Knee pain?", "help": "Pain in a knee.", "type": "boolean"})

    edit_yaml(kb_copy / "questions.yaml", add)
    kb = triage.load_knowledge_base(kb_copy)
    assert triage.Engine(kb).validate({"knee_pain": True}).knee_pain is True
