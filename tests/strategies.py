"""Hypothesis strategies shared by the property tests: valid cases drawn from the questionnaire."""

from __future__ import annotations

from hypothesis import strategies as st


def answer(question):
    """Any valid answer to ``question``."""
    if question.type == "boolean":
        return st.booleans()
    if question.type == "integer":
        return st.integers(question.min, question.max)
    return st.sampled_from(question.values)


def consistent(case: dict) -> dict:
    """``case`` with the answers the case model refuses together made to agree.

    The trimester follows the weeks, and no amount of bleeding beside "no bleeding".
    """
    from triage.case import trimester_for_weeks

    if case.get("weeks_pregnant") is not None and "trimester" in case:
        case["trimester"] = trimester_for_weeks(case["weeks_pregnant"])
    if case.get("vaginal_bleeding") is False:
        case.pop("bleeding_amount", None)
    return case
