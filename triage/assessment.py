"""The result of an assessment, as typed models. JSON output uses these field names."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .knowledge import Source
from .urgency import Urgency


class _Result(BaseModel):
    # Serialised, every field is always written; the schema says so, so a client generated from
    # it cannot treat `warnings` (red flags not checked) as optional.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class Evidence(_Result):
    """An answer or a derived fact that a rule matched."""

    field: str | None = None
    value: Any = None
    fact: str | None = None

    def describe(self) -> str:
        if self.fact:
            return f"derived: {self.fact}"
        value = "yes" if self.value is True else "no" if self.value is False else self.value
        return f"{self.field} = {value}"


class CauseFinding(_Result):
    """A likely cause, with the evidence and the rules and sources behind it."""

    id: str
    label: str
    urgency: Urgency
    evidence: list[Evidence]
    rules: list[str]
    sources: list[Source]


class RedFlag(_Result):
    """A warning sign found in the answers."""

    id: str
    reason: str
    urgency: Urgency
    rule: str


class OpenQuestion(_Result):
    """A warning-sign question the case leaves unanswered: unknown, so not ruled out."""

    id: str
    text: str


class AdviceItem(_Result):
    """A piece of advice, with how strong its evidence is and where it comes from."""

    id: str
    text: str
    evidence: str | None = None
    sources: list[Source]


class FiredRule(_Result):
    """A rule that fired, and what it matched."""

    id: str
    pack: str
    title: str
    urgency: Urgency | None
    matched: list[Evidence]
    derived: list[str]
    sources: list[Source]


class KnowledgeBaseInfo(_Result):
    """Which knowledge base produced the assessment."""

    name: str
    version: str
    packs: list[str]
    sha256: str  # the digest of the knowledge base's files (triage.provenance)


class Assessment(_Result):
    """What the rules concluded for one case."""

    case_id: str | None
    urgency: Urgency
    action: str
    out_of_scope: bool = False  # the answers show none of the complaints the rules cover
    # How this result may be less safe than the shipped one, said with the result itself:
    # today, that the safety pack was left out, so red flags were not checked.
    warnings: list[str] = []
    causes: list[CauseFinding]
    red_flags: list[RedFlag]
    unanswered_red_flags: list[OpenQuestion] = []
    advice: list[AdviceItem]
    fired_rules: list[FiredRule]
    worsening_advice: list[str]
    disclaimer: str
    knowledge_base: KnowledgeBaseInfo

    @property
    def cause_ids(self) -> list[str]:
        """The ids of the likely causes, most urgent first."""
        return [c.id for c in self.causes]
