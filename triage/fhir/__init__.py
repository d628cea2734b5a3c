"""HL7 FHIR R4 (as R4B resources): the questions out as a ``Questionnaire``, a
``QuestionnaireResponse`` in as a case, an assessment out as a ``RiskAssessment``.

Resources are plain dicts in FHIR JSON; no FHIR library is needed at run time
(the tests validate every resource this package emits with the ``fhir.resources``
R4B models).

Identifiers of our own live under ``https://triage.example/fhir/``: an example
domain that does not resolve. The code systems it names (answer options, causes,
urgency levels, knowledge bases) are local to triage, defined here and in the
README, and registered nowhere. Standard codes are used only where they were
checked: LOINC for two questions, HL7's risk-probability for ``qualitativeRisk``.

Mapping decisions (the README has the full table):

* ``linkId`` is the case field name; help texts are display items ``<id>.help``.
* Every choice question, ``trimester`` (values 1, 2, 3) included, is ``type: choice``
  with ``answerOption.valueCoding``: R4 answers a choice item with a Coding. The
  code is the value as text (``"numb"``, ``"2"``) in the system
  ``https://triage.example/fhir/CodeSystem/answers/<question id>``; reading a
  response maps the code back to the typed value, so answers round-trip exactly.
* ``ask_when`` becomes ``enableWhen``; see :func:`enable_when` for how, and for
  the safe approximation used where FHIR's flat list cannot say the same thing.

One module per job: :mod:`~triage.fhir.enable_when` (``ask_when`` as ``enableWhen``),
:mod:`~triage.fhir.questionnaire` (the Questionnaire), :mod:`~triage.fhir.response`
(reading and writing a QuestionnaireResponse), :mod:`~triage.fhir.risk_assessment`
(the RiskAssessment and the urgency CodeSystem) and :mod:`~triage.fhir.common` (the
identifiers and helpers they share). Every name is importable from ``triage.fhir``.
Each submodule is named after the function it holds and the package binds the function:
``triage.fhir.questionnaire`` is the function; ``from triage.fhir.questionnaire import ...`` reaches the module.
"""

from __future__ import annotations

from .common import (
    ANSWER_SYSTEM,
    BASE,
    CASE_ID_SYSTEM,
    CAUSE_SYSTEM,
    HELP_SUFFIX,
    ITEM_CONTROL,
    ITEM_CONTROL_SYSTEM,
    KNOWLEDGE_BASE_SYSTEM,
    LOINC,
    MAX_VALUE,
    MIN_VALUE,
    RISK_PROBABILITY,
    URGENCY_EXTENSION,
    URGENCY_SYSTEM,
    answer_coding,
    answer_system,
    questionnaire_url,
    response_answer,
)
from .date_time import date_time_problem, instant
from .enable_when import EnableWhen, enable_when
from .enable_when import _flatten as _flatten  # private; tests/test_fhir.py checks it refuses unknown conditions
from .questionnaire import VERIFIED_CODES, questionnaire
from .response import MAX_ITEM_DEPTH, case_from_questionnaire_response, is_fhir_resource, questionnaire_response
from .risk_assessment import (
    RISK_BY_URGENCY,
    RISK_DISPLAY,
    qualitative_risk,
    risk_assessment,
    urgency_code_system,
    urgency_coding,
    urgency_extension,
)

__all__ = [
    "ANSWER_SYSTEM",
    "BASE",
    "CASE_ID_SYSTEM",
    "CAUSE_SYSTEM",
    "HELP_SUFFIX",
    "ITEM_CONTROL",
    "ITEM_CONTROL_SYSTEM",
    "KNOWLEDGE_BASE_SYSTEM",
    "LOINC",
    "MAX_ITEM_DEPTH",
    "MAX_VALUE",
    "MIN_VALUE",
    "RISK_BY_URGENCY",
    "RISK_DISPLAY",
    "RISK_PROBABILITY",
    "URGENCY_EXTENSION",
    "URGENCY_SYSTEM",
    "VERIFIED_CODES",
    "EnableWhen",
    "answer_coding",
    "answer_system",
    "case_from_questionnaire_response",
    "date_time_problem",
    "enable_when",
    "instant",
    "is_fhir_resource",
    "qualitative_risk",
    "questionnaire",
    "questionnaire_response",
    "questionnaire_url",
    "response_answer",
    "risk_assessment",
    "urgency_code_system",
    "urgency_coding",
    "urgency_extension",
]
