"""An assessment as a FHIR R4 ``RiskAssessment``, and the local urgency ``CodeSystem``."""

from __future__ import annotations

from typing import Any, Mapping

from ..assessment import Assessment, CauseFinding
from ..case import validate_case
from ..knowledge import KnowledgeBase
from ..urgency import Urgency
from .common import (
    _FHIR_ID,
    CAUSE_SYSTEM,
    KNOWLEDGE_BASE_SYSTEM,
    RISK_PROBABILITY,
    URGENCY_EXTENSION,
    URGENCY_SYSTEM,
)
from .response import case_from_questionnaire_response, is_fhir_resource, questionnaire_response

# qualitativeRisk of a likely cause: high when a rule naming it found a warning sign,
# else from the urgency the rules gave it. The rules estimate no probability: this
# says how much the cause matters to act on, not how likely it is.
RISK_BY_URGENCY = {
    Urgency.EMERGENCY: "high",
    Urgency.URGENT: "high",
    Urgency.WITHIN_24H: "moderate",
    Urgency.ROUTINE: "low",
    Urgency.SELF_CARE: "low",
}
RISK_DISPLAY = {"high": "High likelihood", "moderate": "Moderate likelihood", "low": "Low likelihood"}


def urgency_coding(level: Urgency) -> dict:
    """The Coding of an urgency level in the local urgency code system."""
    return {"system": URGENCY_SYSTEM, "code": level.value, "display": level.label}


def urgency_extension(level: Urgency, action: str | None = None) -> dict:
    """The extension that carries an urgency level and, as its text, the action (the level's own by default)."""
    return {
        "url": URGENCY_EXTENSION,
        "valueCodeableConcept": {"coding": [urgency_coding(level)], "text": action or level.action},
    }


def risk_assessment(assessment: Assessment, kb: KnowledgeBase, case: Any = None) -> dict:
    """An assessment as a FHIR R4 ``RiskAssessment`` (JSON as a dict).

    ``case`` is what was assessed (a QuestionnaireResponse, a plain case mapping
    or a case model). ``basis`` refers to the response by ``QuestionnaireResponse/<id>``
    when it has an id; otherwise the answers are contained as a QuestionnaireResponse
    (``#answers``) and ``basis`` points to that.
    """
    resource: dict[str, Any] = {"resourceType": "RiskAssessment"}
    basis = None
    if case is not None:
        if is_fhir_resource(case) and isinstance(case.get("id"), str) and _FHIR_ID.match(case["id"]):
            basis = {"reference": f"QuestionnaireResponse/{case['id']}", "type": "QuestionnaireResponse"}
        else:
            plain = case_from_questionnaire_response(case, kb) if is_fhir_resource(case) else case
            answers = questionnaire_response(validate_case(kb.case_model, plain), kb, resource_id="answers")
            resource["contained"] = [answers]
            basis = {"reference": "#answers", "type": "QuestionnaireResponse"}

    info = assessment.knowledge_base
    resource["extension"] = [urgency_extension(assessment.urgency, assessment.action)]
    resource["status"] = "final"
    resource["method"] = {
        "coding": [{"system": KNOWLEDGE_BASE_SYSTEM, "code": info.name, "display": f"{info.name} {info.version}"}],
        "text": f"triage rule-based expert system, knowledge base {info.name} version {info.version} "
                f"(packs: {', '.join(info.packs)}; sha256 {info.sha256})",
    }
    subject = case.get("subject") if is_fhir_resource(case) else None
    if isinstance(subject, Mapping):
        resource["subject"] = dict(subject)
    else:
        who = f" (case {assessment.case_id})" if assessment.case_id else ""
        resource["subject"] = {"display": f"The person who answered the questionnaire{who}"}
    if basis is not None:
        resource["basis"] = [basis]
    if assessment.causes:
        flagged = {flag.rule for flag in assessment.red_flags}
        resource["prediction"] = [_prediction(cause, flagged) for cause in assessment.causes]
    resource["mitigation"] = _mitigation(assessment)
    resource["note"] = (
        [{"text": f"Warning: {text}"} for text in assessment.warnings]
        + [{"text": f"Warning sign: {flag.reason} [{flag.id}]"} for flag in assessment.red_flags]
        + ([{"text": f"Out of scope: {assessment.action}"}] if assessment.out_of_scope else [])
        + [{"text": assessment.disclaimer}]
    )
    return resource


def qualitative_risk(cause: CauseFinding, flagged_rules: set[str]) -> str:
    """``high``, ``moderate`` or ``low`` (HL7 risk-probability codes) for a likely cause.

    ``high`` when a rule naming the cause reported a warning sign (a rule in
    ``flagged_rules``), else by urgency: emergency and urgent high, within 24 hours
    moderate, routine and self-care low.
    """
    if flagged_rules.intersection(cause.rules):
        return "high"
    return RISK_BY_URGENCY[cause.urgency]


def _prediction(cause: CauseFinding, flagged_rules: set[str]) -> dict:
    risk = qualitative_risk(cause, flagged_rules)
    because = ", ".join(e.describe() for e in cause.evidence) or "the answers given"
    return {
        "extension": [urgency_extension(cause.urgency)],
        "outcome": {"coding": [{"system": CAUSE_SYSTEM, "code": cause.id, "display": cause.label}], "text": cause.label},
        "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY, "code": risk, "display": RISK_DISPLAY[risk]}]},
        "rationale": f"Because: {because}. Rules: {', '.join(cause.rules)}.",
    }


def _mitigation(assessment: Assessment) -> str:
    lines = [assessment.action]
    if assessment.advice:
        lines += ["", "What you can do:"] + [f"- {item.text}" for item in assessment.advice]
    lines += ["", "Seek help if:"] + [f"- {text}" for text in assessment.worsening_advice]
    return "\n".join(lines)


def urgency_code_system() -> dict:
    """The local urgency code system as a FHIR ``CodeSystem`` resource (most urgent first)."""
    return {
        "resourceType": "CodeSystem",
        "id": "urgency",
        "url": URGENCY_SYSTEM,
        "name": "TriageUrgency",
        "title": "triage urgency levels",
        "status": "active",
        "description": "How soon to seek care, most urgent first. Local to triage; not registered.",
        "caseSensitive": True,
        "content": "complete",
        "concept": [
            {"code": level.value, "display": level.label, "definition": level.action} for level in Urgency
        ],
    }
