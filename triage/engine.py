"""The inference engine: a knowledge base compiled into experta, reused across cases.

An experta engine is not thread-safe and its Rete network costs tens of
milliseconds to build, so :class:`Engine` builds one experta engine per thread,
lazily, and reuses it (``reset``, declare, ``run``) for every case that thread
assesses. One :class:`Engine` can therefore be shared by many threads.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Iterator

from .assessment import Assessment
from .case import CaseBase, validate_case
from .compiler import compile_rules, strata
from .conclusions import Firing, conclude
from .fhir import case_from_questionnaire_response, is_fhir_resource
from .knowledge import KnowledgeBase, load_knowledge_base
from .rete import RuleEngine, engine_class


class Engine:
    """Assess cases against one knowledge base; safe to share between threads.

    >>> engine = Engine()                     # the shipped knowledge base
    >>> engine.assess({"leg_cramps": True}).urgency
    <Urgency.SELF_CARE: 'self_care'>
    """

    def __init__(self, knowledge_base: KnowledgeBase | None = None):
        self.knowledge_base = knowledge_base if knowledge_base is not None else load_knowledge_base()
        strata(self.knowledge_base.rules)  # fail now, not in the first thread, on cyclic facts
        self._local = threading.local()

    def _rule_engine(self) -> RuleEngine:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            # A fresh class (and fresh experta rules) per thread: experta rule
            # objects remember the engine that last used them.
            kb = self.knowledge_base
            cls = engine_class(lambda action: compile_rules(kb.rules, kb.questions, action))
            engine = self._local.engine = cls()
        return engine

    def validate(self, case: Any, source: str | None = None) -> CaseBase:
        """Validate a mapping (or case) against this knowledge base's questions.

        A FHIR QuestionnaireResponse (a mapping with ``resourceType``) is read as
        a case first, so every caller of ``assess`` accepts one.
        """
        if is_fhir_resource(case):
            case = case_from_questionnaire_response(case, self.knowledge_base, source)
        return validate_case(self.knowledge_base.case_model, case, source)

    def assess(self, case: Any, source: str | None = None) -> Assessment:
        """Assess one case (a mapping or a case model); raises :class:`CaseError` if invalid."""
        valid = self.validate(case, source)
        return conclude(self.knowledge_base, valid.id, self.fire(valid), valid.answers())

    def fire(self, case: CaseBase) -> list[Firing]:
        """Run the rules on a validated case: the rules that fired, with what each matched."""
        return self._rule_engine().evaluate(case.answers())

    def why_not(self, case: Any, target: str):
        """Why ``case`` did not get ``target`` (an urgency level, cause, red flag or advice id): the
        rules that could have concluded it, the test in each that failed, and the answers left
        unknown that could still make it hold (a :class:`triage.explain.WhyNot`)."""
        from .explain import why_not, target_kind

        valid = self.validate(case)
        target_kind(self.knowledge_base, target)  # an unknown target fails before any work
        result = self.assess(valid)
        got = {"urgency": [result.urgency.value], "cause": result.cause_ids,
               "red_flag": [f.id for f in result.red_flags], "advice": [a.id for a in result.advice]}
        kind = target_kind(self.knowledge_base, target)
        return why_not(self.knowledge_base, valid.answers(), target, target in got[kind])

    def assess_all(self, cases: Iterable[Any]) -> Iterator[Assessment]:
        """Assess cases one after another in this thread, in order."""
        for case in cases:
            yield self.assess(case)


_default_engine: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The shared engine for the shipped knowledge base, built on first use."""
    global _default_engine
    with _default_lock:
        if _default_engine is None:
            _default_engine = Engine()
        return _default_engine


def assess(case: Any) -> Assessment:
    """Assess one case with the shipped knowledge base.

    ``case`` is a mapping of answers (missing means unknown) or a ``Case``.
    Raises :class:`triage.CaseError` naming each invalid field.
    """
    return default_engine().assess(case)
