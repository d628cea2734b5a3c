"""The alpha-network shortcuts of :mod:`triage.rete`: cheaper checks and node callbacks.

Each computes what the experta check or node it replaces computes, for the only
kinds of check the compiler produces (tests that bind nothing, and the capture
that ends a pattern); :mod:`triage.rete` says where and why they are wired in.
"""

from __future__ import annotations

from typing import Any, Callable

from ._experta import FeatureCheck, FeatureTesterNode, L, P, Token, TypeCheck


class _AnswerTest:
    """The test of an alpha node on one answer: ``predicate(answers[field])``.

    What experta's ``FeatureCheck`` computes for a top-level field and a predicate
    that binds nothing: false when the field is absent (an ``Answers`` fact declares
    no defaults), else whether the predicate accepts the value.
    """

    __slots__ = ("field", "predicate")

    def __init__(self, field: str, predicate: Callable[[Any], Any]):
        self.field = field
        self.predicate = predicate

    def __call__(self, fact) -> bool:
        value = fact.get(self.field, _ABSENT)
        return value is not _ABSENT and bool(self.predicate(value))


_ABSENT = object()


class _TypeTest:
    """The test of an alpha node on a fact's type: what experta's ``TypeCheck`` computes, unlogged."""

    __slots__ = ("fact_type",)

    def __init__(self, fact_type: type):
        self.fact_type = fact_type

    def __call__(self, fact) -> bool:
        return type(fact) is self.fact_type  # what TypeCheck compares (classes: identity)


class _LiteralTest:
    """The test of an alpha node ``Derived(name="...")``: what experta's ``FeatureCheck`` computes
    for a top-level field and a literal that binds nothing (false when the field is absent)."""

    __slots__ = ("field", "value")

    def __init__(self, field: str, value: Any):
        self.field = field
        self.value = value

    def __call__(self, fact) -> bool:
        actual = fact.get(self.field, _ABSENT)
        return actual is not _ABSENT and self.value == actual


def _fast_test(check):
    """A cheaper equivalent of an alpha node's check that binds nothing, or None."""
    if isinstance(check, TypeCheck):
        return _TypeTest(check.fact_type)
    if isinstance(check, FeatureCheck) and _binds_nothing(check) and isinstance(check.what, str) \
            and "__" not in check.what:
        if isinstance(check.how, P):
            return _AnswerTest(check.what, check.how.match)
        if isinstance(check.how, L):
            return _LiteralTest(check.what, check.how.value)
    return None


def _capturing(node: FeatureTesterNode) -> Callable:
    """What ``node.activate`` does for experta's ``FactCapture`` check, built directly.

    experta copies the token, calls the check (which logs) for ``{name: fact}``,
    tests that binding against the context and adds it. A token reaching a capture
    here has an empty context (no test before it binds), so the binding cannot
    conflict: the child gets a new token with the fact bound. A token with a
    context takes experta's own path.
    """
    bind, children, slow = node.matcher.bind, node.children, node.activate

    def activate(token):
        if token.context:
            return slow(token)
        data = token.data
        for fact in data:
            captured = tuple.__new__(Token, (token.tag, set(data), {bind: fact}))
            for child in children:
                child.callback(captured)

    return activate


def _binds_nothing(check) -> bool:
    """Whether an alpha node's check only tests (never adds a binding to the token)."""
    if isinstance(check, TypeCheck):
        return True
    return isinstance(check, FeatureCheck) and isinstance(check.how, (P, L)) and check.how.__bind__ is None


def _testing(node: FeatureTesterNode) -> Callable:
    """What ``node.activate`` does for a test that binds nothing, less what only a binding needs.

    ``FeatureTesterNode._activate`` also unpacks a binding the test may return
    into the token; these tests return only True or False. The token, which the
    test only reads, is passed on as it is (see :class:`_Matcher`). A test on an
    answer, the most frequent by far, is inlined: one call fewer per test.
    """
    test, children = node.matcher, node.children
    if isinstance(test, _AnswerTest):
        field, predicate = test.field, test.predicate

        def activate(token):
            for fact in token.data:  # an alpha-network token holds one fact
                value = fact.get(field, _ABSENT)
                if value is not _ABSENT and predicate(value):  # _AnswerTest.__call__
                    for child in children:
                        child.callback(token)

        return activate

    def activate(token):
        for fact in token.data:
            if test(fact):
                for child in children:
                    child.callback(token)

    return activate
