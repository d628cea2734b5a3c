"""What rules conclude, compared: the questionnaire's test of whether an open rule adds anything.

Used by :mod:`triage.relevance`: a rule's :class:`Outcome` as sets (worked out once per
knowledge base, compared on every screen), whether one rule concludes all another does
(:func:`covers`), and whether an open rule could fire only beside another open one that
says as much (:func:`implied_by_another`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .knowledge import Rule
from .urgency import Urgency

if TYPE_CHECKING:
    from .relevance import RuleState


@dataclass(frozen=True)
class Outcome:
    """What a rule concludes, as sets: worked out once, compared on every screen."""

    urgency: Urgency | None
    flags: frozenset[str]
    causes: frozenset[str]
    advice: frozenset[str]
    withhold: frozenset[str]

    @classmethod
    def of(cls, rule: Rule) -> "Outcome":
        then = rule.spec.then
        return cls(then.urgency, frozenset(f.id for f in then.red_flags), frozenset(then.causes),
                   frozenset(then.advice), frozenset(then.withhold_advice))


def implied_by_another(state: "RuleState", open_by_id: dict[str, "RuleState"], covered_by: frozenset[str]) -> bool:
    """Whether, however the open questions are answered, this rule could fire only beside
    another open one (``open_by_id``) that concludes all it does (``covered_by``: the rules
    that do, see :func:`covers`):
    then its firing changes nothing, and its questions need not be asked for it.

    Exact, not a guess: each of the rule's open branches still needs every test that some
    open branch of the other rule needs (the tests already passed stay passed), so whenever
    this rule fires, the other fires too. (Vomiting from 20 weeks with upper tummy pain
    already answered yes: the upper-tummy-pain rule needs only the weeks, and says more.)
    """
    if state.rule.spec.then.derive:
        return False  # a derived fact's effects are other rules': keep it simple and ask

    # Only a rule still kept can stand in for another, so of two rules that imply each other
    # one is always kept (and its questions asked).
    others = [s for rule_id in covered_by if (s := open_by_id.get(rule_id)) is not None and s.matters]
    return bool(others) and all(
        any(needed <= needs for other in others for needed in other.open_needs) for needs in state.open_needs
    )


def covers(other: Rule, rule: Rule) -> bool:
    """Whether ``other`` concludes all ``rule`` does: as urgent or more, the same causes,
    warning signs and advice, and the same advice withheld."""
    then, o = rule.spec.then, other.spec.then
    return (
        (then.urgency is None or (o.urgency is not None and o.urgency.rank >= then.urgency.rank))
        and {f.id for f in then.red_flags} <= {f.id for f in o.red_flags}
        and set(then.causes) <= set(o.causes)
        and set(then.advice) <= set(o.advice)
        and set(then.withhold_advice) <= set(o.withhold_advice)
    )
