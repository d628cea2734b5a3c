"""Relevance from the rules: three-valued evaluation, the safe early stop, and the two properties
of the interview (its first result is never below the full answers; every question it asks can matter)."""

from __future__ import annotations

import copy
import random

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from strategies import answer
from test_fhir import fhir_answer, fhir_enabled
from triage import fhir
from triage.case import trimester_for_weeks
from triage.interview import drive
from triage.questionnaire import Questionnaire
from triage.relevance import FAILS, HOLDS, OPEN

KB = triage.load_knowledge_base()
ENGINE = triage.Engine(KB)
QUESTIONNAIRE = Questionnaire(ENGINE)
RELEVANCE = QUESTIONNAIRE.relevance
FHIR_QUESTIONNAIRE = fhir.questionnaire(KB)
# The same knowledge base without group screens: one question a screen, so the early stop
# alone (not the warning-sign screen asking everything at once) must keep the first result right.
SINGLE = copy.copy(KB)
SINGLE.groups = {}
ONE_AT_A_TIME = Questionnaire(triage.Engine(SINGLE))
THOUSANDS = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def complete_cases(draw):
    """Every question answered; the trimester agrees with the weeks."""
    case = {q.id: draw(answer(q)) for q in KB.questions}
    case["trimester"] = trimester_for_weeks(case["weeks_pregnant"])
    return case


@st.composite
def partial_cases(draw):
    """Each question answered or left unknown (the person says "don't know")."""
    case = {q.id: draw(answer(q)) for q in KB.questions if draw(st.integers(0, 3))}
    if "weeks_pregnant" in case and "trimester" in case:
        case["trimester"] = trimester_for_weeks(case["weeks_pregnant"])
    return case


def summary(answers):
    result = ENGINE.assess({k: v for k, v in answers.items() if v is not None})
    return (result.urgency, frozenset(result.cause_ids), frozenset(f.id for f in result.red_flags),
            frozenset(a.id for a in result.advice))


# ----------------------------------------------------------------------------- three values

def status(rule_id, answers):
    return RELEVANCE.analyse(answers).rules[rule_id].status


def test_a_rule_holds_fails_or_stays_open_over_the_answers_so_far():
    assert status("safety_pulmonary_embolism", {}) == OPEN
    assert status("safety_pulmonary_embolism", {"breathless_or_chest_pain": True}) == HOLDS
    assert status("safety_pulmonary_embolism", {"breathless_or_chest_pain": False}) == FAILS
    # "Don't know" is unknown for good: the rule can no longer fire, and is not open.
    assert status("safety_pulmonary_embolism", {"breathless_or_chest_pain": None}) == FAILS


def test_not_means_not_known_to_hold_and_derived_facts_follow_the_strata():
    headache = {"severe_headache_or_vision": True}
    # Pre-eclampsia: headache and NOT before_20_weeks. Weeks unasked: still open either way.
    assert status("safety_pre_eclampsia", headache) == OPEN
    assert status("safety_pre_eclampsia", {**headache, "weeks_pregnant": 30}) == HOLDS
    assert status("safety_pre_eclampsia", {**headache, "weeks_pregnant": 12}) == FAILS
    # Weeks and trimester both unknown: before_20_weeks can never be derived, so NOT holds.
    assert status("safety_pre_eclampsia", {**headache, "weeks_pregnant": None, "trimester": None}) == HOLDS
    # Weeks unknown, trimester still to ask: the fact is open through the trimester.
    analysis = RELEVANCE.analyse({**headache, "weeks_pregnant": None})
    assert analysis.facts["before_20_weeks"] == OPEN and "trimester" in analysis.relevant


def test_an_answer_that_follows_from_the_others_is_not_asked():
    # With the weeks known, the trimester can only be the one that agrees: it decides nothing.
    assert "trimester" not in RELEVANCE.analyse({"weeks_pregnant": 30}).relevant
    assert "trimester" in RELEVANCE.analyse({"weeks_pregnant": None}).relevant
    assert RELEVANCE.possible("trimester", {"weeks_pregnant": 30}) == {3, None}


def test_a_question_is_relevant_only_while_its_rule_could_change_the_result():
    assert "saddle_numbness" in RELEVANCE.analyse({}).relevant
    # Saddle numbness alone is urgent; with bladder trouble it is an emergency.
    analysis = RELEVANCE.analyse({"saddle_numbness": True})
    assert analysis.concluded is triage.Urgency.URGENT and analysis.raises("bladder_bowel_change")
    # With an emergency concluded, a rule that only repeats its cause and flag does not matter.
    emergency = RELEVANCE.analyse({"saddle_numbness": True, "bladder_bowel_change": True})
    assert not any(s.rule.id == "safety_bladder_bowel_with_pain" for s in emergency.relevant.get("lower_back_pain", []))


def test_the_urgency_is_settled_only_when_no_open_rule_could_raise_it():
    bleeding = {"vaginal_bleeding": True}
    assert not RELEVANCE.analyse(bleeding).settled  # severe tummy pain with it would be an emergency
    assert RELEVANCE.analyse({**bleeding, "severe_abdominal_pain": False, "breathless_or_chest_pain": False,
                              "saddle_numbness": False}).settled
    assert RELEVANCE.analyse({"breathless_or_chest_pain": True}).settled  # nothing is above emergency


# ----------------------------------------------------------------------------- the two properties

@THOUSANDS
@given(complete_cases())
def test_the_first_result_of_a_complete_case_has_the_urgency_of_all_its_answers(case):
    run = drive(case, QUESTIONNAIRE)
    assert run.first.urgency is run.full.urgency is ENGINE.assess(case).urgency, run.asked


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_cases())
def test_the_first_result_of_a_case_with_unknowns_has_the_urgency_of_all_its_answers(case):
    run = drive(case, QUESTIONNAIRE)
    assert run.first.urgency is ENGINE.assess(case).urgency, run.asked


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complete_cases())
def test_one_question_a_screen_the_first_result_still_has_the_urgency_of_all_the_answers(case):
    run = drive(case, ONE_AT_A_TIME)
    assert all(len(screen) == 1 for screen in run.screen_items)
    assert run.first.urgency is ENGINE.assess(case).urgency, run.asked


def can_matter(question_id, answers, rng):
    """Whether, for some answers to the other unasked questions, two answers to the question
    (or an answer against none) give different results. Searched: first a completion built
    from each rule the question can decide (the rest left unknown), then random ones."""
    analysis = RELEVANCE.analyse(answers)
    unasked = [q for q in KB.questions if q.id not in answers and q.id != question_id]
    values = sorted(RELEVANCE.possible(question_id, answers), key=repr)
    completions = []
    for state in analysis.relevant.get(question_id, []):
        for branch in RELEVANCE_BRANCHES[state.rule.id]:
            filled = {}
            for constraint in branch.fields:
                if constraint.field != question_id and constraint.field not in answers and constraint.accepted:
                    known = sorted((v for v in constraint.accepted if v is not None), key=repr)
                    filled[constraint.field] = known[0] if known else None
            completions.append(filled)
    for _ in range(10):
        completions.append({q.id: rng.choice(sorted(RELEVANCE.possible(q.id, answers), key=repr)) for q in unasked})
    for completion in completions:
        base = {**answers, **completion}
        try:
            results = {summary({**base, question_id: v}) for v in values}
        except triage.CaseError:
            continue  # a completion that disagrees with itself (trimester against weeks)
        if len(results) > 1:
            return True
    return False


RELEVANCE_BRANCHES = {c.rule.id: c.branches for c in RELEVANCE.rules}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(partial_cases(), st.integers(0, 2**32))
def test_every_question_asked_can_matter(case, seed):
    rng = random.Random(seed)
    run = drive(case, QUESTIONNAIRE)
    answers = {}
    for screen in run.screen_items:
        # The items of a screen are chosen together, from the answers before it.
        for question_id in screen:
            assert can_matter(question_id, answers, rng), (question_id, answers)
        answers.update({question_id: case.get(question_id) for question_id in screen})


def test_a_question_that_can_never_change_the_result_is_never_asked(kb_copy):
    # A question no rule tests is never asked, wherever it sits in the file.
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    data["questions"].insert(0, {"id": "favourite_colour", "text": "What is your favourite colour?",
                                 "help": "Any.", "type": "choice",
                                 "choices": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    questionnaire = Questionnaire(triage.Engine(triage.load_knowledge_base(kb_copy)))
    rng = random.Random(7)
    for _ in range(30):
        case = {q.id: rng.choice([True, False]) for q in KB.questions if q.type == "boolean"}
        assert "favourite_colour" not in drive(case, questionnaire).asked


def test_a_new_question_in_a_new_rule_is_placed_by_the_rules_alone(kb_copy):
    # The clinical team adds questions and rules: an emergency rule's question comes first.
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    data["questions"].append({"id": "collapsed", "text": "Have you collapsed or fainted?", "help": "Passed out.",
                              "type": "boolean"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rules = kb_copy / "safety" / "collapse.yaml"
    rules.write_text(yaml.safe_dump({"rules": [{
        "id": "safety_collapse", "title": "Collapse needs an ambulance", "when": {"field": "collapsed", "equals": True},
        "then": {"urgency": "emergency", "red_flags": [{"id": "collapse", "reason": "You collapsed."}]},
        "sources": [{"reference": "test"}],
        "examples": {"fires": [{"collapsed": True}], "does_not_fire": [{"collapsed": False}]}}]}))
    questionnaire = Questionnaire(triage.Engine(triage.load_knowledge_base(kb_copy)))
    first = questionnaire.next_step({}).question
    # Not a red flag question, so not on the screening screen: asked on its own, but before
    # anything that can only be urgent, right after the emergency screen.
    step = questionnaire.next_step({i.id: False for i in first.items})
    assert step.question.id == "collapsed"
    assert questionnaire.next_step({"collapsed": True}).assessment.urgency is triage.Urgency.EMERGENCY


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_cases())
def test_the_fhir_questionnaire_enables_every_question_the_interview_asks(case):
    # The static export may enable more than the interview asks, never fewer.
    items = {item["linkId"]: item for item in FHIR_QUESTIONNAIRE["item"]}
    run = drive(case, QUESTIONNAIRE)
    given = {}
    for screen in run.screen_items:
        for question_id in screen:
            assert fhir_enabled(items[question_id], given), question_id
        for question_id in screen:
            if case.get(question_id) is not None:
                given[question_id] = [fhir_answer(items[question_id], KB.question_by_id[question_id],
                                                  case[question_id])]
