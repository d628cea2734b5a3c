"""``triage ask`` through click's CliRunner: answers typed in, the result and the saved case checked."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from triage import Questionnaire
from triage.cli import main

NIGHT_CRAMPS = {"weeks_pregnant": "31", "leg_cramps": "y", "night_cramps": "y", "weakness": "1", "numbness": "1"}


def ask(*args, input):
    return CliRunner().invoke(main, ["ask", *args], input=input)


def lines_for(engine, replies, offers=(), default="n"):
    """What a person would type: ``replies`` by question id (booleans default to ``default``,
    other questions to don't know), and ``offers`` in turn at each offer to go on."""
    session = Questionnaire(engine).start()
    typed, offers = [], list(offers)
    while True:
        prompt = session.step.question
        if prompt is None:
            if not (session.step.stopped_early or session.step.more_details) or not offers:
                return typed
            answer = offers.pop(0)
            typed.append(answer)
            if answer != "y":
                return typed
            session.go_on()
            continue
        text = replies.get(prompt.id, default if prompt.type == "boolean" else "")
        typed.append(text)
        session.reply(text)


def typed(lines):
    return "\n".join(lines) + "\n"


def questions_asked(output):
    return re.findall(r"^\s*(\d+)\. (.+)$", output, flags=re.M)


def test_night_cramps_get_a_short_questionnaire_and_self_care_with_reasons(engine):
    result = ask(input=typed(lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    assert result.exit_code == 0, result.output
    out = result.output
    assert len(questions_asked(out)) <= 29  # 20 before issue 13's warning signs for everyone
    assert "Do the cramps come mostly at night" in out
    assert "Does it hurt or burn when you pass urine" not in out  # no back pain, no urine questions
    assert "Do you often eat a lot of meat" not in out  # detail questions only on request
    result_screen = out[out.index("SELF-CARE"):]
    order = [result_screen.index(s) for s in ("SELF-CARE", "You can manage this at home", "Likely causes",
                                              "night_cramps = yes", "What you can do", "Seek help if", "not a diagnosis")]
    assert order == sorted(order)
    assert "\033[" not in out  # no colour when not on a terminal


def test_sudden_breathlessness_is_told_to_call_the_emergency_number_within_the_first_questions(engine):
    result = ask(input=typed(lines_for(engine, {"weeks_pregnant": "30", "leg_pain": "y", "breathless_or_chest_pain": "y"},
                                       offers=["n"])))
    assert result.exit_code == 0, result.output
    asked = questions_asked(result.output)
    assert int(asked[-1][0]) <= 5 and "breathless" in asked[-1][1]
    after = result.output[result.output.index(asked[-1][1]):]
    shown = [line for line in after.splitlines()[1:] if line.strip() and not line.rstrip().endswith(">")]
    assert shown[0].startswith("EMERGENCY")  # the urgency and action come first, at once
    assert "Call the emergency number now" in after and "Go on with them?" in after


def test_going_on_after_a_stop_asks_the_rest_and_ends_with_the_full_result(engine):
    replies = {"weeks_pregnant": "30", "leg_pain": "y", "breathless_or_chest_pain": "y"}
    result = ask("--format", "json", input=typed(lines_for(engine, replies, offers=["y", "n"])))
    assert result.exit_code == 0, result.stderr
    assert "Do you have pain over your pubic bone" in result.stderr  # asked after going on
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency" and "pulmonary_embolism" in [c["id"] for c in data["causes"]]


def test_the_detail_questions_are_asked_when_the_person_wants_them(engine):
    replies = {**NIGHT_CRAMPS, "low_water_intake": "y"}
    result = ask("--format", "json", input=typed(lines_for(engine, replies, offers=["y"])))
    assert "Do you drink little water?" in result.stderr
    assert "dehydration" in [c["id"] for c in json.loads(result.stdout)["causes"]]


def test_a_wrong_answer_is_refused_and_the_question_asked_again(engine):
    rest = lines_for(engine, NIGHT_CRAMPS, offers=["n"])
    result = ask(input=typed(["thirty-one", "43"] + rest))
    assert result.exit_code == 0
    assert "'thirty-one' is not an answer here. Please answer a whole number from 0 to 42" in result.output
    assert "'43' is not an answer here" in result.output
    assert [n for n, text in questions_asked(result.output)][:2] == ["1", "2"]  # asked once, re-prompted in place


def test_question_mark_shows_the_help(engine):
    result = ask(input=typed(["?"] + lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    assert "Count whole weeks since the first day of your last period" in result.output


def test_b_goes_back_to_change_the_previous_answer(engine, tmp_path):
    saved = tmp_path / "case.json"
    rest = lines_for(engine, {**NIGHT_CRAMPS, "weeks_pregnant": "25"}, offers=["n"])
    result = ask("--save", str(saved), input=typed(["31", "b"] + rest))
    assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text())["weeks_pregnant"] == 25
    assert len(re.findall(r"How many completed weeks pregnant", result.output)) == 2


def test_s_or_empty_means_dont_know_on_optional_questions_only(engine, tmp_path):
    saved = tmp_path / "case.json"
    rest = lines_for(engine, {**NIGHT_CRAMPS, "weeks_pregnant": "s", "trimester": "3", "fever": ""}, offers=["n"])
    result = ask("--save", str(saved), input=typed(rest[:2] + ["s"] + rest[2:]))
    assert result.exit_code == 0, result.output
    assert "This question needs an answer: y or n." in result.output  # lower back pain is required
    case = json.loads(saved.read_text())
    assert case["weeks_pregnant"] is None and case["trimester"] == 3 and case["fever"] is None
    assert "Warning signs not answered" in result.output and "fever or shivering" in result.output


@pytest.mark.parametrize("name", ["answers.json", "answers.yaml", "answers"])
def test_saved_answers_reproduce_the_result_through_triage_assess(engine, tmp_path, name):
    saved = tmp_path / name
    result = ask("--format", "json", "--save", str(saved), input=typed(lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    assert result.exit_code == 0, result.stderr
    text = saved.read_text()
    data = yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
    assert data["night_cramps"] is True and data["weeks_pregnant"] == 31
    again = CliRunner().invoke(main, ["assess", "--format", "json", str(saved)])
    assert again.exit_code == 0 and json.loads(again.stdout) == json.loads(result.stdout)
    assert json.loads(result.stdout)["urgency"] == "self_care"
    assert not [p for p in tmp_path.iterdir() if p.name != name]  # no temporary file left behind


def test_json_output_is_only_the_assessment_on_stdout(engine):
    result = ask("--format", "json", input=typed(lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    data = json.loads(result.stdout)
    assert set(data) >= {"urgency", "action", "causes", "advice", "worsening_advice", "disclaimer"}
    assert "How many completed weeks" in result.stderr


def test_a_stop_after_an_urgent_answer_is_saved_as_given(engine, tmp_path):
    saved = tmp_path / "urgent.yaml"
    result = ask("--save", str(saved), input=typed(lines_for(engine, {"weeks_pregnant": "30", "leg_pain": "y",
                                                                     "weakness": "3"}, offers=["n"])))
    assert result.exit_code == 0
    assert result.output.count("URGENT") == 1  # shown once, at the stop
    again = CliRunner().invoke(main, ["assess", "--format", "json", str(saved)])
    assert json.loads(again.stdout)["urgency"] == "urgent"


@pytest.mark.parametrize("cut", [0, 3, 10])
def test_end_of_input_leaves_cleanly_and_saves_nothing(engine, tmp_path, cut):
    saved = tmp_path / "case.json"
    lines = lines_for(engine, NIGHT_CRAMPS, offers=["n"])[:cut]
    result = ask("--save", str(saved), input=typed(lines) if lines else "")
    assert result.exit_code == 1
    assert "Stopped: no more input. Nothing was saved." in result.stderr
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_saving_into_a_missing_directory_is_refused_before_any_question(tmp_path):
    result = ask("--save", str(tmp_path / "no" / "case.json"), input="")
    assert result.exit_code == 2 and "does not exist" in result.output
    assert "How many completed weeks" not in result.output
