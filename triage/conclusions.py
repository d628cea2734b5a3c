"""Turn the rules that fired for a case into an :class:`Assessment`.

Ordering is deterministic: causes and red flags by urgency (most urgent first),
then by the order of the rules in the knowledge base, so a red flag always leads
and is never hidden behind a likelier benign cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assessment import (
    AdviceItem,
    Assessment,
    CauseFinding,
    Evidence,
    FiredRule,
    KnowledgeBaseInfo,
    RedFlag,
)
from .compiler import FACT_PREFIX, FIELD_PREFIX
from .knowledge import KnowledgeBase, Rule
from .urgency import Urgency


@dataclass
class Firing:
    """One rule that fired, with every answer and fact any of its branches matched."""

    rule: Rule
    answers: dict = field(default_factory=dict)
    facts: list = field(default_factory=list)

    def add(self, bindings: dict) -> None:
        for name, value in bindings.items():
            if name.startswith(FIELD_PREFIX):
                self.answers[name[len(FIELD_PREFIX):]] = value
            elif name.startswith(FACT_PREFIX) and name[len(FACT_PREFIX):] not in self.facts:
                self.facts.append(name[len(FACT_PREFIX):])

    @property
    def urgency(self) -> Urgency:
        return self.rule.spec.then.urgency or Urgency.SELF_CARE

    def evidence(self) -> list[Evidence]:
        found = [Evidence(field=k, value=v) for k, v in sorted(self.answers.items())]
        return found + [Evidence(fact=f) for f in sorted(self.facts)]


def conclude(kb: KnowledgeBase, case_id: str | None, firings: list[Firing]) -> Assessment:
    """Build the assessment for a case from the rules that fired (any order)."""
    firings = sorted(firings, key=lambda f: f.rule.order)
    by_urgency = sorted(firings, key=lambda f: -f.urgency.rank)  # stable: kb order within a level
    urgency = Urgency.most_urgent(f.rule.spec.then.urgency for f in firings if f.rule.spec.then.urgency)

    causes: dict[str, dict] = {}
    for firing in by_urgency:
        for cause_id in firing.rule.spec.then.causes:
            entry = causes.setdefault(
                cause_id, {"urgency": firing.urgency, "evidence": [], "rules": [], "sources": []}
            )
            entry["rules"].append(firing.rule.id)
            for item in firing.evidence():
                if item not in entry["evidence"]:
                    entry["evidence"].append(item)
            for source in firing.rule.spec.sources:
                if source not in entry["sources"]:
                    entry["sources"].append(source)

    red_flags: dict[str, RedFlag] = {}
    for firing in by_urgency:
        for flag in firing.rule.spec.then.red_flags:
            red_flags.setdefault(flag.id, RedFlag(id=flag.id, reason=flag.reason, urgency=firing.urgency, rule=firing.rule.id))

    advice_ids: list[str] = []
    for firing in by_urgency:
        for advice_id in firing.rule.spec.then.advice:
            if advice_id not in advice_ids:
                advice_ids.append(advice_id)

    return Assessment(
        case_id=case_id,
        urgency=urgency,
        action=urgency.action,
        causes=[
            CauseFinding(id=cid, label=kb.causes[cid].label, **entry) for cid, entry in causes.items()
        ],
        red_flags=list(red_flags.values()),
        advice=[
            AdviceItem(id=a.id, text=a.text, evidence=a.evidence, sources=list(a.sources))
            for a in (kb.advice[i] for i in advice_ids)
        ],
        fired_rules=[
            FiredRule(
                id=f.rule.id,
                pack=f.rule.pack,
                title=f.rule.spec.title,
                urgency=f.rule.spec.then.urgency,
                matched=f.evidence(),
                derived=list(f.rule.spec.then.derive),
                sources=list(f.rule.spec.sources),
            )
            for f in firings
        ],
        worsening_advice=list(kb.manifest.worsening_advice),
        disclaimer=kb.manifest.disclaimer,
        knowledge_base=KnowledgeBaseInfo(name=kb.name, version=kb.version, packs=list(kb.packs)),
    )
