"""The installed ``triage ask`` in a real pseudo-terminal, answered as a person would:
read each question, type a reply, make mistakes, go back, press Ctrl-C."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect

TRIAGE = Path(sys.executable).with_name("triage")  # the console script installed beside this Python
QUESTION = re.compile(r"(\d+)\. (?:\x1b\[[0-9;]*m)*([^\r\n]+?)(?:\x1b\[[0-9;]*m)*\r\n")
OFFER = re.compile(r"(Go on with them|Answer them)\?")
PROMPT = re.compile(r"> ")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Person:
    """Someone at the terminal: reads what triage shows and types answers."""

    def __init__(self, tmp_path: Path, *args: str, colour: bool = True):
        assert TRIAGE.is_file(), f"the triage console script is not installed at {TRIAGE}"
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        env["TERM"] = "xterm"
        if not colour:
            env["NO_COLOR"] = "1"
        self.screen = io.StringIO()
        self.child = pexpect.spawn(str(TRIAGE), ["ask", *args], cwd=str(tmp_path), env=env, encoding="utf-8",
                                   timeout=60, dimensions=(50, 120))
        self.child.logfile_read = self.screen

    def next_question(self) -> str:
        """Wait for the next question, or an offer to go on ("OFFER"), and its prompt; return its text."""
        index = self.child.expect([QUESTION, OFFER])
        text = "OFFER" if index == 1 else ANSI.sub("", self.child.match.group(2))
        self.child.expect(PROMPT)
        return text

    def type(self, text: str) -> None:
        self.child.sendline(text)

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    @property
    def output(self) -> str:
        return self.screen.getvalue()


def test_a_person_with_night_cramps_makes_a_mistake_goes_back_and_gets_self_care(tmp_path):
    person = Person(tmp_path, "--save", "answers.json")
    assert person.next_question().startswith("How many completed weeks")
    person.type("thirty-one")  # a wrong answer: refused, and the question is asked again
    person.child.expect("is not an answer here. Please answer a whole number from 0 to 42")
    person.child.expect(PROMPT)
    person.type("31")
    assert person.next_question() == "Do you have pain in your lower back?"
    person.type("n")
    assert person.next_question().startswith("Do you have pain, aching or soreness")
    person.type("y")  # oops: no leg pain, really
    assert person.next_question() == "Do you get leg cramps?"
    person.type("b")
    assert person.next_question().startswith("Do you have pain, aching or soreness")
    person.type("n")
    assert person.next_question() == "Do you get leg cramps?"
    person.type("y")

    replies = {"Do the cramps come mostly at night or wake you from sleep?": "y",
               "Are your leg muscles weak?": "none", "Do you have numbness or tingling in your legs or feet?": "1"}
    asked = 4
    while (question := person.next_question()) != "OFFER":
        asked += 1
        assert "meat" not in question and "pass urine" not in question
        person.type(replies.get(question, "" if "blood test" in question else "n"))
    assert asked <= 20
    person.type("n")
    assert person.finish() == 0
    screen = ANSI.sub("", person.output)
    result = screen[screen.index("SELF-CARE"):]
    assert "night_cramps = yes" in result and "Seek help if" in result and "not a diagnosis" in result
    assert "\x1b[" in person.output  # colour on a terminal
    assert (tmp_path / "answers.json").is_file()


def test_ctrl_c_leaves_cleanly_with_a_non_zero_status_and_saves_nothing(tmp_path):
    person = Person(tmp_path, "--save", "answers.json")
    person.next_question()
    person.type("30")
    person.next_question()
    person.type("n")
    person.next_question()
    person.child.sendintr()
    person.child.expect("Stopped. Nothing was saved.")
    assert person.finish() == 130
    assert "Traceback" not in person.output and "KeyboardInterrupt" not in person.output
    assert not list(tmp_path.iterdir())


def test_end_of_input_leaves_cleanly(tmp_path):
    person = Person(tmp_path)
    person.next_question()
    person.child.sendeof()
    person.child.expect("Stopped: no more input. Nothing was saved.")
    assert person.finish() == 1 and "Traceback" not in person.output


def test_sudden_breathlessness_is_told_to_call_the_emergency_number_at_once_without_colour(tmp_path):
    person = Person(tmp_path, colour=False)
    replies = {"How many completed weeks pregnant are you?": "30", "Do you get leg cramps?": "y",
               "Have you suddenly become breathless, or do you have chest pain?": "y"}
    asked = 0
    while (question := person.next_question()) != "OFFER":
        asked += 1
        person.type(replies.get(question, "n"))
    assert asked <= 5 and question == "OFFER"
    shown = person.output[person.output.index("Have you suddenly become breathless"):]
    assert "EMERGENCY" in shown and "Call the emergency number now" in shown
    person.type("n")
    assert person.finish() == 0
    assert "\x1b[" not in person.output  # NO_COLOR is honoured
