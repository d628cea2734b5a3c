"""Every consistency check of a knowledge base beyond its schema, each written once.

- :func:`check_references`, run by every load: what rules and questions refer to
  (fields and their values, facts, causes, advice, source documents) and the
  detail-question rule.
- :func:`strata`: facts must not depend on themselves; the order it finds is each
  rule's salience (:mod:`triage.compiler`).
- The quotes (:func:`quote_problems`) and the examples (:func:`rule_example_problems`),
  run by ``triage rules check`` (:mod:`triage.knowledge.verify`) and by the test suite
  one rule at a time, so each rule passes or fails under its own name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..conditions import FactTest, FieldTest, walk
from ..errors import CaseError, KnowledgeBaseError
from ..questions import Question
from ..urgency import Urgency
from .base import KnowledgeBase
from .models import Advice, Rule, Source

if TYPE_CHECKING:
    from ..engine import Engine


def check_references(kb: KnowledgeBase) -> list[str]:
    """Problems with what rules refer to: fields and their values, facts, causes, advice, documents."""
    problems = []
    derived = {fact for rule in kb.rules for fact in rule.spec.then.derive}
    for rule in kb.rules:
        where = f"{rule.file}: rule {rule.id}"
        for test in walk(rule.spec.when):
            if isinstance(test, FactTest):
                if test.fact not in derived:
                    problems.append(f"{where}: when: fact {test.fact!r} is derived by no rule in the selected packs")
            else:
                problems.extend(f"{where}: when: {p}" for p in _check_field_test(test, kb.question_by_id))
        for cause in rule.spec.then.causes:
            if cause not in kb.causes:
                problems.append(f"{where}: then.causes: unknown cause {cause!r} (add it to catalogue/causes.yaml)")
        for advice in [*rule.spec.then.advice, *rule.spec.then.withhold_advice]:
            if advice not in kb.advice:
                problems.append(f"{where}: then.advice: unknown advice {advice!r} (add it to catalogue/advice.yaml)")
        for source in rule.spec.sources:
            if source.document:
                problems.extend(_document_problems(kb, source.document, f"{where}: sources"))
    for item in kb.advice.values():
        for source in item.sources:
            if source.document:
                problems.extend(_document_problems(kb, source.document, f"{advice_place(item)}: sources"))
    for question in kb.questions:
        if question.ask_when is not None:
            for test in walk(question.ask_when):
                if isinstance(test, FieldTest):
                    problems.extend(
                        f"questions.yaml: question {question.id}: ask_when: {p}"
                        for p in _check_field_test(test, kb.question_by_id)
                    )
                else:
                    problems.append(f"questions.yaml: question {question.id}: ask_when: only field tests are allowed, not facts")
    problems.extend(_detail_problems(kb))
    return problems


def advice_place(item: Advice) -> str:
    """Where an advice item is, as its problems name it."""
    return f"catalogue/advice.yaml: advice {item.id}"


def _document_problems(kb: KnowledgeBase, name: str, where: str) -> list[str]:
    """A cited source document that is missing, or cannot be read as UTF-8 text."""
    return _read_document(kb, name, where)[1]


def _read_document(kb: KnowledgeBase, name: str, where: str) -> tuple[str | None, list[str]]:
    """The text of a cited source document, or None and the problems: missing, or not UTF-8 text.

    Loading (:func:`check_references`) and the quote check both read documents through
    here, so each problem with a document is worded once.
    """
    try:
        text = kb.document_text(name)
    except KnowledgeBaseError as error:
        return None, [f"{where}: document {name!r}: {problem}" for problem in error.problems]
    if text is None:
        return None, [f"{where}: document {name!r} is not in sources/"]
    return text, []


def _detail_problems(kb: KnowledgeBase) -> list[str]:
    """A ``detail`` question is asked only on request, so no urgency or red flag may rest on it.

    Facts derived from a detail question count as detail too, so chaining cannot hide it.
    """
    detail = {q.id for q in kb.questions if q.detail}
    if not detail:
        return []
    tainted_facts: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in kb.rules:
            if set(rule.spec.then.derive) - tainted_facts and _uses(rule, detail, tainted_facts):
                tainted_facts |= set(rule.spec.then.derive)
                changed = True
    problems = []
    for rule in kb.rules:
        then = rule.spec.then
        raises = (then.urgency is not None and then.urgency is not Urgency.SELF_CARE) or then.red_flags
        used = _uses(rule, detail, tainted_facts)
        if raises and used:
            problems.append(
                f"{rule.file}: rule {rule.id}: when: uses {', '.join(sorted(used))}, which only detail "
                f"questions decide, to set urgency or a red flag (remove 'detail: true' from the question)"
            )
    return problems


def _uses(rule: Rule, fields: set[str], facts: set[str]) -> set[str]:
    """The fields in ``fields`` and facts in ``facts`` that a rule's condition tests."""
    used = set()
    for test in walk(rule.spec.when):
        if isinstance(test, FieldTest) and test.field in fields:
            used.add(test.field)
        elif isinstance(test, FactTest) and test.fact in facts:
            used.add(test.fact)
    return used


def _check_field_test(test: FieldTest, questions: dict[str, Question]) -> list[str]:
    import difflib

    question = questions.get(test.field)
    if question is None:
        hint = difflib.get_close_matches(test.field, list(questions), n=1)
        return [f"field {test.field!r}: no such question" + (f" (did you mean {hint[0]!r}?)" if hint else "")]
    op, operand = test.operator, test.operand
    if op == "known":
        return []
    if op in (">=", "<=", ">", "<"):
        if not question.ordered:
            return [f"field {test.field!r}: {op} needs an integer question, {test.field} is {question.type}"]
        return []
    values = operand if op == "in" else [operand]
    bad = [v for v in values if not question.accepts(v)]
    if bad:
        return [f"field {test.field!r}: {op} {bad[0]!r} is not a valid answer; expected {question.describe_allowed()}"]
    return []


def strata(rules: list[Rule]) -> dict[str, int]:
    """Each rule's stratum: 0, or one more than that of any rule deriving a fact it tests.

    Raises :class:`KnowledgeBaseError` when facts depend on themselves.
    """
    derivers: dict[str, list[Rule]] = {}
    for rule in rules:
        for fact in rule.spec.then.derive:
            derivers.setdefault(fact, []).append(rule)
    result: dict[str, int] = {}
    visiting: set[str] = set()

    def stratum(rule: Rule) -> int:
        if rule.id in result:
            return result[rule.id]
        if rule.id in visiting:
            raise KnowledgeBaseError([f"{rule.file}: rule {rule.id}: when: its facts depend on themselves (a cycle)"])
        visiting.add(rule.id)
        level = 0
        for test in walk(rule.spec.when):
            if isinstance(test, FactTest):
                for deriver in derivers.get(test.fact, []):
                    level = max(level, stratum(deriver) + 1)
        visiting.discard(rule.id)
        result[rule.id] = level
        return level

    for rule in rules:
        stratum(rule)
    return result


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space, for quote matching."""
    return re.sub(r"\s+", " ", text).strip()


def quote_problems(kb: KnowledgeBase, where: str, sources: list[Source]) -> list[str]:
    """Problems with the document quotes in ``sources``: each must appear verbatim."""
    problems = []
    for source in sources:
        if not source.document:
            continue
        if Path(source.document).name != source.document:  # outside sources/, so outside the digest
            problems.append(f"{where}: sources: document {source.document!r} must be a file name in sources/, not a path")
            continue
        text, unreadable = _read_document(kb, source.document, f"{where}: sources")
        problems.extend(unreadable)
        if text is not None and normalise(source.quote) not in normalise(text):
            problems.append(f"{where}: sources: quote not found in {source.document}: {source.quote!r}")
    return problems


def rule_quote_problems(kb: KnowledgeBase, rule: Rule) -> list[str]:
    """Quotes of one rule that are not in their document."""
    return quote_problems(kb, f"{rule.file}: rule {rule.id}", rule.spec.sources)


def advice_quote_problems(kb: KnowledgeBase) -> list[str]:
    """Quotes of the advice catalogue that are not in their document."""
    return [
        problem
        for item in kb.advice.values()
        for problem in quote_problems(kb, advice_place(item), item.sources)
    ]


def rule_example_problems(engine: Engine, rule: Rule, fired_by_case: dict | None = None) -> list[str]:
    """Examples of one rule that are invalid, do not fire it, or (near misses) do fire it.

    ``fired_by_case``, shared between calls, remembers the rules each distinct
    example fired: knowledge bases repeat examples across rules, and running
    each once keeps checking thousands of rules from growing with their square.
    """
    problems = []
    where = f"{rule.file}: rule {rule.id}: examples"
    cache = fired_by_case if fired_by_case is not None else {}
    for kind, cases, should_fire in (
        ("fires", rule.spec.examples.fires, True),
        ("does_not_fire", rule.spec.examples.does_not_fire, False),
    ):
        for number, case in enumerate(cases, start=1):
            key = json.dumps(case, sort_keys=True, default=repr)
            if key not in cache:
                try:
                    # Only which rules fired matters here: the engine's firings, without building the assessment.
                    cache[key] = frozenset(f.rule.id for f in engine.fire(engine.validate(case)))
                except CaseError as error:
                    cache[key] = error
            fired_ids = cache[key]
            if isinstance(fired_ids, CaseError):
                problems.append(f"{where}.{kind}[{number}]: invalid case: {fired_ids}")
                continue
            fired = rule.id in fired_ids
            if fired != should_fire:
                verb = "does not fire" if should_fire else "fires"
                problems.append(f"{where}.{kind}[{number}]: {case} {verb} the rule")
    return problems




def out_of_scope_problems(engine: Engine, rule: Rule, fired_by_case: dict) -> list[str]:
    """A rule outside core whose own ``examples.fires`` cases also fire the out-of-scope rule.

    The answers would then be reported as NOT COVERED BY THIS TOOL beside this rule's
    conclusion: the fields the rule acts on are missing from core/scope.yaml's list of
    complaints. ``fired_by_case`` is the cache :func:`rule_example_problems` filled.
    """
    from ..conclusions import OUT_OF_SCOPE_FACT  # the fact core/scope.yaml's rule derives

    kb = engine.knowledge_base
    scope = [r.id for r in kb.rules if OUT_OF_SCOPE_FACT in r.spec.then.derive]
    if rule.pack == "core" or rule.id in scope:
        return []
    problems = []
    fields = list(dict.fromkeys(t.field for t in walk(rule.spec.when) if isinstance(t, FieldTest)))
    for number, case in enumerate(rule.spec.examples.fires, start=1):
        fired = fired_by_case.get(json.dumps(case, sort_keys=True, default=repr))
        if not isinstance(fired, frozenset) or rule.id not in fired:
            continue  # an invalid example, or one that does not fire the rule: already a problem
        for scope_rule in (r for r in scope if r in fired):
            problems.append(f"{rule.file}: rule {rule.id}: examples.fires[{number}]: {case} also fires {scope_rule}, so "
                            "the result would say the answers are not covered by this tool: add the fields this rule "
                            f"acts on ({', '.join(fields) or 'none'}) to the list in core/scope.yaml")
    return problems


def _single_answer_cases(kb: KnowledgeBase) -> list[dict]:
    """Cases of one answer each (every value of every question; whole numbers at their bounds and
    at each threshold a rule tests, and either side), alone and at each stage of pregnancy ("no"
    alone only).

    Random cases (:mod:`triage.samples`) almost never leave every complaint unanswered, and so
    almost never reach the out-of-scope rule: one answer at a time reaches exactly the cases it
    decides, such as a baby moving less at 30 weeks with nothing else answered.
    """
    thresholds: dict[str, set[int]] = {}
    for rule in kb.rules:
        for test in (t for t in walk(rule.spec.when) if isinstance(t, FieldTest)):
            for bound in (test.ge, test.le, test.gt, test.lt):
                if bound is not None:
                    thresholds.setdefault(test.field, set()).update({bound - 1, bound, bound + 1})
    answers: list[tuple[str, object]] = []
    for question in kb.questions:
        if hasattr(question, "values"):  # a choice
            values = list(question.values)
        elif hasattr(question, "min"):  # a whole number
            values = sorted(v for v in {question.min, question.max, *thresholds.get(question.id, ())}
                            if question.min <= v <= question.max)
        else:
            values = [True, False]
        answers += [(question.id, value) for value in values]
    stages: list[dict] = [{}]
    fields = {q.id for q in kb.questions}
    if "weeks_pregnant" in fields:
        stages += [{"weeks_pregnant": weeks} for weeks in (8, 18, 30, 39)]
    if "trimester" in fields:
        stages += [{"trimester": trimester} for trimester in (1, 2, 3)]
    cases = []
    for field, value in answers:
        # A "no" decides little on its own: alone only, to keep the check quick.
        for stage in stages if value is not False else stages[:1]:
            if field not in stage and not (field == "trimester" and "weeks_pregnant" in stage):
                cases.append({**stage, field: value})
    return cases


def scope_contradiction_problems(engine: Engine, fired_by_case: dict, random_cases: int = 200) -> list[str]:
    """Cases where the out-of-scope rule fires beside a warning sign, a cause or an urgency above routine.

    The result would say NOT COVERED BY THIS TOOL beside what the tool found: the fields the
    other rule acts on are missing from core/scope.yaml's list of complaints. Tried on every
    example of every rule (``fired_by_case``, the cache :func:`rule_example_problems` filled), on
    one answer at a time at each stage of pregnancy, and on seeded random cases. Each offending
    rule is named once, with the first case that shows it.
    """
    from ..conclusions import OUT_OF_SCOPE_FACT
    from ..samples import random_cases as draw

    kb = engine.knowledge_base
    scope = {r.id for r in kb.rules if OUT_OF_SCOPE_FACT in r.spec.then.derive}
    if not scope:
        return []
    tried: list[tuple[str, dict, frozenset | None]] = []
    for rule in kb.rules:
        for kind in ("fires", "does_not_fire"):
            for number, case in enumerate(getattr(rule.spec.examples, kind), start=1):
                fired = fired_by_case.get(json.dumps(case, sort_keys=True, default=repr))
                if isinstance(fired, frozenset):
                    tried.append((f"the example {rule.id} examples.{kind}[{number}]", case, fired))
    generated = _single_answer_cases(kb) + [
        {k: v for k, v in case.items() if k != "id"} for case in draw(kb.questions, random_cases, seed=0)]
    tried += [("the generated case", case, None) for case in generated]
    problems, named = [], set()
    for where, case, fired in tried:
        if fired is None:
            try:
                fired = frozenset(f.rule.id for f in engine.fire(engine.validate(case)))
            except CaseError:
                continue  # a generated case the questions refuse: nothing to learn from it
        if not fired & scope:
            continue
        for rule_id in sorted(fired - scope - named):
            then = kb.rule_by_id[rule_id].spec.then
            found = (["warning sign " + ", ".join(f.id for f in then.red_flags)] if then.red_flags else []) + (
                ["cause " + ", ".join(then.causes)] if then.causes else []) + (
                ["urgency " + then.urgency.value] if then.urgency and then.urgency.rank > Urgency.ROUTINE.rank else [])
            if not found:
                continue
            named.add(rule_id)
            rule = kb.rule_by_id[rule_id]
            problems.append(
                f"{rule.file}: rule {rule_id}: fires beside {', '.join(sorted(fired & scope))} (out of scope) on {where} "
                f"{case}: the result would say NOT COVERED BY THIS TOOL beside its {'; '.join(found)}: add the fields "
                "this rule acts on to the list in core/scope.yaml")
    return problems
