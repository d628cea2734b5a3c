"""Relevance from the rules: three-valued evaluation, the safe early stop, and the two properties
of the interview (its first result is never below the full answers; every question it asks can matter)."""

from __future__ import annotations

import copy
import functools
import random

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fhir import fhir_answer, fhir_enabled

import triage
from triage import fhir
from triage.case import validate_case
from triage.conclusions import summarise
from triage.interview import drive
from triage.questionnaire import Questionnaire
from triage.relevance import FAILS, HOLDS, OPEN, Relevance
from strategies import answer, consistent

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
    return consistent(case)


@st.composite
def partial_cases(draw):
    """Each question answered or left unknown (the person says "don't know")."""
    case = {q.id: draw(answer(q)) for q in KB.questions if draw(st.integers(0, 3))}
    return consistent(case)


def urgency_of(case):
    """The urgency of all the case's answers, from the rules that fire on them (as the assessment's:
    test_summarise_names_what_the_assessment_names)."""
    return summarise(ENGINE.fire(ENGINE.validate(case))).urgency


def summary(answers):
    return _summary(frozenset((k, v) for k, v in answers.items() if v is not None))


@functools.lru_cache(maxsize=500_000)
def _summary(known):
    # Kept across examples: the completions tried for the first screens are the same in every
    # example, and an assessment depends on the answers alone (test_compiler.py and
    # test_safety_properties.py show it, whatever was assessed before).
    # The rules that fire, summarised as an assessment would name them (conclusions.summarise:
    # test_summarise_names_what_the_assessment_names shows they agree), without building one.
    result = summarise(ENGINE.fire(ENGINE.validate(dict(known))))
    return (result.urgency, frozenset(result.causes), frozenset(result.red_flags), frozenset(result.advice))


@settings(max_examples=200, deadline=None)
@given(partial_cases())
def test_summarise_names_what_the_assessment_names(case):
    assessment = ENGINE.assess(case)
    assert _summary(frozenset(case.items())) == (
        assessment.urgency, frozenset(assessment.cause_ids), frozenset(f.id for f in assessment.red_flags),
        frozenset(a.id for a in assessment.advice))


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


# The case model without the pairs it couples (triage.case.coupled_fields): every value checked
# beside all the answers, the long way. The prepared rules must agree with it.
VALIDATE_WHOLE_CASE = Relevance(KB, lambda case: validate_case(KB.case_model, case))


@settings(max_examples=150, deadline=None)
@given(partial_cases())
def test_checking_only_the_coupled_answers_finds_the_same_possible_answers(case):
    answers = dict(case)
    for question_id in [q.id for q in KB.questions]:
        # each question in turn unasked, beside the others; and a don't-know for it
        others = {k: v for k, v in answers.items() if k != question_id}
        assert RELEVANCE.possible(question_id, others) == VALIDATE_WHOLE_CASE.possible(question_id, others), \
            (question_id, others)
    assert RELEVANCE.analyse(answers).relevant.keys() == VALIDATE_WHOLE_CASE.analyse(answers).relevant.keys()


def test_a_question_is_relevant_only_while_its_rule_could_change_the_result():
    assert "saddle_numbness" in RELEVANCE.analyse({}).relevant
    for answers in ({"saddle_numbness": True}, {"breathless_or_chest_pain": True, "lower_back_pain": True},
                    {"leg_cramps": True, "night_cramps": True, "one_leg_swollen": True}):
        analysis = RELEVANCE.analyse(answers)
        holding = [s.rule.spec.then for s in analysis.rules.values() if s.status == HOLDS]
        said = {("cause", c) for t in holding for c in t.causes} | {("flag", f.id) for t in holding for f in t.red_flags} \
            | {("advice", a) for t in holding for a in t.advice}
        reasons = {s.rule.id for states in analysis.relevant.values() for s in states}
        for state in analysis.rules.values():
            then = state.rule.spec.then
            new = ({("cause", c) for c in then.causes} | {("flag", f.id) for f in then.red_flags}
                   | {("advice", a) for a in then.advice}) - said
            higher = then.urgency is not None and then.urgency.rank > analysis.concluded.rank
            if state.status == OPEN and not new and not higher and not then.withhold_advice:
                assert state.rule.id not in reasons, (answers, state.rule.id)  # it would add nothing
            if state.status != OPEN:
                assert state.rule.id not in reasons


def test_a_rule_that_could_fire_only_beside_one_that_says_as_much_asks_nothing():
    # A sudden swelling (a pre-eclampsia sign) is said: the rule on vomiting with pre-eclampsia
    # signs is still open, but whenever it fires the sudden-swelling rule fires too and says all
    # it says, so vomiting is not worth asking for it (outcomes.implied_by_another).
    analysis = RELEVANCE.analyse({"lower_back_pain": True, "sudden_swelling": True})
    assert analysis.rules["safety_vomiting_with_pre_eclampsia_signs"].status == OPEN
    assert "vomiting" not in analysis.relevant


def test_the_urgency_is_settled_only_when_no_open_rule_could_raise_it():
    assert not RELEVANCE.analyse({"vaginal_bleeding": True}).settled  # with severe tummy pain: an emergency
    assert RELEVANCE.analyse({"breathless_or_chest_pain": True}).settled  # nothing is above emergency
    for answers in ({}, {"vaginal_bleeding": True, "severe_abdominal_pain": False}, {"saddle_numbness": True},
                    {"leg_cramps": True, "weeks_pregnant": 30}):
        analysis = RELEVANCE.analyse(answers)
        raising = [s for s in analysis.rules.values() if s.status == OPEN
                   and (s.rule.spec.then.urgency or triage.Urgency.SELF_CARE).rank > analysis.concluded.rank]
        assert analysis.settled == (not raising)


# ----------------------------------------------------------------------------- the two properties

@THOUSANDS
@given(complete_cases())
def test_the_first_result_of_a_complete_case_has_the_urgency_of_all_its_answers(case):
    run = drive(case, QUESTIONNAIRE)
    assert run.first.urgency is run.full.urgency is urgency_of(case), run.asked


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_cases())
def test_the_first_result_of_a_case_with_unknowns_has_the_urgency_of_all_its_answers(case):
    run = drive(case, QUESTIONNAIRE)
    assert run.first.urgency is urgency_of(case), run.asked


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complete_cases())
def test_one_question_a_screen_the_first_result_still_has_the_urgency_of_all_the_answers(case):
    run = drive(case, ONE_AT_A_TIME)
    assert all(len(screen) == 1 for screen in run.screen_items)
    assert run.first.urgency is urgency_of(case), run.asked


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
        case = consistent({q.id: rng.choice([True, False]) for q in KB.questions if q.type == "boolean"})
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
    # Everyone says no: "collapsed" is asked among the emergency questions, before any screen
    # that can only be urgent or less.
    answers, levels = {}, []
    while not (step := questionnaire.next_step(answers)).done:
        analysis = questionnaire.analyse(answers)
        shown = [item.id for item in step.question.items]
        levels.append(max(analysis.priority(q).rank for q in shown))
        if "collapsed" in shown:
            break
        answers.update({item.id: False if item.type == "boolean" else None for item in step.question.items})
    assert "collapsed" in shown and levels == [triage.Urgency.EMERGENCY.rank] * len(levels)
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
