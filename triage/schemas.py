"""JSON Schemas of what triage reads and writes, generated from the pydantic models.

Other services validate a case before sending it (``case_schema``) and an
assessment on receipt (``assessment_schema``). The schemas are JSON Schema
2020-12, as pydantic writes them; ``$id`` is a local, non-resolving URI.

The case schema also carries the rules across fields that the case model
checks: ``trimester`` agrees with ``weeks_pregnant`` when both are given, and no
follow-up finding sits beside the denial of its finding
(:data:`triage.case.FOLLOW_UPS`: no night cramps beside "no leg cramps"), as
``if``/``then`` clauses in ``allOf``. A case the schema accepts, triage accepts.
"""

from __future__ import annotations

from .assessment import Assessment
from .case import FOLLOW_UPS, TRIMESTER_BY_WEEKS
from .knowledge import KnowledgeBase

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://triage.example/schemas"


def case_schema(kb: KnowledgeBase) -> dict:
    """The JSON Schema of a case (the input) for this knowledge base's questions."""
    schema = kb.case_model.model_json_schema(mode="validation")
    schema["description"] = (
        f"A case for knowledge base {kb.name} {kb.version}: answers to the questions, every one optional; "
        "a missing answer or null means unknown, never no. trimester must agree with weeks_pregnant when both are given, "
        "and a follow-up (such as night_cramps) may not be a finding when its finding (leg_cramps) is answered no."
    )
    rules = _cross_field_rules(set(kb.question_by_id))
    if rules:
        schema["allOf"] = rules
    return {"$schema": DIALECT, "$id": f"{SCHEMA_BASE}/case.json", **schema}


def _cross_field_rules(fields: set[str]) -> list[dict]:
    """The case model's checks across fields, as JSON Schema ``if``/``then`` clauses."""
    rules = []
    if {"weeks_pregnant", "trimester"} <= fields:
        for low, high, trimester in TRIMESTER_BY_WEEKS:
            rules.append({
                "if": {"properties": {"weeks_pregnant": {"type": "integer", "minimum": low, "maximum": high}},
                       "required": ["weeks_pregnant"]},
                "then": {"properties": {"trimester": {"enum": [trimester, None]}}},
            })
    for follow_up, (finding, denial) in FOLLOW_UPS.items():
        if {follow_up, finding} <= fields:
            rules.append({
                "if": {"properties": {finding: {"const": denial}}, "required": [finding]},
                "then": {"properties": {follow_up: {"enum": [False, None]}}},  # "no" or unknown agree with it
            })
    return rules


def assessment_schema() -> dict:
    """The JSON Schema of an assessment (the output of ``triage assess --format json``)."""
    schema = Assessment.model_json_schema(mode="serialization")
    return {"$schema": DIALECT, "$id": f"{SCHEMA_BASE}/assessment.json", **schema}
