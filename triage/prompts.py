"""What a front end shows: a screen (:class:`Prompt`) or a result (:class:`Step`), as plain data.

Frozen pydantic models, so ``model_dump_json()`` is the JSON a web page or an HTTP client
gets (the shape is in the README). Built by :mod:`triage.questionnaire`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .assessment import Assessment
from .questions import QUESTION_TYPES, Choice
from .urgency import Urgency


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reason(_Model):
    """A rule the answer can still decide (MYCIN's WHY): its id, title and what it would conclude."""

    rule: str
    title: str
    urgency: Urgency | None
    causes: list[str]
    red_flags: list[str]
    advice: list[str]


class Item(_Model):
    """One question on a screen, as a front end shows it; ``why`` lists the rules it can decide."""

    id: str
    text: str
    help: str
    type: Literal[QUESTION_TYPES]  # type: ignore[valid-type]
    min: int | None = None
    max: int | None = None
    choices: list[Choice] | None = None
    required: bool
    red_flag: bool
    allowed: str
    why: list[Reason]


class Prompt(_Model):
    """One screen: a single question (``kind`` "question") or a group of yes-or-no questions.

    ``items`` are the questions on the screen (one for a single question). For a single
    question the top-level fields repeat its item's (``id`` is the question's id); for a
    group, ``id`` is the group's, ``type`` is "group" and ``text`` is the group's
    question ("Do you have any of these now?"). ``number`` is the number of the screen's
    first question (answered + 1). ``why`` is every rule the screen's answers can still
    decide, most urgent first.
    """

    id: str
    kind: Literal["question", "group"]
    number: int
    text: str
    help: str
    type: Literal[(*QUESTION_TYPES, "group")]  # type: ignore[valid-type]
    min: int | None = None
    max: int | None = None
    choices: list[Choice] | None = None
    required: bool
    red_flag: bool
    allowed: str
    items: list[Item]
    why: list[Reason]


class Step(_Model):
    """What comes next: a screen to show (``question``), or (``question`` is None) the assessment.

    ``settled`` means no open rule could raise the urgency any more. ``stopped_early``:
    the urgency is settled at ``stop_at`` or above with ``remaining`` questions still
    able to add to the picture: show the action at once, and offer to go on (each answer
    can only make later questions unnecessary, so ``remaining`` is the most that will be
    asked). ``more_details`` counts the detail questions the person may still choose to
    answer. ``unanswered_red_flags`` names the warning-sign questions answered "don't know".
    ``why`` (on a result) lists the rules the questions still on offer could decide.
    ``warnings`` are the knowledge base's, on every step, question or result: without
    the safety pack, red flags are not checked, and a front end should say so at once.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: Prompt | None = None
    assessment: Assessment | None = None
    urgency: Urgency
    answered: int
    remaining: int
    settled: bool = False
    stopped_early: bool = False
    more_details: int = 0
    unanswered_red_flags: list[str] = []
    why: list[Reason] = []
    warnings: list[str] = []  # the knowledge base's (the safety pack left out), on every step

    @property
    def done(self) -> bool:
        """True when this step is the assessment rather than a question."""
        return self.question is None
