"""The questionnaire as data: one question per case field, one class per type of answer.

A question is a :data:`Question`: a :class:`BooleanQuestion`, an :class:`IntegerQuestion`
or a :class:`ChoiceQuestion`, told apart by its ``type`` (a pydantic discriminated
union). Everything that depends on the type lives on its class and nowhere else: the
possible answers, how to describe them, how to read what a person types and what a
CSV cell holds, the case field's type (so its JSON Schema), and the FHIR item and
answer. Adding a type of question means adding one class here, and adding it to
:data:`Question`.
"""

from __future__ import annotations

import random
import re
from abc import abstractmethod
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from .conditions import Condition, evaluate
from .reading import MAX_INTEGER_DIGITS

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


def _whole_number(text: str) -> Any:
    """A whole number written as plain ASCII digits with an optional minus; anything else stays text.

    ``int()`` would also read ``+30``, ``3_0``, ``٣٠`` and ``３０`` as 30; those
    are kept as text, so validation refuses them naming the field.
    """
    if re.fullmatch(r"-?[0-9]{1,%d}" % MAX_INTEGER_DIGITS, text):
        return int(text)
    return text


def _typed_number(reply: str) -> int | None:
    """The whole number a person typed (ASCII digits, an optional minus), else None."""
    if not (reply.lstrip("-").isdigit() and reply.isascii()) or len(reply) > MAX_TYPED_DIGITS:
        return None
    return int(reply)


class BooleanQuestion(QuestionBase):
    """A yes-or-no question: the answer is true or false."""

    type: Literal["boolean"]

    fhir_type: ClassVar[str] = "boolean"
    fhir_value_type: ClassVar[str] = "Boolean"

    def domain(self, limit: int | None = None) -> tuple | None:
        return (True, False) if limit is None or limit >= 2 else None

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe_allowed(self) -> str:
        return "true or false"

    def answer_type(self) -> Any:
        return bool

    def random_answer(self, rnd: random.Random) -> Any:
        return rnd.random() < 0.3  # yes 3 times in 10: warning signs are rare

    def describe_replies(self) -> str:
        return "y or n"

    def reply_hint(self) -> str:
        return "y/n"

    def parse_reply(self, reply: str) -> Any:
        return True if reply in YES_WORDS else False if reply in NO_WORDS else None

    def parse_cell(self, text: str) -> Any:
        return CSV_WORDS.get(text.lower(), text)

    def fhir_value(self, value: Any) -> Any:
        return value

    def fhir_read(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError(f"wrong type: valueBoolean must be true or false, not {value!r}")
        return value


class _Bounds(_Heading):
    min: int
    max: int


class IntegerQuestion(QuestionBase, _Bounds):
    """A whole number from ``min`` to ``max``."""

    type: Literal["integer"]

    ordered: ClassVar[bool] = True
    fhir_type: ClassVar[str] = "integer"
    fhir_value_type: ClassVar[str] = "Integer"

    @model_validator(mode="after")
    def _bounds_in_order(self) -> "IntegerQuestion":
        if self.min > self.max:
            raise ValueError("an integer question needs min and max, with min <= max")
        return self

    def domain(self, limit: int | None = None) -> tuple | None:
        if limit is not None and self.max - self.min + 1 > limit:
            return None
        return tuple(range(self.min, self.max + 1))

    def accepts(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.min <= value <= self.max

    def describe_allowed(self) -> str:
        return f"a whole number from {self.min} to {self.max}"

    def answer_type(self) -> Any:
        return Annotated[int, Field(ge=self.min, le=self.max)]

    def random_answer(self, rnd: random.Random) -> Any:
        return rnd.randint(self.min, self.max)

    def describe_replies(self) -> str:
        return self.describe_allowed()

    def reply_hint(self) -> str:
        return f"{self.min}-{self.max}"

    def parse_reply(self, reply: str) -> Any:
        value = _typed_number(reply)
        return value if value is not None and self.min <= value <= self.max else None

    def parse_cell(self, text: str) -> Any:
        return _whole_number(text)

    def fhir_value(self, value: Any) -> Any:
        return value

    def fhir_read(self, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"wrong type: valueInteger must be a whole number, not {value!r}")
        if not self.accepts(value):
            raise ValueError(f"{value} is out of range; expected {self.describe_allowed()}")
        return value

    def fhir_extensions(self) -> list[dict]:
        from .fhir.common import MAX_VALUE, MIN_VALUE  # triage.fhir builds on this module

        return [{"url": MIN_VALUE, "valueInteger": self.min}, {"url": MAX_VALUE, "valueInteger": self.max}]


class _Choices(_Heading):
    choices: list[Choice]


class ChoiceQuestion(QuestionBase, _Choices):
    """One of the listed ``choices`` (their values are whole numbers or names).

    ``red_flag`` may list the values that are warning signs.
    """

    type: Literal["choice"]
    red_flag: Union[bool, list[Union[int, str]]] = False

    fhir_type: ClassVar[str] = "choice"
    fhir_value_type: ClassVar[str] = "Coding"

    @model_validator(mode="after")
    def _choices_hold_the_red_flags(self) -> "ChoiceQuestion":
        if not self.choices:
            raise ValueError("a choice question needs choices")
        if isinstance(self.red_flag, list) and not set(self.red_flag) <= set(self.values):
            raise ValueError("red_flag lists values that are not among the choices")
        return self

    @property
    def values(self) -> list:
        """The allowed values, in order."""
        return [c.value for c in self.choices]

    def choice(self, value: Any) -> Choice:
        """The choice whose value is ``value`` (of the same type: True is not 1); KeyError if none."""
        for choice in self.choices:
            if choice.value == value and type(choice.value) is type(value):
                return choice
        raise KeyError(value)

    def domain(self, limit: int | None = None) -> tuple | None:
        return tuple(self.values) if limit is None or len(self.choices) <= limit else None

    def accepts(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def describe_allowed(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def answer_type(self) -> Any:
        # Literal alone would accept True for the value 1 (True == 1 in Python), so the
        # answer's type is checked against the allowed values first.
        return Annotated[Literal[tuple(self.values)], BeforeValidator(self._exact)]  # type: ignore[valid-type]

    def _exact(self, value: Any) -> Any:
        if value is not None and not self.accepts(value):
            raise ValueError(f"expected {self.describe_allowed()}")
        return value

    def random_answer(self, rnd: random.Random) -> Any:
        return rnd.choice(self.values)

    def is_red_flag_answer(self, value: Any) -> bool:
        if isinstance(self.red_flag, list):
            return value in self.red_flag
        return super().is_red_flag_answer(value)

    def describe_replies(self) -> str:
        names = ", ".join(str(v) for v in self.values)
        no = " (n means none)" if "none" in self.values else ""
        return f"a number from 1 to {len(self.values)}, or one of: {names}{no}"

    def reply_hint(self) -> str:
        return f"1-{len(self.choices)}"

    def parse_reply(self, reply: str) -> Any:
        values = self.values
        if reply.isdigit() and reply.isascii() and len(reply) <= MAX_TYPED_DIGITS and 1 <= int(reply) <= len(values):
            return values[int(reply) - 1]
        for choice in self.choices:
            if reply in (str(choice.value).lower(), choice.label.lower()):
                return choice.value
        # People answer "no" to "Are your leg muscles weak?": that is the choice "none".
        if reply in NO_WORDS and "none" in values:
            return "none"
        return None

    def parse_cell(self, text: str) -> Any:
        if all(isinstance(v, int) for v in self.values):
            return _whole_number(text)
        # in any letter case: spreadsheets capitalise
        return next((v for v in self.values if str(v).lower() == text.lower()), text)

    def fhir_value(self, value: Any) -> Any:
        from .fhir.common import answer_coding  # triage.fhir builds on this module

        return answer_coding(self, self.choice(value))

    def fhir_read(self, value: Any) -> Any:
        from .fhir.common import answer_system  # triage.fhir builds on this module

        options = ", ".join(repr(str(v)) for v in self.values)
        if not isinstance(value, Mapping) or not isinstance(value.get("code"), str):
            raise ValueError(f"valueCoding needs a code, one of {options}")
        system = value.get("system")
        if system is not None and system != answer_system(self):
            raise ValueError(f"code system {system!r} is not the question's {answer_system(self)!r}")
        for choice in self.choices:
            if str(choice.value) == value["code"]:
                return choice.value
        raise ValueError(f"{value['code']!r} is not an allowed option; expected one of {options}")

    def fhir_answer_options(self) -> list[dict]:
        from .fhir.common import answer_coding  # triage.fhir builds on this module

        return [{"valueCoding": answer_coding(self, c)} for c in self.choices]


# The public name: any question, whichever its type (a type alias; use QuestionBase for isinstance).
Question = Annotated[Union[BooleanQuestion, IntegerQuestion, ChoiceQuestion], Field(discriminator="type")]

QUESTION_CLASSES: tuple[type[QuestionBase], ...] = get_args(get_args(Question)[0])
QUESTION_TYPES: tuple[str, ...] = tuple(get_args(cls.model_fields["type"].annotation)[0] for cls in QUESTION_CLASSES)

_QUESTION = TypeAdapter(Question)


def parse_question(data: Any) -> QuestionBase:
    """Validate ``data`` (a mapping, as ``questions.yaml`` writes one) as a question of its ``type``."""
    return _QUESTION.validate_python(data)


class Group(BaseModel):
    """Yes-or-no questions asked on one screen: "Do you have any of these?".

    ``questions`` lists the members in the order shown; ``red_flags: true`` adds every
    other yes-or-no warning-sign question that is in no group, so a warning sign added
    to the questionnaire joins the screening screen without editing the group;
    ``rest: true`` adds every yes-or-no question left in no group at all. The
    questionnaire shows, on the screen, the members still worth asking; each is
    answered yes, no or "don't know" on its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str = Field(min_length=1)
    help: str = Field(min_length=1)
    questions: list[str] = []
    red_flags: bool = False
    rest: bool = False


class QuestionSet(BaseModel):
    """The contents of ``questions.yaml``."""

    model_config = ConfigDict(extra="forbid")

    questions: list[Question] = Field(min_length=1)
    groups: list[Group] = []

    @model_validator(mode="after")
    def _groups_hold_yes_no_questions(self) -> "QuestionSet":
        by_id = {q.id: q for q in self.questions}
        seen: dict[str, str] = {}
        for group in self.groups:
            if group.id in by_id:
                raise ValueError(f"group {group.id}: the id is also a question's")
            for member in group.questions:
                question = by_id.get(member)
                if question is None:
                    raise ValueError(f"group {group.id}: {member!r} is not a question")
                if not isinstance(question, BooleanQuestion):  # a group screen is answered yes or no
                    raise ValueError(f"group {group.id}: {member!r} is not a yes-or-no question")
                if member in seen:
                    raise ValueError(f"group {group.id}: {member!r} is already in group {seen[member]}")
                seen[member] = group.id
        return self

    def group_members(self) -> dict[str, list[str]]:
        """Each group's questions, in the order shown (``red_flags`` groups completed)."""
        listed = {m for g in self.groups for m in g.questions}
        members = {g.id: list(g.questions) for g in self.groups}
        for wanted in ("red_flags", "rest"):  # warning signs first, then whatever is left
            for group in self.groups:
                if getattr(group, wanted):
                    extra = [q.id for q in self.questions if isinstance(q, BooleanQuestion) and q.id not in listed
                             and (wanted == "rest" or q.red_flag)]
                    members[group.id] += extra
                    listed |= set(extra)
        return members
