"""CDS Hooks: a ``patient-view`` service that triages from a prefetched QuestionnaireResponse.

The EHR calls the discovery endpoint to learn the service and its prefetch template
(the patient's latest response to the triage Questionnaire), then calls the
service on ``patient-view`` with that response prefetched. The answer is one card:
``critical`` for emergency and urgent, ``warning`` for within 24 hours, ``info``
otherwise, with the exact level in the summary, the reasons, advice and warning
signs in the detail, and the guidelines behind the level in its ``source``.

Missing or unusable prefetch gives 412 with an OperationOutcome: this service never
fetches from the EHR's FHIR server itself, so without the answers it cannot triage.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field

from .. import fhir
from ..assessment import Assessment
from ..knowledge import KnowledgeBase
from ..urgency import Urgency
from .problems import Problem, RequestProblem, kind_of

SERVICE_ID = "pregnancy-pain-triage"
HOOK = "patient-view"
PREFETCH_KEY = "questionnaireResponse"
INDICATOR = {
    Urgency.EMERGENCY: "critical",
    Urgency.URGENT: "critical",
    Urgency.WITHIN_24H: "warning",
    Urgency.ROUTINE: "info",
    Urgency.SELF_CARE: "info",
}
FINAL_STATUSES = ("completed", "amended")  # a response whose answers are final
SUMMARY_LIMIT = 139  # the specification asks for under 140 characters


class CdsRequest(BaseModel):
    """The body of a CDS Hooks call (the fields this service reads; others are allowed)."""

    model_config = ConfigDict(extra="allow")

    hook: str
    hookInstance: str = Field(min_length=1)
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = None


def discovery(kb: KnowledgeBase) -> dict:
    """The discovery document (``GET /cds-services``)."""
    template = (f"QuestionnaireResponse?subject={{{{context.patientId}}}}&questionnaire={fhir.questionnaire_url(kb)}"
                "&status=completed&_sort=-authored&_count=1")
    return {"services": [{
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "Pregnancy back pain, leg pain and leg cramps triage",
        "description": (f"How urgently to seek care for back pain, leg pain or leg cramps in pregnancy, from the "
                        f"patient's answers to the {kb.name} questionnaire (rules, not a diagnosis)."),
        "prefetch": {PREFETCH_KEY: template},
        "usageRequirements": (f"Prefetch the patient's latest completed QuestionnaireResponse to "
                              f"{fhir.questionnaire_url(kb)} (as the resource or a searchset Bundle)."),
    }]}


def check_request(request: CdsRequest) -> str:
    """The patient id of a valid ``patient-view`` call; :class:`RequestProblem` otherwise."""
    if request.hook != HOOK:
        raise RequestProblem(400, "wrong hook", [Problem(f"hook: this service answers {HOOK!r}, not {request.hook!r}", "hook")])
    missing = [name for name in ("userId", "patientId") if not isinstance(request.context.get(name), str)
               or not request.context.get(name)]
    if missing:
        raise RequestProblem(400, "invalid context", [
            Problem(f"context.{name}: {HOOK} needs it, as a string", f"context.{name}") for name in missing])
    return request.context["patientId"]


def prefetched_response(request: CdsRequest, patient_id: str) -> Mapping:
    """The QuestionnaireResponse the prefetch holds, or None when the patient has none (an empty Bundle).

    412 with an OperationOutcome when the prefetch is missing, of the wrong kind, for
    another patient, or names no patient.
    """
    value = (request.prefetch or {}).get(PREFETCH_KEY)
    if value is None:
        raise _precondition(f"prefetch.{PREFETCH_KEY} is missing: send the patient's QuestionnaireResponse "
                            "(this service does not query the FHIR server)")
    if not isinstance(value, Mapping):
        raise _precondition(f"prefetch.{PREFETCH_KEY} must be a QuestionnaireResponse or a Bundle")
    if value.get("resourceType") == "Bundle":
        found = _bundle_responses(value)
        if not found:
            return None
        value = _latest(found) if len(found) > 1 else found[0]
    if value.get("resourceType") != "QuestionnaireResponse":
        raise _precondition(f"prefetch.{PREFETCH_KEY} is a {value.get('resourceType')!r}, not a QuestionnaireResponse")
    status = value.get("status")
    if status not in FINAL_STATUSES:
        # The template asks for status=completed: an in-progress response may lack the very
        # answers (a red flag not yet asked) that would make the level more urgent.
        raise _precondition(f"prefetch.{PREFETCH_KEY}: the response's status is {status!r}, not 'completed' or "
                            "'amended': its answers may be unfinished, so they are not triaged")
    subject = value.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if not isinstance(reference, str):
        # Without a subject the answers could be anyone's: a card from them could triage
        # this patient on another person's answers.
        raise _precondition(f"prefetch.{PREFETCH_KEY}: the response has no subject.reference, so it cannot be "
                            f"confirmed to be about the patient in context (Patient/{patient_id})")
    if reference.split("/_history")[0].rsplit("/", 2)[-2:] != ["Patient", patient_id]:
        raise _precondition(f"prefetch.{PREFETCH_KEY}: the response is about {reference!r}, "
                            f"not the patient in context (Patient/{patient_id})")
    if "://" in reference:
        # An absolute reference names its server: Patient/p1 on another server is another person.
        base = (request.fhirServer or "").rstrip("/")
        if not base or reference.split("/_history")[0] != f"{base}/Patient/{patient_id}":
            raise _precondition(f"prefetch.{PREFETCH_KEY}: the response is about {reference!r}, which is not "
                                f"Patient/{patient_id} on this call's fhirServer ({request.fhirServer!r})")
    return value


def _bundle_responses(bundle: Mapping) -> list[Mapping]:
    """The QuestionnaireResponses in a searchset Bundle; 412 for a Bundle whose entries cannot all be read.

    An entry that is not read could hold the urgent answers, so a wrong shape is refused,
    never skipped: ``entry`` must be a list of entries, each with a ``resource`` object.
    Other resources a search may include (an OperationOutcome, the Patient) are not answers.
    """
    entries = bundle.get("entry")
    if entries is None:
        return []
    where = f"prefetch.{PREFETCH_KEY}.entry"
    if not isinstance(entries, list):
        raise _precondition(f"{where}: must be a list of entries, not {kind_of(entries)}", where)
    found = []
    for number, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            got = f"the entry is {kind_of(entry)}" if not isinstance(entry, Mapping) else (
                "it has none" if resource is None else f"its resource is {kind_of(resource)}")
            raise _precondition(f"{where}[{number}]: an entry needs a resource (an object); {got}",
                                f"{where}[{number}].resource")
        kind = resource.get("resourceType")
        if kind == "Bundle" or not isinstance(kind, str):
            raise _precondition(f"{where}[{number}].resource: "
                                + ("a Bundle inside the Bundle is not read; send the responses as its entries"
                                   if kind == "Bundle" else "has no resourceType, so it cannot be read"),
                                f"{where}[{number}].resource")
        if kind == "QuestionnaireResponse":
            found.append(resource)
    return found


def _latest(responses: list[Mapping]) -> Mapping:
    """The latest authored of several responses; 412 when two different ones tie for latest.

    The template sorts by -authored; sort again in case the EHR did not, as instants: text
    order puts 00:30+02:00 after 23:00Z the day before, and would pick the older answers.
    """
    instants = [_authored_instant(r) for r in responses]
    newest = max(instants)
    latest = [r for r, instant in zip(responses, instants, strict=True) if instant == newest]
    if any(r != latest[0] for r in latest[1:]):
        # Bundle order would decide, and one order could give self-care where the other gives emergency.
        authored = ", ".join(repr(r.get("authored")) for r in latest)
        raise _precondition(f"prefetch.{PREFETCH_KEY}: {len(latest)} different responses were authored at the same "
                            f"instant ({authored}): cannot tell which is the latest")
    return latest[0]


_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})")


def _authored_instant(response: Mapping) -> datetime.datetime:
    """When a response was authored, as an instant; 412 when it is not a full dateTime with a zone.

    Several responses are in the Bundle, so the latest must be known for certain: a date
    alone, no time zone, or text that is not a dateTime cannot be ordered safely.
    """
    authored = response.get("authored")
    match = _DATE_TIME.fullmatch(authored) if isinstance(authored, str) else None
    if match is None:
        raise _precondition(f"prefetch.{PREFETCH_KEY}: several responses, and authored {authored!r} is not a "
                            "dateTime with a time zone (YYYY-MM-DDThh:mm:ss+zz:zz): cannot tell which is the latest")
    seconds, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    instant = datetime.datetime.fromisoformat(f"{seconds}{zone}")
    return instant + datetime.timedelta(microseconds=int((fraction or "0").ljust(6, "0")[:6]))


def cards(assessment: Assessment, kb: KnowledgeBase) -> dict:
    """The CDS Hooks response for an assessment: one card."""
    level = assessment.urgency
    return {"cards": [{
        "summary": summary(assessment),
        "indicator": INDICATOR[level],
        "detail": detail(assessment),
        "source": {
            "label": source_label(assessment, kb),
            "topic": {"system": fhir.URGENCY_SYSTEM, "code": level.value, "display": level.label},
        },
    }]}


def summary(assessment: Assessment) -> str:
    """The level, exactly, then the action, cut to fit the under 140 characters a summary may have."""
    text = f"Pregnancy pain triage: {assessment.urgency.value}. {assessment.action}"
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def detail(assessment: Assessment) -> str:
    """The whole result as GitHub-flavoured markdown, action first."""
    lines = [f"**{assessment.urgency.label}** (`{assessment.urgency.value}`): {assessment.action}", ""]
    lines += [f"**Warning:** {text}" for text in assessment.warnings] + ([""] if assessment.warnings else [])
    if assessment.red_flags:
        lines += ["**Warning signs found**", ""] + [f"- {f.reason}" for f in assessment.red_flags] + [""]
    if assessment.causes:
        lines += ["**Likely causes**", ""]
        for cause in assessment.causes:
            because = ", ".join(e.describe() for e in cause.evidence) or "the answers given"
            lines.append(f"- {cause.label} (`{cause.urgency.value}`): because {because}")
        lines.append("")
    if assessment.advice:
        lines += ["**What to do**", ""] + [f"- {a.text}" for a in assessment.advice] + [""]
    if assessment.unanswered_red_flags:
        lines += ["**Warning signs not answered** (unknown, so not ruled out)", ""]
        lines += [f"- {q.text}" for q in assessment.unanswered_red_flags] + [""]
    lines += ["**Seek help if**", ""] + [f"- {t}" for t in assessment.worsening_advice] + [""]
    lines.append(f"_{assessment.disclaimer}_")
    return "\n".join(lines)


def source_label(assessment: Assessment, kb: KnowledgeBase) -> str:
    """The guidelines behind the level (the rules that set it), and the knowledge base."""
    at_level = [r for r in assessment.fired_rules if r.urgency is assessment.urgency] or assessment.fired_rules
    references: list[str] = []
    for rule in at_level:
        for source in rule.sources:
            cited = source.reference or (f"source document {source.document}" if source.document else None)
            if cited and cited not in references:
                references.append(cited)
    base = f"triage knowledge base {kb.name} {kb.version}"
    return f"{'; '.join(references)} ({base})" if references else base


def _precondition(message: str, field: str = f"prefetch.{PREFETCH_KEY}") -> RequestProblem:
    return RequestProblem(412, "prefetch missing or invalid", [Problem(message, field)], fhir=True)
