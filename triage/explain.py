"""WHY and WHY NOT, from the same three-valued evaluation the questionnaire uses.

- :func:`question_reasons`: for each question, the rules its answer can decide before
  anything is answered (``triage questions --why``);
- :func:`why_not`: for a cause, urgency level, red flag or advice a case did not get, the
  rules that could have concluded it, the test in each that failed, and the answers left
  unknown that could still make it hold (``triage assess FILE --why-not``,
  ``Engine.why_not``), in the shape of CLIPS's ``(matches rule)``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .conditions import FactTest, FieldTest
from .errors import TriageError
from .knowledge import KnowledgeBase, Rule
from .relevance import FAILS, HOLDS, Relevance, relevance_for
from .urgency import Urgency


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailedTest(_Model):
    """A test of a rule that does not hold for the case, and what the case says instead."""

    test: str  # the test in words, as a rule file writes it: "fever equals true"
    field: str | None = None
    fact: str | None = None
    answer: Any = None  # the case's answer to the field (None: unknown)


class RuleWhyNot(_Model):
    """One rule that could conclude the target: whether it holds, fails or is still open."""

    rule: str
    title: str
    status: Literal["holds", "fails", "open"]
    failed: list[FailedTest]  # the failing test of each way (branch) the rule could match
    unknown: list[str]  # unanswered questions that could still make it hold


class WhyNot(_Model):
    """Why a case did (or did not) get a conclusion."""

    target: str
    kind: Literal["urgency", "cause", "red_flag", "advice"]
    concluded: bool  # the case got it after all
    rules: list[RuleWhyNot]


def target_kind(kb: KnowledgeBase, target: str) -> str:
    """What ``target`` names: an urgency level, a cause, a red flag or an advice id."""
    if target in {u.value for u in Urgency}:
        return "urgency"
    if target in kb.causes:
        return "cause"
    if any(flag.id == target for rule in kb.rules for flag in rule.spec.then.red_flags):
        return "red_flag"
    if target in kb.advice:
        return "advice"
    levels = ", ".join(u.value for u in Urgency)
    raise TriageError(f"{target!r} is not an urgency level ({levels}), a cause, a red flag or an advice id "
                      "(see 'triage rules list')")


def _concludes(rule: Rule, kind: str, target: str) -> bool:
    then = rule.spec.then
    if kind == "urgency":
        return then.urgency is not None and then.urgency.value == target
    if kind == "cause":
        return target in then.causes
    if kind == "red_flag":
        return any(flag.id == target for flag in then.red_flags)
    return target in then.advice


def why_not(kb: KnowledgeBase, answers: dict, target: str, concluded: bool,
            relevance: Relevance | None = None) -> WhyNot:
    """Explain ``target`` for a case's known ``answers`` (unknown answers absent).

    ``concluded`` says whether the case's assessment has the target. Each rule that could
    conclude it is evaluated in three values: *holds* (it fired), *fails* (a test failed on
    the answers given; each failing test is named) or *open* (answers left unknown could
    still make it hold; they are named).
    """
    kind = target_kind(kb, target)
    relevance = relevance or relevance_for(kb)
    known = {k: v for k, v in answers.items() if v is not None and k != "id"}
    analysis = relevance.analyse(known)
    result = []
    for compiled in sorted(relevance.rules, key=lambda c: c.rule.order):
        if not _concludes(compiled.rule, kind, target):
            continue
        state = analysis.rules[compiled.rule.id]
        failed: list[FailedTest] = []
        if state.status != HOLDS:
            for branch in compiled.branches:
                test = _failing_test(relevance, branch, known, analysis)
                if test is not None and test not in failed:
                    failed.append(test)
        result.append(RuleWhyNot(rule=compiled.rule.id, title=compiled.rule.spec.title, status=state.status,
                                 failed=failed, unknown=sorted(state.open_fields, key=_order(kb))))
    return WhyNot(target=target, kind=kind, concluded=concluded, rules=result)


def _order(kb: KnowledgeBase):
    position = {q.id: i for i, q in enumerate(kb.questions)}
    return lambda question_id: position.get(question_id, len(position))


def _failing_test(relevance: Relevance, branch, known: dict, analysis) -> FailedTest | None:
    """The first test of a branch that fails on the answers given (None if none fails)."""
    for constraint in branch.fields:
        if relevance.field_status(constraint, known) == FAILS:
            words = " and ".join(_describe(test, negated) for test, negated in constraint.literals)
            return FailedTest(test=words, field=constraint.field, answer=known.get(constraint.field))
    for fact, negated in branch.facts:
        status = analysis.facts.get(fact, FAILS)
        if status != "open" and (status == HOLDS) == negated:
            return FailedTest(test=f"{'not ' if negated else ''}fact {fact}", fact=fact)
    return None


def _describe(test: FieldTest | FactTest, negated: bool) -> str:
    if isinstance(test, FactTest):
        words = f"fact {test.fact}"
    else:
        operand = test.operand
        shown = "true" if operand is True else "false" if operand is False else operand
        words = f"{test.field} {test.operator} {shown}"
    return f"not ({words})" if negated else words


def question_reasons(kb: KnowledgeBase) -> dict[str, list]:
    """For each question, the rules its answer can decide before anything is answered."""
    from .questionnaire import reasons

    analysis = relevance_for(kb).analyse({})
    return {q.id: reasons(analysis, q.id) for q in kb.questions}


def render_why_not(why: WhyNot, kb: KnowledgeBase) -> str:
    """A :class:`WhyNot` in plain words."""
    got = "The case gets" if why.concluded else "The case does not get"
    lines = [f"{got} {why.target} ({why.kind.replace('_', ' ')})."]
    if not why.rules:
        lines.append("No rule in the knowledge base concludes it.")
    elif why.kind == "urgency" and not why.concluded and any(r.status == HOLDS for r in why.rules):
        lines.append("A rule giving it fired, but a more urgent level outranks it: the urgency is the "
                     "most urgent that any fired rule gives.")
    for rule in why.rules:
        lines.append(f"- {rule.rule}: {rule.title}")
        if rule.status == HOLDS:
            lines.append("    holds: it fired for this case")
            continue
        for test in rule.failed:
            if test.field is not None:
                answer = "unknown" if test.answer is None else _answer_words(test.answer)
                lines.append(f"    fails: {test.test} (answered: {answer})")
            else:
                lines.append(f"    fails: {test.test}")
        if rule.unknown:
            lines.append(f"    could still hold if answered: {', '.join(rule.unknown)}")
    return "\n".join(lines)


def _answer_words(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else str(value)
