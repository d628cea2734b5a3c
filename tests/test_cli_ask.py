"""``triage ask`` through click's CliRunner: answers typed in, the result and the saved case checked."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from triage import Questionnaire
from triage.cli import main

NIGHT_CRAMPS = {"weeks_pregnant": "31", "leg_cramps": "y", "night_cramps": "y", "weakness": "1", "numbness": "1",
                "pain_severity": "3"}


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
        if prompt.kind == "group":
            typed.extend(group_lines(session, prompt, replies, default))
            continue
        text = replies.get(prompt.id, default if prompt.type == "boolean" else "")
        typed.append(text)
        session.reply(text)


def group_lines(session, prompt, replies, default):
    """Lines for a group screen: the numbers that apply, n for none, or d and each item's reply."""
    each = [replies.get(item.id, default) for item in prompt.items]
    if any(r not in ("y", "n") for r in each):
        session.answer({item.id: {"y": True, "n": False}.get(r) for item, r in zip(prompt.items, each, strict=True)})
        return ["d", *each]
    chosen = [str(n) for n, r in enumerate(each, start=1) if r == "y"]
    text = " ".join(chosen) or "n"
    session.reply(text)
    return [text]


def typed(lines):
    return "\n".join(lines) + "\n"


def screens_shown(output):
    """(number, text) of each screen: a question, or a group's "Do you have any of these?"."""
    return re.findall(r"^ ?(\d+)\. (.+)$", output, flags=re.M)


def test_night_cramps_get_a_short_questionnaire_and_self_care_with_reasons(engine):
    result = ask(input=typed(lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    assert result.exit_code == 0, result.output
    out = result.output
    screens = screens_shown(out)
    assert len(screens) <= 10 and screens[0][1] == "Do you have any of these now?"
    assert "Do the cramps come mostly at night" in out
    assert "Do you often eat a lot of meat" not in out  # detail questions only on request
    result_screen = out[out.index("SELF-CARE"):]
    order = [result_screen.index(s) for s in ("SELF-CARE", "You can manage this at home", "Likely causes",
                                              "night_cramps = yes", "What you can do", "Seek help if", "not a diagnosis")]
    assert order == sorted(order)
    assert "\033[" not in out  # no colour when not on a terminal


def test_sudden_breathlessness_is_told_to_call_the_emergency_number_on_the_first_screen(engine):
    result = ask(input=typed(["1", "n"]))
    assert result.exit_code == 0, result.output
    assert len(screens_shown(result.output)) == 1
    after = result.output[result.output.index("numbers, n or d >"):]
    shown = [line for line in after.splitlines()[1:] if line.strip() and not line.rstrip().endswith(">")]
    assert shown[0].startswith("EMERGENCY")  # the urgency and action come first, at once
    assert "Call the emergency number now" in after and "Go on with them?" in after


def test_the_action_is_repeated_right_above_the_offer_to_go_on(engine):
    result = ask(input=typed(["1", "n"]))
    before_prompt = result.output[:result.output.rindex("y/N, why, or b")].rstrip().splitlines()
    # On an 80x24 terminal the long result scrolls away: the last lines before the prompt
    # must still say what to do.
    assert any("Call the emergency number now" in line for line in before_prompt[-4:])


def test_going_on_after_a_stop_asks_the_rest_and_ends_with_the_full_result(engine):
    replies = {"weeks_pregnant": "30", "leg_pain": "y", "breathless_or_chest_pain": "y"}
    result = ask("--format", "json", input=typed(lines_for(engine, replies, offers=["y", "n"])))
    assert result.exit_code == 0, result.stderr
    assert "Which of these do you have?" in result.stderr  # asked after going on
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency" and "pulmonary_embolism" in [c["id"] for c in data["causes"]]


def test_the_detail_questions_are_asked_when_the_person_wants_them(engine):
    replies = {**NIGHT_CRAMPS, "low_water_intake": "y"}
    result = ask("--format", "json", input=typed(lines_for(engine, replies, offers=["y"])))
    assert "Do you drink fewer than 6 to 8 glasses of fluid a day?" in result.stderr
    assert "dehydration" in [c["id"] for c in json.loads(result.stdout)["causes"]]


def test_a_wrong_answer_is_refused_and_the_screen_asked_again(engine):
    rest = lines_for(engine, NIGHT_CRAMPS, offers=["n"])
    result = ask(input=typed(["thirty-one", "99"] + rest))
    assert result.exit_code == 0
    assert "'thirty-one' is not an answer here. Type the numbers that apply" in result.output
    assert "'99' is not an answer here" in result.output
    assert [n for n, text in screens_shown(result.output)][:2] == ["1", "2"]  # asked once, re-prompted in place


@pytest.mark.parametrize("bad", ["--5", "-", "+5", "5.0", "1e3", "0x1f", "٣"])
def test_number_like_text_at_a_number_prompt_is_refused_and_asked_again(engine, bad):
    lines = lines_for(engine, NIGHT_CRAMPS, offers=["n"])
    weeks = lines.index(NIGHT_CRAMPS["weeks_pregnant"])
    result = ask(input=typed(lines[:weeks] + [bad] + lines[weeks:]))
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"{bad!r} is not an answer here. Please answer a whole number from 0 to 42" in result.output


def test_question_mark_shows_the_help_and_why_the_rules_it_can_decide(engine):
    result = ask(input=typed(["?", "why"] + lines_for(engine, NIGHT_CRAMPS, offers=["n"])))
    assert "Warning signs that need care soon" in result.output
    assert "The answer can still decide:" in result.output
    flat = " ".join(result.output.split())  # lines are wrapped to the terminal
    assert "Sudden breathlessness or chest pain may be a clot in the lungs (EMERGENCY; cause: " \
           "possible blood clot in the lungs (pulmonary embolism); warning sign) [rule safety_pulmonary_embolism]" in flat


def test_b_goes_back_to_change_the_previous_answer(engine, tmp_path):
    saved = tmp_path / "case.json"
    rest = lines_for(engine, NIGHT_CRAMPS, offers=["n"])
    result = ask("--save", str(saved), input=typed([rest[0], "b"] + rest))
    assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text())["night_cramps"] is True
    assert len(re.findall(r"Do you have any of these now\?", result.output)) == 2


def test_d_answers_a_group_one_by_one_with_dont_know(engine, tmp_path):
    saved = tmp_path / "case.json"
    rest = lines_for(engine, {**NIGHT_CRAMPS, "fever": "s"}, offers=["n"])
    assert rest[0] == "d"
    result = ask("--save", str(saved), input=typed(rest))
    assert result.exit_code == 0, result.output
    case = json.loads(saved.read_text())
    assert case["fever"] is None and case["breathless_or_chest_pain"] is False
    assert "Warning signs not answered" in result.output and "fever or shivering" in result.output


def test_s_means_dont_know_on_optional_questions_only(engine, tmp_path):
    saved = tmp_path / "case.json"
    rest = lines_for(engine, {**NIGHT_CRAMPS, "weeks_pregnant": "s", "trimester": "3"}, offers=["n"])
    # The screen that holds the three main complaints, which need a yes or no: "s" is refused there.
    session = Questionnaire(engine).start()
    complaints = 0
    while session.step.question.id != "complaints":
        session.reply(rest[complaints])
        complaints += 1
    result = ask("--save", str(saved), input=typed(rest[:complaints] + ["s"] + rest[complaints:]))
    assert result.exit_code == 0, result.output
    assert "need a yes or no" in result.output
    case = json.loads(saved.read_text())
    assert case["weeks_pregnant"] is None and case["trimester"] == 3


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
    assert result.output.count("URGENT  (urgent)") == 1  # shown once, at the stop
    again = CliRunner().invoke(main, ["assess", "--format", "json", str(saved)])
    assert json.loads(again.stdout)["urgency"] == "urgent"


@pytest.mark.parametrize("cut", [0, 2, 5])
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


def test_end_of_input_at_the_offer_to_go_on_takes_its_default_and_gives_the_result(engine):
    # The offer's default is N: the result is already reached, so a script's JSON is not lost.
    lines = lines_for(engine, {"breathless_or_chest_pain": "y"})  # stops at the offer, no reply to it
    result = ask("--format", "json", input=typed(lines))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["urgency"] == "emergency"
    assert "Go on with them?" in result.stderr and "Nothing was saved" not in result.stderr


def test_the_full_result_ends_with_its_level_and_action_in_view(engine):
    # After going on, the result is longer than a screen: its last lines say what to do.
    result = ask(input=typed(lines_for(engine, {"breathless_or_chest_pain": "y"}, offers=["y"])))
    assert result.exit_code == 0, result.output
    last = [line for line in result.stdout.splitlines() if line.strip()][-2:]
    assert " ".join(last).startswith("EMERGENCY: Call the emergency number now"), last


def test_one_by_one_offers_dont_know_only_where_it_is_accepted(engine):
    # "d" on a list asks each item; a required item refuses "don't know", so its prompt says so.
    session, lines = Questionnaire(engine).start(), []
    while not (session.step.question.kind == "group" and any(i.required for i in session.step.question.items)):
        prompt = session.step.question
        lines.append("n" if prompt.kind == "group" or prompt.type == "boolean" else
                     "30" if prompt.type == "integer" else "1")
        session.reply(lines[-1])
    group = session.step.question
    shown = " ".join(ask(input=typed([*lines, "d"])).stdout.split())  # unwrapped
    instructions = shown.split("One by one, then:")[1].split("b goes back to the list.")[0]
    if all(item.required for item in group.items):
        assert "don't know" not in instructions, instructions
    else:
        assert "(not where it says 'needed')" in instructions, instructions
    first = group.items[0]
    assert f"{first.text} y/n{' (needed)' if first.required else ''} >" in shown


def test_going_back_from_one_by_one_says_which_yes_is_not_kept(engine):
    # new-user trial: a yes given one by one vanished without a word after b
    group = Questionnaire(engine).start().step.question
    assert group.kind == "group"
    lines = ["d", "y", "b"]  # yes to the first item, then back to the list
    result = ask(input=typed(lines))
    shown = " ".join(result.stdout.split())
    assert f"Not kept, so give it again on the list if it applies: you said yes to {group.items[0].text}" in shown
