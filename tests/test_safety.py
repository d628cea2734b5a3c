"""The safety pack: red flags win, lead the output, and are on by default."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import triage
from triage import Urgency
from triage.cli import main


def test_safety_pack_is_on_by_default(kb):
    assert "safety" in kb.packs


def test_night_cramps_with_a_red_swollen_calf_is_urgent_with_dvt_first(engine):
    result = engine.assess({"leg_cramps": True, "night_cramps": True, "one_leg_swollen": True, "leg_red_or_warm": True})
    assert result.urgency is Urgency.URGENT
    assert result.cause_ids[0] == "dvt" and "benign_leg_cramps" in result.cause_ids
    assert result.red_flags[0].id == "one_leg_swollen_red_or_warm"
    assert result.advice[0].id == "do_not_massage_swollen_leg"


def test_sudden_breathlessness_is_an_emergency(engine):
    result = engine.assess({"breathless_or_chest_pain": True, "leg_cramps": True})
    assert result.urgency is Urgency.EMERGENCY and result.cause_ids[0] == "pulmonary_embolism"
    assert "emergency number" in result.action


def test_pre_eclampsia_is_not_ruled_out_when_weeks_are_unknown(engine):
    assert "pre_eclampsia" in engine.assess({"severe_headache_or_vision": True}).cause_ids
    assert "pre_eclampsia" in engine.assess({"severe_headache_or_vision": True, "trimester": 2}).cause_ids
    early = engine.assess({"severe_headache_or_vision": True, "weeks_pregnant": 12})
    assert "pre_eclampsia" not in early.cause_ids and early.urgency is Urgency.WITHIN_24H


def test_preterm_labour_before_37_weeks_and_labour_after(engine):
    assert "preterm_labour" in engine.assess({"regular_tightenings": True, "weeks_pregnant": 30}).cause_ids
    assert "preterm_labour" in engine.assess({"regular_tightenings": True}).cause_ids
    term = engine.assess({"regular_tightenings": True, "weeks_pregnant": 38})
    assert "preterm_labour" not in term.cause_ids and term.urgency is Urgency.URGENT


def test_cauda_equina_signs_are_an_emergency(engine):
    # issue 13 and the independent review: NHS "Sciatica" / "Back pain" say 999 or A&E; the more cautious taken
    assert engine.assess({"saddle_numbness": True, "bladder_bowel_change": True}).urgency is Urgency.EMERGENCY
    assert engine.assess({"saddle_numbness": True}).urgency is Urgency.EMERGENCY
    assert engine.assess({"bladder_bowel_change": True, "lower_back_pain": True}).urgency is Urgency.EMERGENCY
    # Back and leg pain not known: unknown is never no, so checked now (new-user trial)
    assert engine.assess({"bladder_bowel_change": True}).urgency is Urgency.URGENT
    alone = {"bladder_bowel_change": True, "lower_back_pain": False, "leg_pain": False}
    assert engine.assess(alone).urgency is Urgency.WITHIN_24H


def test_kidney_infection_needs_fever_and_back_pain(engine):
    assert engine.assess({"fever": True, "lower_back_pain": True}).urgency is Urgency.URGENT
    result = engine.assess({"painful_urination": True, "lower_back_pain": True, "fever": False})
    assert result.urgency is Urgency.WITHIN_24H and "urinary_infection" in result.cause_ids


def test_text_output_of_an_emergency_leads_with_the_action_and_the_reason(tmp_path):
    case = tmp_path / "pe.json"
    case.write_text(json.dumps({"breathless_or_chest_pain": True, "leg_cramps": True, "night_cramps": True}))
    lines = CliRunner().invoke(main, ["assess", str(case)]).output.splitlines()
    assert lines[0].startswith("EMERGENCY")
    assert lines[1].startswith("Call the emergency number now")
    warning = lines.index("Warning signs")
    assert warning < lines.index("Likely causes")
    assert "blood clot in the lungs" in lines[warning + 1]


def test_running_without_the_safety_pack_warns(tmp_path):
    case = tmp_path / "c.json"
    case.write_text('{"leg_cramps": true}')
    result = CliRunner().invoke(main, ["--pack", "documents", "assess", str(case)])
    assert result.exit_code == 0
    assert "warning: the safety pack is not selected" in result.stderr
    with_safety = CliRunner().invoke(main, ["assess", str(case)])
    assert "warning" not in with_safety.stderr


def test_every_safety_rule_cites_a_reference(kb):
    assert all(any(s.reference for s in r.spec.sources) for r in kb.rules if r.pack == "safety")


def test_no_massage_or_stretching_advice_when_a_clot_is_suspected(engine):
    cramps = {"leg_cramps": True, "night_cramps": True}
    assert "massage" in [a.id for a in engine.assess(cramps).advice]
    for sign in ({"one_leg_swollen": True}, {"breathless_or_chest_pain": True}, {"cramp_lasting_over_10_min": True}):
        advice = [a.id for a in engine.assess({**cramps, **sign}).advice]
        assert not {"massage", "stretch_cramp", "calf_stretches"} & set(advice), sign


def test_a_result_without_the_safety_pack_says_so_itself_wherever_it_goes(tmp_path):
    # Never silently less urgent: breathlessness is self-care without the safety pack, so the
    # result must carry the warning in JSON, text, FHIR and CDS Hooks, not only on stderr.
    from triage import fhir
    from triage.serve import cds

    kb = triage.load_knowledge_base(packs=["core", "documents"])
    with pytest.warns(triage.SafetyPackOffWarning):
        result = triage.Engine(kb).assess({"breathless_or_chest_pain": True})
    assert result.urgency is Urgency.SELF_CARE and len(result.warnings) == 1
    assert "safety pack was not selected" in result.warnings[0]
    assert triage.Engine().assess({"breathless_or_chest_pain": True}).warnings == []

    case = tmp_path / "c.json"
    case.write_text('{"breathless_or_chest_pain": true}')
    as_json = CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "assess", "--format", "json", str(case)])
    assert json.loads(as_json.stdout)["warnings"] == result.warnings
    as_text = CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "assess", str(case)]).stdout
    assert as_text.splitlines()[0].startswith("SELF-CARE, RED FLAGS NOT CHECKED")  # never "manage at home" alone
    assert as_text.splitlines()[2].startswith("WARNING: The safety pack was not selected")  # under the action
    assert fhir.risk_assessment(result, kb)["note"][0]["text"].startswith("Warning: The safety pack")
    assert "**Warning:** The safety pack" in cds.detail(result)
    card = cds.cards(result, kb)["cards"][0]
    assert card["indicator"] == "warning"  # not the info of a checked self-care
    assert card["summary"].startswith("Pregnancy pain triage: self_care (RED FLAGS NOT CHECKED")
    assert len(card["summary"]) < 140


def test_a_library_caller_can_tell_the_safety_pack_is_off():
    # The new-user trial: the CLI warned, the library said nothing; the check lives on the knowledge base.
    assert triage.load_knowledge_base(packs=["core", "documents"]).safety_off is True
    assert triage.load_knowledge_base().safety_off is False


def test_an_emergency_never_ends_with_weaker_advice_about_unanswered_warning_signs(engine):
    # New-user trial 4: beside "call 999", "contact your midwife ... now" was a mixed message.
    from triage.render import render_text

    emergency = render_text(engine.assess({"breathless_or_chest_pain": True}))
    assert "Warning signs not answered" in emergency and "do what it says above first" in emergency
    assert "contact your midwife or maternity unit now" not in emergency
    routine = render_text(engine.assess({"leg_cramps": True, "night_cramps": True}))
    assert "contact your midwife or maternity unit now" in routine


def test_a_library_caller_is_warned_and_every_interview_step_says_so():
    # New-user trial 4: an Engine without the safety pack said nothing, a Step had no warnings,
    # and Questionnaire(kb) crashed with an AttributeError.
    kb = triage.load_knowledge_base(packs=["core", "documents"])
    with pytest.warns(triage.SafetyPackOffWarning, match="safety pack was not selected"):
        engine = triage.Engine(kb)
    first = triage.Questionnaire(engine).next_step({})
    assert first.question is not None and "safety pack was not selected" in first.warnings[0]
    with pytest.warns(triage.SafetyPackOffWarning):  # given the knowledge base itself, it warns too
        from_kb = triage.Questionnaire(kb)
    assert from_kb.next_step({"breathless_or_chest_pain": True}).warnings == first.warnings
    assert triage.Questionnaire().next_step({}).warnings == []
    with pytest.raises(TypeError, match="an Engine or a KnowledgeBase"):
        triage.Questionnaire("rules/")
