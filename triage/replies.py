"""What a person typed, read as an answer: the terminal's (and a chat bot's) reply language.

One question: ``y``/``n``/``yes``/``no``; a whole number in range; a choice by its number
or name; ``s`` or nothing for "don't know". A group screen ("Do you have any of
these?"): the numbers of the items that apply (``1 3`` or ``1,3``), ``n`` (or ``0``)
for none of these, ``d`` to answer the items one by one (yes, no or don't know each),
``s`` for "don't know" to them all. Anywhere: ``?`` for help, ``why`` for why it is
asked, ``b`` to go back. No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .errors import AnswerError
from .questions import Question

NONE_OF_THESE = ("n", "no", "none")  # not "0": one stray key must not answer every warning sign "no"
HELP = "?"
WHY = "why"
SKIP = ("s", "")
BACK = "b"
EACH = "d"


@dataclass(frozen=True)
class Reply:
    """What a typed reply means.

    ``answer`` (``value``: the answer, or for a group a mapping of item id to answer),
    ``skip`` ("don't know"; for a group, to every item), ``back``, ``help``, ``why``,
    or ``each`` (a group: the person wants to answer the items one by one).
    """

    kind: Literal["answer", "skip", "back", "help", "why", "each"]
    value: Any = None


def interpret_question(question: Question, text: str) -> Reply:
    """What ``text`` means as the reply to one question; :class:`AnswerError` says what is allowed."""
    reply = text.strip().lower()
    common = _common(reply)
    if common is not None:
        return common
    if reply in SKIP:
        if question.required:
            raise AnswerError(f"This question needs an answer: {allowed_answers(question)}.")
        return Reply("skip")
    value = question.parse_reply(reply)
    if value is None:
        raise AnswerError(f"{text.strip()!r} is not an answer here. Please answer {allowed_answers(question)}"
                          f" (? for help{'' if question.required else ', s if you do not know'}, b to go back).")
    return Reply("answer", value)


def interpret_group(items: list[Question], text: str) -> Reply:
    """What ``text`` means on a group screen of yes-or-no ``items``."""
    reply = text.strip().lower()
    common = _common(reply)
    if common is not None:
        return common
    if reply == EACH:
        return Reply("each")
    if reply in NONE_OF_THESE:
        return Reply("answer", {q.id: False for q in items})
    if reply == "s":
        required = [q.id for q in items if q.required]
        if required:
            raise AnswerError(f"{', '.join(required)} need a yes or no: type the numbers that apply, "
                              f"n for none of these, or {EACH} to answer one by one.")
        return Reply("skip", {q.id: None for q in items})
    numbers = [part for part in re.split(r"[\s,]+", reply) if part]
    # len(n) <= 20 first: int() refuses 4,300+ digits with a ValueError
    if numbers and all(n.isascii() and n.isdigit() and len(n) <= 20 and 1 <= int(n) <= len(items) for n in numbers):
        chosen = {int(n) for n in numbers}
        return Reply("answer", {q.id: number in chosen for number, q in enumerate(items, start=1)})
    raise AnswerError(f"{text.strip()!r} is not an answer here. {group_instructions(len(items))}")


def group_instructions(count: int) -> str:
    """How to answer a group screen of ``count`` items, in words."""
    return (f"Type the numbers that apply (for example 1 3, from 1 to {count}), n for none of these, "
            f"or {EACH} if you don't know some of them (then you answer one by one).")


def _common(reply: str) -> Reply | None:
    if reply == HELP:
        return Reply("help")
    if reply == BACK:
        return Reply("back")
    if reply == WHY:
        return Reply("why")
    return None


def allowed_answers(question: Question) -> str:
    """The answers a person may type, in words (the question's own ``describe_replies``)."""
    return question.describe_replies()
