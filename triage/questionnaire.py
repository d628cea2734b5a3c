"""The adaptive questionnaire: what to ask next, from the answers so far. No I/O.

The engine decides, a front end asks (the split of the CLIPS "Auto Demo"): a
terminal, a web page or a chat bot shows :class:`Step` s and sends back what the
person typed. The terminal command ``triage ask`` is one such front end.

*Answers* are a mapping of question id to value, in the order they were given.
A question answered "don't know" is present with the value ``None``: it was asked,
and stays unknown (never "no"). So the answers are also the history, and going back
drops the last one.

What is asked, and when, is data in ``questions.yaml``: questions are asked in file
order, each only while its ``ask_when`` holds for the answers so far; ``detail``
questions only when the person chooses to answer more. After every answer the
rules run; once the urgency reaches ``stop_at`` (urgent, by default) the
questionnaire stops and gives the assessment at once, and the person may go on
for the full picture.

>>> q = Questionnaire()
>>> step = q.next_step({})
>>> step.question.id
'weeks_pregnant'
>>> q.next_step({"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": False,
...              "leg_cramps": True, "breathless_or_chest_pain": True}).assessment.urgency.value
'emergency'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict

from .assessment import Assessment
from .engine import Engine, default_engine
from .errors import AnswerError, CaseError  # AnswerError: also importable from here
from .questions import Choice, Question
from .urgency import Urgency

Answers = Mapping[str, Any]

YES = ("y", "yes")
NO = ("n", "no")
HELP = "?"
SKIP = ("s", "")
BACK = "b"


class Prompt(BaseModel):
    """A question as a front end shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    number: int
    text: str
    help: str
    type: Literal["boolean", "integer", "choice"]
    min: int | None = None
    max: int | None = None
    choices: list[Choice] | None = None
    required: bool
    red_flag: bool
    allowed: str


class Step(BaseModel):
    """What comes next: a question to ask, or (``question`` is None) the assessment.

    ``stopped_early`` means the urgency reached the questionnaire's ``stop_at`` with
    ``remaining`` questions still relevant: show the action at once, and offer to go on.
    ``more_details`` counts the detail questions the person may still choose to answer.
    ``unanswered_red_flags`` names the warning-sign questions answered "don't know".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: Prompt | None = None
    assessment: Assessment | None = None
    urgency: Urgency
    answered: int
    remaining: int
    stopped_early: bool = False
    more_details: int = 0
    unanswered_red_flags: list[str] = []

    @property
    def done(self) -> bool:
        """True when this step is the assessment rather than a question."""
        return self.question is None


@dataclass(frozen=True)
class Reply:
    """What a typed reply means: an answer (``value``), "don't know", back, or a request for help."""

    kind: Literal["answer", "skip", "back", "help"]
    value: Any = None


class Questionnaire:
    """Decide what to ask next from the answers so far; pure, so any front end can drive it.

    ``stop_at`` is the urgency at which to stop asking and give the assessment at
    once (None never stops early).
    """

    def __init__(self, engine: Engine | None = None, stop_at: Urgency | None = Urgency.URGENT):
        self.engine = engine if engine is not None else default_engine()
        self.stop_at = stop_at
        self.questions: list[Question] = list(self.engine.knowledge_base.questions)
        self._by_id = {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question:
        """The question with this id; :class:`AnswerError` when there is none."""
        try:
            return self._by_id[question_id]
        except KeyError:
            raise AnswerError(f"there is no question {question_id!r}") from None

    def pending(self, answers: Answers, details: bool = False) -> list[Question]:
        """The relevant questions not yet asked, in asking order (detail questions last)."""
        known = {k: v for k, v in answers.items() if k != "id"}
        pending = [q for q in self.questions if q.id not in answers and q.applies(known)]
        main = [q for q in pending if not q.detail]
        return main + [q for q in pending if q.detail] if details else main

    def next_step(self, answers: Answers, acknowledged: Urgency | None = None, details: bool = False) -> Step:
        """The next question to ask, or the assessment when there is none or the urgency says stop.

        ``acknowledged`` is the urgency the person has already been shown and chose to go on
        from: the questionnaire stops again only for a more urgent level. ``details`` asks the
        detail questions too. Raises :class:`CaseError` when the answers are invalid.
        """
        if isinstance(acknowledged, str):  # front ends that keep their state as JSON pass the value
            acknowledged = Urgency(acknowledged)
        assessment = self.engine.assess(answers)
        pending = self.pending(answers, details)
        answered = sum(1 for k in answers if k != "id")
        level = assessment.urgency
        stop = (
            self.stop_at is not None
            and level.rank >= self.stop_at.rank
            and (acknowledged is None or level.rank > acknowledged.rank)
        )
        if pending and not stop:
            return Step(question=self.prompt(pending[0], answered + 1), urgency=level,
                        answered=answered, remaining=len(pending))
        more = 0 if details or stop else len(self.pending(answers, details=True)) - len(pending)
        unanswered = [k for k, v in answers.items() if v is None and k in self._by_id and self._by_id[k].red_flag]
        return Step(assessment=assessment, urgency=level, answered=answered, remaining=len(pending),
                    stopped_early=bool(pending), more_details=more, unanswered_red_flags=unanswered)

    def prompt(self, question: Question, number: int) -> Prompt:
        """How to show ``question``, as the ``number``-th."""
        return Prompt(
            id=question.id, number=number, text=question.text, help=question.help, type=question.type,
            min=question.min, max=question.max, choices=question.choices, required=question.required,
            red_flag=bool(question.red_flag), allowed=allowed_answers(question),
        )

    def interpret(self, question: Union[Question, Prompt, str], text: str) -> Reply:
        """What a typed reply means for ``question``.

        y/yes/n/no for yes-no questions; a whole number in range; a choice by its number
        or its name; ``?`` for help; ``s`` or nothing for "don't know" (not on a required
        question); ``b`` to go back. Raises :class:`AnswerError` saying what is allowed.
        """
        q = self.question(question if isinstance(question, str) else question.id)
        reply = text.strip().lower()
        if reply == HELP:
            return Reply("help")
        if reply == BACK:
            return Reply("back")
        if reply in SKIP:
            if q.required:
                raise AnswerError(f"This question needs an answer: {allowed_answers(q)}.")
            return Reply("skip")
        value = _parse(q, reply)
        if value is None:
            raise AnswerError(f"{text.strip()!r} is not an answer here. Please answer {allowed_answers(q)}"
                              f" (? for help{'' if q.required else ', s if you do not know'}, b to go back).")
        return Reply("answer", value)

    def answer(self, answers: Answers, question_id: str, value: Any) -> dict[str, Any]:
        """New answers with ``value`` (None: "don't know") for the question, given last."""
        q = self.question(question_id)
        if value is None and q.required:
            raise AnswerError(f"{question_id}: this question needs an answer: {allowed_answers(q)}")
        if value is not None and not q.accepts(value):
            raise AnswerError(f"{question_id}: {value!r} is not a valid answer; expected {q.describe_allowed()}")
        new = {k: v for k, v in answers.items() if k != question_id}
        new[question_id] = value
        try:
            self.engine.validate(new)
        except CaseError as error:
            raise AnswerError("; ".join(error.problems)) from None
        return new

    def back(self, answers: Answers) -> dict[str, Any]:
        """New answers without the last one given, so that question is asked again."""
        given = [k for k in answers if k != "id"]
        if not given:
            raise AnswerError("There is no previous question to go back to.")
        return {k: v for k, v in answers.items() if k != given[-1]}

    def start(self, answers: Answers | None = None) -> "Session":
        """A :class:`Session` for one person, optionally resuming from earlier answers."""
        return Session(self, answers)


class Session:
    """One person's way through a questionnaire: the answers so far and the current step.

    Holds state but does no I/O: a front end shows :attr:`step`, passes what the person
    typed to :meth:`reply`, and when :attr:`step` is a result with ``stopped_early`` or
    ``more_details``, may call :meth:`go_on`.
    """

    def __init__(self, questionnaire: Questionnaire, answers: Answers | None = None):
        self.questionnaire = questionnaire
        self._answers: dict[str, Any] = dict(answers or {})
        self.acknowledged: Urgency | None = None
        self.details = False
        self.step = self._next()

    @property
    def answers(self) -> dict[str, Any]:
        """The answers so far, in the order given (None: "don't know")."""
        return dict(self._answers)

    def _next(self) -> Step:
        return self.questionnaire.next_step(self._answers, self.acknowledged, self.details)

    def reply(self, text: str) -> Reply:
        """Act on what the person typed for the current question; return what it meant.

        Raises :class:`AnswerError` (nothing changes) when the reply is not allowed.
        """
        if self.step.question is None:
            raise AnswerError("There is no question to answer.")
        reply = self.questionnaire.interpret(self.step.question, text)
        if reply.kind in ("answer", "skip"):
            self.answer(reply.value)
        elif reply.kind == "back":
            self.back()
        return reply

    def answer(self, value: Any) -> Step:
        """Answer the current question (None: "don't know") and move on."""
        if self.step.question is None:
            raise AnswerError("There is no question to answer.")
        self._answers = self.questionnaire.answer(self._answers, self.step.question.id, value)
        self.step = self._next()
        return self.step

    def back(self) -> Step:
        """Take back the last answer, so its question is asked again."""
        self._answers = self.questionnaire.back(self._answers)
        self.step = self._next()
        if self.acknowledged is not None and self.step.urgency.rank < self.acknowledged.rank:
            # The answer that led to the acknowledged level is gone: stop again if it comes back.
            self.acknowledged = self.step.urgency
            self.step = self._next()
        return self.step

    def go_on(self) -> Step:
        """Go on after a result that stopped early or offered more detail questions."""
        step = self.step
        if step.question is not None or not (step.stopped_early or step.more_details):
            raise AnswerError("There are no more questions to answer.")
        if step.stopped_early:
            self.acknowledged = step.urgency
        else:
            self.details = True
        self.step = self._next()
        return self.step


def allowed_answers(question: Question) -> str:
    """The answers a person may type, in words."""
    if question.type == "boolean":
        return "y or n"
    if question.type == "integer":
        return f"a whole number from {question.min} to {question.max}"
    names = ", ".join(str(v) for v in question.values)
    no = " (n means none)" if "none" in question.values else ""
    return f"a number from 1 to {len(question.values)}, or one of: {names}{no}"


def _parse(question: Question, reply: str) -> Any:
    """The value ``reply`` (stripped, lower case) stands for, or None when it is not allowed."""
    if question.type == "boolean":
        return True if reply in YES else False if reply in NO else None
    if question.type == "integer":
        if not (reply.lstrip("-").isdigit() and reply.isascii()) or len(reply) > 20:  # int() refuses 4,300+ digits
            return None
        value = int(reply)
        return value if question.min <= value <= question.max else None
    values = question.values
    if reply.isdigit() and reply.isascii() and len(reply) <= 20 and 1 <= int(reply) <= len(values):
        return values[int(reply) - 1]
    for choice in question.choices:
        if reply in (str(choice.value).lower(), choice.label.lower()):
            return choice.value
    # People answer "no" to "Are your leg muscles weak?": that is the choice "none".
    if reply in NO and "none" in values:
        return "none"
    return None
