"""The questionnaire as data: one :class:`Question` per case field."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .conditions import Condition, evaluate


class Choice(BaseModel):
    """One allowed value of a choice question."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Union[int, str]
    label: str


class Question(BaseModel):
    """A question whose answer is one case field.

    ``ask_when``, when given, says when the question is relevant (asked at all);
    the rules never depend on it, so a relevant-or-not question may still be answered.
    ``required`` questions take no "don't know" in the questionnaire (a case may still
    leave them unknown). ``detail`` questions only add causes or advice, never urgency
    or a red flag (the knowledge base checks this); the questionnaire asks them last,
    and only when the person chooses to answer more.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str = Field(min_length=1)
    help: str = Field(min_length=1)
    type: Literal["boolean", "integer", "choice"]
    min: int | None = None
    max: int | None = None
    choices: list[Choice] | None = None
    red_flag: Union[bool, list[Union[int, str]]] = False
    ask_when: Condition | None = None
    required: bool = False
    detail: bool = False

    @model_validator(mode="after")
    def _shape_fits_type(self) -> "Question":
        if self.type == "integer" and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError("an integer question needs min and max, with min <= max")
        if self.type != "integer" and (self.min is not None or self.max is not None):
            raise ValueError("only integer questions take min and max")
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice question needs choices")
        if self.type != "choice" and self.choices:
            raise ValueError("only choice questions take choices")
        if isinstance(self.red_flag, list) and not set(self.red_flag) <= set(self.values or ()):
            raise ValueError("red_flag lists values that are not among the choices")
        if self.detail and (self.required or self.red_flag):
            raise ValueError("a detail question cannot be required or a red flag")
        return self

    @property
    def values(self) -> list | None:
        """The allowed values of a choice question, else None."""
        return [c.value for c in self.choices] if self.choices else None

    def accepts(self, value) -> bool:
        """Whether ``value`` is a valid (known) answer to this question."""
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "integer":
            return isinstance(value, int) and not isinstance(value, bool) and self.min <= value <= self.max
        return any(value == v and type(value) is type(v) for v in self.values)

    def describe_allowed(self) -> str:
        """The allowed answers, in words, for error messages."""
        if self.type == "boolean":
            return "true or false"
        if self.type == "integer":
            return f"a whole number from {self.min} to {self.max}"
        return "one of " + ", ".join(repr(v) for v in self.values)

    def is_red_flag_answer(self, value) -> bool:
        """Whether ``value`` is, on its own, a warning sign."""
        if self.red_flag is True:
            return value is True
        if isinstance(self.red_flag, list):
            return value in self.red_flag
        return False

    def applies(self, answers: dict) -> bool:
        """Whether the question is relevant given these answers (its ``ask_when``, if any, holds)."""
        return self.ask_when is None or evaluate(self.ask_when, answers)


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
                if question.type != "boolean":
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
                    extra = [q.id for q in self.questions if q.type == "boolean" and q.id not in listed
                             and (wanted == "rest" or q.red_flag)]
                    members[group.id] += extra
                    listed |= set(extra)
        return members
