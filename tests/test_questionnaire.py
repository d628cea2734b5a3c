"""The questionnaire logic, without any terminal: what is asked, in what order, and when it stops."""

from __future__ import annotations

import json
from itertools import product

import pytest
import yaml

import triage
from triage import AnswerError, Questionnaire, Urgency

COMPLAINTS = ("lower_back_pain", "leg_pain", "leg_cramps")
# Questions about the complaints themselves, asked only after the warning signs.
COMPLAINT_DETAILS = {"pain_severity", "pain_down_leg", "pelvic_pain", "night_cramps", "cramp_lasting_over_10_min",
                     "urge_to_move_legs", "calcium_level"}


@pytest.fixture(scope="module")
def questionnaire(engine):
    return Questionnaire(engine)


def walk(questionnaire, given, details=False, acknowledged=None):
    """Answer every question asked from ``given`` (missing: don't know); return (asked ids, final step)."""
    answers, asked = {}, []
    while True:
        step = questionnaire.next_step(answers, acknowledged=acknowledged, details=details)
        if step.done:
            return asked, step
        asked.append(step.question.id)
        answers[step.question.id] = given.get(step.question.id)


def all_no(kb, **answers):
    """Every yes-no question answered no and every choice 'none' where there is one, except ``answers``."""
    base = {q.id: False for q in kb.questions if q.type == "boolean"}
    base.update({q.id: "none" for q in kb.questions if q.type == "choice" and "none" in q.values})
    base.update(answers)
    return base


def test_it_starts_with_the_stage_then_the_main_complaints(questionnaire):
    asked, _ = walk(questionnaire, {"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": False, "leg_cramps": True})
    assert asked[:4] == ["weeks_pregnant", *COMPLAINTS]


def test_trimester_is_asked_only_when_the_weeks_are_unknown(questionnaire):
    asked_known, _ = walk(questionnaire, {"weeks_pregnant": 30})
    asked_unknown, _ = walk(questionnaire, {"trimester": 3})
    assert "trimester" not in asked_known
    assert asked_unknown[:2] == ["weeks_pregnant", "trimester"]


@pytest.mark.parametrize("complaints", list(product([True, False], repeat=3)), ids=lambda c: "".join("yn"[not x] for x in c))
def test_warning_signs_come_first_most_dangerous_first(kb, questionnaire, complaints):
    asked, _ = walk(questionnaire, all_no(kb, weeks_pregnant=30, **dict(zip(COMPLAINTS, complaints, strict=True))), details=True)
    red_flags = [i for i, qid in enumerate(asked) if kb.question_by_id[qid].red_flag]
    details = [i for i, qid in enumerate(asked) if qid in COMPLAINT_DETAILS or kb.question_by_id[qid].detail]
    assert asked[red_flags[0]] == "breathless_or_chest_pain" and red_flags[0] <= 4
    assert not details or max(red_flags) < min(details)
    assert len(asked) == len(set(asked))  # never the same question twice


def test_no_cramp_details_for_someone_without_cramps(kb, questionnaire):
    asked, _ = walk(questionnaire, all_no(kb, weeks_pregnant=20, lower_back_pain=True), details=True)
    assert not {"night_cramps", "cramp_lasting_over_10_min", "high_meat_diet", "low_water_intake"} & set(asked)
    assert {"pain_severity", "painful_urination", "saddle_numbness"} <= set(asked)


def test_cramps_alone_skip_back_pain_questions_but_keep_the_clot_questions(kb, questionnaire):
    asked, _ = walk(questionnaire, all_no(kb, weeks_pregnant=31, leg_cramps=True))
    assert {"night_cramps", "cramp_lasting_over_10_min", "one_leg_swollen", "leg_red_or_warm"} <= set(asked)
    assert not {"pain_severity", "painful_urination", "saddle_numbness", "bladder_bowel_change"} & set(asked)


def test_an_answer_can_make_an_earlier_follow_up_relevant_and_it_is_asked_next(kb, questionnaire):
    answers = {qid: given for qid, given in all_no(kb, weeks_pregnant=31, leg_cramps=True).items()}
    asked, _ = walk(questionnaire, {**answers, "numbness": "tingling"})
    # Tingling makes the nerve questions (placed before it) relevant: they come straight after.
    position = asked.index("numbness")
    assert asked[position + 1: position + 3] == ["bladder_bowel_change", "saddle_numbness"]


def test_sudden_breathlessness_stops_at_once_with_the_emergency_action(questionnaire):
    answers = {"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": True, "leg_cramps": False}
    assert questionnaire.next_step(answers).question.id == "breathless_or_chest_pain"
    step = questionnaire.next_step({**answers, "breathless_or_chest_pain": True})
    assert step.done and step.stopped_early and step.remaining > 0
    assert step.urgency is Urgency.EMERGENCY and "emergency number" in step.assessment.action
    assert step.answered == 5


def test_going_on_after_an_urgent_stop_stops_again_only_for_something_more_urgent(kb, questionnaire):
    session = questionnaire.start({"weeks_pregnant": 30, "lower_back_pain": True, "leg_pain": False,
                                   "leg_cramps": False, "breathless_or_chest_pain": False,
                                   "severe_abdominal_pain": False})
    assert session.step.question.id == "vaginal_bleeding"
    session.answer(True)
    assert session.step.stopped_early and session.step.urgency is Urgency.URGENT
    session.go_on()
    assert session.step.question.id == "bladder_bowel_change"
    session.answer(True)  # still urgent: already acknowledged, so no new stop
    assert session.step.question.id == "saddle_numbness"
    session.answer(True)  # cauda equina: emergency, more urgent than acknowledged
    assert session.step.stopped_early and session.step.urgency is Urgency.EMERGENCY


def test_going_back_from_a_stop_asks_the_question_again(questionnaire):
    session = questionnaire.start({"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": True, "leg_cramps": False})
    session.answer(True)
    assert session.step.stopped_early
    session.back()
    assert session.step.question.id == "breathless_or_chest_pain" and "breathless_or_chest_pain" not in session.answers
    session.answer(False)
    assert not session.step.done and session.step.urgency is not Urgency.EMERGENCY


def test_an_acknowledged_stop_comes_back_if_its_answer_was_taken_back_and_given_again(questionnaire):
    session = questionnaire.start({"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": True, "leg_cramps": False})
    session.answer(True)
    session.go_on()
    session.back()  # removes the breathlessness answer
    session.answer(True)
    assert session.step.stopped_early and session.step.urgency is Urgency.EMERGENCY


def test_dont_know_stays_unknown_and_is_named_among_the_warning_signs(kb, questionnaire, engine):
    given = all_no(kb, weeks_pregnant=30, lower_back_pain=True)
    given["fever"] = None
    asked, step = walk(questionnaire, given)
    assert "fever" in asked and step.unanswered_red_flags == ["fever"]
    assert not any("fever" in rule.id for rule in step.assessment.fired_rules)
    assert step.assessment == engine.assess({k: v for k, v in given.items() if k in asked})


def test_night_cramps_get_self_care_with_reasons_and_the_details_are_only_offered(kb, questionnaire):
    given = all_no(kb, weeks_pregnant=31, leg_cramps=True, night_cramps=True, low_water_intake=True, calcium_level=None)
    asked, step = walk(questionnaire, given)
    assert step.urgency is Urgency.SELF_CARE and not step.stopped_early
    assert "benign_leg_cramps" in step.assessment.cause_ids
    cause = step.assessment.causes[step.assessment.cause_ids.index("benign_leg_cramps")]
    assert triage.Evidence(field="night_cramps", value=True) in cause.evidence
    assert not any(kb.question_by_id[qid].detail for qid in asked) and step.more_details > 0
    assert len(asked) <= 20

    asked_all, full = walk(questionnaire, given, details=True)
    assert "low_water_intake" in asked_all and "dehydration" in full.assessment.cause_ids
    assert full.urgency is step.urgency and full.more_details == 0


def test_a_session_offers_the_details_and_asks_them_on_request(kb, questionnaire):
    given = all_no(kb, weeks_pregnant=31, leg_cramps=True, night_cramps=True, calcium_level=None)
    session = questionnaire.start({k: v for k, v in given.items() if not kb.question_by_id[k].detail})
    assert session.step.done and session.step.more_details
    session.go_on()
    assert kb.question_by_id[session.step.question.id].detail
    with pytest.raises(AnswerError):
        questionnaire.start({}).go_on()  # nothing to go on from while a question is open


@pytest.mark.parametrize("rule_id, number, example", [
    pytest.param(rule.id, n, example, id=f"{rule.id}-{n}")
    for rule in triage.load_knowledge_base().rules
    for n, example in enumerate(rule.spec.examples.fires, start=1)
])
def test_every_rule_example_is_reachable_through_the_questions(engine, rule_id, number, example):
    # Answering the questionnaire with a case that fires a rule asks every question
    # the case answers: no ask_when hides an answer a rule needs.
    asked, step = walk(Questionnaire(engine, stop_at=None), example, details=True)
    assert set(example) - {"id"} <= set(asked), f"example {number} of {rule_id}"
    assert rule_id in [r.id for r in step.assessment.fired_rules]


@pytest.mark.parametrize("question_id, text, value", [
    ("leg_cramps", "y", True), ("leg_cramps", " YES ", True), ("leg_cramps", "n", False), ("leg_cramps", "No", False),
    ("weeks_pregnant", "0", 0), ("weeks_pregnant", "42", 42),
    ("weakness", "3", "severe"), ("weakness", "Mild", "mild"), ("weakness", "severe weakness", "severe"),
    ("trimester", "2", 2), ("sleep_position", "back", "back"),  # 'back' is a choice here; only 'b' goes back
    ("weakness", "n", "none"), ("numbness", "no", "none"),  # "no" to a choice with a none option
])
def test_typed_answers_are_understood(questionnaire, question_id, text, value):
    reply = questionnaire.interpret(question_id, text)
    assert (reply.kind, reply.value) == ("answer", value)
    assert type(reply.value) is type(value)


@pytest.mark.parametrize("text, kind", [("?", "help"), ("b", "back"), ("s", "skip"), ("", "skip"), ("  ", "skip")])
def test_help_back_and_dont_know(questionnaire, text, kind):
    assert questionnaire.interpret("fever", text).kind == kind


@pytest.mark.parametrize("question_id, text, allowed", [
    ("leg_cramps", "maybe", "y or n"), ("weeks_pregnant", "43", "from 0 to 42"), ("weeks_pregnant", "-1", "from 0 to 42"),
    ("weeks_pregnant", "31.5", "from 0 to 42"), ("weakness", "4", "1 to 3, or one of: none, mild, severe"),
    ("weakness", "very", "none, mild, severe"),
])
def test_an_invalid_reply_says_what_is_allowed(questionnaire, question_id, text, allowed):
    with pytest.raises(AnswerError, match="Please answer") as error:
        questionnaire.interpret(question_id, text)
    assert allowed in str(error.value) and repr(text) in str(error.value)


def test_no_is_not_an_answer_to_a_choice_without_a_none_option(questionnaire):
    with pytest.raises(AnswerError):
        questionnaire.interpret("sleep_position", "n")


def test_a_required_question_takes_no_dont_know(questionnaire):
    with pytest.raises(AnswerError, match="needs an answer: y or n"):
        questionnaire.interpret("lower_back_pain", "s")
    with pytest.raises(AnswerError):
        questionnaire.answer({}, "lower_back_pain", None)


def test_answers_are_checked_and_kept_in_the_order_given(questionnaire):
    answers = questionnaire.answer({"leg_cramps": True, "weeks_pregnant": 30}, "leg_cramps", False)
    assert list(answers) == ["weeks_pregnant", "leg_cramps"] and answers["leg_cramps"] is False
    with pytest.raises(AnswerError, match="0 to 42"):
        questionnaire.answer({}, "weeks_pregnant", 50)
    with pytest.raises(AnswerError, match="no question"):
        questionnaire.answer({}, "knee_pain", True)
    with pytest.raises(AnswerError, match="disagrees"):
        questionnaire.answer({"weeks_pregnant": 30}, "trimester", 1)


def test_back_drops_the_last_answer_and_refuses_at_the_start(questionnaire):
    assert questionnaire.back({"id": "c1", "weeks_pregnant": 30, "leg_cramps": True}) == {"id": "c1", "weeks_pregnant": 30}
    with pytest.raises(AnswerError, match="no previous question"):
        questionnaire.back({"id": "c1"})


def test_a_session_reply_that_is_refused_changes_nothing(questionnaire):
    session = questionnaire.start()
    with pytest.raises(AnswerError):
        session.reply("soon")
    assert session.answers == {} and session.step.question.id == "weeks_pregnant"
    assert session.reply("?").kind == "help" and session.answers == {}
    session.reply("30")
    session.reply("b")
    assert session.answers == {} and session.step.question.id == "weeks_pregnant"


def test_a_step_is_plain_json_for_any_front_end(questionnaire):
    step = questionnaire.next_step({"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": True,
                                    "leg_cramps": False, "breathless_or_chest_pain": False,
                                    "severe_abdominal_pain": False, "vaginal_bleeding": False,
                                    "bladder_bowel_change": False, "saddle_numbness": False, "one_leg_swollen": False,
                                    "leg_red_or_warm": False, "severe_headache_or_vision": False,
                                    "sudden_swelling": False, "fluid_leak": False, "regular_tightenings": False,
                                    "fever": False})
    data = json.loads(step.model_dump_json())
    assert data["assessment"] is None and data["answered"] == 16
    question = data["question"]
    assert question["id"] == "weakness" and question["number"] == 17 and question["type"] == "choice"
    assert [c["value"] for c in question["choices"]] == ["none", "mild", "severe"]
    assert question["help"] and question["allowed"].startswith("a number from 1 to 3") and question["red_flag"]
    done = questionnaire.next_step({"breathless_or_chest_pain": True})
    assert json.loads(done.model_dump_json())["assessment"]["urgency"] == "emergency"


def test_no_stop_at_asks_everything_relevant(kb, engine):
    asked, step = walk(Questionnaire(engine, stop_at=None), {"breathless_or_chest_pain": True, "leg_cramps": True})
    assert step.urgency is Urgency.EMERGENCY and not step.stopped_early and "night_cramps" in asked


def edit_questions(kb_copy, change):
    path = kb_copy / "questions.yaml"
    data = yaml.safe_load(path.read_text())
    change({q["id"]: q for q in data["questions"]})
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_detail_question_may_not_decide_an_urgency(kb_copy):
    edit_questions(kb_copy, lambda q: q["calcium_level"].update(detail=True))
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    assert any("rule doc_cramps_low_calcium" in p and "calcium_level" in p and "detail" in p for p in error.value.problems)


def test_a_detail_question_may_not_decide_an_urgency_through_a_derived_fact(kb_copy):
    edit_questions(kb_copy, lambda q: q["weeks_pregnant"].update(detail=True))
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    assert any("rule safety_labour_at_term" in p and "from_37_weeks" in p for p in error.value.problems)


def test_a_question_cannot_be_both_detail_and_a_red_flag(kb_copy):
    edit_questions(kb_copy, lambda q: q["fever"].update(detail=True))
    with pytest.raises(triage.KnowledgeBaseError, match="question fever.*detail question cannot be required or a red flag"):
        triage.load_knowledge_base(kb_copy)


def test_acknowledged_may_be_given_as_its_json_value(questionnaire):
    answers = {"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": False, "leg_cramps": True,
               "breathless_or_chest_pain": True}
    assert questionnaire.next_step(answers, acknowledged="emergency") == questionnaire.next_step(
        answers, acknowledged=Urgency.EMERGENCY
    )
