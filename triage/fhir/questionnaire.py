"""The knowledge base's questions as a FHIR R4 ``Questionnaire`` (JSON as a dict)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..knowledge import KnowledgeBase
from ..questions import Question
from .common import (
    HELP_SUFFIX,
    ITEM_CONTROL,
    ITEM_CONTROL_SYSTEM,
    LOINC,
    _fhir_id,
    questionnaire_url,
)
from .enable_when import enable_when

# Standard codes only where they were checked against LOINC, and only when the
# question still has the meaning (type and range) the code was checked for.
VERIFIED_CODES: dict[str, tuple[str, str, dict]] = {
    "weeks_pregnant": ("49051-6", "Gestational age in weeks", {"type": "integer"}),
    "pain_severity": (
        "72514-3",
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        {"type": "integer", "min": 0, "max": 10},
    ),
}


def _computable_name(text: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name[:1].isalpha() else "Triage" + name


def questionnaire(kb: KnowledgeBase) -> dict:
    """The knowledge base's questions as a FHIR R4 ``Questionnaire`` (JSON as a dict)."""
    from ..relevance import relevance_for

    by_id = kb.question_by_id
    # The interview asks a question a rule uses for an urgency or a warning sign whatever its
    # ask_when (triage.relevance): enableWhen must not hide it, so it gets none.
    decisive = relevance_for(kb).decisive
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(kb.name),
        "url": questionnaire_url(kb),
        "version": kb.version,
        "name": _computable_name(kb.name),
        "title": f"triage questionnaire ({kb.name})",
        "status": "active",
        "subjectType": ["Patient"],
        "description": kb.manifest.disclaimer,
        "item": [_question_item(q, by_id, q.id not in decisive) for q in kb.questions],
    }


def _question_item(question: Question, by_id: Mapping[str, Question], conditional: bool = True) -> dict:
    item: dict[str, Any] = {}
    extensions = question.fhir_extensions()  # an integer's minValue and maxValue
    if extensions:
        item["extension"] = extensions
    item["linkId"] = question.id
    code = _verified_code(question)
    if code:
        item["code"] = [code]
    item["text"] = question.text
    item["type"] = question.fhir_type
    if question.ask_when is not None and conditional:
        mapped = enable_when(question.ask_when, by_id)
        if mapped.conditions:
            item["enableWhen"] = mapped.conditions
            if mapped.behavior:
                item["enableBehavior"] = mapped.behavior
    if getattr(question, "required", False):
        item["required"] = True  # the questionnaire takes no "don't know"; a case may still leave it unknown
    options = question.fhir_answer_options()  # a choice's codings
    if options:
        item["answerOption"] = options
    item["item"] = [{
        "extension": [{
            "url": ITEM_CONTROL,
            "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help-Button"}]},
        }],
        "linkId": question.id + HELP_SUFFIX,
        "text": question.help,
        "type": "display",
    }]
    return item


def _verified_code(question: Question) -> dict | None:
    entry = VERIFIED_CODES.get(question.id)
    if entry is None:
        return None
    code, display, shape = entry
    if question.model_dump(include=set(shape)) != shape:
        return None
    return {"system": LOINC, "code": code, "display": display}
