"""The pydantic models of a knowledge base's files: rule files, ``kb.yaml``, causes and advice.

Each model forbids unknown keys, so a misspelt field is a problem, not a silent default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..conditions import Condition
from ..urgency import Urgency

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a rule or advice comes from: a document and a verbatim quote, or a reference."""

    document: str | None = None
    quote: str | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Source":
        if self.reference is not None:
            if self.document is not None or self.quote is not None:
                raise ValueError("a source is either {document, quote} or {reference}, not both")
        elif not (self.document and self.quote):
            raise ValueError("a source needs both document and quote, or a reference")
        return self

    def cite(self) -> str:
        """One line naming the source."""
        if self.reference:
            return self.reference
        return f'{self.document}: "{self.quote}"'


class Cause(_Strict):
    """A likely cause a rule can name."""

    id: str = Field(pattern=ID_PATTERN)
    label: str
    description: str | None = None


class Advice(_Strict):
    """A piece of advice a rule can give."""

    id: str = Field(pattern=ID_PATTERN)
    text: str
    evidence: str | None = None
    sources: list[Source] = Field(min_length=1)


class RedFlagSpec(_Strict):
    """A warning sign a rule reports, with the reason in plain language."""

    id: str = Field(pattern=ID_PATTERN)
    reason: str


class Then(_Strict):
    """What a rule concludes when it fires."""

    urgency: Urgency | None = None
    causes: list[str] = []
    red_flags: list[RedFlagSpec] = []
    advice: list[str] = []
    withhold_advice: list[str] = []  # advice unsafe with this finding (e.g. massage with a clot)
    derive: list[str] = []
    # What to do, in place of the urgency level's own action, when this rule decides the
    # urgency (labour at term: phone the unit). Used only if every rule at that level has one.
    action: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "Then":
        if not (self.urgency or self.causes or self.red_flags or self.advice or self.derive):
            raise ValueError("'then' must give at least one of urgency, causes, red_flags, advice, derive")
        if self.action is not None and self.urgency is None:
            raise ValueError("'then.action' needs an urgency: it replaces that level's action")
        return self


class Examples(_Strict):
    """Cases that must fire the rule, and near misses that must not."""

    fires: list[dict[str, Any]] = Field(min_length=1)
    does_not_fire: list[dict[str, Any]] = Field(min_length=1)


class RuleSpec(_Strict):
    """One rule as written in a rule file."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str | None = None
    when: Condition
    then: Then
    sources: list[Source] = Field(min_length=1)
    examples: Examples


class RuleFile(_Strict):
    """The contents of one rule file."""

    rules: list[RuleSpec] = Field(min_length=1)


class Rule(BaseModel):
    """A loaded rule: the spec plus where it came from."""

    model_config = ConfigDict(frozen=True)

    spec: RuleSpec
    pack: str
    file: str
    order: int

    @property
    def id(self) -> str:
        return self.spec.id


class PackInfo(_Strict):
    """A rule pack named in ``kb.yaml``."""

    name: str = Field(pattern=ID_PATTERN)
    description: str
    always: bool = Field(default=False, description="loaded whatever packs are selected")
    default: bool = True


class Manifest(_Strict):
    """The contents of ``kb.yaml``."""

    name: str
    version: str
    packs: list[PackInfo] = Field(min_length=1)
    disclaimer: str
    worsening_advice: list[str] = Field(min_length=1)


class CauseFile(_Strict):
    causes: list[Cause]


class AdviceFile(_Strict):
    advice: list[Advice]
