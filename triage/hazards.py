"""Warnings about a knowledge base that could give a less urgent answer than it seems to.

An assessment's urgency is the most urgent level any fired rule asks for, so one
rule cannot lower another's urgency directly. It can indirectly, and these are the
ways ``triage rules check`` warns about:

- **suppression**: rule A concludes something (a cause, advice, an urgency) and
  derives a fact that rule B needs to be absent (``not: {fact: ...}``), where B asks
  for more urgency than A: wherever A fires, B cannot, so a likelier cause hides a
  more urgent one. Facts derived by rules that conclude nothing else (the stage of
  pregnancy) are plain definitions: a rule testing ``not`` on them only states its
  own scope, as a field test would;
- **conflict**: two rules with the same condition (the same situation) ask for
  different urgencies: the more urgent one wins, and the other misleads its reader;
- **silenced red flag**: a question marked ``red_flag`` whose warning answer no
  longer raises the urgency above ``self_care`` in any situation tried (the
  examples of the rules that test it, and the empty case): in none of them is the
  answer what lifts the result above self_care and above what it is without it.

These are warnings, not problems: a reviewer decides. Problems (``triage.knowledge.checks``)
make a knowledge base unusable.
"""

from __future__ import annotations

import json

from .conditions import FactTest, FieldTest, NotOf, negation_normal_form, walk
from .engine import Engine
from .errors import CaseError
from .knowledge import KnowledgeBase, Rule
from .urgency import Urgency


def hazard_warnings(kb: KnowledgeBase, engine: Engine | None = None) -> list[str]:
    """Every warning about the knowledge base, one line each naming the file and rule or question."""
    engine = engine or Engine(kb)
    return suppression_warnings(kb) + conflict_warnings(kb) + silenced_red_flag_warnings(kb, engine)


def _urgency(rule: Rule) -> Urgency:
    return rule.spec.then.urgency or Urgency.SELF_CARE


def _concludes(rule: Rule) -> bool:
    then = rule.spec.then
    return bool(then.urgency or then.causes or then.red_flags or then.advice)


def _negated_facts(rule: Rule) -> set[str]:
    """The facts a rule needs to be absent (``not`` over a fact, after pushing ``not`` inwards)."""
    found: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, NotOf):
            if isinstance(node.not_, FactTest):
                found.add(node.not_.fact)
            return
        for child in getattr(node, "all", None) or getattr(node, "any", None) or []:
            visit(child)

    visit(negation_normal_form(rule.spec.when))
    return found


def _facts_flowing_from(rule: Rule, kb: KnowledgeBase) -> set[str]:
    """The facts a rule derives, and those other rules derive from them (transitively)."""
    facts = set(rule.spec.then.derive)
    changed = True
    while changed:
        changed = False
        for other in kb.rules:
            tested = {t.fact for t in walk(other.spec.when) if isinstance(t, FactTest)}
            if tested & facts and not set(other.spec.then.derive) <= facts:
                facts |= set(other.spec.then.derive)
                changed = True
    return facts


def suppression_warnings(kb: KnowledgeBase) -> list[str]:
    """Rules whose conclusion comes with a fact that stops a more urgent rule from firing."""
    warnings = []
    for hider in kb.rules:
        if not (_concludes(hider) and hider.spec.then.derive):
            continue
        facts = _facts_flowing_from(hider, kb)
        for hidden in kb.rules:
            blocked = sorted(_negated_facts(hidden) & facts)
            if blocked and _urgency(hidden).rank > _urgency(hider).rank:
                warnings.append(
                    f"{hider.file}: rule {hider.id}: derives {', '.join(blocked)}, which rule {hidden.id} "
                    f"({hidden.file}) needs to be absent: wherever {hider.id} fires, {hidden.id} cannot, so "
                    f"{_urgency(hidden).value} becomes at most {_urgency(hider).value} from these two rules"
                )
    return warnings


def conflict_warnings(kb: KnowledgeBase) -> list[str]:
    """Pairs of rules with the same condition that ask for different urgencies."""
    by_condition: dict[str, list[Rule]] = {}
    for rule in kb.rules:
        if rule.spec.then.urgency is None:  # a rule that names only causes or advice sets no level
            continue
        key = json.dumps(rule.spec.when.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)
        by_condition.setdefault(key, []).append(rule)
    warnings = []
    for rules in by_condition.values():
        top = max(rules, key=lambda r: _urgency(r).rank)
        for rule in rules:
            if _urgency(rule).rank < _urgency(top).rank:
                warnings.append(
                    f"{rule.file}: rule {rule.id}: concludes {_urgency(rule).value} in the same situation "
                    f"(the same condition) where rule {top.id} concludes {_urgency(top).value}; "
                    f"the answer is {_urgency(top).value}"
                )
    return warnings


def silenced_red_flag_warnings(kb: KnowledgeBase, engine: Engine) -> list[str]:
    """Red-flag questions whose warning answer raises the urgency above self_care nowhere tried."""
    warnings = []
    for question in kb.questions:
        if not question.red_flag:
            continue
        values = [True] if question.red_flag is True else list(question.red_flag)
        situations = _situations_testing(question.id, kb)
        for value in values:
            if not any(_raises(engine, case, question.id, value) for case in situations):
                warnings.append(
                    f"questions.yaml: question {question.id}: red flag {value!r} no longer raises the urgency "
                    f"above self_care in any of {len(situations)} situations tried (the empty case and the "
                    f"examples of every rule that tests it)"
                )
    return warnings


def _situations_testing(field: str, kb: KnowledgeBase) -> list[dict]:
    """The empty case, and the examples of the rules that test ``field`` or facts derived from it."""
    direct = [r for r in kb.rules if any(isinstance(t, FieldTest) and t.field == field for t in walk(r.spec.when))]
    facts = set().union(*(_facts_flowing_from(r, kb) for r in direct)) if direct else set()
    chained = [r for r in kb.rules if any(isinstance(t, FactTest) and t.fact in facts for t in walk(r.spec.when))]
    cases = [{}]
    for rule in direct + chained:
        cases += [*rule.spec.examples.fires, *rule.spec.examples.does_not_fire]
    return cases


def _raises(engine: Engine, case: dict, field: str, value) -> bool:
    """Whether answering ``value`` to ``field`` makes this case more urgent than self_care and than without it."""
    without = {k: v for k, v in case.items() if k != field}
    try:
        before, after = engine.assess(without).urgency, engine.assess({**without, field: value}).urgency
    except CaseError:  # e.g. an example whose trimester no longer fits: not a situation
        return False
    return after.rank > max(before.rank, Urgency.SELF_CARE.rank)
