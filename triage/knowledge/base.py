"""A loaded knowledge base: its manifest, questions, catalogue and the rules of the selected packs."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ..case import CaseBase, build_case_model
from ..errors import CaseError, KnowledgeBaseError
from ..provenance import knowledge_base_digest
from ..questions import Question
from ..reading import KNOWLEDGE_BASE_BYTES, decode, display_name, read_bytes
from .models import Advice, Cause, Manifest, Rule

# The short form, for headlines and summaries where the whole warning does not fit.
RED_FLAGS_NOT_CHECKED = "RED FLAGS NOT CHECKED"
SAFETY_OFF_WARNING = (
    "The safety pack was not selected: red flags such as blood clots, pre-eclampsia and "
    "preterm labour were NOT checked, so this result may be less urgent than it should be."
)


class KnowledgeBase:
    """A validated knowledge base with the packs selected for use."""

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        questions: list[Question],
        causes: dict[str, Cause],
        advice: dict[str, Advice],
        rules: list[Rule],
        packs: list[str],
        sha256: str | None = None,
        groups: dict | None = None,
    ):
        self.path = path
        # The digest of the files as they were loaded (triage.provenance); computed
        # now when not given, for a knowledge base built by hand.
        self.sha256 = sha256 if sha256 is not None else knowledge_base_digest(path)
        self.groups = groups or {}  # group id -> (Group, member question ids); see questions.Group
        self.manifest = manifest
        self.questions = questions
        self.causes = causes
        self.advice = advice
        self.rules = rules
        self.packs = packs

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def case_model(self) -> type[CaseBase]:
        """The pydantic model of a case for this knowledge base."""
        return build_case_model(self.questions)

    @cached_property
    def rule_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @property
    def safety_off(self) -> bool:
        """Whether the knowledge base has a ``safety`` pack that is not selected.

        Its red flags (blood clots, pre-eclampsia, preterm labour...) are then not checked,
        and an emergency can come out as self-care: callers that choose packs should say so.
        """
        return "safety" in {p.name for p in self.manifest.packs} and "safety" not in self.packs

    @cached_property
    def warnings(self) -> list[str]:
        """What every assessment from this knowledge base must say about how it was made.

        Never silently less urgent: leaving out the safety pack can turn an emergency into
        self-care, so each result says so itself, not only a warning on a terminal.
        """
        return [SAFETY_OFF_WARNING] if self.safety_off else []

    def document_text(self, name: str) -> str | None:
        """The text of a source document, or None when it is missing; :class:`KnowledgeBaseError` if unreadable."""
        path = self.path / "sources" / name
        if not path.is_file():
            return None
        try:
            return decode(read_bytes(path, KNOWLEDGE_BASE_BYTES), display_name(path))
        except CaseError as error:
            raise KnowledgeBaseError([str(error)]) from None

    def __repr__(self) -> str:
        return f"<KnowledgeBase {self.name} {self.version} packs={self.packs} rules={len(self.rules)}>"
