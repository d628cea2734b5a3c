"""The one place the server meets :class:`triage.Questionnaire`: the stateless interview.

``POST /interview``, ``$next-question`` and the web page all go through
:func:`next_step`, which checks the answers as ``Session.answer`` does and asks the
questionnaire for the next step. :func:`screen_questions` says which questions a
step's screen holds. Keeping both here means a change in the questionnaire's API is
one edit.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import CaseError
from ..questionnaire import AnswerError, Prompt, Questionnaire, Step
from ..urgency import Urgency


def next_step(questionnaire: Questionnaire, answers: Mapping[str, Any],
              acknowledged: Urgency | None = None, details: bool = False) -> Step:
    """The next step for ``answers`` (in the order given; None: "don't know").

    Raises :class:`~triage.CaseError` naming the field when an answer is not a
    question, a value is not allowed, or a question that needs an answer has "don't know".
    """
    problems = []
    for question_id, value in answers.items():
        if question_id == "id":
            continue
        try:
            question = questionnaire.question(question_id)
        except AnswerError:
            continue  # not a question: the case model names the field, with a suggestion
        if value is None and question.required:
            problems.append(f"field {question_id!r}: this question needs an answer, not \"don't know\"; "
                            f"expected {question.describe_allowed()}")
    if problems:
        raise CaseError(problems)
    return questionnaire.next_step(answers, acknowledged, details)


def screen_questions(prompt: Prompt) -> list[Prompt]:
    """The questions shown together on the screen of ``prompt``."""
    items = getattr(prompt, "items", None)
    return list(items) if items else [prompt]
