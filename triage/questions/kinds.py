"""The types of question, one class each, and :data:`Question`, their union on ``type``.

Adding a type means adding a class here (implementing every abstract method of
:class:`~triage.questions.base.QuestionBase`) and adding it to :data:`Question`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BeforeValidator, Field, TypeAdapter, model_validator

from .base import (
    CSV_WORDS,
    NO_WORDS,
    YES_WORDS,
    Choice,
    QuestionBase,
    _Heading,
    _typed_number,
    _whole_number,
)


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
        from ..fhir.common import MAX_VALUE, MIN_VALUE  # triage.fhir builds on this module

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
        number = _typed_number(reply)
        if number is not None and 1 <= number <= len(values):
            return values[number - 1]
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
        from ..fhir.common import answer_coding  # triage.fhir builds on this module

        return answer_coding(self, self.choice(value))

    def fhir_read(self, value: Any) -> Any:
        from ..fhir.common import answer_system  # triage.fhir builds on this module

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
        from ..fhir.common import answer_coding  # triage.fhir builds on this module

        return [{"valueCoding": answer_coding(self, c)} for c in self.choices]


# The public name: any question, whichever its type (a type alias; use QuestionBase for isinstance).
Question = Annotated[Union[BooleanQuestion, IntegerQuestion, ChoiceQuestion], Field(discriminator="type")]

QUESTION_CLASSES: tuple[type[QuestionBase], ...] = get_args(get_args(Question)[0])
QUESTION_TYPES: tuple[str, ...] = tuple(get_args(cls.model_fields["type"].annotation)[0] for cls in QUESTION_CLASSES)

_QUESTION = TypeAdapter(Question)


def parse_question(data: Any) -> QuestionBase:
    """Validate ``data`` (a mapping, as ``questions.yaml`` writes one) as a question of its ``type``."""
    return _QUESTION.validate_python(data)
