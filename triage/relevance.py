"""Which questions can still change the result: the rules evaluated in three values.

Over the answers so far, every rule's condition either **holds** (whatever the
unasked questions turn out to be), **fails** (likewise), or is still **open**. An
unasked question may later get any value it is allowed (given the other answers:
no trimester 1 at week 30) or stay unknown; a question answered "don't know" is
unknown for good. ``not`` keeps the engine's meaning, "not known to hold", and
derived facts are worked out stratum by stratum, as the engine fires them.

This is the one computation (MYCIN's) behind the questionnaire:

- a question is **relevant** when it is tested in an open rule whose firing would
  change the result (a more urgent level, a red flag, a cause or an advice not yet
  concluded, or advice withheld), directly or through an open derived fact;
- its **priority** is the most urgent level such a rule concludes;
- the urgency is **settled** when no open rule could conclude a more urgent level
  than the rules that already hold: only then may the questionnaire stop early;
- ``why`` lists those rules for a question; :func:`why_not` explains a conclusion
  that was not reached.

How exact it is: each rule is split into branches (the compiler's disjunctive
normal form), and within a branch all tests on one field are combined into the one
set of answers they accept, so a branch's status is exact. A rule is open when a
branch is open and none holds; two branches that cover each other's gaps (``x`` or
``not x``) would read as open although the rule always holds. That errs towards
asking, never towards stopping early: holds and fails are always right.
"""

from __future__ import annotations

import operator
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .compiler import _distinct, branches_of, literal_holds, strata
from .conditions import FactTest, FieldTest, negation_normal_form, walk
from .knowledge import KnowledgeBase, Rule
from .outcomes import Outcome, covers, implied_by_another
from .questions import Question
from .urgency import Urgency

HOLDS, FAILS, OPEN = "holds", "fails", "open"
UNKNOWN = None  # an answer that is not known
LARGEST_DOMAIN = 4096


@dataclass(frozen=True)
class _FieldConstraint:
    field: str
    accepted: frozenset | None  # the answers (None: unknown) the branch's tests on the field accept
    literals: tuple  # ((FieldTest, negated), ...), for domains too large to tabulate and for why-not


@dataclass(frozen=True)
class _Branch:
    fields: tuple[_FieldConstraint, ...]
    facts: tuple[tuple[str, bool], ...]  # (fact, negated)
    # Where each of ``fields`` sits in Relevance._constraints: the same tests recur across
    # rules (304 in 109 distinct ones in the shipped rules), so each is judged once an analysis.
    slots: tuple[int, ...] = ()


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    stratum: int
    branches: tuple[_Branch, ...]


@dataclass
class RuleState:
    """One rule over the answers so far: its status, and the unasked questions it still depends on."""

    rule: Rule
    status: str
    open_fields: frozenset[str] = frozenset()
    matters: bool = False  # open, and its firing would change the result
    open_needs: tuple[frozenset, ...] = ()  # what each of its open branches still needs


@dataclass
class Analysis:
    """The rules over one set of answers: what holds, what is open, what is worth asking."""

    rules: dict[str, RuleState]
    facts: dict[str, str]
    concluded: Urgency  # the most urgent level of the rules that hold
    relevant: dict[str, list[RuleState]] = field(default_factory=dict)  # question id -> rules it can decide
    _priorities: dict[str, Urgency] = field(default_factory=dict, repr=False, compare=False)

    @property
    def settled(self) -> bool:
        """No open rule could conclude a more urgent level than the rules that hold."""
        return not any(s.matters and _urgency(s.rule).rank > self.concluded.rank for s in self.rules.values())

    def priority(self, question_id: str) -> Urgency:
        """The most urgent level an open rule that this question can decide concludes."""
        # Asked for each pending question on every sort: worked out once an analysis.
        level = self._priorities.get(question_id)
        if level is None:
            level = self._priorities[question_id] = max(
                (_urgency(s.rule) for s in self.relevant[question_id]), key=_rank, default=Urgency.SELF_CARE)
        return level

    def raises(self, question_id: str) -> bool:
        """Whether the question can decide a rule more urgent than what is concluded."""
        return any(_urgency(s.rule).rank > self.concluded.rank for s in self.relevant.get(question_id, ()))


_rank = operator.attrgetter("rank")  # Urgency.most_urgent, without its comparison methods


def _urgency(rule: Rule) -> Urgency:
    return rule.spec.then.urgency or Urgency.SELF_CARE


class Relevance:
    """The rules of a knowledge base, prepared once for three-valued evaluation."""

    def __init__(self, kb: KnowledgeBase, validate: Callable[[dict], Any] | None = None,
                 coupled: Mapping[str, frozenset[str]] | None = None):
        """``validate`` raises :class:`CaseError` for answers that may not go together; ``coupled``,
        when given, names for each field the only others it can disagree with (see
        :func:`triage.case.coupled_fields`), so :meth:`possible` validates just those pairs."""
        self.kb = kb
        self.questions: dict[str, Question] = dict(kb.question_by_id)
        self._validate = validate
        self._coupled = coupled
        self._pair_possible: dict[tuple, frozenset] = {}  # (question, its coupled answers) -> possible
        self._domains = {qid: q.domain(LARGEST_DOMAIN) for qid, q in self.questions.items()}
        self._constraints: list[_FieldConstraint] = []  # each distinct test on a field, once
        self._slot_of: dict[tuple, int] = {}
        levels = strata(kb.rules)
        compiled = [_CompiledRule(rule, levels[rule.id], self._branches(rule)) for rule in kb.rules]
        self.rules = sorted(compiled, key=lambda c: (c.stratum, c.rule.order))
        self.derivers: dict[str, list[str]] = {}
        for rule in kb.rules:
            for fact in rule.spec.then.derive:
                self.derivers.setdefault(fact, []).append(rule.id)
        self.decisive = self._decisive()
        self._outcomes = {rule.id: Outcome.of(rule) for rule in kb.rules}
        # Which rules conclude all that each rule does: fixed by the rules, so worked out once
        # here rather than for every pair of open rules on every screen.
        self._covered_by: dict[str, frozenset[str]] = {
            rule.id: frozenset(other.id for other in kb.rules if other is not rule and covers(other, rule))
            for rule in kb.rules
        }

    def _decisive(self) -> frozenset[str]:
        """The questions some rule setting an urgency above self-care, or a red flag, tests,
        directly or through derived facts. The questionnaire asks these whenever the rules
        say they matter, whatever their ``ask_when``: an ask_when must never hide a warning."""
        fields_of: dict[str, set[str]] = {}

        def fields(rule: Rule, seen: frozenset = frozenset()) -> set[str]:
            if rule.id in fields_of:
                return fields_of[rule.id]
            found = set()
            for test in walk(rule.spec.when):
                if isinstance(test, FieldTest):
                    found.add(test.field)
                elif test.fact not in seen:
                    for deriver in self.derivers.get(test.fact, []):
                        found |= fields(self.kb.rule_by_id[deriver], seen | {test.fact})
            fields_of[rule.id] = found
            return found

        decisive: set[str] = set()
        for rule in self.kb.rules:
            then = rule.spec.then
            if (then.urgency is not None and then.urgency is not Urgency.SELF_CARE) or then.red_flags:
                decisive |= fields(rule)
        return frozenset(decisive)

    def _branches(self, rule: Rule) -> tuple[_Branch, ...]:
        result = []
        for branch in _distinct(branches_of(negation_normal_form(rule.spec.when))):
            by_field: dict[str, list] = {}
            facts = []
            for test, negated in branch:
                if isinstance(test, FactTest):
                    facts.append((test.fact, negated))
                else:
                    by_field.setdefault(test.field, []).append((test, negated))
            constraints = []
            for name, literals in by_field.items():
                domain = self.questions[name].domain(LARGEST_DOMAIN)
                accepted = None
                if domain is not None:
                    accepted = frozenset(v for v in (*domain, UNKNOWN)
                                         if all(literal_holds(t, n, v) for t, n in literals))
                constraints.append(_FieldConstraint(name, accepted, tuple(literals)))
            result.append(_Branch(tuple(constraints), tuple(facts), tuple(self._slot(c) for c in constraints)))
        return tuple(result)

    def _slot(self, constraint: _FieldConstraint) -> int:
        # Tabulated tests are the same test when they accept the same answers; the others
        # (judged from their literals) are each their own.
        key = (constraint.field, constraint.accepted) if constraint.accepted is not None else (len(self._constraints),)
        if key not in self._slot_of:
            self._slot_of[key] = len(self._constraints)
            self._constraints.append(constraint)
        return self._slot_of[key]

    # ------------------------------------------------------------------ evaluation

    def analyse(self, answers: Mapping[str, Any]) -> Analysis:
        """Evaluate every rule over ``answers`` (asked questions; None: "don't know")."""
        answers = {k: v for k, v in answers.items() if k != "id"}
        possible_cache: dict = {}
        tests = [self.field_status(c, answers, possible_cache) for c in self._constraints]
        facts: dict[str, str] = {}
        fact_fields: dict[str, frozenset[str]] = {}
        states: dict[str, RuleState] = {}
        for compiled in self.rules:
            status, fields, needs = self._rule_status(compiled, tests, facts, fact_fields)
            states[compiled.rule.id] = RuleState(compiled.rule, status, fields, open_needs=needs)
            for fact in compiled.rule.spec.then.derive:
                self._update_fact(fact, states, facts, fact_fields)
        return self._conclude(states, facts)

    def _update_fact(self, fact, states, facts, fact_fields) -> None:
        derived = [states[r] for r in self.derivers[fact] if r in states]
        if len(derived) < len(self.derivers[fact]):
            return  # not all derivers evaluated yet (same stratum): strata make this impossible for users
        if any(s.status == HOLDS for s in derived):
            facts[fact], fact_fields[fact] = HOLDS, frozenset()
        elif all(s.status == FAILS for s in derived):
            facts[fact], fact_fields[fact] = FAILS, frozenset()
        else:
            facts[fact] = OPEN
            fact_fields[fact] = frozenset().union(*(s.open_fields for s in derived if s.status == OPEN))

    def _rule_status(self, compiled, tests, facts, fact_fields) -> tuple[str, frozenset[str], tuple]:
        open_branches: list[tuple[frozenset, set[str]]] = []
        for branch in compiled.branches:
            status, needs, fields = self._branch_status(branch, tests, facts, fact_fields)
            if status == HOLDS:
                return HOLDS, frozenset(), ()
            if status == OPEN:
                open_branches.append((needs, fields))
        if not open_branches:
            return FAILS, frozenset(), ()
        # A branch that still needs everything another open branch needs, and more, adds no way
        # for the rule to hold: its extra questions cannot change whether it fires. (The
        # negation of "vomiting and from 20 weeks" splits into "no vomiting" or "before 20
        # weeks": once before 20 weeks holds, vomiting no longer matters to the rule.)
        if len(open_branches) == 1:
            needs, fields = open_branches[0]
            return OPEN, frozenset(fields), (needs,)
        open_fields: set[str] = set()
        for needs, fields in open_branches:
            if not any(other < needs for other, _ in open_branches):
                open_fields |= fields
        return OPEN, frozenset(open_fields), tuple(needs for needs, _ in open_branches)

    def _branch_status(self, branch, tests, facts, fact_fields) -> tuple[str, frozenset, set[str]]:
        """The branch's status, what it still needs (its open tests), and the questions they ask.

        ``tests`` holds the status of each distinct field test (see :meth:`field_status`)."""
        needs: set = set()
        open_fields: set[str] = set()
        for constraint, slot in zip(branch.fields, branch.slots, strict=True):
            status = tests[slot]
            if status == FAILS:
                return FAILS, frozenset(), set()
            if status == OPEN:
                needs.add((constraint.field, constraint.accepted if constraint.accepted is not None
                           else constraint.literals))
                open_fields.add(constraint.field)
        for fact, negated in branch.facts:
            status = facts.get(fact, FAILS)
            if status == OPEN:
                needs.add((fact, negated))
                open_fields |= fact_fields[fact]
            elif (status == HOLDS) == negated:
                return FAILS, frozenset(), set()
        return (OPEN if needs else HOLDS), frozenset(needs), open_fields

    def field_status(self, constraint: _FieldConstraint, answers, cache: dict | None = None) -> str:
        """Holds, fails or open: one branch's tests on one field, over the answers so far."""
        name = constraint.field
        if name in answers:
            value = answers[name]
            if constraint.accepted is not None:
                # Validated answers have the question's type, so True never stands for 1 here.
                return HOLDS if value in constraint.accepted else FAILS
            return HOLDS if all(literal_holds(t, n, value) for t, n in constraint.literals) else FAILS
        if constraint.accepted is None:
            return OPEN  # too many answers to tabulate: assume it can go either way
        domain_size = len(self._domains[name]) + 1
        if len(constraint.accepted) == domain_size:
            return HOLDS
        if not constraint.accepted:
            return FAILS
        possible = self.possible(name, answers, cache)
        inside = possible & constraint.accepted
        if not inside:
            return FAILS
        if inside == possible:
            return HOLDS
        return OPEN

    def possible(self, question_id: str, answers: Mapping[str, Any], cache: dict | None = None) -> frozenset:
        """The answers an unasked question may still get (None among them), given the others.

        A value the case model would refuse beside the answers so far (trimester 1 at
        week 30) is not possible.
        """
        cache = {} if cache is None else cache
        if question_id in cache:
            return cache[question_id]
        domain = self._domains[question_id]
        values = set(domain)
        if self._validate is not None and any(v is not None for v in answers.values()):
            known = {k: v for k, v in answers.items() if v is not None}
            if self._coupled is not None:
                # Answers valid together (asked once an analysis, kept under None): only the answers
                # of the fields coupled with the question can rule out one of its values.
                if None not in cache:
                    cache[None] = self._valid(known)
                if cache[None]:
                    return self._possible_beside(question_id, known, cache)
            values = {v for v in domain if self._valid({**known, question_id: v})}
        result = cache[question_id] = frozenset(values | {UNKNOWN})
        return result

    def _possible_beside(self, question_id: str, known: dict, cache: dict) -> frozenset:
        coupled = self._coupled.get(question_id, ())
        beside = tuple(sorted((k, type(v).__name__, v) for k, v in known.items() if k in coupled))
        result = self._pair_possible.get((question_id, beside))
        if result is None:
            result = frozenset({v for v in self._domains[question_id]
                                if self._valid({**{k: v for k, _, v in beside}, question_id: v})} | {UNKNOWN})
            if len(self._pair_possible) > 100_000:  # a bound, for knowledge bases with wide coupled fields
                self._pair_possible.clear()
            self._pair_possible[(question_id, beside)] = result
        cache[question_id] = result
        return result

    def _valid(self, case: dict) -> bool:
        from .errors import CaseError

        try:
            self._validate(case)
        except CaseError:
            return False
        return True

    # ------------------------------------------------------------------ what matters

    def _conclude(self, states: dict[str, RuleState], facts: dict[str, str]) -> Analysis:
        outcomes = self._outcomes
        holding = [outcomes[s.rule.id] for s in states.values() if s.status == HOLDS]
        concluded = Urgency.most_urgent(o.urgency for o in holding if o.urgency) if holding else Urgency.SELF_CARE
        causes = set().union(*(o.causes for o in holding))
        flags = set().union(*(o.flags for o in holding))
        withheld = set().union(*(o.withhold for o in holding))
        advice = set().union(*(o.advice for o in holding)) - withheld
        open_states = [s for s in states.values() if s.status == OPEN]
        could_advise = advice.union(*(outcomes[s.rule.id].advice for s in open_states))
        # A fact matters when an open rule that tests it matters (through any chain of facts).
        for state in open_states:
            then = outcomes[state.rule.id]
            state.matters = bool(
                (then.urgency is not None and then.urgency.rank > concluded.rank)
                or then.flags - flags
                or then.causes - causes
                or then.advice - advice - withheld
                or (then.withhold & could_advise) - withheld
            )
        open_by_id = {s.rule.id: s for s in open_states}
        for state in open_states:
            if state.matters and implied_by_another(state, open_by_id, self._covered_by[state.rule.id]):
                state.matters = False
        relevant: dict[str, list[RuleState]] = {}
        for state in open_states:
            if state.matters:
                for name in state.open_fields:
                    relevant.setdefault(name, []).append(state)
        return Analysis(states, facts, concluded, relevant)


_prepared: "weakref.WeakKeyDictionary[KnowledgeBase, Relevance]" = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


def relevance_for(kb: KnowledgeBase) -> Relevance:
    """The prepared rules of ``kb``, built once per knowledge base and shared (they hold no state)."""
    with _prepared_lock:
        relevance = _prepared.get(kb)
        if relevance is None:
            from .case import coupled_fields, validate_case

            relevance = _prepared[kb] = Relevance(kb, lambda case: validate_case(kb.case_model, case),
                                                  coupled_fields())
        return relevance
