"""The condition language of rule files: ``all`` / ``any`` / ``not`` over tests.

A test is either a field comparison, ``{field: leg_cramps, equals: true}``, with one
operator out of ``equals``, ``in``, ``>=``, ``<=``, ``>``, ``<`` and ``known``, or a
derived fact, ``{fact: third_trimester}``, which another rule derives.

A comparison on an unanswered field is never true: unknown is not "no". So
``{not: {field: fever, equals: true}}`` means "not known to have a fever", and
``{field: fever, equals: false}`` means "answered no". ``{known: false}`` asks for an
unanswered field.

These models only describe conditions. :mod:`triage.compiler` turns them into
experta patterns; :func:`evaluate` is a plain evaluator used where no engine runs
(question relevance in the questionnaire).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

OPERATORS = ("equals", "in", ">=", "<=", ">", "<", "known")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldTest(_Strict):
    """Compare one answer with a value; exactly one operator is given."""

    field: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    ge: int | None = Field(default=None, alias=">=")
    le: int | None = Field(default=None, alias="<=")
    gt: int | None = Field(default=None, alias=">")
    lt: int | None = Field(default=None, alias="<")
    known: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [op for op in OPERATORS if op in data]
            if len(given) != 1:
                raise ValueError(
                    f"a field test needs exactly one operator out of {', '.join(OPERATORS)}; "
                    f"got {', '.join(given) or 'none'}"
                )
            if "equals" in data and data["equals"] is None:
                raise ValueError("'equals: null' is not allowed: use 'known: false' for an unanswered field")
        return data

    @property
    def operator(self) -> str:
        """The operator's name as written in rule files."""
        for name, attr in _ATTR.items():
            if name in self.model_fields_set or attr in self.model_fields_set:
                return name
        raise AssertionError("validated FieldTest without operator")  # pragma: no cover

    @property
    def operand(self) -> Any:
        """The value the answer is compared with."""
        return getattr(self, _ATTR[self.operator])

    def holds_for(self, value: Any) -> bool:
        """Whether a *known* answer ``value`` satisfies the test (``known`` aside)."""
        return _COMPARE[self.operator](value, self.operand)


_ATTR = {"equals": "equals", "in": "in_", ">=": "ge", "<=": "le", ">": "gt", "<": "lt", "known": "known"}
_COMPARE = {
    "equals": lambda v, x: v == x and type(v) is type(x),
    "in": lambda v, x: any(v == i and type(v) is type(i) for i in x),
    ">=": lambda v, x: v >= x,
    "<=": lambda v, x: v <= x,
    ">": lambda v, x: v > x,
    "<": lambda v, x: v < x,
    "known": lambda _, x: x,  # a value is present, so known holds when known: true
}


class FactTest(_Strict):
    """True when another rule has derived the named fact."""

    fact: str


class AllOf(_Strict):
    """True when every condition holds."""

    all: list["Condition"] = Field(min_length=1)


class AnyOf(_Strict):
    """True when at least one condition holds."""

    any: list["Condition"] = Field(min_length=1)


class NotOf(_Strict):
    """True when the condition is not known to hold."""

    not_: "Condition" = Field(alias="not")


def _kind(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        return {FieldTest: "field", FactTest: "fact", AllOf: "all", AnyOf: "any", NotOf: "not"}.get(type(data))
    if isinstance(data, dict):
        for key in ("all", "any", "not", "fact", "field"):
            if key in data:
                return key
    return None


Condition = Annotated[
    Union[
        Annotated[FieldTest, Tag("field")],
        Annotated[FactTest, Tag("fact")],
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotOf, Tag("not")],
    ],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message="a condition is one of {field: ...}, {fact: ...}, {all: [...]}, {any: [...]}, {not: ...}",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def walk(condition) -> list:
    """Every test (FieldTest or FactTest) inside ``condition``, in order."""
    if isinstance(condition, (FieldTest, FactTest)):
        return [condition]
    if isinstance(condition, NotOf):
        return walk(condition.not_)
    children = condition.all if isinstance(condition, AllOf) else condition.any
    return [test for child in children for test in walk(child)]


def negation_normal_form(condition, negate: bool = False):
    """Push every ``not`` down to a single test (De Morgan), as experta's NOT needs.

    Returns a condition built from AllOf, AnyOf, tests and NotOf around a test.
    """
    if isinstance(condition, NotOf):
        return negation_normal_form(condition.not_, not negate)
    if isinstance(condition, (FieldTest, FactTest)):
        return NotOf(**{"not": condition}) if negate else condition
    children = [negation_normal_form(c, negate) for c in (condition.all if isinstance(condition, AllOf) else condition.any)]
    conjunction = isinstance(condition, AllOf) != negate
    return AllOf(all=children) if conjunction else AnyOf(any=children)


def evaluate(condition, answers: dict[str, Any], facts: frozenset[str] = frozenset()) -> bool:
    """Evaluate ``condition`` against ``answers`` (unknown fields absent) and derived ``facts``.

    Used for question relevance, where no engine runs; the rules themselves are
    matched by experta.
    """
    if isinstance(condition, FactTest):
        return condition.fact in facts
    if isinstance(condition, FieldTest):
        if condition.field not in answers or answers[condition.field] is None:
            return condition.operator == "known" and condition.operand is False
        return condition.holds_for(answers[condition.field])
    if isinstance(condition, NotOf):
        return not evaluate(condition.not_, answers, facts)
    if isinstance(condition, AllOf):
        return all(evaluate(c, answers, facts) for c in condition.all)
    return any(evaluate(c, answers, facts) for c in condition.any)
