"""What the FHIR modules share: triage's identifiers, the standard URLs they use, and the
helpers that name a knowledge base's Questionnaire and code an answer option.

Identifiers of our own live under ``BASE`` (an example domain that does not resolve);
see :mod:`triage.fhir` for what is local and what is standard.
"""

from __future__ import annotations

import re
from typing import Any

from ..knowledge import KnowledgeBase
from ..questions import Choice, Question

BASE = "https://triage.example/fhir"
ANSWER_SYSTEM = f"{BASE}/CodeSystem/answers"  # + "/<question id>"
CAUSE_SYSTEM = f"{BASE}/CodeSystem/cause"
URGENCY_SYSTEM = f"{BASE}/CodeSystem/urgency"
KNOWLEDGE_BASE_SYSTEM = f"{BASE}/CodeSystem/knowledge-base"
URGENCY_EXTENSION = f"{BASE}/StructureDefinition/urgency"
CASE_ID_SYSTEM = f"{BASE}/case-id"

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
LOINC = "http://loinc.org"

HELP_SUFFIX = ".help"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def questionnaire_url(kb: KnowledgeBase) -> str:
    """The canonical URL of the knowledge base's Questionnaire (local, does not resolve)."""
    return f"{BASE}/Questionnaire/{_fhir_id(kb.name)}"


def answer_system(question: Question) -> str:
    """The local code system of a choice question's answers."""
    return f"{ANSWER_SYSTEM}/{question.id}"


def answer_coding(question: Question, choice: Choice) -> dict:
    """The Coding of one answer option: the value as text, in the question's local system."""
    return {"system": answer_system(question), "code": str(choice.value), "display": choice.label}


def _fhir_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]
    return cleaned or "triage"


def response_answer(question: Question, value: Any) -> dict:
    """A valid answer to ``question`` as the ``answer`` element of a QuestionnaireResponse item."""
    return {"value" + question.fhir_value_type: question.fhir_value(value)}
