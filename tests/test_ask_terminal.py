"""The installed ``triage ask`` in a real pseudo-terminal, answered as a person would:
read each question, type a reply, make mistakes, go back, press Ctrl-C."""

from __future__ import annotations

import io
import json
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

    def __init__(self, tmp_path: Path, *args: str, colour: bool = True, size: tuple[int, int] = (50, 120)):
        assert TRIAGE.is_file(), f"the triage console script is not installed at {TRIAGE}"
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        env["TERM"] = "xterm"
        if not colour:
            env["NO_COLOR"] = "1"
        self.screen = io.StringIO()
        self.child = pexpect.spawn(str(TRIAGE), ["ask", *args], cwd=str(tmp_path), env=env, encoding="utf-8",
                                   timeout=60, dimensions=size)
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


def test_a_person_with_night_cramps_uses_the_lists_asks_why_makes_a_mistake_and_goes_back(tmp_path):
    person = Person(tmp_path, "--save", "answers.json", size=(24, 80))
    assert person.next_question() == "Do you have any of these now?"
    person.type("13")  # a wrong answer: refused, and the screen is asked again
    person.child.expect("is not an answer here. Type the numbers that apply")
    person.child.expect(PROMPT)
    person.type("why")
    person.child.expect("The answer can still decide:")
    person.child.expect("clot in the lungs")
    person.child.expect(PROMPT)
    person.type("n")  # none of these
    assert person.next_question() == "Which of these do you have?"
    person.type("2")  # oops: leg pain; it was the cramps
    question = person.next_question()
    person.type("b")
    assert person.next_question() == "Which of these do you have?" != question
    person.type("3")
    replies = {"Are your leg muscles weak?": "none", "Do you have numbness or tingling in your legs or feet?": "1",
               "About your leg cramps, do any of these apply?": "1", "How many completed weeks pregnant are you?": "31"}
    screens = 2
    while (question := person.next_question()) != "OFFER":
        screens += 1
        assert "meat" not in question
        person.type(replies.get(question, "" if "blood test" in question or "How bad" in question else "n"))
    assert screens <= 10
    person.type("n")
    assert person.finish() == 0
    screen = ANSI.sub("", person.output)
    result = screen[screen.index("SELF-CARE"):]
    assert "night_cramps = yes" in result and "Seek help if" in result and "not a diagnosis" in result
    assert "\x1b[" in person.output  # colour on a terminal
    assert max(len(line) for line in screen.replace("\r", "").splitlines()) <= 80  # wrapped to the terminal
    saved = json.loads((tmp_path / "answers.json").read_text())
    assert saved["leg_cramps"] is True and saved["leg_pain"] is False and saved["night_cramps"] is True


def test_an_emergency_on_80_by_24_keeps_the_action_on_screen_at_the_prompt(tmp_path):
    person = Person(tmp_path, size=(24, 80))
    assert person.next_question() == "Do you have any of these now?"
    person.type("1")
    assert person.next_question() == "OFFER"
    lines = ANSI.sub("", person.output).replace("\r", "").splitlines()
    visible = lines[-23:]  # what a 24-line terminal shows above the prompt line
    assert any("Call the emergency number now" in line for line in visible)
    assert not any("above" in line for line in visible[-3:])  # no "do what it says above"
    person.child.sendintr()  # Ctrl-C at the offer
    person.child.expect("Stopped. Nothing was saved.")
    assert person.finish() == 130


def test_ctrl_c_leaves_cleanly_with_a_non_zero_status_and_saves_nothing(tmp_path):
    person = Person(tmp_path, "--save", "answers.json")
    person.next_question()
    person.type("n")
    person.next_question()
    person.type("3")
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
    assert person.next_question() == "Do you have any of these now?"
    person.type("d")  # one by one: breathless yes, the rest no or don't know
    for number in range(1, 13):
        person.child.expect(PROMPT)
        person.type("y" if number == 1 else "s" if number == 2 else "n")
    question = person.next_question()
    assert question == "OFFER"
    shown = person.output[person.output.index("Have you suddenly become breathless"):]
    assert "EMERGENCY" in shown and "Call the emergency number now" in shown
    person.type("n")
    assert person.finish() == 0
    assert "\x1b[" not in person.output  # NO_COLOR is honoured
