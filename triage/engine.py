"""The inference engine: a knowledge base compiled into experta, reused across cases.

An experta engine is not thread-safe and its Rete network costs tens of
milliseconds to build, so :class:`Engine` keeps a pool of experta engines: a
case borrows one (``reset``, declare, ``run``) and gives it back. One
:class:`Engine` can therefore be shared by many threads, and a thread that
ends leaves nothing behind: short-lived threads (a web server's) reuse the
networks built before them instead of building, and keeping, one each.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from typing import Any, Iterable, Iterator

from .assessment import Assessment
from .case import CaseBase, validate_case
from .compiler import compile_rules, strata
from .conclusions import Firing, conclude
from .errors import CaseError, SafetyPackOffWarning
from .fhir import case_from_questionnaire_response, is_fhir_resource
from .knowledge import KnowledgeBase, load_knowledge_base
from .rete import RuleEngine, engine_class
from .text import quoted

MAX_IDLE_ENGINES = 16  # engines kept for reuse; more threads at once build more, then drop them


def warn_if_safety_off(kb: KnowledgeBase, caller) -> None:
    """Issue a :class:`SafetyPackOffWarning` to a caller outside triage when ``kb``'s safety pack is off.

    A library caller hears it, not only the CLI's reader. triage's own engines (rules
    check, the CLI, the server, workers) say it their own way, so ``caller`` (the frame
    that asked for the engine) inside the package is not warned.
    """
    if kb.safety_off and caller.f_globals.get("__name__", "").partition(".")[0] != "triage":
        warnings.warn_explicit(kb.warnings[0], SafetyPackOffWarning, caller.f_code.co_filename, caller.f_lineno)


class Engine:
    """Assess cases against one knowledge base; safe to share between threads.

    >>> engine = Engine()                     # the shipped knowledge base
    >>> engine.assess({"leg_cramps": True}).urgency
    <Urgency.SELF_CARE: 'self_care'>
    """

    def __init__(self, knowledge_base: KnowledgeBase | None = None):
        self.knowledge_base = knowledge_base if knowledge_base is not None else load_knowledge_base()
        strata(self.knowledge_base.rules)  # fail now, not in the first thread, on cyclic facts
        warn_if_safety_off(self.knowledge_base, sys._getframe(1))
        self._idle: list[RuleEngine] = []  # built engines no thread is using
        self._lock = threading.Lock()

    def _build(self) -> RuleEngine:
        # A fresh class (and fresh experta rules) per engine: experta rule
        # objects remember the engine that last used them.
        kb = self.knowledge_base
        return engine_class(lambda action: compile_rules(kb.rules, kb.questions, action))()

    def _rule_engine(self) -> RuleEngine:
        """Build one experta engine now and keep it in the pool (so the first case does not wait for it)."""
        with self._lock:
            if self._idle:
                return self._idle[-1]
        engine = self._build()
        with self._lock:
            self._idle.append(engine)
        return engine

    @contextlib.contextmanager
    def _borrowed(self) -> Iterator[RuleEngine]:
        with self._lock:
            engine = self._idle.pop() if self._idle else None
        if engine is None:
            engine = self._build()
        yield engine  # not given back if the run failed half-way: its state is unknown
        with self._lock:
            if len(self._idle) < MAX_IDLE_ENGINES:
                self._idle.append(engine)

    def validate(self, case: Any, source: str | None = None) -> CaseBase:
        """Validate a mapping (or case) against this knowledge base's questions.

        A FHIR QuestionnaireResponse (a mapping with ``resourceType``) is read as
        a case first, so every caller of ``assess`` accepts one.
        """
        try:
            if is_fhir_resource(case):
                case = case_from_questionnaire_response(case, self.knowledge_base, source)
            return validate_case(self.knowledge_base.case_model, case, source)
        except CaseError:
            raise
        except Exception as error:  # noqa: BLE001 - an input no check foresaw is still a bad case, never a crash
            raise CaseError([f"not a valid case ({type(error).__name__}: {quoted(str(error), 200, quotes=False)})"],
                            source) from None

    def assess(self, case: Any, source: str | None = None) -> Assessment:
        """Assess one case (a mapping or a case model); raises :class:`CaseError` if invalid."""
        valid = self.validate(case, source)
        return conclude(self.knowledge_base, valid.id, self.fire(valid), valid.answers())

    def fire(self, case: CaseBase) -> list[Firing]:
        """Run the rules on a validated case: the rules that fired, with what each matched."""
        with self._borrowed() as engine:
            return engine.evaluate(case.answers())

    def why_not(self, case: Any, target: str):
        """Why ``case`` did not get ``target`` (an urgency level, cause, red flag or advice id): the
        rules that could have concluded it, the test in each that failed, and the answers left
        unknown that could still make it hold (a :class:`triage.explain.WhyNot`)."""
        from .explain import target_kind, why_not

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

    ``case`` is a mapping of answers (missing means unknown, never "no") or a
    ``Case``. Raises :class:`triage.CaseError` naming each invalid field.

    >>> import triage
    >>> result = triage.assess({"weeks_pregnant": 31, "leg_cramps": True, "one_leg_swollen": True})
    >>> result.urgency.value, result.urgency > triage.Urgency.ROUTINE
    ('urgent', True)
    >>> print(result.action[:48])
    Seek medical attention now: go to your maternity
    >>> [cause.id for cause in result.causes][:1]
    ['dvt']
    >>> triage.assess({"weeks_pregnant": 50})
    Traceback (most recent call last):
    ...
    triage.errors.CaseError: field 'weeks_pregnant': 50 is not a valid answer; expected a whole number from 0 to 42

    Many cases: :class:`triage.Engine` (reused, thread-safe) or :func:`triage.assess_many`.
    """
    return default_engine().assess(case)
