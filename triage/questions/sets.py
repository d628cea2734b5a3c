"""The contents of ``questions.yaml``: the questions, and the groups of yes-or-no questions asked on one screen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .kinds import BooleanQuestion, Question


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
