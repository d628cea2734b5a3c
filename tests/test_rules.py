"""Each rule, on its own name: its quotes are in its documents and its examples behave.

Like Semgrep's rule tests: every rule carries cases that must fire it and near
misses that must not; a failure names the rule.
"""

from __future__ import annotations

import pytest

import triage
from triage.knowledge.checks import advice_quote_problems, rule_example_problems, rule_quote_problems

KB = triage.load_knowledge_base()
RULE_IDS = [rule.id for rule in KB.rules]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_quotes_are_verbatim_in_their_documents(kb, rule_id):
    assert rule_quote_problems(kb, kb.rule_by_id[rule_id]) == []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_examples_fire_and_near_misses_do_not(engine, rule_id):
    assert rule_example_problems(engine, engine.knowledge_base.rule_by_id[rule_id]) == []


def test_advice_quotes_are_verbatim_in_their_documents(kb):
    assert advice_quote_problems(kb) == []


def test_every_document_rule_cites_a_document_quote(kb):
    missing = [r.id for r in kb.rules if r.pack == "documents" and not any(s.document for s in r.spec.sources)]
    assert missing == []


def test_document_pack_uses_the_agreed_cause_ids(kb):
    agreed = {
        "benign_leg_cramps", "pregnancy_back_pain", "calcium_deficiency", "weight_gain", "lack_of_exercise",
        "muscle_fatigue", "poor_circulation", "sleep_posture", "excess_meat", "electrolyte_imbalance",
        "dehydration", "vessel_nerve_pressure", "sciatica", "vitamin_deficiency", "overexertion",
        "urinary_infection", "restless_legs",
    }
    named = {c for r in kb.rules if r.pack == "documents" for c in r.spec.then.causes}
    assert agreed <= named


def test_a_wrong_quote_is_caught(kb):
    rule = kb.rule_by_id["doc_night_cramps"]
    forged = rule.spec.sources[0].model_copy(update={"quote": "Cramps are caused by the moon."})
    spec = rule.spec.model_copy(update={"sources": [forged]})
    problems = rule_quote_problems(kb, rule.model_copy(update={"spec": spec}))
    assert len(problems) == 1 and "quote not found" in problems[0] and "doc_night_cramps" in problems[0]


def test_quotes_match_across_line_breaks_and_spaces(kb):
    rule = kb.rule_by_id["doc_night_cramps"]
    source = rule.spec.sources[0]
    spread = source.model_copy(update={"quote": source.quote.replace(" ", "\n   ", 2)})
    spec = rule.spec.model_copy(update={"sources": [spread]})
    assert rule_quote_problems(kb, rule.model_copy(update={"spec": spec})) == []
