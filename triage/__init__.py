"""triage: a rule-based expert system for back pain, leg pain and leg cramps in pregnancy.

Not a diagnosis. ``assess`` says how urgently to seek care, the likely causes,
what to do and why, from declarative rules matched by the experta engine.

>>> import triage
>>> result = triage.assess({"weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True})
>>> result.urgency.value
'self_care'
"""

from __future__ import annotations

import importlib

# Where each public name lives. They are imported on first use (PEP 562), so that
# `import triage` - and so `triage --help` - does not load pydantic and experta.
_NAMES = {
    "AdviceItem": "assessment",
    "Assessment": "assessment",
    "CauseFinding": "assessment",
    "Evidence": "assessment",
    "FiredRule": "assessment",
    "RedFlag": "assessment",
    "CaseBase": "case",
    "Engine": "engine",
    "assess": "engine",
    "AnswerError": "errors",
    "CaseError": "errors",
    "KnowledgeBaseError": "errors",
    "OutputError": "errors",
    "SafetyPackOffWarning": "errors",
    "TriageError": "errors",
    "WorkerError": "errors",
    "KnowledgeBase": "knowledge",
    "load_knowledge_base": "knowledge",
    "assess_many": "parallel",
    "Prompt": "questionnaire",
    "Questionnaire": "questionnaire",
    "Reply": "questionnaire",
    "Session": "questionnaire",
    "Step": "questionnaire",
    "Urgency": "urgency",
}

__all__ = [
    "AdviceItem",
    "AnswerError",
    "Assessment",
    "Case",
    "CaseBase",
    "CaseError",
    "CauseFinding",
    "Engine",
    "Evidence",
    "FiredRule",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "OutputError",
    "Prompt",
    "Questionnaire",
    "SafetyPackOffWarning",
    "RedFlag",
    "Reply",
    "Session",
    "Step",
    "TriageError",
    "Urgency",
    "WorkerError",
    "__version__",
    "assess",
    "assess_many",
    "load_knowledge_base",
]


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value  # the next lookup does not come here
        return value
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("triage")
        except PackageNotFoundError:  # running from a source tree that was never installed
            value = "0.0.0+source"
        globals()[name] = value
        return value
    # ``triage.Case`` is the case model of the shipped knowledge base. It is built
    # from rules/questions.yaml on first use, so importing triage stays cheap.
    if name == "Case":
        from .engine import default_engine

        return default_engine().knowledge_base.case_model
    raise AttributeError(f"module 'triage' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
