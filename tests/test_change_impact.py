"""Change impact: triage audit --against OLD_RULES_DIR, and triage rules diff OLD_DIR [NEW_DIR]."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from triage.cli import main
from triage.knowledge import default_path
from conftest import EXAMPLES

# The authors' set, where every vignette is at its expected level, so a lowered rule makes
# exactly the vignettes it decides less urgent and newly under-triaged (the independent set has
# deliberate over-triage, which a lowered rule can make correct instead).
VIGNETTES = str(EXAMPLES / "vignettes" / "urgent.yaml")


def lower_urgency(rules, rule_id: str, old: str, new: str) -> None:
    """Lower one rule's urgency in a copy of the knowledge base, by editing its file's text."""
    for path in (rules / "safety").glob("*.yaml"):
        text = path.read_text()
        match = re.search(rf"- id: {rule_id}\n(.*?)\n      urgency: {old}\n", text, flags=re.S)
        if match:
            path.write_text(text[: match.start()] + match.group(0).replace(f"urgency: {old}", f"urgency: {new}") + text[match.end():])
            return
    raise AssertionError(f"rule {rule_id} with urgency {old} not found")


@pytest.fixture
def lowered(kb_copy):
    lower_urgency(kb_copy, "safety_dvt", "urgent", "within_24h")
    return kb_copy


def audit(*args, generated: int | None = 0):
    """Run triage; ``rules diff`` and ``audit --against`` get ``--cases generated`` (0: no generated cases,
    which the tests of the differential check ask for themselves: 5,000 take seconds)."""
    extra = ["--cases", str(generated)] if generated is not None and ("diff" in args or "--against" in args) else []
    return CliRunner().invoke(main, [*args, *extra])


def test_a_lowered_safety_rule_is_caught_listing_the_changed_vignettes(lowered):
    result = audit("--rules", str(lowered), "audit", VIGNETTES, "--against", str(default_path()))
    assert result.exit_code == 1
    assert "newly under-triaged by the change" in result.output
    changed = re.findall(r"^  (\S+) \(.*expected urgent\): urgent -> within_24h  LESS URGENT$", result.output, flags=re.M)
    assert "u02-one-leg-swollen-20w" in changed and len(changed) >= 3
    assert "new fired: " in result.output and "safety_dvt" in result.output
    assert re.search(r"^urgent\s+\d+\s+\d+\s+[1-9]\d*\s+0\s+0$", result.output, flags=re.M)  # urgent -> within_24h in the matrix


def test_the_impact_in_json_names_every_changed_vignette(lowered):
    result = audit("--rules", str(lowered), "audit", VIGNETTES, "--against", str(default_path()), "--format", "json")
    impact = json.loads(result.stdout)["impact"]
    assert impact["newly_under_triaged"] and set(impact["newly_under_triaged"]) == set(impact["less_urgent"])
    assert impact["transitions"]["urgent"]["within_24h"] == len(impact["newly_under_triaged"])
    change = next(c for c in impact["changes"] if c["id"] == "u02-one-leg-swollen-20w")
    assert (change["old"]["urgency"], change["new"]["urgency"], change["changed"]) == ("urgent", "within_24h", ["urgency"])
    assert "safety_dvt" in change["old"]["fired_rules"] and "safety_dvt" in change["new"]["fired_rules"]
    assert impact["old_knowledge_base"]["sha256"] != impact["new_knowledge_base"]["sha256"]


def test_reversing_the_change_makes_those_vignettes_newly_correct(lowered):
    result = audit("audit", VIGNETTES, "--against", str(lowered), "--format", "json")
    assert result.exit_code == 0, result.output
    impact = json.loads(result.stdout)["impact"]
    assert impact["newly_correct"] and not impact["newly_under_triaged"] and impact["more_urgent"] == impact["newly_correct"]


def test_the_same_knowledge_base_changes_nothing():
    result = audit("audit", VIGNETTES, "--against", str(default_path()))
    assert result.exit_code == 0 and "0 changed, 0 less urgent, 0 more urgent" in result.output


def test_plain_case_files_give_changes_only(lowered):
    cases = str(EXAMPLES / "batch" / "valid" / "cases.jsonl")
    result = audit("--rules", str(lowered), "audit", cases, str(EXAMPLES / "cases"), "--against", str(default_path()))
    assert "No vignettes (no expected levels): changes only." in result.output
    assert "plain cases have no expected level: changes only" in result.output
    assert result.exit_code == 0, result.output  # no expected level, so no under-triage to fail on
    strict = audit("--rules", str(lowered), "audit", cases, str(EXAMPLES / "cases"), "--against", str(default_path()), "--strict")
    assert strict.exit_code == 1 and "cases now less urgent" in strict.output


def test_plain_case_files_without_against_still_need_expected_levels():
    result = audit("audit", str(EXAMPLES / "cases" / "back_pain_early.yaml"))
    assert result.exit_code == 1 and "expected_urgency" in result.output


def test_a_broken_old_knowledge_base_is_refused_by_name(kb_copy):
    (kb_copy / "documents" / "back.yaml").write_text("rules: 3\n")
    result = audit("audit", VIGNETTES, "--against", str(kb_copy))
    assert result.exit_code == 1 and f"the old knowledge base (--against {kb_copy}) is refused" in result.output


def test_rules_diff_names_the_rule_and_its_changed_urgency(lowered):
    result = audit("rules", "diff", str(default_path()), str(lowered))
    assert result.exit_code == 1, result.output  # a release gate stops on it; the note is still printed whole
    assert "Error: 1 rule(s) less urgent or removed: safety_dvt" in result.output
    assert "LESS URGENT (1): safety_dvt" in result.output
    assert "changed: safety_dvt (urgency)  LESS URGENT" in result.output
    assert "    urgency: urgent -> within_24h" in result.output
    assert "Questions: no changes" in result.output and "bump it in kb.yaml" in result.output


def test_rules_diff_new_dir_defaults_to_the_knowledge_base_in_use(lowered):
    default = audit("--rules", str(lowered), "rules", "diff", str(default_path()), "--format", "json")
    explicit = audit("rules", "diff", str(default_path()), str(lowered), "--format", "json")
    assert json.loads(default.stdout) == json.loads(explicit.stdout)
    data = json.loads(default.stdout)
    [changed] = data["rules"]["changed"]
    assert changed["id"] == "safety_dvt" and changed["less_urgent"] is True
    assert changed["changes"] == [{"part": "urgency", "old": "urgent", "new": "within_24h"}]
    assert data["less_urgent"] == ["safety_dvt"] and data["removed_urgencies"] == {}


def test_rules_diff_exits_0_when_nothing_became_less_urgent(lowered):
    more_urgent = audit("rules", "diff", str(lowered), str(default_path()))  # the change undone: within_24h -> urgent
    assert more_urgent.exit_code == 0 and "LESS URGENT" not in more_urgent.output, more_urgent.output


def test_rules_diff_lists_added_removed_and_changed_parts_and_questions(kb_copy):
    clots = kb_copy / "safety" / "clots.yaml"
    text = clots.read_text()
    text = text.replace("- reference: ACOG Practice Bulletin 196; RCOG Green-top Guideline 37b", "- reference: ACOG Practice Bulletin 196", 1)
    clots.write_text(text.replace("when: {field: breathless_or_chest_pain, equals: true}",
                                  "when: {any: [{field: breathless_or_chest_pain, equals: true}, {field: fever, equals: true}]}", 1))
    infection = kb_copy / "safety" / "infection.yaml"
    data = yaml.safe_load(infection.read_text())
    removed = data["rules"].pop(0)["id"]
    data["rules"].append({"id": "new_rule", "title": "A new rule", "when": {"field": "fever", "equals": True},
                          "then": {"urgency": "urgent"}, "sources": [{"reference": "a test"}],
                          "examples": {"fires": [{"fever": True}], "does_not_fire": [{}]}})
    infection.write_text(yaml.safe_dump(data, sort_keys=False))
    questions = kb_copy / "questions.yaml"
    text = questions.read_text()
    old_text = re.search(r"- id: high_heels\n    text: (.*)\n", text).group(1)
    questions.write_text(text.replace(f"text: {old_text}", "text: Do you often wear shoes with high heels?", 1))
    data = diff_json(kb_copy)
    rules = {c["id"]: [p["part"] for p in c["changes"]] for c in data["rules"]["changed"]}
    assert rules["safety_pulmonary_embolism"] == ["condition"] and rules["safety_dvt"] == ["sources"]
    assert data["rules"]["removed"] == [removed] and data["rules"]["added"] == ["new_rule"]
    assert data["questions"]["reworded"] == ["high_heels"]
    # The removed rule set an urgency: it is listed first, marked, and the command exits 1.
    assert data["rules"]["removed"] == data["less_urgent"] == [removed] and removed in data["removed_urgencies"]
    noted = audit("rules", "diff", str(default_path()), str(kb_copy))
    text_note = noted.output
    assert noted.exit_code == 1 and f"LESS URGENT (1): {removed} (removed; it set" in text_note
    assert f"removed: {removed}  LESS URGENT" in text_note and "added:   new_rule" in text_note
    assert "A removed rule or a changed condition or derived fact can also make cases less urgent" in text_note
    assert "reworded: high_heels (text)" in text_note and "changed: safety_pulmonary_embolism (condition)" in text_note


def diff_json(new_dir):
    return json.loads(audit("rules", "diff", str(default_path()), str(new_dir), "--format", "json").stdout)


def test_rules_diff_of_identical_knowledge_bases(kb_copy):
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 0 and "No changes: the two knowledge bases have the same content." in result.output


def test_a_case_only_the_new_knowledge_base_can_read_is_listed_not_fatal(kb_copy, tmp_path):
    questions = kb_copy / "questions.yaml"
    text = questions.read_text()
    new = ("  - id: new_question\n    text: A new question?\n"
           "    help: Asked from this release on.\n    type: boolean\n    detail: true\n")
    questions.write_text(text.replace("\ngroups:", "\n" + new + "\ngroups:", 1))  # the last question, before the groups
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "old", "leg_cramps": true}\n{"id": "new", "leg_cramps": true, "new_question": true}\n')
    result = audit("--rules", str(kb_copy), "audit", str(cases), "--against", str(default_path()))
    assert result.exit_code == 0, result.output
    assert "1 case only the new knowledge base can assess" in result.output
    assert "new: the old knowledge base cannot assess it" in result.output and "new_question" in result.output
    refused = audit("audit", str(cases), "--against", str(kb_copy))  # the knowledge base in use cannot read it: an error
    assert refused.exit_code == 1 and "new_question" in refused.output


def test_a_change_of_causes_alone_is_listed_with_old_and_new(kb_copy):
    cramps = kb_copy / "documents" / "cramps.yaml"
    data = yaml.safe_load(cramps.read_text())
    rule = next(r for r in data["rules"] if r["id"] == "doc_night_cramps")
    rule["then"]["causes"] = ["benign_leg_cramps", "electrolyte_imbalance"]
    cramps.write_text(yaml.safe_dump(data, sort_keys=False))
    result = audit("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path()), "--format", "json")
    impact = json.loads(result.stdout)["impact"]
    assert impact["changes"] and not impact["less_urgent"] and not impact["more_urgent"]
    for change in impact["changes"]:
        assert change["changed"] == ["causes"] and "doc_night_cramps" in change["new"]["fired_rules"]
        assert "electrolyte_imbalance" in change["new"]["causes"]
    text = audit("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path())).output
    assert re.search(r"    causes: .* -> .*electrolyte_imbalance", text)


def test_csv_case_files_are_compared_as_batch_reads_them(lowered, tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("id,weeks_pregnant,one_leg_swollen,leg_cramps\nclot,30,yes,\ncramps,30,no,y\n")
    result = audit("--rules", str(lowered), "audit", str(rows), "--against", str(default_path()), "--format", "json")
    impact = json.loads(result.stdout)["impact"]
    assert impact["cases"] == 2 and impact["vignettes"] == 0
    assert impact["less_urgent"] == ["clot"]
    [change] = impact["changes"]
    assert change["source"] == f"{rows}:2" and (change["old"]["urgency"], change["new"]["urgency"]) == ("urgent", "within_24h")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,weakness\nx,very\n")
    refused = audit("audit", str(bad), "--against", str(default_path()))
    assert refused.exit_code == 1 and "bad.csv:2" in refused.output and "weakness" in refused.output


def reword_out_of_scope_action(rules) -> None:
    """Change only the out-of-scope rule's own action text (hostile trial, finding 2)."""
    scope = rules / "core" / "scope.yaml"
    text = scope.read_text()
    assert "call 999 in an emergency." in text
    scope.write_text(text.replace("call 999 in an emergency.", "there is no need to call anyone.", 1))


def test_a_rule_whose_action_text_changed_is_listed_by_rules_diff(kb_copy):
    reword_out_of_scope_action(kb_copy)
    data = diff_json(kb_copy)
    [changed] = data["rules"]["changed"]
    assert changed["id"] == "scope_out_of_scope" and [c["part"] for c in changed["changes"]] == ["action"]
    assert "call 999" in changed["changes"][0]["old"] and "no need to call" in changed["changes"][0]["new"]
    note = audit("rules", "diff", str(default_path()), str(kb_copy)).output
    assert "changed: scope_out_of_scope (action)" in note and "there is no need to call anyone." in note


def test_a_case_whose_action_text_changed_is_a_changed_case(kb_copy, tmp_path):
    reword_out_of_scope_action(kb_copy)
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "nothing-covered", "weeks_pregnant": 20}\n{"id": "cramps", "leg_cramps": true}\n')
    result = audit("--rules", str(kb_copy), "audit", str(cases), "--against", str(default_path()), "--format", "json")
    impact = json.loads(result.stdout)["impact"]
    [change] = impact["changes"]
    assert change["id"] == "nothing-covered" and change["changed"] == ["action"]
    assert "call 999" in change["old"]["action"] and "no need to call" in change["new"]["action"]
    text = audit("--rules", str(kb_copy), "audit", str(cases), "--against", str(default_path())).output
    assert "1 changed" in text and "    action: " in text and "-> " in text and "no need to call anyone" in text


def edit_manifest(rules, old: str, new: str) -> None:
    manifest = rules / "kb.yaml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))


SAFETY_PACK = "  - name: safety\n    description: Red flags and differentials from clinical guidelines, so that no dangerous case is sent home.\n"
LAST_WORSENING_LINE = ("  - >-\n    If you are worried at any time, contact your midwife or maternity unit: you are not wasting\n"
                       "    their time.\n")


def test_rules_diff_stops_on_a_pack_no_longer_used_by_default(kb_copy):
    edit_manifest(kb_copy, SAFETY_PACK, SAFETY_PACK + "    default: false\n")
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1, result.output
    assert "LESS URGENT (1): pack safety (no longer used by default)" in result.output
    assert "pack changed: safety (default)  LESS URGENT: no longer used by default" in result.output
    assert "Error: 1 pack(s) no longer used by default or removed: safety" in result.output
    data = diff_json(kb_copy)
    assert data["less_urgent"] == ["pack safety"] and data["manifest"]["no_longer_default"] == ["safety"]
    undone = audit("rules", "diff", str(kb_copy), str(default_path()))  # used by default again: not a concern
    assert undone.exit_code == 0 and "now used by default" in undone.output, undone.output


def test_rules_diff_stops_on_a_removed_pack(kb_copy):
    edit_manifest(kb_copy, "  - name: documents\n    description: Causes and self-care advice from the two source documents in sources/.\n", "")
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1 and "pack removed: documents  LESS URGENT" in result.output, result.output
    assert diff_json(kb_copy)["manifest"]["packs"]["removed"] == ["documents"]
    added = audit("rules", "diff", str(kb_copy), str(default_path()))
    assert added.exit_code == 0 and "pack added:   documents  (used by default)" in added.output


def test_rules_diff_lists_the_disclaimer_and_flags_removed_worsening_advice(kb_copy):
    edit_manifest(kb_copy, "This is not a diagnosis and", "This is not a diagnosis, and")
    edit_manifest(kb_copy, LAST_WORSENING_LINE, "")
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert "WORSENING ADVICE REMOVED (1 line(s))" in result.output
    assert re.search(r"^  worsening advice removed: If you are worried at any time.*FLAGGED$", result.output, flags=re.M)
    assert "  disclaimer: This is not a diagnosis and " in result.output and "-> This is not a diagnosis, and" in result.output
    data = diff_json(kb_copy)["manifest"]
    assert data["disclaimer"]["new"].startswith("This is not a diagnosis, and") and len(data["worsening_advice_removed"]) == 1
    unchanged = audit("rules", "diff", str(default_path()), str(default_path())).output
    assert "No changes" in unchanged


def test_audit_against_runs_each_knowledge_base_with_its_own_default_packs(kb_copy):
    edit_manifest(kb_copy, SAFETY_PACK, SAFETY_PACK + "    default: false\n")
    result = audit("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path()), "--format", "json")
    assert result.exit_code == 1
    impact = json.loads(result.stdout)["impact"]
    assert "safety" in impact["old_knowledge_base"]["packs"] and "safety" not in impact["new_knowledge_base"]["packs"]
    assert impact["less_urgent"] and impact["newly_under_triaged"]
    # With --pack both run the packs given: the same packs, the same answers.
    same = audit("--rules", str(kb_copy), "--pack", "safety", "--pack", "documents", "audit", VIGNETTES,
                 "--against", str(default_path()), "--format", "json")
    assert json.loads(same.stdout)["impact"]["changes"] == []


def narrow_the_pulmonary_embolism_rule(rules) -> None:
    """The emergency rule no longer fires from 38 weeks: no vignette sits there alone (hostile trial, finding 4)."""
    clots = rules / "safety" / "clots.yaml"
    text = clots.read_text()
    old = "  - id: safety_pulmonary_embolism\n    title: Sudden breathlessness or chest pain may be a clot in the lungs\n" \
          "    when: {field: breathless_or_chest_pain, equals: true}\n"
    assert old in text
    clots.write_text(text.replace(old, old.replace("when: {field: breathless_or_chest_pain, equals: true}",
                                                   'when: {all: [{field: breathless_or_chest_pain, equals: true}, '
                                                   '{not: {field: weeks_pregnant, ">=": 38}}]}'), 1))


def test_rules_diff_finds_a_narrowed_emergency_rule_on_generated_cases(kb_copy):
    narrow_the_pulmonary_embolism_rule(kb_copy)
    assert audit("rules", "diff", str(default_path()), str(kb_copy)).exit_code == 0  # the rule-by-rule gate alone passes
    result = audit("rules", "diff", str(default_path()), str(kb_copy), generated=1000)
    assert result.exit_code == 1, result.output
    assert "LESS URGENT ON GENERATED CASES" in result.output
    assert re.search(r"^Generated cases: 1000 \(seed 0\), 1000 compared: [1-9]\d* less urgent", result.output, flags=re.M)
    assert re.search(r"of 1000 generated cases less urgent$", result.output, flags=re.M)
    data = json.loads(audit("rules", "diff", str(default_path()), str(kb_copy), "--format", "json", generated=1000).stdout)
    generated = data["generated"]
    assert generated["less_urgent"] and generated["serious_less_urgent"] == generated["less_urgent"]
    for case in generated["shown"]:  # exactly where the condition was narrowed
        assert case["answers"]["breathless_or_chest_pain"] is True and case["answers"]["weeks_pregnant"] >= 38
        assert case["old_urgency"] == "emergency" and "safety_pulmonary_embolism" in case["old_fired"]
        assert "safety_pulmonary_embolism" not in case["new_fired"] and case["new_urgency"] != "emergency"
    assert len(generated["shown"]) == 5 and sum(generated["transitions"]["emergency"].values()) > 0


def test_audit_against_fails_on_a_generated_emergency_case_now_less_urgent(kb_copy):
    narrow_the_pulmonary_embolism_rule(kb_copy)
    args = ("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path()))
    assert audit(*args).exit_code == 0  # no vignette sits where the rule was narrowed
    result = audit(*args, generated=1000)
    assert result.exit_code == 1, result.output
    assert "generated cases less urgent than the emergency or urgent care they had: generated-" in result.output
    impact = json.loads(audit(*args, "--format", "json", generated=1000).stdout)["impact"]
    assert impact["changes"] == [] and impact["generated"]["serious_less_urgent"]


def test_generated_cases_of_the_same_rules_change_nothing_and_follow_the_assessment(engine, kb):
    from triage.differential import _outcome, compare_generated
    from triage.samples import random_cases

    same = compare_generated(engine, engine, 300, seed=3)
    assert same.compared == 300 and not same.less_urgent and same.more_urgent == 0 and not same.not_compared
    assert not same.unsafe_advice and not same.scope_contradictions
    assert sum(same.transitions[level][level] for level in same.transitions) == 300
    for case in random_cases(kb.questions, 100, seed=4):  # the shortcut gives what the assessment says
        short, full = _outcome(engine, case), engine.assess(case)
        assert short.urgency == full.urgency and list(short.advice) == [a.id for a in full.advice]
        assert short.out_of_scope == full.out_of_scope and list(short.causes) == full.cause_ids


def test_a_generated_answer_the_old_knowledge_base_lacks_is_dropped_for_it(kb_copy, engine):
    import triage
    from triage.differential import compare_generated

    questions = kb_copy / "questions.yaml"
    text = questions.read_text()
    new = "  - id: new_question\n    text: A new question?\n    help: Asked from this release on.\n    type: boolean\n    detail: true\n"
    questions.write_text(text.replace("\ngroups:", "\n" + new + "\ngroups:", 1))
    newer = triage.Engine(triage.load_knowledge_base(kb_copy))
    result = compare_generated(engine, newer, 200)
    assert result.compared == 200 and not result.not_compared and not result.less_urgent


def test_both_commands_default_to_the_differential_check_s_number_of_cases():
    from triage.cli import audit as audit_command
    from triage.cli import rules as rules_command
    from triage.differential import DEFAULT_CASES

    assert audit_command.GENERATED_CASES == rules_command.GENERATED_CASES == DEFAULT_CASES == 5000


def remove_withheld_advice(rules) -> None:
    """Hostile trial 3, finding 4b: withhold_advice taken out of the clot rules."""
    clots = rules / "safety" / "clots.yaml"
    text = clots.read_text()
    assert text.count("withhold_advice:") == 5
    clots.write_text(re.sub(r"^ *withhold_advice: .*\n", "", text, flags=re.M))


DVT_CASE = {"id": "dvt", "one_leg_swollen": True, "leg_red_or_warm": True, "leg_cramps": True, "night_cramps": True,
            "leg_pain": True, "weeks_pregnant": 30}


def test_audit_against_fails_on_advice_no_longer_withheld_beside_a_suspected_clot(kb_copy, tmp_path):
    remove_withheld_advice(kb_copy)
    cases = tmp_path / "dvt.jsonl"
    cases.write_text(json.dumps(DVT_CASE) + "\n")
    args = ("--rules", str(kb_copy), "audit", str(cases), "--against", str(default_path()))
    result = audit(*args)
    assert result.exit_code == 1, result.output
    assert re.search(r"^UNSAFE ADVICE \(1\): advice newly given to an emergency or urgent case.*: dvt ", result.output, flags=re.M)
    assert re.search(r"^    UNSAFE ADVICE: .*massage.* \(newly given to an urgent case\)$", result.output, flags=re.M)
    assert "1 cases given advice unsafely by the change" in result.output
    [change] = json.loads(audit(*args, "--format", "json").stdout)["impact"]["changes"]
    assert change["changed"] == ["advice"] and "massage" in change["unsafe_advice"]
    assert "massage" in change["new"]["advice"] and "massage" not in change["old"]["advice"]
    assert "massage" in change["old"]["withheld_advice"] and change["new"]["urgency"] == "urgent"
    page = tmp_path / "impact.html"
    assert audit(*args, "--html", str(page)).exit_code == 1
    html = page.read_text()
    assert "Unsafe advice: newly given to an emergency or urgent case, or withheld before (1): dvt" in html
    assert re.search(r"advice: [^<]*&rarr; [^<]*massage", html)


def test_generated_cases_catch_advice_no_longer_withheld(kb_copy):
    remove_withheld_advice(kb_copy)
    diff = audit("rules", "diff", str(default_path()), str(kb_copy), generated=300)
    assert diff.exit_code == 1, diff.output
    assert "UNSAFE ADVICE OR OUT OF SCOPE ON GENERATED CASES" in diff.output
    assert re.search(r"^  generated-\d+: \w+ -> \w+  UNSAFE ADVICE: ", diff.output, flags=re.M)
    assert "generated cases given advice unsafely or out of scope beside a finding" in diff.output
    against = audit("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path()), "--format", "json",
                    generated=300)
    assert against.exit_code == 1
    text = audit("--rules", str(kb_copy), "audit", VIGNETTES, "--against", str(default_path()), generated=300).output
    impact_section = text[text.index("\nChange impact\n"):text.index("\nTransitions")]  # headed at the top
    assert re.search(r"^UNSAFE ADVICE OR OUT OF SCOPE ON GENERATED CASES \(\d+\): see", impact_section, flags=re.M)
    generated = json.loads(against.stdout)["impact"]["generated"]
    assert generated["unsafe_advice"] and not generated["less_urgent"]
    assert any(case["advice_given"] for case in generated["shown_advice_and_scope"])


def test_advice_added_to_a_self_care_case_is_listed_but_not_a_failure(kb_copy, tmp_path):
    cramps = kb_copy / "documents" / "cramps.yaml"
    data = yaml.safe_load(cramps.read_text())
    rule = next(r for r in data["rules"] if r["id"] == "doc_night_cramps")
    rule["then"]["advice"] = [*rule["then"]["advice"], "hydration"]
    cramps.write_text(yaml.safe_dump(data, sort_keys=False))
    cases = tmp_path / "cramps.jsonl"
    cases.write_text('{"id": "cramps", "leg_cramps": true, "night_cramps": true, "weeks_pregnant": 30}\n')
    result = audit("--rules", str(kb_copy), "audit", str(cases), "--against", str(default_path()), "--format", "json")
    impact = json.loads(result.stdout)["impact"]
    assert result.exit_code == 0, result.output
    assert [c["changed"] for c in impact["changes"]] == [["advice"]] and impact["unsafe_advice"] == []


def test_out_of_scope_beside_a_finding_is_a_failing_change_in_both_comparisons(kb_copy, engine):
    # Hostile trial 3, finding 4e: rules check now refuses this knowledge base, so it is loaded
    # unchecked here to show audit --against and the generated cases would catch it too.
    import triage
    from triage.cli.audit import _failures
    from triage.differential import _outcome, scope_contradiction
    from triage.impact import Record, compare, render_impact

    scope = kb_copy / "core" / "scope.yaml"
    scope.write_text(scope.read_text().replace("            - {field: baby_moving_less, equals: true}\n", ""))
    narrowed = triage.Engine(triage.load_knowledge_base(kb_copy))
    case = {"baby_moving_less": True, "weeks_pregnant": 30}
    report = compare([Record("movements", "cases.jsonl#1", case)], engine, narrowed)
    [change] = report.changes
    assert change.changed == ["advice", "out_of_scope"] and change.new_scope_contradiction
    assert report.scope_contradictions == ["movements"] and change.new.urgency.value == "urgent"
    assert re.search(r"^OUT OF SCOPE BESIDE A FINDING \(1\): .*: movements ", render_impact(report), flags=re.M)
    assert any("out of scope beside a warning sign" in f for f in _failures(None, None, report, strict=False))
    outcome = _outcome(narrowed, case)
    assert scope_contradiction(outcome.out_of_scope, outcome.urgency, outcome.causes, outcome.red_flags)


def edit_text(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def swap_weakness_and_numbness_labels(rules) -> None:
    """Hostile trial 3, finding 4a: the labels of the first and last choices swapped, values kept."""
    questions = rules / "questions.yaml"
    edit_text(questions, "{value: none, label: No weakness}", "{value: none, label: Severe weakness}")
    edit_text(questions, "{value: severe, label: Severe weakness}", "{value: severe, label: No weakness}")
    text = questions.read_text()
    block = text[text.index("  - id: numbness\n"):]
    block = block[:block.index("    red_flag")]
    labels = dict(re.findall(r"\{value: (\w+), label: ([^}]+)\}", block))
    first, last = list(labels)[0], list(labels)[-1]
    swapped = block.replace(f"{{value: {first}, label: {labels[first]}}}", f"{{value: {first}, label: {labels[last]}}}")
    swapped = swapped.replace(f"{{value: {last}, label: {labels[last]}}}", f"{{value: {last}, label: {labels[first]}}}")
    questions.write_text(text.replace(block, swapped))


def test_rules_diff_calls_out_swapped_choice_labels_and_fails(kb_copy):
    swap_weakness_and_numbness_labels(kb_copy)
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1, result.output
    assert "LABELS SWAPPED (4): a person sees only the label" in result.output
    assert "  weakness = severe is now labelled 'No weakness', the old label of 'none' (it was 'Severe weakness')" in result.output
    assert re.search(r"^NEEDS CLINICAL REVIEW \(4\): ", result.output, flags=re.M)
    assert "  changed: weakness (choices)  NEEDS CLINICAL REVIEW" in result.output
    assert "4 wording change(s) a person acts on need clinical review: weakness = none, weakness = severe, numbness" in result.output
    review = diff_json(kb_copy)["review"]
    assert {(r["id"], r["swapped_with"]) for r in review if r["id"].startswith("weakness")} == {
        ("weakness = none", "severe"), ("weakness = severe", "none")}
    assert all(r["kind"] == "choice label" for r in review)


def test_rules_diff_fails_on_advice_no_longer_withheld_without_any_generated_case(kb_copy):
    # Re-trial newuser5: with --cases 0 (or a rule the random cases rarely reach) this passed.
    clots = kb_copy / "safety" / "clots.yaml"
    clots.write_text(clots.read_text().replace("      withhold_advice: [massage]\n", "", 1))
    result = audit("rules", "diff", str(default_path()), str(kb_copy), "--cases", "0")
    assert result.exit_code == 1, result.output
    assert re.search(r"^ADVICE NO LONGER WITHHELD \(1\): \w+ \(massage\)", result.output, flags=re.M)
    assert "rule(s) no longer withhold advice" in result.output
    assert list(diff_json(kb_copy)["no_longer_withheld"].values()) == [["massage"]]


def test_rules_diff_sends_an_inverted_question_text_to_clinical_review(kb_copy):
    edit_text(kb_copy / "questions.yaml", "text: Have you suddenly become breathless, or do you have chest pain?",
              "text: Have you been free of any sudden breathlessness or chest pain?")
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1, result.output
    assert "  reworded: breathless_or_chest_pain (text)  NEEDS CLINICAL REVIEW" in result.output
    assert ("  question text: breathless_or_chest_pain\n    old: Have you suddenly become breathless, or do you have "
            "chest pain?\n    new: Have you been free of any sudden breathlessness or chest pain?") in result.output
    [item] = diff_json(kb_copy)["review"]
    assert (item["kind"], item["id"]) == ("question text", "breathless_or_chest_pain")


def test_rules_diff_sends_an_urgent_rule_s_rewritten_action_and_red_flag_reason_to_clinical_review(kb_copy):
    pregnancy = kb_copy / "safety" / "pregnancy.yaml"
    edit_text(pregnancy, "Phone your maternity unit (or midwife) now: you may be in labour.",
              "Rest at home: this is early labour, and there is no need to phone anyone until tomorrow.")
    edit_text(pregnancy, "reason: Regular tightenings from 37 weeks may be labour; call your maternity unit for advice now.",
              "reason: Regular tightenings from 37 weeks are normal; nothing to do.")
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1, result.output
    assert "NEEDS CLINICAL REVIEW (2)" in result.output and "  action: safety_labour_at_term\n" in result.output
    assert "  red-flag reason: safety_labour_at_term: regular_tightenings\n" in result.output
    assert "  changed: safety_labour_at_term (action, red flags)  NEEDS CLINICAL REVIEW" in result.output
    assert "need clinical review: safety_labour_at_term, safety_labour_at_term: regular_tightenings" in result.output


def test_rules_diff_sends_a_rewritten_advice_text_to_clinical_review(kb_copy):
    advice = kb_copy / "catalogue" / "advice.yaml"
    data = yaml.safe_load(advice.read_text())
    item = next(a for a in data["advice"] if a["id"] == "do_not_massage_swollen_leg")
    old_text, item["text"] = item["text"], "Massage a swollen, painful leg firmly to ease it."
    advice.write_text(yaml.safe_dump(data, sort_keys=False))
    result = audit("rules", "diff", str(default_path()), str(kb_copy))
    assert result.exit_code == 1, result.output
    assert "  advice text: do_not_massage_swollen_leg\n" in result.output
    assert "  changed: do_not_massage_swollen_leg (text)  NEEDS CLINICAL REVIEW" in result.output
    [review] = diff_json(kb_copy)["review"]
    assert (review["old"], review["new"]) == (old_text, "Massage a swollen, painful leg firmly to ease it.")
