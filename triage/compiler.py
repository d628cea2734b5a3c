"""Compile rule specs into experta rules; experta does the matching and chaining.

Each case is declared as one ``Answers`` fact holding every known answer (unknown
answers are simply absent, so no comparison on them can match). Rules that derive
facts declare ``Derived(name=...)`` facts, which other rules match: that is the
chaining. A comparison becomes a constraint on the ``Answers`` fact, ``any``
becomes experta's ``OR`` and a negated test becomes ``NOT``.

Rules are ordered by stratum (salience), so a rule that tests that a fact is *not*
derived fires only after every rule that could derive it has had its chance.
"""

from __future__ import annotations

from typing import Callable

from ._experta import AND, AS, NOT, OR, Fact, P, Rule, W
from .conditions import AllOf, AnyOf, FactTest, FieldTest, NotOf, negation_normal_form, walk
from .errors import KnowledgeBaseError
from .knowledge import Rule as LoadedRule

FIELD_PREFIX = "a__"
FACT_PREFIX = "d__"
TOP_SALIENCE = 1000


class Answers(Fact):
    """Every known answer of one case, as one fact (unknown answers are absent)."""


class Derived(Fact):
    """A fact derived by a rule, matched by other rules: ``Derived(name=...)``."""


def strata(rules: list[LoadedRule]) -> dict[str, int]:
    """Each rule's stratum: 0, or one more than that of any rule deriving a fact it tests.

    Raises :class:`KnowledgeBaseError` when facts depend on themselves.
    """
    derivers: dict[str, list[LoadedRule]] = {}
    for rule in rules:
        for fact in rule.spec.then.derive:
            derivers.setdefault(fact, []).append(rule)
    result: dict[str, int] = {}
    visiting: set[str] = set()

    def stratum(rule: LoadedRule) -> int:
        if rule.id in result:
            return result[rule.id]
        if rule.id in visiting:
            raise KnowledgeBaseError([f"{rule.file}: rule {rule.id}: when: its facts depend on themselves (a cycle)"])
        visiting.add(rule.id)
        level = 0
        for test in walk(rule.spec.when):
            if isinstance(test, FactTest):
                for deriver in derivers.get(test.fact, []):
                    level = max(level, stratum(deriver) + 1)
        visiting.discard(rule.id)
        result[rule.id] = level
        return level

    for rule in rules:
        stratum(rule)
    return result


def compile_rules(rules: list[LoadedRule], action: Callable) -> dict[str, Rule]:
    """Build one experta rule per rule spec, for the attributes of a ``KnowledgeEngine`` class.

    ``action(engine, rule, bindings)`` runs each time a rule (or one ``any``
    branch of it) fires; ``bindings`` maps ``a__<field>`` to matched answers and
    ``d__<fact>`` to matched derived facts. Fresh experta objects are built on
    every call, because experta's rules remember the last engine that used them:
    each engine class must have its own.
    """
    levels = strata(rules)
    compiled = {}
    for rule in rules:
        conditions = _conjunction(negation_normal_form(rule.spec.when))
        compiled[f"rule_{rule.order:04d}_{rule.id}"] = Rule(
            *conditions, salience=TOP_SALIENCE - levels[rule.id]
        )(_make_action(action, rule))
    return compiled


def _make_action(action: Callable, rule: LoadedRule) -> Callable:
    def fire(engine, **bindings):
        action(engine, rule, bindings)

    fire.__name__ = f"fire_{rule.id}"
    fire.__doc__ = rule.spec.title
    return fire


def _conjunction(condition) -> list:
    """The experta conditional elements that all must hold for ``condition`` (in NNF)."""
    children = condition.all if isinstance(condition, AllOf) else [condition]
    constraints: dict[str, object] = {}  # field -> constraint, all on the one Answers fact
    elements: list = []
    for child in children:
        if isinstance(child, AllOf):
            elements.extend(_conjunction(child))
        elif isinstance(child, AnyOf):
            elements.append(OR(*[AND(*_conjunction(branch)) for branch in child.any]))
        elif isinstance(child, FactTest):
            elements.append(getattr(AS, FACT_PREFIX + child.fact) << Derived(name=child.fact))
        elif isinstance(child, NotOf):
            elements.append(_negated(child.not_))
        elif child.operator == "known" and child.operand is False:
            elements.append(NOT(Answers(**{child.field: W()})))
        else:
            constraint = _constraint(child)
            existing = constraints.get(child.field)
            constraints[child.field] = (
                W(FIELD_PREFIX + child.field) & constraint if existing is None else existing & constraint
            )
    if constraints:
        elements.insert(0, Answers(**constraints))
    return elements


def _negated(test):
    if isinstance(test, FactTest):
        return NOT(Derived(name=test.fact))
    if test.operator == "known":
        # not known: true  -> unanswered;  not known: false -> answered
        return NOT(Answers(**{test.field: W()})) if test.operand else Answers(**{test.field: W()})
    return NOT(Answers(**{test.field: _constraint(test)}))


def _constraint(test: FieldTest):
    if test.operator == "known":
        return W()
    return P(test.holds_for)
