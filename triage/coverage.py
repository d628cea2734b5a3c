"""Rule coverage of a vignette set: which rules it fires, how often, and which it never tests.

A rule no vignette fires has never been seen to work on a whole case. A rule that
raises the urgency needs more: a vignette whose gold standard is that rule's level
and that fires it, so that the audit would notice if the rule stopped doing its job.
``triage audit --coverage --strict`` fails when an ``emergency`` or ``urgent`` rule
has no such vignette.
"""

from __future__ import annotations

from typing import Iterable

from pydantic import BaseModel, ConfigDict

from .knowledge import KnowledgeBase
from .urgency import Urgency

SERIOUS = (Urgency.EMERGENCY, Urgency.URGENT)


class RuleCoverage(BaseModel):
    """How the cases exercised one rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    pack: str
    file: str
    urgency: Urgency | None
    fired: int  # cases that fired it
    fired_at_its_level: int  # vignettes that fired it and whose gold level is the rule's urgency


class Coverage(BaseModel):
    """Rule coverage over a set of cases (vignettes, or plain cases without gold levels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: int
    rules: list[RuleCoverage]  # every rule in use, in knowledge-base order
    fired: int  # rules fired by at least one case
    never_fired: list[str]
    raising_without_vignette_at_level: list[str]  # urgency above self_care, no vignette at that level fires it
    serious_without_vignette: list[str]  # the emergency and urgent ones among them

    @property
    def complete_for_serious_rules(self) -> bool:
        return not self.serious_without_vignette


def coverage(kb: KnowledgeBase, cases: Iterable[tuple[list[str], Urgency | None]]) -> Coverage:
    """Coverage from each case's fired rule ids and gold level (None for a plain case)."""
    fired = {rule.id: 0 for rule in kb.rules}
    at_level = {rule.id: 0 for rule in kb.rules}
    total = 0
    for rule_ids, expected in cases:
        total += 1
        for rule_id in set(rule_ids):
            if rule_id in fired:
                fired[rule_id] += 1
                if expected is not None and kb.rule_by_id[rule_id].spec.then.urgency == expected:
                    at_level[rule_id] += 1
    rows = [
        RuleCoverage(id=r.id, pack=r.pack, file=r.file, urgency=r.spec.then.urgency, fired=fired[r.id],
                     fired_at_its_level=at_level[r.id])
        for r in kb.rules
    ]
    raising = [row for row in rows if row.urgency is not None and row.urgency.rank > Urgency.SELF_CARE.rank]
    uncovered = [row for row in raising if not row.fired_at_its_level]
    return Coverage(
        cases=total,
        rules=rows,
        fired=sum(1 for row in rows if row.fired),
        never_fired=[row.id for row in rows if not row.fired],
        raising_without_vignette_at_level=[row.id for row in uncovered],
        serious_without_vignette=[row.id for row in uncovered if row.urgency in SERIOUS],
    )


def render_coverage(result: Coverage) -> str:
    """Coverage as text: a table of every rule, then the rules never fired and those not tested at their level."""
    lines = [f"Rule coverage: {result.fired} of {len(result.rules)} rules fired by {result.cases} cases",
             f"  {'rule':<36} {'urgency':<11} {'fired':>5}  {'at its level':>12}"]
    for row in result.rules:
        level = row.urgency.value if row.urgency else "-"
        at_level = str(row.fired_at_its_level) if row.urgency else "-"
        lines.append(f"  {row.id:<36} {level:<11} {row.fired:>5}  {at_level:>12}")
    lines.append("")
    lines.append(f"Never fired ({len(result.never_fired)}): {', '.join(result.never_fired) or 'none'}")
    by_id = {row.id: row for row in result.rules}
    uncovered = result.raising_without_vignette_at_level
    lines.append(f"Urgency-raising rules with no vignette at their level ({len(uncovered)}):" + ("" if uncovered else " none"))
    for rule_id in uncovered:
        row = by_id[rule_id]
        lines.append(f"  {rule_id} ({row.urgency.value}): fired by {row.fired} case{'s' if row.fired != 1 else ''}, "
                     f"none expected {row.urgency.value}")
    return "\n".join(lines)
