"""Issue 13: the seven patterns, the new questions, the independent review's patterns, and
out of scope said rather than guessed. Each test names the behaviour a clinician would check."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from triage import Urgency
from triage.cli import main
from triage.fhir import risk_assessment

E, U, W, R, S = Urgency.EMERGENCY, Urgency.URGENT, Urgency.WITHIN_24H, Urgency.ROUTINE, Urgency.SELF_CARE


def level(engine, **case):
    return engine.assess(case).urgency


# The seven patterns of issue 13.

def test_1_bladder_trouble_with_severe_weakness_in_both_legs_is_an_emergency_with_saddle_unanswered(engine):
    assert level(engine, bladder_bowel_change=True, weakness="severe", symptoms_in_both_legs=True) is E
    assert level(engine, weakness="severe", symptoms_in_both_legs=True, lower_back_pain=True) is E
    assert level(engine, weakness="mild", symptoms_in_both_legs=True) is U  # mild: urgent, not emergency
    assert "cauda_equina" in engine.assess({"bladder_bowel_change": True, "lower_back_pain": True}).cause_ids


def test_2_constant_severe_abdominal_pain_from_20_weeks_is_an_emergency_without_bleeding(engine):
    assert level(engine, severe_abdominal_pain=True, vaginal_bleeding=False, weeks_pregnant=30) is E
    assert level(engine, severe_abdominal_pain=True) is E  # weeks unknown: not ruled out
    assert level(engine, severe_abdominal_pain=True, weeks_pregnant=16) is U  # after the first trimester, before 20 weeks
    # In the first trimester it may be an ectopic pregnancy: an emergency (NHS "Ectopic pregnancy")
    early = engine.assess({"severe_abdominal_pain": True, "weeks_pregnant": 10})
    assert early.urgency is E and "ectopic_pregnancy" in [c.id for c in early.causes]
    rule = engine.knowledge_base.rule_by_id["safety_placental_abruption"].spec
    assert "concealed" in rule.description and "cautious" in rule.description  # says why


def test_3_a_pain_score_alone_is_never_urgent_but_severe_weakness_or_numbness_is(engine):
    no_flags = {"saddle_numbness": False, "bladder_bowel_change": False, "weakness": "none", "numbness": "none",
                "fever": False, "vaginal_bleeding": False, "regular_tightenings": False}
    assert level(engine, lower_back_pain=True, pain_severity=9, **no_flags) is W
    assert level(engine, leg_pain=True, pain_down_leg=True, pain_severity=10, **no_flags) is W
    assert level(engine, pelvic_pain=True, pain_severity=10, **no_flags) is R  # PGP: routine physiotherapy referral
    assert level(engine, leg_pain=True, weakness="severe") is U
    assert level(engine, leg_pain=True, numbness="numb") is U
    quote = engine.knowledge_base.rule_by_id["doc_severe_weakness_numbness"].spec.sources[0].quote
    assert "seek medical attention immediately" in quote


def test_4_tingling_in_both_legs_with_restless_legs_and_no_back_pain_is_routine(engine):
    case = {"leg_pain": True, "numbness": "tingling", "symptoms_in_both_legs": True, "urge_to_move_legs": True,
            "lower_back_pain": False}
    result = engine.assess(case)
    assert result.urgency is R and "restless_legs" in result.cause_ids
    assert "numbness_both_legs" in [f.id for f in result.red_flags]  # the warning sign is still reported
    assert level(engine, **{**case, "lower_back_pain": True}) is W  # with back pain: same day
    assert level(engine, **{k: v for k, v in case.items() if k != "lower_back_pain"}) is W  # unknown is not no


def test_5_light_bleeding_in_the_first_trimester_is_same_day_heavy_bleeding_an_emergency(engine):
    light = engine.assess({"weeks_pregnant": 8, "lower_back_pain": True, "vaginal_bleeding": True, "bleeding_amount": "light"})
    assert light.urgency is W and "early_pregnancy_unit" in [a.id for a in light.advice]
    assert level(engine, weeks_pregnant=8, vaginal_bleeding=True) is U  # amount unknown
    assert level(engine, weeks_pregnant=28, vaginal_bleeding=True, bleeding_amount="spotting") is U
    assert level(engine, vaginal_bleeding=True, bleeding_amount="light") is U  # stage unknown
    assert level(engine, weeks_pregnant=8, vaginal_bleeding=True, bleeding_amount="heavy") is E
    assert level(engine, weeks_pregnant=8, bleeding_amount="light", severe_abdominal_pain=True) is E


def test_6_labour_at_term_has_its_own_action_and_waters_or_bleeding_keep_the_urgent_one(engine):
    term = engine.assess({"weeks_pregnant": 39, "regular_tightenings": True, "contractions_5_min_apart": True})
    assert term.urgency is U and term.action.startswith("Phone your maternity unit")
    assert "emergency department" not in term.action
    assert engine.assess({"weeks_pregnant": 39, "regular_tightenings": True}).action == term.action  # timing unknown
    with_waters = engine.assess({"weeks_pregnant": 39, "regular_tightenings": True, "fluid_leak": True})
    assert with_waters.urgency is U and with_waters.action == Urgency.URGENT.action
    early = engine.assess({"weeks_pregnant": 39, "regular_tightenings": True, "contractions_5_min_apart": False})
    assert early.urgency is W and "early labour" in early.action and "regular_tightenings" in [f.id for f in early.red_flags]
    assert level(engine, weeks_pregnant=33, contractions_5_min_apart=True) is U  # preterm


def test_7_daytime_cramps_after_long_standing_name_ordinary_cramps(engine):
    result = engine.assess({"weeks_pregnant": 22, "leg_cramps": True, "night_cramps": False, "long_standing_or_walking": True})
    assert result.urgency is S and {"benign_leg_cramps", "muscle_fatigue"} <= set(result.cause_ids)


# The new questions.

@pytest.mark.parametrize("case, expected, cause", [
    ({"coughing_blood": True}, E, "pulmonary_embolism"),
    ({"fainted_or_collapsed": True, "one_leg_swollen": True}, E, "pulmonary_embolism"),
    ({"fainted_or_collapsed": True, "weeks_pregnant": 30, "vaginal_bleeding": True}, E, "placental_abruption"),
    ({"fainted_or_collapsed": True}, U, None),  # cannot tell a faint from a collapse: checked now
    ({"baby_moving_less": True, "weeks_pregnant": 30}, U, "reduced_fetal_movements"),
    ({"baby_moving_less": True, "weeks_pregnant": 18}, U, "reduced_fetal_movements"),
    ({"baby_moving_less": True}, U, "reduced_fetal_movements"),  # weeks unknown: cautious
    ({"baby_moving_less": True, "weeks_pregnant": 12}, W, None),
    ({"upper_abdominal_pain": True, "weeks_pregnant": 34}, U, "pre_eclampsia"),
    ({"upper_abdominal_pain": True, "weeks_pregnant": 12}, W, None),
    ({"vomiting": True, "weeks_pregnant": 30}, W, "pre_eclampsia"),
    ({"vomiting": True, "upper_abdominal_pain": True, "weeks_pregnant": 30}, U, "pre_eclampsia"),
    ({"vomiting": True, "fever": True}, U, "kidney_infection"),
    ({"painful_hard_vein": True}, W, "superficial_thrombophlebitis"),
    ({"painful_hard_vein": True, "one_leg_swollen": True}, U, "dvt"),
    ({"outer_thigh_numbness": True}, R, "meralgia_paraesthetica"),
    ({"hip_or_groin_pain": True, "pain_severity": 5}, R, "pelvic_girdle_pain"),
    ({"hip_or_groin_pain": True, "weeks_pregnant": 34, "pain_severity": 8, "pelvic_pain": False}, W, "transient_osteoporosis_hip"),
    ({"ankles_swollen_gradually": True, "weeks_pregnant": 34}, S, "pregnancy_swelling"),
    ({"ankles_swollen_gradually": True, "severe_headache_or_vision": True, "weeks_pregnant": 34}, U, "pre_eclampsia"),
    ({"blood_in_urine": True}, W, "kidney_stones"),
    ({"blood_in_urine": True, "lower_back_pain": True, "pain_severity": 9}, U, "kidney_stones"),
    ({"blood_in_urine": True, "fever": True}, U, "kidney_infection"),
])
def test_each_new_question_has_rules(engine, case, expected, cause):
    result = engine.assess(case)
    assert result.urgency is expected
    assert cause is None or cause in result.cause_ids
    assert not result.out_of_scope


def test_the_new_questions_keep_their_public_names_and_types(kb):
    expected = {
        "upper_abdominal_pain": "boolean", "vomiting": "boolean", "bleeding_amount": ["spotting", "light", "heavy"],
        "baby_moving_less": "boolean", "contractions_5_min_apart": "boolean", "fainted_or_collapsed": "boolean",
        "coughing_blood": "boolean", "hip_or_groin_pain": "boolean", "outer_thigh_numbness": "boolean",
        "painful_hard_vein": "boolean", "ankles_swollen_gradually": "boolean", "blood_in_urine": "boolean",
    }
    for field, kind in expected.items():
        question = kb.question_by_id[field]
        assert (question.values if isinstance(kind, list) else question.type) == kind, field
    assert {"reduced_fetal_movements", "superficial_thrombophlebitis", "meralgia_paraesthetica",
            "transient_osteoporosis_hip", "kidney_stones", "pregnancy_swelling"} <= set(kb.causes)


def test_the_new_questions_are_in_the_fhir_questionnaire_and_the_case_schema():
    questionnaire = json.loads(CliRunner().invoke(main, ["questions", "--format", "fhir"]).output)
    link_ids = {item["linkId"] for item in questionnaire["item"]}
    schema = json.loads(CliRunner().invoke(main, ["schema", "case"]).output)
    for field in ("bleeding_amount", "baby_moving_less", "blood_in_urine", "ankles_swollen_gradually"):
        assert field in link_ids and field in schema["properties"]


# Cauda equina signs, as the independent review found (NHS "Sciatica" and "Back pain": 999 or A&E).

@pytest.mark.parametrize("case", [
    {"saddle_numbness": True},
    {"bladder_bowel_change": True, "lower_back_pain": True},
    {"pain_down_leg": True, "symptoms_in_both_legs": True},
    {"numbness": "numb", "symptoms_in_both_legs": True},
    {"numbness": "numb", "lower_back_pain": True},
])
def test_the_signs_of_cauda_equina_syndrome_are_an_emergency(engine, case):
    result = engine.assess(case)
    assert result.urgency is E and "cauda_equina" in result.cause_ids


def test_a_cramp_s_pain_score_does_not_raise_the_level_but_keeps_the_warning(engine):
    result = engine.assess({"leg_cramps": True, "night_cramps": True, "pain_severity": 9})
    assert result.urgency is S and "severe_pain" in [f.id for f in result.red_flags]


def test_mild_pelvic_girdle_pain_is_self_help_first(engine):
    result = engine.assess({"pelvic_pain": True, "pain_severity": 2})
    assert result.urgency is S and "pgp_referral_if_not_settling" in [a.id for a in result.advice]
    assert level(engine, pelvic_pain=True) is R  # severity unknown: the referral


# Out of scope is said, not guessed.

NOTHING_COVERED = {"weeks_pregnant": 20, "lower_back_pain": False, "leg_pain": False, "leg_cramps": False}


def test_out_of_scope_says_what_the_tool_covers_and_where_to_go(engine):
    result = engine.assess(NOTHING_COVERED)
    assert result.out_of_scope and result.urgency is R
    assert "cannot assess" in result.action and "midwife" in result.action and "111" in result.action
    assert [a.id for a in result.advice] == ["not_covered"] and "back pain" in result.advice[0].text
    assert not engine.assess({**NOTHING_COVERED, "leg_cramps": True}).out_of_scope
    assert not engine.assess({**NOTHING_COVERED, "breathless_or_chest_pain": True}).out_of_scope
    assert engine.assess({**NOTHING_COVERED, "weeks_pregnant": 8, "vomiting": True}).out_of_scope


def test_out_of_scope_in_text_json_and_fhir(tmp_path, kb, engine):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(NOTHING_COVERED))
    text = CliRunner().invoke(main, ["assess", str(path)]).output
    assert text.startswith("NOT COVERED BY THIS TOOL  (routine)") and "cannot assess" in text
    assert "Likely causes" not in text and "not a diagnosis" in text
    data = json.loads(CliRunner().invoke(main, ["assess", str(path), "--format", "json"]).output)
    assert data["out_of_scope"] is True and data["urgency"] == "routine"
    fhir = risk_assessment(engine.assess(NOTHING_COVERED), kb, NOTHING_COVERED)
    assert any(note["text"].startswith("Out of scope:") for note in fhir["note"])
    assert fhir["extension"][0]["valueCodeableConcept"]["text"].startswith("This tool cannot assess")
    in_scope = json.loads(CliRunner().invoke(main, ["assess", "--format", "json", "examples/cases/night_cramps_third_trimester.json"]).output)
    assert in_scope["out_of_scope"] is False


def test_every_concluding_rule_s_examples_are_in_scope(engine):
    # The complaint list in rules/core/scope.yaml must cover every rule that concludes something.
    kb = engine.knowledge_base
    for rule in kb.rules:
        then = rule.spec.then
        if rule.pack == "core" or not (then.causes or then.red_flags or then.urgency not in (None, S)):
            continue
        for example in rule.spec.examples.fires:
            assert not engine.assess(example).out_of_scope, (rule.id, example)


def test_the_readme_s_out_of_scope_example_is_what_assess_prints():
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("$ echo '{\"lower_back_pain\": false"):]
    command, *shown = block.split("\n...\n")[0].splitlines()
    case = command.split("'")[1]
    output = CliRunner().invoke(main, ["assess", "-"], input=case).output.splitlines()
    assert output[: len(shown)] == shown


def test_period_like_pains_in_the_first_trimester_are_not_preterm_labour(engine):
    # Independent set C: pains at 9 weeks were "preterm labour", urgent. RCOG and NHS "Ectopic
    # pregnancy": the GP, midwife or early pregnancy unit today, A&E or 999 with severe pain or
    # a faint. Same-day only when severe pain, fainting and bleeding are all answered no.
    ruled_out = {"severe_abdominal_pain": False, "fainted_or_collapsed": False, "vaginal_bleeding": False}
    early = engine.assess({"weeks_pregnant": 9, "regular_tightenings": True, **ruled_out})
    assert early.urgency is Urgency.WITHIN_24H
    assert early.cause_ids == ["ectopic_pregnancy", "miscarriage"] and "preterm_labour" not in early.cause_ids
    for unknown in ruled_out:  # unknown is never no
        case = {"weeks_pregnant": 9, "regular_tightenings": True, **ruled_out}
        del case[unknown]
        assert level(engine, **case) is Urgency.URGENT, unknown
    assert level(engine, weeks_pregnant=9, regular_tightenings=True, fainted_or_collapsed=True) is Urgency.EMERGENCY
    # Severe pains that come and go are severe too (hostile trial 3): A&E, not tomorrow's GP.
    assert level(engine, weeks_pregnant=9, regular_tightenings=True, pain_severity=8, **ruled_out) is Urgency.URGENT
    assert level(engine, weeks_pregnant=9, regular_tightenings=True, pain_severity=7, **ruled_out) is Urgency.WITHIN_24H
    # The place is the early pregnancy unit or A&E, not the labour ward (new-user trial 4).
    unknown = engine.assess({"weeks_pregnant": 9, "regular_tightenings": True, "severe_abdominal_pain": False})
    assert "A&E" in unknown.action and "early pregnancy unit" in unknown.action and "labour ward" not in unknown.action
    assert "miscarriage" in unknown.cause_ids and "early_pregnancy_unit" in [a.id for a in early.advice]
    # From 14 weeks, or with the stage unknown, it is preterm labour as before.
    for stage in ({"weeks_pregnant": 14}, {"trimester": 2}, {}):
        later = engine.assess({"regular_tightenings": True, **stage, **ruled_out})
        assert later.urgency is Urgency.URGENT and "preterm_labour" in later.cause_ids, stage


def test_a_cramp_lasting_over_10_minutes_names_the_clot_it_is_checked_for(engine):
    result = engine.assess({"leg_cramps": True, "cramp_lasting_over_10_min": True, "one_leg_swollen": False})
    assert result.urgency is Urgency.WITHIN_24H and "dvt" in result.cause_ids
