"""triage: a rule-based expert system for back pain, leg pain and leg cramps in pregnancy.

Not a diagnosis. ``assess`` says how urgently to seek care, the likely causes,
what to do and why, from declarative rules matched by the experta engine.

>>> import triage
>>> result = triage.assess({"weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True})
>>> result.urgency.value
'self_care'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .assessment import AdviceItem, Assessment, CauseFinding, Evidence, FiredRule, RedFlag
from .case import CaseBase
from .engine import Engine, assess
from .errors import CaseError, KnowledgeBaseError, TriageError
from .knowledge import KnowledgeBase, load_knowledge_base
from .parallel import assess_many
from .questionnaire import AnswerError, Prompt, Questionnaire, Reply, Session, Step
from .urgency import Urgency

try:
    __version__ = _version("triage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

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
    "Prompt",
    "Questionnaire",
    "RedFlag",
    "Reply",
    "Session",
    "Step",
    "TriageError",
    "Urgency",
    "__version__",
    "assess",
    "assess_many",
    "load_knowledge_base",
]


def __getattr__(name: str):
    # ``triage.Case`` is the case model of the shipped knowledge base. It is built
    # from rules/questions.yaml on first use, so importing triage stays cheap.
    if name == "Case":
        from .engine import default_engine

        return default_engine().knowledge_base.case_model
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
