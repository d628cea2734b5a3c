"""WHY NOT: Engine.why_not and ``triage assess FILE --why-not``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import triage
from triage.cli import main


def test_why_not_an_emergency_names_the_failing_test_and_the_unknown_answers(engine):
    case = {"weeks_pregnant": 30, "vaginal_bleeding": True, "breathless_or_chest_pain": False}
    why = engine.why_not(case, "emergency")
    assert why.kind == "urgency" and not why.concluded
    rules = {r.rule: r for r in why.rules}
    assert set(rules) == {r.id for r in engine.knowledge_base.rules
                          if r.spec.then.urgency is triage.Urgency.EMERGENCY}
    pe = rules["safety_pulmonary_embolism"]
    assert pe.status == "fails" and pe.failed[0].test == "breathless_or_chest_pain equals true"
    assert pe.failed[0].answer is False and pe.unknown == []
    bleeding = rules["safety_bleeding_with_severe_pain"]
    assert bleeding.status == "open" and "severe_abdominal_pain" in bleeding.unknown and bleeding.failed == []


def test_why_not_a_cause_through_a_derived_fact(engine):
    # Pre-eclampsia needs "not before 20 weeks": at 12 weeks that test fails.
    why = engine.why_not({"weeks_pregnant": 12, "severe_headache_or_vision": True}, "pre_eclampsia")
    rule = next(r for r in why.rules if r.rule == "safety_pre_eclampsia")
    assert rule.status == "fails"
    assert [t.test for t in rule.failed] == ["not fact before_20_weeks"]


def test_why_not_something_the_case_got_says_so(engine):
    why = engine.why_not({"one_leg_swollen": True}, "dvt")
    statuses = {r.rule: r.status for r in why.rules}
    # safety_dvt concluded it; a long cramp could too, but that question is unanswered.
    assert why.concluded and statuses == {"safety_dvt": "holds", "safety_cramp_over_10_minutes": "open"}


def test_an_unknown_target_is_refused_with_what_is_allowed(engine):
    with pytest.raises(triage.TriageError, match="not an urgency level"):
        engine.why_not({}, "flu")


def test_assess_why_not_in_text_and_json(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"weeks_pregnant": 30, "vaginal_bleeding": True}))
    result = CliRunner().invoke(main, ["assess", str(case), "--why-not", "emergency"])
    assert result.exit_code == 0, result.output
    assert "The case does not get emergency (urgency)." in result.output
    assert "safety_bleeding_with_severe_pain" in result.output
    assert "could still hold if answered: severe_abdominal_pain" in result.output
    data = json.loads(CliRunner().invoke(main, ["assess", str(case), "--why-not", "emergency",
                                                "--format", "json"]).output)
    assert data["target"] == "emergency" and data["concluded"] is False
    bad = CliRunner().invoke(main, ["assess", str(case), "--why-not", "flu"])
    assert bad.exit_code == 2 and "not an urgency level" in bad.output and "Traceback" not in bad.output
