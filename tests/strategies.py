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
