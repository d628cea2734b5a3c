"""What every question has (:class:`QuestionBase`), and the methods each type of question must implement."""

from __future__ import annotations

import random
import re
from abc import abstractmethod
from typing import Any, ClassVar, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from ..conditions import Condition, evaluate
from ..reading import MAX_INTEGER_DIGITS

# What a person may type for yes and for no (the terminal's reply language, triage.replies).
YES_WORDS = ("y", "yes")
NO_WORDS = ("n", "no")
# What a CSV cell may hold for yes and for no (spreadsheets write TRUE and 1 as often as yes).
CSV_WORDS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
MAX_TYPED_DIGITS = 20  # int() refuses 4,300+ digits with a ValueError: longer replies are no answer


class Choice(BaseModel):
    """One allowed value of a choice question."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Union[int, str]
    label: str


class _Heading(BaseModel):
    """The fields every question starts with. Pydantic orders fields by the reverse of the
    class hierarchy, so a type's own fields (declared on a mixin below this one) come
    between these and :class:`QuestionBase`'s: a question dumps as ``questions.yaml`` writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str = Field(min_length=1)
    help: str = Field(min_length=1)
    type: str


class QuestionBase(_Heading):
    """A question whose answer is one case field; each type of answer is a subclass.

    ``ask_when``, when given, says when the question is relevant (asked at all);
    the rules never depend on it, so a relevant-or-not question may still be answered.
    ``required`` questions take no "don't know" in the questionnaire (a case may still
    leave them unknown). ``detail`` questions only add causes or advice, never urgency
    or a red flag (the knowledge base checks this); the questionnaire asks them last,
    and only when the person chooses to answer more.
    """

    red_flag: bool = False
    ask_when: Condition | None = None
    required: bool = False
    detail: bool = False

    # Whether answers are numbers in order, so that <, <=, >= and > compare them.
    ordered: ClassVar[bool] = False
    # The FHIR R4 item type, and the X of the answer's value[X] (an enableWhen's answer[X]).
    fhir_type: ClassVar[str]
    fhir_value_type: ClassVar[str]

    @model_validator(mode="after")
    def _detail_decides_nothing(self) -> "QuestionBase":
        if self.detail and (self.required or self.red_flag):
            raise ValueError("a detail question cannot be required or a red flag")
        return self

    # -------------------------------------------------------------- answers

    @abstractmethod
    def domain(self, limit: int | None = None) -> tuple | None:
        """Every valid answer, in order; None when there are more than ``limit``."""

    @abstractmethod
    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a valid (known) answer to this question."""

    @abstractmethod
    def describe_allowed(self) -> str:
        """The allowed answers as a case writes them, in words, for error messages."""

    @abstractmethod
    def answer_type(self) -> Any:
        """The type of a case field answering this question (a pydantic annotation)."""

    def json_schema(self) -> dict:
        """The JSON Schema of a known answer: the case schema's property, less its null."""
        return TypeAdapter(self.answer_type()).json_schema()

    @abstractmethod
    def random_answer(self, rnd: random.Random) -> Any:
        """A random valid answer, drawn from ``rnd`` (for :mod:`triage.samples`)."""

    def is_red_flag_answer(self, value: Any) -> bool:
        """Whether ``value`` is, on its own, a warning sign."""
        return self.red_flag is True and value is True

    def applies(self, answers: dict) -> bool:
        """Whether the question is relevant given these answers (its ``ask_when``, if any, holds)."""
        return self.ask_when is None or evaluate(self.ask_when, answers)

    def type_fields(self) -> dict[str, Any]:
        """The fields this type adds to every question's (an integer's bounds, a choice's choices)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name not in QuestionBase.model_fields}

    # -------------------------------------------------------------- typed text

    @abstractmethod
    def describe_replies(self) -> str:
        """The answers a person may type, in words."""

    @abstractmethod
    def reply_hint(self) -> str:
        """The answers a person may type, as a prompt's short hint."""

    @abstractmethod
    def parse_reply(self, reply: str) -> Any:
        """The answer typed ``reply`` (stripped, lower case) stands for, or None when it is none."""

    @abstractmethod
    def parse_cell(self, text: str) -> Any:
        """The answer a CSV cell (stripped, not empty) holds; text that does not read as one is
        returned unchanged, so that validating the case names the field and what it expected."""

    # -------------------------------------------------------------- FHIR

    @abstractmethod
    def fhir_value(self, value: Any) -> Any:
        """A valid answer as the JSON of a FHIR value[X] (or an enableWhen's answer[X])."""

    @abstractmethod
    def fhir_read(self, value: Any) -> Any:
        """The answer a FHIR value[X] holds; raises ValueError saying what is wrong with it."""

    def fhir_extensions(self) -> list[dict]:
        """The extensions of this question's Questionnaire item (none by default)."""
        return []

    def fhir_answer_options(self) -> list[dict]:
        """The answerOption list of this question's Questionnaire item (none by default)."""
        return []


def _plain_integer(text: str, digits: int) -> int | None:
    """A whole number written as plain ASCII digits (at most ``digits``) with one optional minus, else None.

    One pattern decides, so that only what it matches reaches ``int()``: ``int()``
    would read ``+30``, ``3_0``, ``٣٠`` and ``３０`` as 30, and raise on ``--5``.
    """
    return int(text) if re.fullmatch(r"-?[0-9]{1,%d}" % digits, text) else None


def _whole_number(text: str) -> Any:
    """A CSV cell's whole number; anything else stays text, so validation refuses it naming the field."""
    number = _plain_integer(text, MAX_INTEGER_DIGITS)
    return text if number is None else number


def _typed_number(reply: str) -> int | None:
    """The whole number a person typed, else None (``--5``, ``-``, ``5.0``, ``1e3`` are no answer)."""
    return _plain_integer(reply, MAX_TYPED_DIGITS)
