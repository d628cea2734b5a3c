"""``triage ask``: the adaptive questionnaire in the terminal.

A thin layer over :class:`triage.Session`: show the screen, read a line, pass it on.
What to ask, what a reply means and when to stop live in :mod:`triage.questionnaire`
and :mod:`triage.replies`; why a question is asked, in :mod:`triage.relevance`.
"""

from __future__ import annotations

import shutil
import signal
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import State, main, use_colour

if TYPE_CHECKING:  # for annotations only: the command imports the library when it runs
    from ..questionnaire import Item, Prompt, Reason, Session, Step

EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C

INTRO = (
    "Questions about back pain, leg pain and leg cramps in pregnancy. This is not a diagnosis. "
    "If you are very unwell right now, call the emergency number (999 / 911 / 112).\n"
    "Type ? for help on a question, why to see why it is asked, s (or just Enter) if you don't know, "
    "b to go back. Ctrl-C stops at any time without saving anything."
)


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
        # One column less than the terminal: a line exactly as wide wraps on some terminals.
        self.width = max(40, min(shutil.get_terminal_size().columns, 100) - 1)

    def say(self, text: str = "", indent: str = "", first: str | None = None) -> None:
        """Print ``text`` wrapped to the terminal, each paragraph indented (``first`` on its first line)."""
        lines = []
        for paragraph in text.split("\n"):
            start = indent if first is None else first
            lines.append(textwrap.fill(paragraph, self.width, initial_indent=start,
                                       subsequent_indent=" " * len(start if first is not None else indent),
                                       break_long_words=False, break_on_hyphens=False) if paragraph else "")
            first = None
        click.echo("\n".join(lines), err=self.err)

    def echo(self, text: str) -> None:
        """Print text that is already laid out (the result screen)."""
        click.echo(text, err=self.err)

    def read(self, prompt: str, at_end: str | None = None) -> str:
        """A line typed; at end of input, ``at_end`` when given (the prompt's default), else stop."""
        click.echo(prompt, nl=False, err=self.err)
        try:
            return input()
        except EOFError:
            if at_end is not None:
                click.echo(err=self.err)
                return at_end
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
    """Answer questions in the terminal, and get advice.

    The rules decide what to ask: only questions whose answer can still change the
    result, those that could mean an emergency first. Warning signs and the main
    complaints come as lists: type the numbers that apply. Type why at any prompt to
    see which rules the answer can decide. As soon as the answers settle on urgent
    care it stops and says what to do now; you may go on for the full picture.
    Ctrl-C or end of input stops without saving (exit 130 or 1); at an offer to go
    on, end of input takes its default, no.
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
        # The result is longer than a screen: end with the level and what to do, still in view.
        term.say("\n" + _headline(step, term.bold))
    if save is not None:
        write_case(save, session.answers)
        term.say(f"\nAnswers saved to {save} ('triage assess {save}' gives the same result).")


def _headline(step: Step, bold=lambda text: text) -> str:
    """The level and what to do, once (the same-day label is its action), and any warning of the result."""
    label, action = step.urgency.label, step.assessment.action
    line = bold(action) if action.lower().startswith(label.lower()) else f"{bold(label)}: {action}"
    return "\n".join([line] + [f"WARNING: {text}" for text in step.assessment.warnings])


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
            # The result above is longer than a screen: say the action again right at the prompt.
            offer = (f"\n{_headline(step)}\nDo that now. Up to "
                     f"{_questions(step.remaining)} can complete the picture. Go on with them?")
        elif step.more_details:
            offer = (f"\nThe main questions are done. {_questions(step.more_details).capitalize()} about "
                     "habits may point to other causes and add advice. Answer them?")
        else:
            return step, False
        choice = _offer(term, offer, step, session)
        if choice == "y":
            session.go_on()
        elif choice == "b":
            session.back()
        else:
            return step, step.stopped_early


def _ask(session: Session, prompt: Prompt, term: _Terminal) -> None:
    from ..questionnaire import AnswerError

    term.say()
    term.say(term.bold(prompt.text), first=f"{session.screen:>2}. ", indent="    ")
    if prompt.kind == "group":
        for number, item in enumerate(prompt.items, start=1):
            term.say(item.text, first=f"  {number:>2}  ", indent=" " * 6)
        # One line, so that a long list still fits a 24-line terminal.
        term.say("Type the numbers that apply (e.g. 1 3), n for none, or d if unsure of some.", indent="    ")
    elif prompt.choices:
        for number, choice in enumerate(prompt.choices, start=1):
            term.say(f"{choice.label} ({choice.value})", first=f"    {number}  ", indent="       ")
    while True:
        text = term.read(f"    {_hint(prompt, session)} > ")
        try:
            reply = session.reply(text)
        except AnswerError as error:
            term.say(str(error), indent="    ")
            continue
        if reply.kind == "help":
            term.say(prompt.help, indent="    ")
        elif reply.kind == "why":
            _show_why(prompt.why, term, "The answer can still decide:", session)
        elif reply.kind == "each":
            if _ask_each(session, prompt, term):
                return
        else:
            return


def _ask_each(session: Session, prompt: Prompt, term: _Terminal) -> bool:
    """Ask a group's items one by one (yes, no or don't know each); False if the person went back."""
    from ..questionnaire import AnswerError

    values = {}
    # Only offer "don't know" where it is accepted: a required item refuses it.
    needed = [item.required for item in prompt.items]
    skip = ("" if all(needed) else ", or s (or Enter) if you don't know" +
            (" (not where it says 'needed')" if any(needed) else ""))
    term.say(f"One by one, then: y or n{skip}; b goes back to the list.", indent="    ")
    for number, item in enumerate(prompt.items, start=1):
        while True:
            text = term.read(f"    {number:>2}  {item.text} {_hint(item, session)}{' (needed)' if item.required else ''} > ")
            try:
                reply = session.questionnaire.interpret(item, text)
            except AnswerError as error:
                term.say(str(error), indent="    ")
                continue
            if reply.kind == "help":
                term.say(item.help, indent="    ")
            elif reply.kind == "why":
                _show_why(item.why, term, "The answer can still decide:", session)
            elif reply.kind == "back":
                # Back to the list drops the answers given one by one: say so for every yes.
                dropped = [other.text for other in prompt.items if values.get(other.id) is True]
                if dropped:
                    term.say("Not kept, so give it again on the list if it applies: you said yes to "
                             + "; ".join(dropped), indent="    ")
                term.say(_group_help(len(prompt.items)), indent="    ")
                return False
            elif reply.kind in ("answer", "skip"):
                values[item.id] = reply.value
                break
    session.answer(values)
    return True


def _group_help(count: int) -> str:
    from ..replies import group_instructions

    return group_instructions(count)


def _show_why(reasons: list[Reason], term: _Terminal, heading: str = "", session: Session | None = None) -> None:
    if not reasons:
        term.say("No rule still open depends on it.", indent="    ")
        return
    if heading:
        term.say(heading, indent="    ")
    for reason in reasons:
        kb = session.questionnaire.engine.knowledge_base if session is not None else None
        term.say(describe_reason(reason, kb), first="    - ", indent="      ")


def describe_reason(reason: Reason, kb=None) -> str:
    """A rule the answer can decide, in plain words: its title and what it would conclude
    (cause labels from the knowledge base ``kb`` when given)."""
    parts = []
    if reason.urgency is not None:
        parts.append(reason.urgency.label.lower() if reason.urgency.rank < 3 else reason.urgency.label)
    if reason.causes:
        labels = [kb.causes[c].label.lower() if kb is not None and c in kb.causes else c.replace("_", " ")
                  for c in reason.causes]
        parts.append("cause: " + ", ".join(labels))
    if reason.red_flags:
        parts.append("warning sign")
    if not parts and reason.advice:
        parts.append("advice")
    return f"{reason.title} ({'; '.join(parts)}) [rule {reason.rule}]"


def _questions(count: int) -> str:
    return f"{count} more question{'s' if count != 1 else ''}"


def _hint(prompt: Prompt | Item, session: Session) -> str:
    if getattr(prompt, "kind", "question") == "group":
        return "numbers, n or d"
    return session.questionnaire.question(prompt.id).reply_hint()


def _offer(term: _Terminal, text: str, step: Step, session: Session) -> str:
    term.say(text)
    while True:
        # End of input takes the default, N: the result is already there, and is the answer.
        reply = term.read("    y/N, why, or b to change your last answer > ", at_end="n").strip().lower()
        if reply in ("y", "yes"):
            return "y"
        if reply in ("", "n", "no"):
            return "n"
        if reply == "b":
            return "b"
        if reply == "why":
            if step.stopped_early:
                term.say(f"It stopped because no rule still open could make this more urgent than "
                         f"{step.urgency.value}.", indent="    ")
            _show_why(step.why, term, "The questions left can decide:", session)
            continue
        term.say("Please answer y or n, why, or b to change your last answer.", indent="    ")


def _show_result(step: Step, term: _Terminal, explain: bool) -> None:
    from ..render import render_text

    # The assessment names the warning-sign questions left unanswered (unknown is never "no").
    term.echo(render_text(step.assessment, explain=explain, colour=term.colour, width=term.width))
