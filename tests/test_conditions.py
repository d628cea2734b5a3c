"""The condition language: validation, negation normal form, plain evaluation."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from triage.conditions import AllOf, AnyOf, Condition, FieldTest, NotOf, evaluate, negation_normal_form

parse = TypeAdapter(Condition).validate_python


def test_a_field_test_needs_exactly_one_operator():
    with pytest.raises(ValidationError, match="exactly one operator"):
        parse({"field": "fever", "equals": True, ">=": 3})
    with pytest.raises(ValidationError, match="exactly one operator"):
        parse({"field": "fever"})


def test_equals_null_is_refused_in_favour_of_known_false():
    with pytest.raises(ValidationError, match="known: false"):
        parse({"field": "fever", "equals": None})


def test_unknown_never_satisfies_a_comparison_and_not_means_not_known():
    answers = {"leg_cramps": True}
    assert evaluate(parse({"field": "fever", "equals": False}), answers) is False
    assert evaluate(parse({"not": {"field": "fever", "equals": True}}), answers) is True
    assert evaluate(parse({"field": "fever", "known": False}), answers) is True
    assert evaluate(parse({"field": "leg_cramps", "known": True}), answers) is True


def test_equals_does_not_confuse_true_with_one():
    assert evaluate(parse({"field": "trimester", "equals": 1}), {"trimester": True}) is False


def test_negation_is_pushed_down_to_single_tests():
    condition = parse({"not": {"any": [{"field": "a", "equals": True}, {"all": [{"fact": "x"}, {"field": "b", ">=": 2}]}]}})
    nnf = negation_normal_form(condition)
    assert isinstance(nnf, AllOf)
    first, second = nnf.all
    assert isinstance(first, NotOf) and isinstance(first.not_, FieldTest)
    assert isinstance(second, AnyOf) and all(isinstance(c, NotOf) for c in second.any)


@pytest.mark.parametrize(
    "answers",
    [{}, {"a": True}, {"a": False, "b": 1}, {"b": 3}, {"a": True, "b": 5}],
)
def test_negation_normal_form_keeps_the_meaning(answers):
    condition = parse({"not": {"all": [{"field": "a", "equals": True}, {"not": {"field": "b", "<": 2}}]}})
    assert evaluate(negation_normal_form(condition), answers) == evaluate(condition, answers)
