"""JSON Schemas of what triage reads and writes, generated from the pydantic models.

Other services validate a case before sending it (``case_schema``) and an
assessment on receipt (``assessment_schema``). The schemas are JSON Schema
2020-12, as pydantic writes them; ``$id`` is a local, non-resolving URI.

One rule is not in the case schema: ``trimester`` must agree with
``weeks_pregnant`` when both are given (JSON Schema cannot compare two fields
this way); triage still refuses a case that breaks it.
"""

from __future__ import annotations

from .assessment import Assessment
from .knowledge import KnowledgeBase

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://triage.example/schemas"


def case_schema(kb: KnowledgeBase) -> dict:
    """The JSON Schema of a case (the input) for this knowledge base's questions."""
    schema = kb.case_model.model_json_schema(mode="validation")
    schema["description"] = (
        f"A case for knowledge base {kb.name} {kb.version}: answers to the questions, every one optional; "
        "a missing answer or null means unknown, never no. trimester must agree with weeks_pregnant when both are given."
    )
    return {"$schema": DIALECT, "$id": f"{SCHEMA_BASE}/case.json", **schema}


def assessment_schema() -> dict:
    """The JSON Schema of an assessment (the output of ``triage assess --format json``)."""
    schema = Assessment.model_json_schema(mode="serialization")
    return {"$schema": DIALECT, "$id": f"{SCHEMA_BASE}/assessment.json", **schema}
