"""Compile rule specs into experta rules; experta does the matching and chaining.

Each case is declared as one ``Answers`` fact holding its answers. Rules that derive
facts declare ``Derived(name=...)`` facts, which other rules match: that is the
chaining. Rules are ordered by stratum (salience), so a rule that tests that a fact
is *not* derived fires only after every rule that could derive it has had its chance.

How one rule becomes experta rules:

1. Its condition is put in negation normal form and expanded into *branches*
   (disjunctive normal form): each branch is a conjunction of tests and negated tests.
   Each branch becomes one experta rule with the rule's action; a rule whose
   ``any`` matches in several ways fires once per matching branch, and
   :class:`~triage.conclusions.Firing` merges what the branches matched.
2. In a branch, every test on answers, plain or negated, becomes a field constraint
   of ONE ``Answers`` pattern; a fact test becomes a ``Derived`` pattern, or
   ``NOT(Derived(...))`` when negated.

Why this shape (measured; experta's Rete is pure Python, so every node a case's
facts travel through costs microseconds):

- One ``Answers`` pattern per branch means the answers are filtered by the alpha
  network alone; joins are left for what needs them, the chaining on derived facts.
  (One pattern per test would join the one ``Answers`` fact with itself.)
- A negated answer test is a constraint too, not a NOT node: a case has exactly one
  ``Answers`` fact, so "no Answers fact has fever == true" is the same as "the
  Answers fact's fever is not true". For that, fields that some constraint accepts
  when unknown are declared with the value ``None`` (see
  :attr:`CompiledRules.declared_when_unknown`); every other unknown answer is simply
  absent, so no constraint on it can match.
- A field constraint is the set of answers it accepts, computed once from the
  question's possible answers with :meth:`FieldTest.holds_for` (so what a test
  means is defined in one place), and matched with the set's ``__contains__``.
  Equal constraints are one and the same function, so experta shares their alpha
  nodes between rules: most cases leave a rule after one or two cheap checks.
- No variables are bound, not even the ``Answers`` fact: what a branch matched is
  known when compiling (its positive tests), and a case has one ``Answers`` fact,
  which the engine hands to the action. (A binding would add an alpha node, a
  token copy and a context to every match.)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Callable, Iterable

from ._experta import NOT, Fact, P, Rule
from .conditions import AllOf, AnyOf, FactTest, FieldTest, NotOf, negation_normal_form
from .knowledge import Rule as LoadedRule
from .knowledge.checks import strata  # the order of facts (and the check that they have one)
from .questions import Question

TOP_SALIENCE = 1000
LARGEST_TABLE = 4096  # questions with more possible answers get a predicate, not a set


class Answers(Fact):
    """The answers of one case, as one fact (unknown answers absent, or None)."""


class Derived(Fact):
    """A fact derived by a rule, matched by other rules: ``Derived(name=...)``."""


@dataclass(frozen=True)
class Branch:
    """One way a rule can match: the answers and facts it matched, for the evidence."""

    rule: LoadedRule
    fields: tuple[str, ...]
    facts: tuple[str, ...]
    rule_id: str = ""  # the rule's id, looked up once per firing

    def __post_init__(self):
        object.__setattr__(self, "rule_id", self.rule.id)


@dataclass(frozen=True)
class CompiledRules:
    """The experta rules for a knowledge base, and how to declare a case for them."""

    rules: dict[str, Rule]
    declared_when_unknown: frozenset[str]
    plain_fields: bool = True  # no question id holds "__", which experta reads as a nested field

    def answers_fact(self, answers: dict[str, Any]) -> Answers:
        """The ``Answers`` fact for a case's known (validated) answers."""
        fact = Answers()
        # Filled as a dict: Fact.__setitem__ would pass each value through experta's
        # freeze(), which returns answers (bools, ints and strings) unchanged.
        missing = self.declared_when_unknown.difference(answers)
        if missing:
            dict.update(fact, dict.fromkeys(missing))
        dict.update(fact, answers)
        return fact


class _Rule(Rule):
    """experta's ``Rule``, with its hash kept.

    experta hashes a rule (all its patterns) each time it hashes an activation
    of it, several times per firing. The hash depends on the patterns, the action
    and the engine the rule is bound to; it is kept for the engine it was computed
    for.
    """

    def __hash__(self):
        kept = self.__dict__.get("_kept_hash")
        if kept is None or kept[0] is not self._wrapped_self:
            kept = self._kept_hash = (self._wrapped_self, super().__hash__())
        return kept[1]


def compile_rules(rules: list[LoadedRule], questions: Iterable[Question], action: Callable) -> CompiledRules:
    """Build the experta rules for the attributes of a ``KnowledgeEngine`` class.

    ``action(engine, branch)`` runs each time a branch of a rule fires. Fresh experta objects are built on every call, because experta's rules
    remember the last engine that used them: each engine class must have its own.
    """
    levels = strata(rules)
    questions = list(questions)
    constraints = _Constraints({q.id: q for q in questions})
    compiled: dict[str, Rule] = {}
    for rule in rules:
        branches = _distinct(branches_of(negation_normal_form(rule.spec.when)))
        elements = [_elements(branch, constraints) for branch in branches]
        matchable = [(branch, els) for branch, els in zip(branches, elements, strict=True) if els is not None]
        for number, (branch, els) in enumerate(matchable, start=1):
            name = f"rule_{rule.order:04d}_{rule.id}" + (f"_{number}" if len(matchable) > 1 else "")
            positive = [t for t, negated in branch if not negated]
            evidence = Branch(
                rule=rule,
                fields=tuple(dict.fromkeys(
                    t.field for t in positive
                    if isinstance(t, FieldTest) and not (t.operator == "known" and t.operand is False)
                )),
                facts=tuple(dict.fromkeys(t.fact for t in positive if isinstance(t, FactTest))),
            )
            compiled[name] = _Rule(*els, salience=TOP_SALIENCE - levels[rule.id])(_make_action(action, evidence))
    return CompiledRules(compiled, frozenset(constraints.nullable), all("__" not in q.id for q in questions))


Literal = tuple  # (FieldTest | FactTest, negated: bool)


def branches_of(condition) -> list[list[Literal]]:
    """The branches of a condition in negation normal form: its disjunctive normal form.

    Each branch is a list of ``(test, negated)``; the condition holds when all the
    literals of at least one branch hold.
    """
    if isinstance(condition, (FieldTest, FactTest)):
        return [[(condition, False)]]
    if isinstance(condition, NotOf):
        return [[(condition.not_, True)]]
    if isinstance(condition, AnyOf):
        return [branch for child in condition.any for branch in branches_of(child)]
    assert isinstance(condition, AllOf)
    return [
        [literal for part in parts for literal in part]
        for parts in product(*(branches_of(child) for child in condition.all))
    ]


def _distinct(branches: list[list[Literal]]) -> list[list[Literal]]:
    """Drop repeated branches (they would fire the same rule twice on the same facts)."""
    seen, result = set(), []
    for branch in branches:
        key = tuple(sorted({_literal_key(literal) for literal in branch}))
        if key not in seen:
            seen.add(key)
            result.append(branch)
    return result


def _literal_key(literal: Literal) -> tuple:
    test, negated = literal
    if isinstance(test, FactTest):
        return ("fact", test.fact, negated)
    return ("field", test.field, test.operator, repr(test.operand), negated)


def _make_action(action: Callable, branch: Branch) -> Callable:
    # **context rather than named parameters: experta's Rule then calls it as it is,
    # instead of filtering the call's arguments by the function's signature.
    def fire(engine, **_context):
        action(engine, branch)

    fire.__name__ = f"fire_{branch.rule.id}"
    fire.__doc__ = branch.rule.spec.title
    return fire


def _elements(branch: list[Literal], constraints: "_Constraints") -> list | None:
    """The experta conditional elements of one branch; None when it can never match."""
    by_field: dict[str, list[Literal]] = {}
    facts: list[str] = []
    absent: list[str] = []
    for test, negated in branch:
        if isinstance(test, FactTest):
            (absent if negated else facts).append(test.fact)
        else:
            by_field.setdefault(test.field, []).append((test, negated))
    pattern = {}
    for field, literals in by_field.items():
        constraint = constraints.get(field, literals)
        if constraint is False:
            return None  # contradictory tests: no answer satisfies them all
        if constraint is not True:
            pattern[field] = constraint
    if set(facts) & set(absent):
        return None  # a fact both derived and not derived
    elements: list = []
    if pattern:
        elements.append(Answers(**pattern))
    elements.extend(Derived(name=fact) for fact in dict.fromkeys(facts))
    elements.extend(NOT(Derived(name=fact)) for fact in dict.fromkeys(absent))
    return elements


def literal_holds(test: FieldTest, negated: bool, value: Any) -> bool:
    """Whether an answer (``None`` for unknown) satisfies a field test, or its negation.

    A comparison on an unknown answer is never true; ``known: false`` holds only
    for an unknown one; a negated test holds exactly when the test does not.
    """
    if value is None:
        holds = test.operator == "known" and test.operand is False
    else:
        holds = test.holds_for(value)
    return holds != negated


class _Constraints:
    """Field constraints, one shared experta predicate per distinct set of accepted answers."""

    def __init__(self, questions: dict[str, Question]):
        self.questions = questions
        self.nullable: set[str] = set()
        self._predicates: dict[tuple, P] = {}

    def get(self, field: str, literals: list[Literal]):
        """The constraint for ``literals`` on ``field``: a ``P``, or True (always) / False (never)."""
        domain = self.questions[field].domain(LARGEST_TABLE)
        if domain is None:  # too many possible answers to tabulate
            key = (field, tuple(sorted(_literal_key(literal) for literal in literals)))
            accepts_unknown = all(literal_holds(t, n, None) for t, n in literals)
            if key not in self._predicates:
                self._predicates[key] = P(lambda value: all(literal_holds(t, n, value) for t, n in literals))
        else:
            accepted = frozenset(v for v in (*domain, None) if all(literal_holds(t, n, v) for t, n in literals))
            if not accepted:
                return False
            if len(accepted) == len(domain) + 1:
                return True
            accepts_unknown = None in accepted
            key = (field, accepted)
            if key not in self._predicates:
                # The set's own __contains__: the cheapest test experta can call.
                self._predicates[key] = P(accepted.__contains__)
        if accepts_unknown:
            self.nullable.add(field)
        return self._predicates[key]
