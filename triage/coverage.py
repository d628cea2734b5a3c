"""Rule coverage of a vignette set: which rules it fires, how often, and which it never tests.

A rule no vignette fires has never been seen to work on a whole case. A rule that
raises the urgency needs more: a vignette whose gold standard is that rule's level
and that fires it, so that the audit would notice if the rule stopped doing its job.
``triage audit --coverage --strict`` fails when an ``emergency`` or ``urgent`` rule
has no such vignette.

A vignette at the rule's level is *decisive* for the rule when no other rule that
fired reaches that level: lowering the rule's urgency would then change that
vignette's answer, so the audit (and ``--against``) would catch it. A rule with
vignettes at its level but none decisive is listed too: another rule at the same
level always fires with it in the set, so a lowering of it would go unseen.
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
    decisive: int  # of those, the vignettes where no other fired rule reaches that level


class Coverage(BaseModel):
    """Rule coverage over a set of cases (vignettes, or plain cases without gold levels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: int
    rules: list[RuleCoverage]  # every rule in use, in knowledge-base order
    fired: int  # rules fired by at least one case
    never_fired: list[str]
    raising_without_vignette_at_level: list[str]  # urgency above self_care, no vignette at that level fires it
    serious_without_vignette: list[str]  # the emergency and urgent ones among them
    raising_without_decisive_vignette: list[str]  # urgency above self_care, no vignette where it alone sets the level

    @property
    def complete_for_serious_rules(self) -> bool:
        return not self.serious_without_vignette


def coverage(kb: KnowledgeBase, cases: Iterable[tuple[list[str], Urgency | None]]) -> Coverage:
    """Coverage from each case's fired rule ids and gold level (None for a plain case)."""
    fired = {rule.id: 0 for rule in kb.rules}
    at_level = {rule.id: 0 for rule in kb.rules}
    decisive = {rule.id: 0 for rule in kb.rules}
    total = 0
    for rule_ids, expected in cases:
        total += 1
        known = [i for i in dict.fromkeys(rule_ids) if i in fired]
        for rule_id in known:
            fired[rule_id] += 1
            level = kb.rule_by_id[rule_id].spec.then.urgency
            if expected is not None and level == expected:
                at_level[rule_id] += 1
                others = (kb.rule_by_id[i].spec.then.urgency for i in known if i != rule_id)
                if all(other is None or other.rank < level.rank for other in others):
                    decisive[rule_id] += 1
    rows = [
        RuleCoverage(id=r.id, pack=r.pack, file=r.file, urgency=r.spec.then.urgency, fired=fired[r.id],
                     fired_at_its_level=at_level[r.id], decisive=decisive[r.id])
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
        raising_without_decisive_vignette=[row.id for row in raising if not row.decisive],
    )


def render_coverage(result: Coverage) -> str:
    """Coverage as text: a table of every rule, then the rules never fired and those not tested at their level."""
    lines = [f"Rule coverage: {result.fired} of {len(result.rules)} rules fired by {result.cases} cases",
             f"  {'rule':<36} {'urgency':<11} {'fired':>5}  {'at its level':>12}  {'decisive':>8}"]
    for row in result.rules:
        level = row.urgency.value if row.urgency else "-"
        at_level = str(row.fired_at_its_level) if row.urgency else "-"
        decisive = str(row.decisive) if row.urgency else "-"
        lines.append(f"  {row.id:<36} {level:<11} {row.fired:>5}  {at_level:>12}  {decisive:>8}")
    lines.append("")
    lines.append(f"Never fired ({len(result.never_fired)}): {', '.join(result.never_fired) or 'none'}")
    by_id = {row.id: row for row in result.rules}
    uncovered = result.raising_without_vignette_at_level
    lines.append(f"Urgency-raising rules with no vignette at their level ({len(uncovered)}):" + ("" if uncovered else " none"))
    for rule_id in uncovered:
        row = by_id[rule_id]
        lines.append(f"  {rule_id} ({row.urgency.value}): fired by {row.fired} case{'s' if row.fired != 1 else ''}, "
                     f"none expected {row.urgency.value}")
    unseen = [i for i in result.raising_without_decisive_vignette if i not in uncovered]
    if unseen:
        lines.append(f"Rules at their level only beside another rule of that level ({len(unseen)}): lowering one "
                     f"alone would change no vignette: {', '.join(unseen)}")
    return "\n".join(lines)
