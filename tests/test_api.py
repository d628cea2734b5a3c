"""The public face of the package: exactly the intended names, documented."""

from __future__ import annotations

import inspect

import triage


def test_public_names_are_exactly_the_intended_ones():
    assert sorted(triage.__all__) == sorted([
        "AdviceItem", "AnswerError", "Assessment", "Case", "CaseBase", "CaseError", "CauseFinding", "Engine",
        "Evidence", "FiredRule", "KnowledgeBase", "KnowledgeBaseError", "OutputError", "Prompt", "Questionnaire",
        "RedFlag", "Reply", "SafetyPackOffWarning", "Session", "Step", "TriageError", "Urgency", "WorkerError", "__version__", "assess", "assess_many", "load_knowledge_base",
    ])
    for name in triage.__all__:
        assert getattr(triage, name) is not None


def test_public_callables_have_docstrings():
    for name in triage.__all__:
        obj = getattr(triage, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), name


def test_errors_share_one_root():
    assert issubclass(triage.CaseError, triage.TriageError)
    assert issubclass(triage.KnowledgeBaseError, triage.TriageError)
    assert issubclass(triage.AnswerError, triage.TriageError)
    assert issubclass(triage.OutputError, triage.TriageError)
    assert issubclass(triage.WorkerError, triage.TriageError)


def test_every_error_lives_in_errors_and_answer_error_is_still_where_it_was():
    from triage import errors, questionnaire

    for name in ("AnswerError", "CaseError", "KnowledgeBaseError", "OutputError", "TriageError", "WorkerError"):
        assert getattr(triage, name).__module__ == "triage.errors", name
    assert questionnaire.AnswerError is errors.AnswerError


def test_urgency_levels_are_ordered_most_urgent_first():
    levels = list(triage.Urgency)
    assert [u.value for u in levels] == ["emergency", "urgent", "within_24h", "routine", "self_care"]
    assert [u.rank for u in levels] == sorted((u.rank for u in levels), reverse=True)
