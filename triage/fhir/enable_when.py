"""A question's ``ask_when`` condition as FHIR ``enableWhen`` / ``enableBehavior``: see
:func:`enable_when` for how, and for the safe approximation used where FHIR's flat
list cannot say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..conditions import AllOf, AnyOf, FactTest, FieldTest, NotOf, negation_normal_form
from ..questions import Question

_MAX_POINTS = 64  # the most `=` tests one negated integer test may expand to


@dataclass(frozen=True)
class EnableWhen:
    """A condition as FHIR ``enableWhen``.

    ``conditions`` is the flat list (empty: always enabled), ``behavior`` is
    ``all`` or ``any`` when there are several, and ``exact`` says whether FHIR
    enables the item for exactly the answers the condition holds for; when not
    exact it enables it for more (never fewer) answers.
    """

    conditions: list[dict]
    behavior: str | None
    exact: bool


@dataclass(frozen=True)
class _Flat:
    tests: tuple  # enableWhen dicts; empty means "always"
    behavior: str  # how the tests combine, when there are several
    exact: bool


def _always(exact: bool) -> _Flat:
    return _Flat((), "all", exact)


def enable_when(condition, questions: Mapping[str, Question]) -> EnableWhen:
    """Map an ``ask_when`` condition to ``enableWhen`` / ``enableBehavior``.

    Our ``not`` means "not known to hold", so it is true for an unanswered field.
    FHIR's ``!=`` says the same on paper ("no answer equals") but form fillers
    disagree about unanswered items, so it is never used: a negated test becomes
    ``exists = false`` OR ``=`` each value it leaves (``<``/``>`` for integer tails),
    which every reading of the standard evaluates the same way.

    FHIR can say one flat ``all`` or one flat ``any``. Conditions are put in
    negation normal form; an ``any`` inside an ``all`` is dropped from it, and an
    ``all`` inside an ``any`` is cut to its first test. Both only weaken the
    condition, so the question is enabled whenever it is relevant (and maybe more
    often): asking more is safe, hiding a relevant question is not. Derived facts
    and unknown fields cannot be tested in FHIR and count as true.
    """
    flat = _flatten(negation_normal_form(condition), questions)
    tests = [dict(test) for test in flat.tests]
    return EnableWhen(tests, flat.behavior if len(tests) > 1 else None, flat.exact)


def _dedupe(tests) -> tuple:
    unique: list[dict] = []
    for test in tests:
        if test not in unique:
            unique.append(test)
    return tuple(unique)


def _flatten(condition, questions: Mapping[str, Question]) -> _Flat:
    if isinstance(condition, FieldTest):
        return _literal(condition, False, questions)
    if isinstance(condition, NotOf):
        if isinstance(condition.not_, FieldTest):
            return _literal(condition.not_, True, questions)
        return _always(False)  # not of a derived fact: no FHIR equivalent
    if isinstance(condition, FactTest):
        return _always(False)

    if isinstance(condition, AnyOf):
        parts = [_flatten(c, questions) for c in condition.any]
        if len(parts) == 1:
            return parts[0]
        always = [p for p in parts if not p.tests]
        if always:  # true or anything is true
            return _always(any(p.exact for p in always))
        exact = all(p.exact for p in parts)
        tests: list[dict] = []
        for part in parts:
            if len(part.tests) > 1 and part.behavior == "all":
                tests.append(part.tests[0])  # a and b implies a: weaker, so safe
                exact = False
            else:
                tests.extend(part.tests)
        return _Flat(_dedupe(tests), "any", exact)

    if isinstance(condition, AllOf):
        parts = [_flatten(c, questions) for c in condition.all]
        exact = all(p.exact for p in parts)
        conjuncts: list[dict] = []
        disjunctions: list[_Flat] = []
        for part in parts:
            if not part.tests:
                continue  # true and x is x
            if len(part.tests) == 1 or part.behavior == "all":
                conjuncts.extend(part.tests)
            else:
                disjunctions.append(part)
        if conjuncts:
            # Dropping the disjunctions only weakens the condition.
            return _Flat(_dedupe(conjuncts), "all", exact and not disjunctions)
        if disjunctions:
            return _Flat(disjunctions[0].tests, "any", exact and len(disjunctions) == 1)
        return _always(exact)

    # A new kind of condition must say how it maps: guessing could hide a question.
    raise TypeError(f"no enableWhen mapping for a condition of type {type(condition).__name__}")


def _literal(test: FieldTest, negated: bool, questions: Mapping[str, Question]) -> _Flat:
    """One test, or its negation, as an exact disjunction of enableWhen tests."""
    question = questions.get(test.field)
    if question is None:
        return _always(False)
    linkid = question.id

    def exists(flag: bool) -> dict:
        return {"question": linkid, "operator": "exists", "answerBoolean": flag}

    def equals(value) -> dict:
        return {"question": linkid, "operator": "=", "answer" + question.fhir_value_type: question.fhir_value(value)}

    if test.operator == "known":
        return _Flat((exists(bool(test.operand) != negated),), "any", True)

    try:
        domain = question.domain()
        holds = [value for value in domain if test.holds_for(value)]
    except (TypeError, StopIteration):  # a test that does not fit the question: cannot say it
        return _always(False)

    def matching(values: list) -> list[dict]:
        return _ordered_tests(question, values, equals) if question.ordered else [equals(v) for v in values]

    if not negated:
        if test.operator in (">=", "<=", ">", "<") and question.ordered:
            tests = [{"question": linkid, "operator": test.operator, "answer" + question.fhir_value_type: test.operand}]
        elif not holds:
            return _always(False)  # never true; FHIR cannot say "never", so enabling is the safe side
        else:
            tests = matching(holds)
    else:
        # Not known to hold: unanswered, or answered with a value the test rejects.
        rest = [value for value in domain if value not in holds]
        if not holds:
            return _always(True)  # holds for no answer, so its negation always holds
        tests = [exists(False)] + matching(rest)
    if len(tests) > _MAX_POINTS:
        return _always(False)
    return _Flat(tuple(tests), "any", True)


def _ordered_tests(question: Question, values: list[int], equals) -> list[dict]:
    """Tests true exactly for ``values`` (sorted, within min..max): ``<=``/``>=`` for runs at an end, ``=`` inside."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    tests = []
    for run in runs:
        if len(run) > 1 and run[0] == question.min:
            tests.append({"question": question.id, "operator": "<=", "answer" + question.fhir_value_type: run[-1]})
        elif len(run) > 1 and run[-1] == question.max:
            tests.append({"question": question.id, "operator": ">=", "answer" + question.fhir_value_type: run[0]})
        else:
            tests.extend(equals(v) for v in run)
    return tests
