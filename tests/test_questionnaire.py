"""The questionnaire logic, without any terminal: what is asked, in what order, and when it stops."""

from __future__ import annotations

import json
import re

import pytest
import yaml

import triage
from triage import AnswerError, Questionnaire, Urgency
from triage.interview import drive


@pytest.fixture(scope="module")
def questionnaire(engine):
    return Questionnaire(engine)


def walk(questionnaire, given, details=False, acknowledged=None):
    """Answer every screen from ``given`` (missing: don't know); return (asked ids, final step)."""
    answers, asked = {}, []
    while True:
        step = questionnaire.next_step(answers, acknowledged=acknowledged, details=details)
        if step.done:
            return asked, step
        for item in step.question.items:
            asked.append(item.id)
            answers[item.id] = given.get(item.id)


def all_no(kb, **answers):
    """Every yes-no question answered no and every choice 'none' where there is one, except ``answers``."""
    base = {q.id: False for q in kb.questions if q.type == "boolean"}
    base.update({q.id: "none" for q in kb.questions if q.type == "choice" and "none" in q.values})
    base.pop("trimester", None)
    base.update(answers)
    return base


def group_answer(prompt, given):
    return {item.id: given.get(item.id, False) for item in prompt.items}


def test_the_first_screen_screens_for_every_warning_sign_at_once(kb, questionnaire):
    prompt = questionnaire.next_step({}).question
    assert prompt.kind == "group" and prompt.type == "group" and prompt.id == "warning_signs"
    flags = [q.id for q in kb.questions if q.type == "boolean" and q.red_flag]
    assert [item.id for item in prompt.items] == flags
    # The emergency questions are why it comes first.
    assert any(reason.urgency is Urgency.EMERGENCY for reason in prompt.why)


def test_questions_come_most_urgent_first_and_details_last(kb, questionnaire):
    # At every screen, no question still waiting could decide a more urgent rule than the one shown.
    for case in (all_no(kb, weeks_pregnant=30, lower_back_pain=True, pain_severity=5),
                 all_no(kb, weeks_pregnant=12, leg_pain=True, numbness="tingling"),
                 all_no(kb, weeks_pregnant=38, leg_cramps=True, night_cramps=True)):
        answers = {}
        while not (step := questionnaire.next_step(answers, details=True)).done:
            analysis = questionnaire.analyse(answers)
            shown = [item.id for item in step.question.items]
            waiting = questionnaire.pending(answers, details=True)
            if not kb.question_by_id[shown[0]].detail:
                # A group screen is reached through its most urgent item.
                assert max(analysis.priority(q).rank for q in shown) == max(
                    analysis.priority(q.id).rank for q in waiting if not q.detail)
            else:
                assert all(q.detail for q in waiting)
            answers.update({item.id: case.get(item.id) for item in step.question.items})


def test_trimester_is_asked_only_when_the_weeks_are_unknown(kb, questionnaire):
    asked_known, _ = walk(questionnaire, all_no(kb, weeks_pregnant=30, leg_cramps=True), details=True)
    asked_unknown, _ = walk(questionnaire, all_no(kb, trimester=3, leg_cramps=True), details=True)
    assert "trimester" not in asked_known
    assert asked_unknown.index("trimester") == asked_unknown.index("weeks_pregnant") + 1


@pytest.mark.parametrize("complaint, level, cause", [
    ("pelvic_pain", Urgency.ROUTINE, "pelvic_girdle_pain"),
    ("urge_to_move_legs", Urgency.ROUTINE, "restless_legs"),
    ("painful_urination", Urgency.WITHIN_24H, "urinary_infection"),
])
def test_a_complaint_the_rules_know_is_reached_on_its_own(kb, questionnaire, complaint, level, cause):
    # These were asked only after back or leg pain: now they are on the complaints screen.
    run = drive(all_no(kb, weeks_pregnant=25, **{complaint: True}), questionnaire)
    assert complaint in run.asked
    assert run.first.urgency is level and cause in run.first.assessment.cause_ids


@pytest.mark.parametrize("given", [
    {"vaginal_bleeding": True, "severe_abdominal_pain": True},
    {"saddle_numbness": True, "bladder_bowel_change": True, "lower_back_pain": True},
], ids=["bleeding_with_severe_pain", "cauda_equina"])
def test_an_emergency_is_never_first_shown_as_urgent(kb, engine, given):
    # One question a screen (a knowledge base without groups): the first of the two answers is
    # urgent, but the interview does not stop before asking the second.
    import copy

    single = copy.copy(kb)
    single.groups = {}
    questionnaire = Questionnaire(triage.Engine(single))
    case = all_no(kb, weeks_pregnant=30, **given)
    answers = {}
    while not (step := questionnaire.next_step(answers)).done:
        assert len(step.question.items) == 1
        answers[step.question.id] = case.get(step.question.id)
    assert step.urgency is Urgency.EMERGENCY and engine_urgency(questionnaire, case) is Urgency.EMERGENCY


def engine_urgency(questionnaire, case):
    return questionnaire.engine.assess(case).urgency


def test_an_urgent_stop_comes_only_once_nothing_could_make_it_an_emergency(kb, questionnaire):
    answers = {"vaginal_bleeding": True}
    step = questionnaire.next_step(answers)
    assert not step.done and "severe_abdominal_pain" in [i.id for i in step.question.items]
    assert step.urgency is Urgency.URGENT and not step.settled
    # Light bleeding at 30 weeks, everything else no: it goes on asking while an open rule could
    # still make it an emergency, and stops (urgent) as soon as none can.
    given = all_no(kb, vaginal_bleeding=True, bleeding_amount="light", weeks_pregnant=30)
    answers = {}
    while not (step := questionnaire.next_step(answers)).done:
        assert not step.settled and step.urgency is not Urgency.EMERGENCY
        answers.update({item.id: given.get(item.id) for item in step.question.items})
    assert step.stopped_early and step.settled and step.urgency is Urgency.URGENT
    assert "maternity" in step.assessment.action and step.remaining > 0


def test_sudden_breathlessness_stops_at_once_with_the_emergency_action(questionnaire):
    session = questionnaire.start()
    step = session.answer({item.id: item.id == "breathless_or_chest_pain" for item in session.step.question.items})
    assert step.done and step.stopped_early and step.remaining > 0 and session.screen == 2
    assert step.urgency is Urgency.EMERGENCY and "emergency number" in step.assessment.action


def test_going_on_after_an_urgent_stop_stops_again_only_for_something_more_urgent(kb, questionnaire):
    session = questionnaire.start()
    # One swollen leg, every other warning sign no (and no weakness or numbness, which could still
    # make it an emergency): urgent, settled (no emergency left open).
    given = all_no(kb, one_leg_swollen=True)
    while not session.step.done:
        prompt = session.step.question
        session.answer(group_answer(prompt, given) if prompt.kind == "group" else given.get(prompt.id))
    assert session.step.done and session.step.stopped_early and session.step.urgency is Urgency.URGENT
    session.go_on()
    assert not session.step.done
    asked = 0
    while not session.step.done:
        prompt = session.step.question
        session.answer(group_answer(prompt, {}) if prompt.kind == "group" else
                       False if prompt.type == "boolean" else None)
        asked += len(prompt.items)
    assert not session.step.stopped_early and session.step.urgency is Urgency.URGENT


def test_the_questions_offered_after_a_stop_are_the_most_that_will_be_asked(kb, questionnaire):
    for given in ({"saddle_numbness": True}, {"fluid_leak": True, "leg_cramps": True},
                  {"one_leg_swollen": True, "lower_back_pain": True, "weeks_pregnant": 30}):
        session = questionnaire.start()
        while not session.step.done:
            prompt = session.step.question
            session.answer({i.id: given.get(i.id, False) for i in prompt.items} if prompt.kind == "group"
                           else given.get(prompt.id))
        offered = session.step.remaining
        assert session.step.stopped_early and offered > 0
        session.go_on()
        asked = 0
        while not session.step.done:
            prompt = session.step.question
            asked += len(prompt.items)
            session.answer({i.id: None if not i.required else False for i in prompt.items})
        assert 0 < asked <= offered


def test_going_back_from_a_stop_asks_the_whole_screen_again(questionnaire):
    session = questionnaire.start()
    first = session.step.question
    session.answer({item.id: item.id == "breathless_or_chest_pain" for item in first.items})
    assert session.step.stopped_early
    session.back()
    assert session.step.question == first and session.answers == {}
    session.answer({item.id: False for item in first.items})
    assert not session.step.done and session.step.urgency is not Urgency.EMERGENCY


def test_an_acknowledged_stop_comes_back_if_its_answer_was_taken_back_and_given_again(questionnaire):
    session = questionnaire.start()
    yes = {item.id: item.id == "breathless_or_chest_pain" for item in session.step.question.items}
    session.answer(yes)
    session.go_on()
    session.back()  # removes the screening answers
    session.answer(yes)
    assert session.step.stopped_early and session.step.urgency is Urgency.EMERGENCY


def test_dont_know_stays_unknown_and_is_named_among_the_warning_signs(kb, questionnaire, engine):
    given = all_no(kb, weeks_pregnant=30, lower_back_pain=True)
    given["fever"] = None
    asked, step = walk(questionnaire, given)
    assert "fever" in asked and step.unanswered_red_flags == ["fever"]
    assert not any("fever" in rule.id for rule in step.assessment.fired_rules)
    assert step.assessment == engine.assess({k: v for k, v in given.items() if k in asked})


def test_night_cramps_get_self_care_in_a_few_screens_and_the_details_are_only_offered(kb, questionnaire):
    given = all_no(kb, weeks_pregnant=31, leg_cramps=True, night_cramps=True, low_water_intake=True)
    run = drive(given, questionnaire)
    step = run.first
    assert step.urgency is Urgency.SELF_CARE and not step.stopped_early and run.screens <= 10
    assert "benign_leg_cramps" in step.assessment.cause_ids
    cause = step.assessment.causes[step.assessment.cause_ids.index("benign_leg_cramps")]
    assert triage.Evidence(field="night_cramps", value=True) in cause.evidence
    assert not any(kb.question_by_id[qid].detail for qid in run.asked) and step.more_details > 0

    asked_all, full = walk(questionnaire, given, details=True)
    details = [q for q in asked_all if kb.question_by_id[q].detail]
    assert len(details) == step.more_details  # the count offered is the count asked
    assert "low_water_intake" in asked_all and "dehydration" in full.assessment.cause_ids
    assert full.urgency is step.urgency and full.more_details == 0


def test_a_session_offers_the_details_and_asks_them_on_request(kb, questionnaire):
    given = all_no(kb, weeks_pregnant=31, leg_cramps=True, night_cramps=True, pain_severity=None, calcium_level=None)
    session = questionnaire.start({k: v for k, v in given.items() if not kb.question_by_id[k].detail})
    assert session.step.done and session.step.more_details
    assert session.step.why and all(r.urgency in (None, Urgency.SELF_CARE) for r in session.step.why)
    session.go_on()
    prompt = session.step.question
    assert prompt.kind == "group" and prompt.text == "Do any of these apply to you?"  # the yes-or-no habits
    assert len(prompt.items) > 1 and all(kb.question_by_id[i.id].detail for i in prompt.items)
    with pytest.raises(AnswerError):
        questionnaire.start({}).go_on()  # nothing to go on from while a question is open


@pytest.mark.parametrize("rule_id, number, example", [
    pytest.param(rule.id, n, example, id=f"{rule.id}-{n}")
    for rule in triage.load_knowledge_base().rules
    for n, example in enumerate(rule.spec.examples.fires, start=1)
])
def test_every_rule_example_is_reached_through_the_questions(engine, rule_id, number, example):
    # Answering the whole questionnaire with a case that fires a rule gives the case's own
    # result: every answer that could change it was asked. (An answer that changes nothing
    # need not be: high heels add advice that back pain already gives; a rule that only
    # derives the stage of pregnancy matters through the rules that test it.)
    asked, step = walk(Questionnaire(engine, stop_at=None), example, details=True)
    expected = engine.assess(example)

    def result(a):
        return a.urgency, a.cause_ids, [f.id for f in a.red_flags], [i.id for i in a.advice]

    assert result(step.assessment) == result(expected), f"example {number} of {rule_id}"


def test_why_is_on_every_screen_and_names_rules_that_test_the_question(kb, questionnaire):

    case = all_no(kb, weeks_pregnant=None, lower_back_pain=True, leg_cramps=True, fever=True)
    answers = {}
    while not (step := questionnaire.next_step(answers, acknowledged=Urgency.EMERGENCY, details=True)).done:
        prompt = step.question
        assert prompt.why, prompt.id
        for item in prompt.items:
            assert item.why, item.id
            for reason in item.why:
                rule = kb.rule_by_id[reason.rule]
                assert reason.title == rule.spec.title and reason.urgency == rule.spec.then.urgency
        answers.update({item.id: case.get(item.id) for item in prompt.items})


def test_stop_at_takes_a_level_or_its_name(engine):
    assert Questionnaire(engine, stop_at="emergency").stop_at is Urgency.EMERGENCY
    session = Questionnaire(engine, stop_at="emergency").start()
    session.answer({item.id: item.id == "one_leg_swollen" for item in session.step.question.items})
    assert not session.step.done  # urgent is below emergency: it goes on
    with pytest.raises(AnswerError, match="not an urgency level"):
        Questionnaire(engine, stop_at="soon")


def test_a_group_screen_takes_a_mapping_that_answers_every_item(questionnaire):
    session = questionnaire.start()
    prompt = session.step.question
    with pytest.raises(AnswerError, match="missing"):
        session.answer({"fever": True})
    with pytest.raises(AnswerError, match="not on this screen"):
        session.answer({**{i.id: False for i in prompt.items}, "weeks_pregnant": 30})
    with pytest.raises(AnswerError, match="mapping"):
        session.answer(True)
    values = {i.id: False for i in prompt.items}
    values["fever"] = None  # don't know, never no
    session.answer(values)
    assert session.answers["fever"] is None and list(session.answers) == [i.id for i in prompt.items]


def test_a_single_question_takes_a_value_or_a_one_item_mapping(kb, questionnaire):
    answers = {i.id: False for i in questionnaire.next_step({}).question.items}
    session = questionnaire.start(answers)
    while session.step.question.kind == "group":
        session.answer({i.id: False for i in session.step.question.items})
    prompt = session.step.question
    assert prompt.items[0].id == prompt.id and prompt.items[0].text == prompt.text
    value = prompt.choices[0].value if prompt.type == "choice" else prompt.min if prompt.type == "integer" else False
    session.answer({prompt.id: value})
    assert session.answers[prompt.id] == value
    session.back()
    session.answer(value)
    assert session.answers[prompt.id] == value


def test_a_group_reply_is_read_as_numbers_none_or_one_by_one(questionnaire):
    prompt = questionnaire.next_step({}).question
    ids = [i.id for i in prompt.items]
    reply = questionnaire.interpret(prompt, " 1, 3 ")
    assert reply.kind == "answer" and [k for k, v in reply.value.items() if v] == [ids[0], ids[2]]
    assert set(reply.value) == set(ids) and list(reply.value.values()).count(False) == len(ids) - 2
    with pytest.raises(AnswerError):
        questionnaire.interpret(prompt, "0")  # one stray key never answers every warning sign "no"
    for none in ("n", "none", "No"):
        assert questionnaire.interpret(prompt, none).value == dict.fromkeys(ids, False)
    assert questionnaire.interpret(prompt, "s").value == dict.fromkeys(ids)  # don't know is never no
    assert questionnaire.interpret(prompt, "d").kind == "each"
    assert questionnaire.interpret(prompt, "why").kind == "why"
    for wrong in (str(len(ids) + 1), "1 x", "", "yes"):
        with pytest.raises(AnswerError, match="Type the numbers that apply"):
            questionnaire.interpret(prompt, wrong)


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


@pytest.mark.parametrize("count", [0, -1, -5, True, 1.5, "1"])
def test_back_refuses_a_count_below_one_and_keeps_every_answer(questionnaire, count):
    # given[-0:] is every answer, given[-(-1):] all but the first: both silently dropped answers.
    answers = {"id": "c1", "weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True}
    with pytest.raises(AnswerError, match=r"back: count must be a whole number of 1 or more .*not " + re.escape(repr(count))):
        questionnaire.back(answers, count)
    assert questionnaire.back(answers, 2) == {"id": "c1", "weeks_pregnant": 30}
    assert isinstance(AnswerError("x"), triage.TriageError)


@pytest.mark.parametrize("acknowledged", ["bogus", "URGENT", 3, 1.0])
def test_next_step_refuses_an_acknowledged_level_that_is_not_one_naming_the_levels(questionnaire, acknowledged):
    with pytest.raises(AnswerError, match=r"acknowledged: .* is not an urgency level; expected one of emergency, urgent, "
                                          r"within_24h, routine, self_care"):
        questionnaire.next_step({"leg_cramps": True}, acknowledged)
    # an urgent answer, acknowledged by name as front ends keeping JSON state do: asked on, not stopped again
    answers = {"breathless_or_chest_pain": False, "leg_pain": True, "one_leg_swollen": True}
    assert questionnaire.next_step(answers, "urgent") == questionnaire.next_step(answers, Urgency.URGENT)


def test_a_session_reply_that_is_refused_changes_nothing(questionnaire):
    session = questionnaire.start()
    with pytest.raises(AnswerError):
        session.reply("soon")
    assert session.answers == {} and session.step.question.id == "warning_signs"
    assert session.reply("?").kind == "help" and session.reply("why").kind == "why" and session.answers == {}
    session.reply("n")
    assert session.answers and not any(session.answers.values())
    session.reply("b")
    assert session.answers == {} and session.step.question.id == "warning_signs"


def test_a_step_is_plain_json_for_any_front_end(kb, questionnaire):
    screening = {q.id: False for q in kb.questions if q.type == "boolean" and q.red_flag}
    group = json.loads(questionnaire.next_step({}).model_dump_json())["question"]
    assert group["kind"] == "group" and group["type"] == "group" and group["number"] == 1
    assert {"id", "text", "help", "type", "required", "red_flag", "allowed", "why"} <= set(group["items"][0])
    assert group["why"][0] == {"rule": "safety_pulmonary_embolism", "title": kb.rule_by_id["safety_pulmonary_embolism"].spec.title,
                               "urgency": "emergency", "causes": ["pulmonary_embolism"],
                               "red_flags": ["breathless_or_chest_pain"], "advice": []}
    step = questionnaire.next_step({**screening, "lower_back_pain": False, "leg_pain": True, "leg_cramps": False,
                                    "pelvic_pain": False, "pain_down_leg": False, "urge_to_move_legs": False,
                                    "painful_urination": False})
    data = json.loads(step.model_dump_json())
    assert data["assessment"] is None and data["answered"] == len(screening) + 7
    question = data["question"]
    assert question["kind"] == "question" and question["number"] == data["answered"] + 1
    assert question["id"] == "weakness" and question["type"] == "choice" and len(question["items"]) == 1
    assert [c["value"] for c in question["choices"]] == ["none", "mild", "severe"]
    assert question["help"] and question["allowed"].startswith("a number from 1 to 3") and question["red_flag"]
    assert {r["rule"] for r in question["why"]} >= {"doc_severe_weakness_numbness", "safety_mild_weakness"}
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
    answers = {"weeks_pregnant": 30, "breathless_or_chest_pain": True}
    assert questionnaire.next_step(answers, acknowledged="emergency") == questionnaire.next_step(
        answers, acknowledged=Urgency.EMERGENCY
    )


def test_an_ask_when_never_hides_a_question_a_rule_needs_for_an_urgency(kb_copy):
    # As if a question had "not before 20 weeks": the fever rule needs no weeks, so fever is
    # asked at 12 weeks all the same, and the FHIR Questionnaire does not hide it either. An
    # ask_when on a habit (no urgency rests on it) still narrows when it is asked.
    from triage import fhir

    edit_questions(kb_copy, lambda q: (q["fever"].update(ask_when={"field": "weeks_pregnant", ">=": 20}),
                                       q["long_sleep"].update(ask_when={"field": "weeks_pregnant", ">=": 20})))
    kb = triage.load_knowledge_base(kb_copy)
    questionnaire = Questionnaire(triage.Engine(kb))
    case = all_no(kb, weeks_pregnant=12, leg_cramps=True, fever=True, long_sleep=True)
    run = drive(case, questionnaire)
    assert "fever" in run.asked and run.first.urgency is Urgency.WITHIN_24H == run.full.urgency
    asked, _ = walk(questionnaire, case, details=True)
    assert "long_sleep" not in asked and "low_water_intake" in asked
    items = {item["linkId"]: item for item in fhir.questionnaire(kb)["item"]}
    assert "enableWhen" not in items["fever"] and items["long_sleep"]["enableWhen"]
