"""Safety properties over thousands of generated cases (hypothesis).

Cases are drawn from the questionnaire itself, so a new question is covered
without touching this file.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage import Urgency
from triage.case import FOLLOW_UPS
from strategies import answer, consistent

KB = triage.load_knowledge_base()
ENGINE = triage.Engine(KB)
SECOND_ENGINE = triage.Engine(KB)
RED_FLAG_QUESTIONS = [q for q in KB.questions if q.red_flag]
MANY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw):
    """A valid case: each question unknown or answered; trimester agrees with weeks."""
    case = {}
    for question in KB.questions:
        if draw(st.booleans()):
            case[question.id] = draw(answer(question))
    return consistent(case)


def red_flag_value(question):
    return True if question.red_flag is True else question.red_flag[0]


def flag_ids(result):
    return {f.id for f in result.red_flags}


@MANY
@given(cases())
def test_every_valid_case_gets_exactly_one_urgency_the_most_urgent_fired(case):
    result = ENGINE.assess(case)
    assert isinstance(result.urgency, Urgency)
    asked = [r.urgency for r in result.fired_rules if r.urgency]
    assert result.urgency is Urgency.most_urgent(asked)


@MANY
@given(cases(), st.sampled_from(RED_FLAG_QUESTIONS))
def test_turning_a_red_flag_answer_to_yes_never_lowers_urgency(case, question):
    before = ENGINE.assess(case)
    turned = {**case, question.id: red_flag_value(question)}
    if question.id in FOLLOW_UPS:  # heavy bleeding is bleeding: its finding turns to yes too
        finding, denial = FOLLOW_UPS[question.id]
        if turned.get(finding) == denial:
            turned[finding] = not denial
    after = ENGINE.assess(turned)
    assert after.urgency.rank >= before.urgency.rank
    assert flag_ids(before) <= flag_ids(after)


@MANY
@given(cases(), st.data())
def test_adding_answers_never_removes_a_red_flag(case, data):
    known = sorted(case)
    kept = data.draw(st.lists(st.sampled_from(known), unique=True) if known else st.just([]))
    fewer = {k: case[k] for k in kept}
    assert flag_ids(ENGINE.assess(fewer)) <= flag_ids(ENGINE.assess(case))


@MANY
@given(cases())
def test_no_self_care_when_any_red_flag_answer_is_yes(case):
    flagged = [q.id for q in RED_FLAG_QUESTIONS if q.id in case and q.is_red_flag_answer(case[q.id])]
    result = ENGINE.assess(case)
    if flagged:
        assert result.urgency is not Urgency.SELF_CARE, flagged
        assert result.red_flags


@pytest.fixture(scope="module")
def two_threads():
    """Two threads besides this one, for every example: each builds its experta engine once.

    A new pool per example would build two Rete networks per example (about 90% of
    this test's time), and the property is about threads, not about new engines
    (tests/test_compiler.py compares used engines with new ones).
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="property") as pool:
        yield pool


@contextlib.contextmanager
def threads_switching_often():
    """Switch threads every microsecond, not every 5 ms, so that two assessments
    (about 0.2 ms each) interleave, and state shared between threads shows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@settings(max_examples=300, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_same_case_same_assessment_whatever_order_engine_or_thread(two_threads, case, rng):
    expected = ENGINE.assess(case)
    items = list(case.items())
    rng.shuffle(items)
    shuffled = dict(items)
    assert ENGINE.assess(shuffled) == expected
    assert SECOND_ENGINE.assess(shuffled) == expected
    # Both cases at once, one in each of the other two threads, with the engine shared:
    # the barrier makes them run together, so neither thread can take both.
    together = threading.Barrier(2, timeout=30)

    def assess_in_this_thread(answers):
        together.wait()
        return threading.get_ident(), ENGINE.assess(answers)

    with threads_switching_often():
        results = list(two_threads.map(assess_in_this_thread, [shuffled, case]))
    threads = {ident for ident, _ in results}
    assert len(threads) == 2 and threading.get_ident() not in threads
    assert all(result == expected for _, result in results)


@MANY
@given(cases())
def test_out_of_scope_only_when_no_rule_outside_core_concludes_anything(case):
    # issue 13: out of scope is said, never guessed: never beside a cause, warning sign or urgency from a rule
    result = ENGINE.assess(case)
    concluding = [r.id for r in result.fired_rules if r.pack != "core" and r.urgency not in (None, Urgency.SELF_CARE)]
    if result.out_of_scope:
        assert not result.causes and not result.red_flags and not concluding, (concluding, case)
