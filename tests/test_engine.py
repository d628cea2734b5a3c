"""The engine: experta does the matching and chaining; results are deterministic."""

from __future__ import annotations

import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

import triage
from triage import Urgency


def fired(assessment):
    return [r.id for r in assessment.fired_rules]


def test_trimester_is_derived_from_weeks_by_chaining(engine):
    result = engine.assess({"leg_cramps": True, "weeks_pregnant": 30})
    assert "stage_third_trimester" in fired(result)
    rule = next(r for r in result.fired_rules if r.id == "doc_cramps_third_trimester")
    assert triage.Evidence(fact="third_trimester") in rule.matched


def test_trimester_answer_alone_also_derives_the_stage(engine):
    assert "doc_cramps_third_trimester" in fired(engine.assess({"leg_cramps": True, "trimester": 3}))
    assert "doc_cramps_third_trimester" not in fired(engine.assess({"leg_cramps": True, "trimester": 2}))


def test_unknown_is_not_no(engine):
    # lack_of_exercise needs an explicit "no" to regular exercise; unknown must not count as no.
    assert "lack_of_exercise" not in engine.assess({"leg_pain": True}).cause_ids
    assert "lack_of_exercise" in engine.assess({"leg_pain": True, "regular_exercise": False}).cause_ids


def test_an_empty_case_is_self_care_with_worsening_advice_and_disclaimer(engine):
    result = engine.assess({})
    assert result.urgency is Urgency.SELF_CARE
    assert result.causes == [] and result.red_flags == []
    assert result.worsening_advice and "not a diagnosis" in result.disclaimer


def test_urgency_is_the_most_urgent_fired_rule(engine):
    result = engine.assess({"lower_back_pain": True, "painful_urination": True, "weakness": "severe"})
    levels = {r.urgency for r in result.fired_rules if r.urgency}
    assert {Urgency.SELF_CARE, Urgency.WITHIN_24H, Urgency.URGENT} <= levels
    assert Urgency.EMERGENCY not in levels
    assert result.urgency is Urgency.URGENT
    assert result.action == Urgency.URGENT.action


def test_red_flag_causes_come_before_benign_ones(engine):
    result = engine.assess({"lower_back_pain": True, "weakness": "severe"})
    assert result.cause_ids[0] == "severe_neuromuscular_symptoms"
    assert "pregnancy_back_pain" in result.cause_ids


def test_an_any_rule_fires_once_with_every_branch_it_matched(engine):
    result = engine.assess({"leg_cramps": True, "leg_pain": True, "long_standing_or_walking": True})
    assert fired(result).count("doc_cramps_long_standing") == 1
    rule = next(r for r in result.fired_rules if r.id == "doc_cramps_long_standing")
    assert {e.field for e in rule.matched} == {"leg_cramps", "leg_pain", "long_standing_or_walking"}


def test_same_case_same_assessment_whatever_the_field_order(engine):
    case = {"weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True, "low_water_intake": True}
    reordered = dict(reversed(list(case.items())))
    assert engine.assess(case) == engine.assess(reordered)


def test_engine_shared_by_threads_gives_the_same_results(engine):
    cases = [
        {"leg_cramps": True, "weeks_pregnant": w, "night_cramps": w % 2 == 0, "weakness": "severe" if w % 7 == 0 else "none"}
        for w in range(0, 43)
    ]
    expected = [engine.assess(c) for c in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(engine.assess, cases)) == expected


def test_assess_accepts_a_case_model():
    case = triage.Case(leg_cramps=True, night_cramps=True)
    assert triage.assess(case).urgency is Urgency.SELF_CARE


def test_invalid_case_raises_case_error_naming_the_field():
    with pytest.raises(triage.CaseError, match="leg_cramps"):
        triage.assess({"leg_cramps": "often"})


def test_importing_triage_leaves_the_host_logging_alone():
    code = (
        "import logging; import triage; triage.assess({'leg_cramps': True}); "
        "root = logging.getLogger(); print(len(root.handlers), root.level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", str(logging.WARNING)]


def _red_flag_questions(kb) -> set[str]:
    return {q.id for q in kb.questions if q.red_flag}


def test_every_warning_sign_question_left_unanswered_is_named(engine):
    # Back and leg pain unknown: the questions about the spine still apply.
    named = [q.id for q in engine.assess({"leg_cramps": True}).unanswered_red_flags]
    assert set(named) == _red_flag_questions(engine.knowledge_base)


def test_answered_warning_signs_are_not_named_whatever_the_answer(engine):
    kb = engine.knowledge_base
    answers = {"breathless_or_chest_pain": False, "fever": True, "weakness": "mild", "numbness": "none"}
    named = {q.id for q in engine.assess(answers).unanswered_red_flags}
    assert named == _red_flag_questions(kb) - set(answers)
    texts = {q.id: q.text for q in engine.assess(answers).unanswered_red_flags}
    assert texts["vaginal_bleeding"] == kb.question_by_id["vaginal_bleeding"].text


def test_a_warning_sign_question_that_does_not_apply_is_not_named(engine, kb_copy):
    # Saddle numbness alone is urgent (a rule says so), so without back or leg pain it still applies.
    case = {"lower_back_pain": False, "leg_pain": False, "weakness": "none", "numbness": "none", "leg_cramps": True}
    assert "saddle_numbness" in {q.id for q in engine.assess(case).unanswered_red_flags}
    # An ask_when cannot hide a warning sign a rule acts on; it hides one that no rule uses.
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    not_back_pain = {"not": {"field": "lower_back_pain", "equals": False}}
    for question in data["questions"]:
        if question["id"] == "saddle_numbness":
            question["ask_when"] = not_back_pain
    data["questions"].append({"id": "back_stiff", "text": "Is your back stiff?", "help": "Stiff.", "type": "boolean",
                              "red_flag": True, "ask_when": not_back_pain})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    named = {q.id for q in triage.Engine(triage.load_knowledge_base(kb_copy)).assess(case).unanswered_red_flags}
    assert "saddle_numbness" in named and "back_stiff" not in named and "breathless_or_chest_pain" in named
    assert "back_stiff" in {q.id for q in triage.Engine(triage.load_knowledge_base(kb_copy)).assess(
        {**case, "lower_back_pain": True}).unanswered_red_flags}


def test_the_text_output_lists_the_unanswered_warning_signs(engine):
    from triage.render import render_text

    text = render_text(engine.assess({"leg_cramps": True, "breathless_or_chest_pain": False}))
    assert "Warning signs not answered" in text
    assert engine.knowledge_base.question_by_id["one_leg_swollen"].text in " ".join(text.split())  # unwrapped
    everything = {q.id: (True if q.type == "boolean" else None) for q in engine.knowledge_base.questions if q.red_flag}
    answered = {k: (False if v is True else "none") for k, v in everything.items()}
    assert "Warning signs not answered" not in render_text(engine.assess(answered))
