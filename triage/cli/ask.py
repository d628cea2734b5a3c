"""``triage ask``: the adaptive questionnaire in the terminal.

A thin layer over :class:`triage.Session`: show the step, read a line, pass it on.
What to ask, what a reply means and when to stop live in :mod:`triage.questionnaire`.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import State, main, use_colour

if TYPE_CHECKING:  # for annotations only: the command imports the library when it runs
    from ..questionnaire import Prompt, Session, Step

EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C

INTRO = """\
Questions about back pain, leg pain and leg cramps in pregnancy. This is not a diagnosis.
If you are very unwell right now, call the emergency number (999 / 911 / 112).
Type ? for help on a question, s (or just Enter) if you don't know, b to go back.
Ctrl-C stops at any time without saving anything."""


class _Stopped(Exception):
    """The person left before the end (Ctrl-C or end of input)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


class _Terminal:
    """Where the dialogue goes: standard output, or standard error when the result is JSON."""

    def __init__(self, err: bool):
        self.err = err
        self.colour = use_colour(sys.stderr if err else sys.stdout)

    def say(self, text: str = "", indent: str = "") -> None:
        if indent:
            from ..render import WIDTH

            text = textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent))
        click.echo(text, err=self.err)

    def read(self, prompt: str) -> str:
        click.echo(prompt, nl=False, err=self.err)
        try:
            return input()
        except EOFError:
            raise _Stopped("Stopped: no more input.", 1) from None
        except KeyboardInterrupt:
            raise _Stopped("Stopped.", EXIT_INTERRUPTED) from None

    def bold(self, text: str) -> str:
        return click.style(text, bold=True) if self.colour else text


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json prints the assessment as JSON at the end (the questions then go to standard error).")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="At the end, write the answers to FILE (YAML for .yaml/.yml, else JSON); 'triage assess FILE' gives the same result.")
@click.option("--explain", is_flag=True, help="Show the reasoning: each fired rule, what it matched, its sources.")
@click.pass_obj
def ask(state: State, fmt: str, save: Path | None, explain: bool) -> None:
    """Answer questions one at a time in the terminal, and get advice.

    The next question depends on the answers so far: warning signs first, most
    dangerous first, then the details that matter for your answers. As soon as the
    answers need urgent care it stops and says what to do now; you may go on for
    the full picture. Ctrl-C or end of input stops without saving (exit 130 or 1).
    """
    if save is not None and not save.parent.is_dir():
        raise click.BadParameter(f"directory {str(save.parent)!r} does not exist", param_hint="--save")
    # A process started in the background by a non-interactive shell inherits SIGINT
    # as ignored, and Python then never raises KeyboardInterrupt. Ctrl-C must always
    # stop the questionnaire, so restore the default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from ..casefiles import write_case
    from ..questionnaire import Questionnaire

    term = _Terminal(err=fmt == "json")
    session = Questionnaire(state.engine).start()
    try:
        step, shown = _converse(session, term, explain)
    except (_Stopped, KeyboardInterrupt) as stop:
        message = str(stop) if isinstance(stop, _Stopped) else "Stopped."
        click.echo(f"\n{message} Nothing was saved. If you are worried, contact your midwife or maternity unit.", err=True)
        sys.exit(stop.code if isinstance(stop, _Stopped) else EXIT_INTERRUPTED)
    if fmt == "json":
        click.echo(step.assessment.model_dump_json(indent=2))
    elif not shown:
        term.say()
        _show_result(step, term, explain)
    if save is not None:
        write_case(save, session.answers)
        term.say(f"\nAnswers saved to {save} ('triage assess {save}' gives the same result).")


def _converse(session: Session, term: _Terminal, explain: bool) -> tuple[Step, bool]:
    """Ask until there is a final result; return it and whether it has been shown already."""
    term.say(INTRO)
    while True:
        step = session.step
        if step.question is not None:
            _ask(session, step.question, term)
            continue
        if step.stopped_early:
            term.say()
            _show_result(step, term, explain)
            offer = (f"\nThat needs action now: do what it says above. {_questions(step.remaining)} can "
                     "complete the picture. Go on with them?")
        elif step.more_details:
            offer = (f"\nThe main questions are done. {_questions(step.more_details)} may point to "
                     "other causes and add advice. Answer them?")
        else:
            return step, False
        choice = _offer(term, offer)
        if choice == "y":
            session.go_on()
        elif choice == "b":
            session.back()
        else:
            return step, step.stopped_early


def _ask(session: Session, prompt: Prompt, term: _Terminal) -> None:
    from ..questionnaire import AnswerError

    term.say()
    term.say(f"{prompt.number:>2}. " + term.bold(prompt.text))
    if prompt.choices:
        for number, choice in enumerate(prompt.choices, start=1):
            term.say(f"    {number}  {choice.label} ({choice.value})")
    while True:
        text = term.read(f"    {_hint(prompt)} > ")
        try:
            reply = session.reply(text)
        except AnswerError as error:
            term.say(str(error), indent="    ")
            continue
        if reply.kind == "help":
            term.say(prompt.help, indent="    ")
            continue
        return


def _questions(count: int) -> str:
    return f"{count} more question{'s' if count != 1 else ''}"


def _hint(prompt: Prompt) -> str:
    if prompt.type == "boolean":
        return "y/n"
    if prompt.type == "integer":
        return f"{prompt.min}-{prompt.max}"
    return f"1-{len(prompt.choices)}"


def _offer(term: _Terminal, text: str) -> str:
    term.say(text)
    while True:
        reply = term.read("    y/N, or b to change your last answer > ").strip().lower()
        if reply in ("y", "yes"):
            return "y"
        if reply in ("", "n", "no"):
            return "n"
        if reply == "b":
            return "b"
        term.say("Please answer y or n, or b to change your last answer.", indent="    ")


def _show_result(step: Step, term: _Terminal, explain: bool) -> None:
    from ..render import render_text

    # The assessment names the warning-sign questions left unanswered (unknown is never "no").
    term.say(render_text(step.assessment, explain=explain, colour=term.colour))
