"""A differential check on generated cases: where does a new knowledge base answer less urgently than the old?

Vignettes cover the situations someone thought of. A narrowed condition (the
pulmonary-embolism rule given ``not: {field: weeks_pregnant, ">=": 38}``) lowers the
answer only where no vignette may sit, so ``triage rules diff`` and ``triage audit
--against`` also assess a few thousand seeded random cases (:func:`triage.samples.random_cases`,
consistent ones: weeks without a contradicting trimester, no follow-up beside its denial)
with both knowledge bases and report every case now less urgent.

Advice is part of what a person is told, so it is compared too: advice newly given to a case
the new knowledge base sends to emergency or urgent care (massage beside a suspected clot), or
advice the old one withheld in that case (``withhold_advice``) and the new one gives, is a
safety change; so is a case now out of scope beside a warning sign, a cause or an urgency above
routine (the result would say "NOT COVERED BY THIS TOOL" beside them).

The cases are drawn from the new knowledge base's questions; an answer to a question
the old one lacks is dropped for the old one. Each engine is built once, and a case's
urgency is worked out from the rules it fires (the most urgent of them, as an
assessment's is); only the cases shown are assessed in full.
"""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict

from .conclusions import Firing, Summary, summarise
from .engine import Engine
from .errors import CaseError
from .samples import random_cases
from .urgency import Urgency

DEFAULT_CASES = 5000
SHOWN = 5  # less-urgent cases shown in full (all are counted, and named in JSON)
SERIOUS = (Urgency.EMERGENCY, Urgency.URGENT)
LEVELS = [level.value for level in Urgency]  # most urgent first


# What a case is told, in short: level, causes, red flags, advice, advice withheld, out of scope.
Outcome = Summary


def outcome_of(firings: Iterable[Firing]) -> Outcome:
    """The short outcome of the rules that fired (as their assessment would say it)."""
    return summarise(list(firings))


def unsafe_advice(old_advice: Iterable[str], old_withheld: Iterable[str], new_advice: Iterable[str],
                  new_urgency: Urgency) -> list[str]:
    """Advice the new answer gives that the old did not, where that is a safety change:
    any of it when the new level is emergency or urgent, and advice the old answer withheld."""
    before, withheld = set(old_advice), set(old_withheld)
    given = [a for a in new_advice if a not in before]
    return [a for a in given if new_urgency in SERIOUS or a in withheld]


def scope_contradiction(out_of_scope: bool, urgency: Urgency, causes: Iterable[str], red_flags: Iterable[str]) -> bool:
    """Out of scope beside a warning sign, a cause or an urgency above routine: the result would say
    "NOT COVERED BY THIS TOOL" beside what the tool did find."""
    return out_of_scope and (bool(list(red_flags)) or bool(list(causes)) or urgency.rank > Urgency.ROUTINE.rank)


class GeneratedCase(BaseModel):
    """A generated case now less urgent (or with unsafe advice, or out of scope beside a finding):
    its answers, both levels and the rules that fired in each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    answers: dict[str, Any]
    old_urgency: Urgency
    new_urgency: Urgency
    old_fired: list[str]
    new_fired: list[str]
    advice_given: list[str] = []  # unsafe_advice: advice newly given to an emergency or urgent case, or no longer withheld
    out_of_scope: bool = False  # out of scope beside a warning sign, a cause or an urgency above routine


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
    unsafe_advice: list[str] = []  # ids of the cases given advice unsafely (see unsafe_advice)
    scope_contradictions: list[str] = []  # ids of the cases out of scope beside a finding (new, not old)
    shown_advice_and_scope: list[GeneratedCase] = []  # the first few of those two

    @property
    def safety_changes(self) -> list[str]:
        """Cases with unsafe advice or a new scope contradiction: a failure whatever their level."""
        return list(dict.fromkeys(self.unsafe_advice + self.scope_contradictions))


def compare_generated(old: Engine, new: Engine, count: int = DEFAULT_CASES, seed: int = 0) -> GeneratedComparison:
    """Assess ``count`` seeded random cases with both engines and report every one now less urgent."""
    old_fields = {q.id for q in old.knowledge_base.questions}
    transitions = {a: {b: 0 for b in LEVELS} for a in LEVELS}
    less: list[tuple[dict, Urgency, Urgency]] = []
    advised: dict[str, tuple[dict, list[str]]] = {}
    contradicting: dict[str, dict] = {}
    not_compared: list[str] = []
    more = 0
    for case in random_cases(new.knowledge_base.questions, count, seed, id_prefix="generated-"):
        old_case = {name: value for name, value in case.items() if name == "id" or name in old_fields}
        try:
            after = _outcome(new, case)
        except CaseError as error:
            not_compared.append(f"{case['id']}: the new knowledge base refused it: {error}")
            continue
        try:
            before = _outcome(old, old_case)
        except CaseError as error:  # e.g. a choice the old question did not offer
            not_compared.append(f"{case['id']}: the old knowledge base cannot assess it: {error}")
            continue
        transitions[before.urgency.value][after.urgency.value] += 1
        if after.urgency.rank < before.urgency.rank:
            less.append((case, before.urgency, after.urgency))
        elif after.urgency.rank > before.urgency.rank:
            more += 1
        given = unsafe_advice(before.advice, before.withheld, after.advice, after.urgency)
        if given:
            advised[case["id"]] = (case, given)
        if (scope_contradiction(after.out_of_scope, after.urgency, after.causes, after.red_flags)
                and not scope_contradiction(before.out_of_scope, before.urgency, before.causes, before.red_flags)):
            contradicting[case["id"]] = case
    serious = [case["id"] for case, before, _ in less if before in SERIOUS]
    in_order = sorted(less, key=lambda item: item[1] not in SERIOUS)  # stable: serious first, then drawing order
    shown = [_shown(old, new, case, old_fields) for case, _, _ in in_order[:SHOWN]]
    flagged = list(dict.fromkeys([*advised, *contradicting]))[:SHOWN]
    shown_flagged = [_shown(old, new, advised[i][0] if i in advised else contradicting[i], old_fields,
                            advice_given=advised[i][1] if i in advised else [], out_of_scope=i in contradicting)
                     for i in flagged]
    return GeneratedComparison(cases=count, seed=seed, compared=count - len(not_compared), not_compared=not_compared,
                               transitions=transitions, less_urgent=[case["id"] for case, _, _ in less],
                               serious_less_urgent=serious, more_urgent=more, shown=shown,
                               unsafe_advice=list(advised), scope_contradictions=list(contradicting),
                               shown_advice_and_scope=shown_flagged)


def _outcome(engine: Engine, case: dict) -> Outcome:
    """What the case is told, from the rules it fires (as in its assessment), without building the assessment."""
    return outcome_of(engine.fire(engine.validate(case)))


def _shown(old: Engine, new: Engine, case: dict, old_fields: set[str], **flags) -> GeneratedCase:
    before = old.assess({name: value for name, value in case.items() if name == "id" or name in old_fields})
    after = new.assess(case)
    return GeneratedCase(id=case["id"], answers={k: v for k, v in case.items() if k != "id"},
                         old_urgency=before.urgency, new_urgency=after.urgency,
                         old_fired=[r.id for r in before.fired_rules], new_fired=[r.id for r in after.fired_rules],
                         **flags)


def render_generated(result: GeneratedComparison) -> list[str]:
    """The comparison as lines of text: the counts, then each case shown with its answers and rules."""
    lines = []
    if result.unsafe_advice:
        lines += [f"UNSAFE ADVICE ON GENERATED CASES ({len(result.unsafe_advice)}): advice newly given to an emergency "
                  "or urgent case, or advice the old knowledge base withheld now given (see below)", ""]
    if result.scope_contradictions:
        lines += [f"OUT OF SCOPE BESIDE A FINDING ON GENERATED CASES ({len(result.scope_contradictions)}): 'not covered "
                  "by this tool' beside a warning sign, a cause or an urgency above routine (see below)", ""]
    lines += [f"Generated cases: {result.cases} (seed {result.seed}), {result.compared} compared: "
              f"{len(result.less_urgent)} less urgent ({len(result.serious_less_urgent)} of them from emergency or "
              f"urgent), {result.more_urgent} more urgent, {len(result.unsafe_advice)} with unsafe advice, "
              f"{len(result.scope_contradictions)} out of scope beside a finding"]
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
    for case in result.shown_advice_and_scope:
        answers = ", ".join(f"{k}={v}" for k, v in case.answers.items()) or "(no answers)"
        concerns = ([f"UNSAFE ADVICE: {', '.join(case.advice_given)}"] if case.advice_given else []) + (
            ["OUT OF SCOPE BESIDE A FINDING"] if case.out_of_scope else [])
        lines += [f"  {case.id}: {case.old_urgency.value} -> {case.new_urgency.value}  {'; '.join(concerns)}",
                  f"    answers: {answers}",
                  f"    old fired: {', '.join(case.old_fired) or '-'}",
                  f"    new fired: {', '.join(case.new_fired) or '-'}"]
    if len(result.safety_changes) > len(result.shown_advice_and_scope):
        lines.append(f"  ... and {len(result.safety_changes) - len(result.shown_advice_and_scope)} more with unsafe "
                     "advice or out of scope beside a finding (all named in --format json)")
    return lines
