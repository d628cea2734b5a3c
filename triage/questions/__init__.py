"""The questionnaire as data: one question per case field, one class per type of answer.

A question is a :data:`Question`: a :class:`BooleanQuestion`, an :class:`IntegerQuestion`
or a :class:`ChoiceQuestion`, told apart by its ``type`` (a pydantic discriminated
union). Everything that depends on the type lives on its class and nowhere else: the
possible answers, how to describe them, how to read what a person types and what a
CSV cell holds, the case field's type (so its JSON Schema), and the FHIR item and
answer. Adding a type of question means adding one class to :mod:`~triage.questions.kinds`, and
adding it to :data:`Question` there.

One module per part: :mod:`~triage.questions.base` (what every question has, and the
methods each type must implement), :mod:`~triage.questions.kinds` (the types and their
union) and :mod:`~triage.questions.sets` (``questions.yaml``: the questions and their
groups). Every name is importable from ``triage.questions``.
"""

from .base import CSV_WORDS, MAX_TYPED_DIGITS, NO_WORDS, YES_WORDS, Choice, QuestionBase
from .kinds import (
    QUESTION_CLASSES,
    QUESTION_TYPES,
    BooleanQuestion,
    ChoiceQuestion,
    IntegerQuestion,
    Question,
    parse_question,
)
from .sets import Group, QuestionSet

__all__ = [
    "CSV_WORDS",
    "MAX_TYPED_DIGITS",
    "NO_WORDS",
    "QUESTION_CLASSES",
    "QUESTION_TYPES",
    "YES_WORDS",
    "BooleanQuestion",
    "Choice",
    "ChoiceQuestion",
    "Group",
    "IntegerQuestion",
    "Question",
    "QuestionBase",
    "QuestionSet",
    "parse_question",
]
