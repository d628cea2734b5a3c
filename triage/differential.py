"""A differential check on generated cases: where does a new knowledge base answer less urgently than the old?

Vignettes cover the situations someone thought of. A narrowed condition (the
pulmonary-embolism rule given ``not: {field: weeks_pregnant, ">=": 38}``) lowers the
answer only where no vignette may sit, so ``triage rules diff`` and ``triage audit
--against`` also assess a few thousand seeded random cases (:func:`triage.samples.random_cases`,
consistent ones: weeks without a contradicting trimester, no follow-up beside its denial)
with both knowledge bases and report every case now less urgent.

The cases are drawn from the new knowledge base's questions; an answer to a question
the old one lacks is dropped for the old one. Each engine is built once, and a case's
urgency is worked out from the rules it fires (the most urgent of them, as an
assessment's is); only the cases shown are assessed in full.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .engine import Engine
from .errors import CaseError
from .samples import random_cases
from .urgency import Urgency

DEFAULT_CASES = 5000
SHOWN = 5  # less-urgent cases shown in full (all are counted, and named in JSON)
SERIOUS = (Urgency.EMERGENCY, Urgency.URGENT)
LEVELS = [level.value for level in Urgency]  # most urgent first


class GeneratedCase(BaseModel):
    """A generated case now less urgent: its answers, both levels and the rules that fired in each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    answers: dict[str, Any]
    old_urgency: Urgency
    new_urgency: Urgency
    old_fired: list[str]
    new_fired: list[str]


class GeneratedComparison(BaseModel):
    """Both knowledge bases on the same generated cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: int  # generated
    seed: int
    compared: int  # assessed by both
    not_compared: list[str] = []  # cases one knowledge base refused, with why
    transitions: dict[str, dict[str, int]]  # old level -> new level -> cases
    less_urgent: list[str]  # ids of the cases now less urgent
    serious_less_urgent: list[str]  # of those, the ones the old knowledge base sent to emergency or urgent care
    more_urgent: int
    shown: list[GeneratedCase]  # the first few less-urgent cases, serious ones first


def compare_generated(old: Engine, new: Engine, count: int = DEFAULT_CASES, seed: int = 0) -> GeneratedComparison:
    """Assess ``count`` seeded random cases with both engines and report every one now less urgent."""
    old_fields = {q.id for q in old.knowledge_base.questions}
    transitions = {a: {b: 0 for b in LEVELS} for a in LEVELS}
    less: list[tuple[dict, Urgency, Urgency]] = []
    not_compared: list[str] = []
    more = 0
    for case in random_cases(new.knowledge_base.questions, count, seed, id_prefix="generated-"):
        old_case = {name: value for name, value in case.items() if name == "id" or name in old_fields}
        try:
            after = _urgency(new, case)
        except CaseError as error:
            not_compared.append(f"{case['id']}: the new knowledge base refused it: {error}")
            continue
        try:
            before = _urgency(old, old_case)
        except CaseError as error:  # e.g. a choice the old question did not offer
            not_compared.append(f"{case['id']}: the old knowledge base cannot assess it: {error}")
            continue
        transitions[before.value][after.value] += 1
        if after.rank < before.rank:
            less.append((case, before, after))
        elif after.rank > before.rank:
            more += 1
    serious = [case["id"] for case, before, _ in less if before in SERIOUS]
    in_order = sorted(less, key=lambda item: item[1] not in SERIOUS)  # stable: serious first, then drawing order
    shown = [_shown(old, new, case, old_fields) for case, _, _ in in_order[:SHOWN]]
    return GeneratedComparison(cases=count, seed=seed, compared=count - len(not_compared), not_compared=not_compared,
                               transitions=transitions, less_urgent=[case["id"] for case, _, _ in less],
                               serious_less_urgent=serious, more_urgent=more, shown=shown)


def _urgency(engine: Engine, case: dict) -> Urgency:
    """The case's urgency: the most urgent level of the rules it fires, as in its assessment."""
    return Urgency.most_urgent(firing.urgency for firing in engine.fire(engine.validate(case)))


def _shown(old: Engine, new: Engine, case: dict, old_fields: set[str]) -> GeneratedCase:
    before = old.assess({name: value for name, value in case.items() if name == "id" or name in old_fields})
    after = new.assess(case)
    return GeneratedCase(id=case["id"], answers={k: v for k, v in case.items() if k != "id"},
                         old_urgency=before.urgency, new_urgency=after.urgency,
                         old_fired=[r.id for r in before.fired_rules], new_fired=[r.id for r in after.fired_rules])


def render_generated(result: GeneratedComparison) -> list[str]:
    """The comparison as lines of text: the counts, then each case shown with its answers and rules."""
    lines = [f"Generated cases: {result.cases} (seed {result.seed}), {result.compared} compared: "
             f"{len(result.less_urgent)} less urgent ({len(result.serious_less_urgent)} of them from emergency or "
             f"urgent), {result.more_urgent} more urgent"]
    if result.not_compared:
        lines.append(f"  {len(result.not_compared)} not compared (one knowledge base cannot assess them):")
        lines += [f"    {reason}" for reason in result.not_compared[:SHOWN]]
        if len(result.not_compared) > SHOWN:
            lines.append(f"    ... and {len(result.not_compared) - SHOWN} more")
    moved = [f"{a} -> {b}: {n}" for a, row in result.transitions.items() for b, n in row.items()
             if n and Urgency(b).rank < Urgency(a).rank]
    if moved:
        lines.append(f"  less urgent by level: {', '.join(moved)}")
    for case in result.shown:
        answers = ", ".join(f"{k}={v}" for k, v in case.answers.items()) or "(no answers)"
        lines += [f"  {case.id}: {case.old_urgency.value} -> {case.new_urgency.value}  LESS URGENT",
                  f"    answers: {answers}",
                  f"    old fired: {', '.join(case.old_fired) or '-'}",
                  f"    new fired: {', '.join(case.new_fired) or '-'}"]
    if len(result.less_urgent) > len(result.shown):
        lines.append(f"  ... and {len(result.less_urgent) - len(result.shown)} more (all named in --format json)")
    return lines
