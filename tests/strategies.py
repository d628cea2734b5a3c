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

    The trimester follows the weeks, and no follow-up (an amount of bleeding, night cramps)
    beside the denial of its finding ("no bleeding", "no leg cramps"): triage.case.FOLLOW_UPS.
    """
    from triage.case import FOLLOW_UPS, trimester_for_weeks

    if case.get("weeks_pregnant") is not None and "trimester" in case:
        case["trimester"] = trimester_for_weeks(case["weeks_pregnant"])
    for follow_up, (finding, denial) in FOLLOW_UPS.items():
        if case.get(finding) == denial:
            case.pop(follow_up, None)
    return case
