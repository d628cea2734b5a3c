"""`triage rules check` warns where a knowledge base could give a less urgent answer than it seems to."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

import triage
from triage.cli import main
from triage.hazards import hazard_warnings


def edit_rules(path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data["rules"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def rule(rules, rule_id):
    return next(r for r in rules if r["id"] == rule_id)


def check(rules_dir):
    return CliRunner().invoke(main, ["rules", "check", str(rules_dir)])


def test_the_shipped_knowledge_base_has_no_warning(kb):
    assert hazard_warnings(kb) == []


def test_a_benign_cause_that_stops_a_safety_rule_is_warned_about(kb_copy):
    def hide_dvt_behind_cramps(rules):
        dvt = rule(rules, "safety_dvt")
        dvt["when"] = {"all": [dvt["when"], {"not": {"fact": "benign_cramp_pattern"}}]}
        dvt["examples"]["fires"] = [{"one_leg_swollen": True}]
        rules.append({"id": "benign_cramps_pattern", "title": "Night cramps look benign",
                      "when": {"field": "night_cramps", "equals": True},
                      "then": {"causes": ["benign_leg_cramps"], "derive": ["benign_cramp_pattern"]},
                      "sources": [{"reference": "a test"}],
                      "examples": {"fires": [{"night_cramps": True}], "does_not_fire": [{}]}})

    edit_rules(kb_copy / "safety" / "clots.yaml", hide_dvt_behind_cramps)
    result = check(kb_copy)
    assert result.exit_code == 0, result.output  # a warning, not a problem: a reviewer decides
    assert "warning: safety/clots.yaml: rule benign_cramps_pattern: derives benign_cramp_pattern, which rule safety_dvt" in result.output
    assert "urgent becomes at most self_care" in result.output and "1 warning above" in result.output


def test_two_rules_with_the_same_condition_and_different_urgencies_are_warned_about(kb_copy):
    def routine_twin(rules):
        twin = json.loads(json.dumps(rule(rules, "safety_pulmonary_embolism")))
        twin.update(id="pe_routine_twin", then={"urgency": "routine"})
        rules.append(twin)

    edit_rules(kb_copy / "safety" / "clots.yaml", routine_twin)
    result = check(kb_copy)
    assert "rule pe_routine_twin: concludes routine in the same situation" in result.output
    assert "where rule safety_pulmonary_embolism concludes emergency" in result.output


def test_a_red_flag_question_that_no_longer_raises_the_urgency_is_warned_about(kb_copy):
    def silence(rules):
        for item in rules:
            if '"fluid_leak"' in json.dumps(item["when"]):
                item["then"]["urgency"] = "self_care"
                item["then"].pop("red_flags", None)

    edit_rules(kb_copy / "safety" / "pregnancy.yaml", silence)
    result = check(kb_copy)
    assert "question fluid_leak: red flag True no longer raises the urgency above self_care" in result.output
    kb = triage.load_knowledge_base(kb_copy)
    assert [w for w in hazard_warnings(kb) if "fluid_leak" in w]
    assert not [w for w in hazard_warnings(kb) if "vaginal_bleeding" in w]  # the others still raise it
