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

import re
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field

from .. import fhir
from ..assessment import Assessment
from ..knowledge import RED_FLAGS_NOT_CHECKED, KnowledgeBase
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
        value = _latest(found) if len(found) > 1 else found[0][1]
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
    problem = _subject_problem(reference, patient_id, request.fhirServer)
    if problem:
        raise _precondition(f"prefetch.{PREFETCH_KEY}: the response is about {reference!r}, which {problem}",
                            f"prefetch.{PREFETCH_KEY}.subject.reference")
    return value


_RELATIVE_PATIENT = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?")


def _subject_problem(reference: str, patient_id: str, fhir_server: str | None) -> str | None:
    """Why ``reference`` is not the patient in context, or None when it is.

    Only two forms are the patient: ``Patient/{id}`` (optionally ``/_history/{v}``), or
    exactly ``{fhirServer}/Patient/{id}``. Anything else (another server, ``//host/...``,
    a path before ``Patient``, a query or a fragment) could be another person.
    """
    expected = f"Patient/{patient_id}"
    relative = reference
    if "://" in reference:
        # An absolute reference names its server: Patient/p1 on another server is another person.
        base = (fhir_server or "").rstrip("/")
        if not base or not reference.startswith(base + "/"):
            return f"is not {expected} on this call's fhirServer ({fhir_server!r})"
        relative = reference[len(base) + 1:]
    match = _RELATIVE_PATIENT.fullmatch(relative)
    if match is None:
        return (f"is not a reference to {expected} (expected {expected}, optionally /_history/{{version}}, "
                "or that on this call's fhirServer; no other path, server, query or fragment)")
    if match.group(1) != patient_id:
        return f"is not the patient in context ({expected})"
    return None


def _bundle_responses(bundle: Mapping) -> list[tuple[int, Mapping]]:
    """The QuestionnaireResponses (with their entry numbers) in a searchset Bundle; 412 for one not safe to read.

    An entry that is not read could hold the urgent answers, so a wrong shape is refused,
    never skipped: ``entry`` must be a list of entries, each with a ``resource`` object.
    Other resources a search may include (an OperationOutcome, the Patient) are not answers.
    Only a ``searchset`` is read: a history or transaction Bundle carries deletions and
    older versions, and its newest entry need not be the patient's latest answers.
    """
    where = f"prefetch.{PREFETCH_KEY}"
    if bundle.get("type") != "searchset":
        raise _precondition(f"{where}: a Bundle of type {bundle.get('type')!r} is not read; send the searchset "
                            "the prefetch template asks for (a history or transaction Bundle can hold deleted "
                            "or older responses)", f"{where}.type")
    entries = bundle.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise _precondition(f"{where}.entry: must be a list of entries, not {kind_of(entries)}", f"{where}.entry")
    found = []
    for number, entry in enumerate(entries or []):
        at = f"{where}.entry[{number}]"
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            got = f"the entry is {kind_of(entry)}" if not isinstance(entry, Mapping) else (
                "it has none" if resource is None else f"its resource is {kind_of(resource)}")
            raise _precondition(f"{at}: an entry needs a resource (an object); {got}", f"{at}.resource")
        kind = resource.get("resourceType")
        if kind == "Bundle" or not isinstance(kind, str):
            raise _precondition(f"{at}.resource: "
                                + ("a Bundle inside the Bundle is not read; send the responses as its entries"
                                   if kind == "Bundle" else "has no resourceType, so it cannot be read"),
                                f"{at}.resource")
        _check_entry(entry, kind, at)
        if kind == "QuestionnaireResponse":
            found.append((number, resource))
    if not found:
        _check_nothing_missing(bundle, entries or [], where)
    return found


def _check_entry(entry: Mapping, kind: str, at: str) -> None:
    """A searchset entry is a search result: no request or response (those of history and
    transactions, where a DELETE is no answer), and a search mode this service understands."""
    for key in ("request", "response"):
        if key in entry:
            method = entry[key].get("method") if isinstance(entry[key], Mapping) else None
            raise _precondition(f"{at}: a searchset entry has no {key}"
                                + (f" (this one is a {method})" if isinstance(method, str) else "")
                                + "; a deleted or changed response cannot be read as the latest answers",
                                f"{at}.{key}")
    search = entry.get("search")
    if search is None:
        return
    mode = search.get("mode") if isinstance(search, Mapping) else None
    allowed = ("outcome",) if kind == "OperationOutcome" else ("match", "include")
    if not isinstance(search, Mapping) or (mode is not None and mode not in allowed):
        raise _precondition(f"{at}.search: mode {mode!r} is not understood for a {kind} "
                            f"(expected {' or '.join(allowed)}), so the entry cannot be read safely",
                            f"{at}.search.mode")


def _check_nothing_missing(bundle: Mapping, entries: list, where: str) -> None:
    """No response in the Bundle means "no answers on record" only if the search says so:
    a total of matches above zero, or an error from the search, means answers are missing."""
    total = bundle.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise _precondition(f"{where}.total: must be a whole number of matches, not {total!r}", f"{where}.total")
    if total:
        raise _precondition(f"{where}: the search matched {total} but the Bundle holds no QuestionnaireResponse: "
                            "the patient's answers could be missing, so no triage is given", f"{where}.entry")
    for number, entry in enumerate(entries):
        resource = entry["resource"]
        issues = resource.get("issue") if resource.get("resourceType") == "OperationOutcome" else None
        if isinstance(issues, list) and any(not isinstance(i, Mapping) or i.get("severity") in ("error", "fatal")
                                            for i in issues):
            raise _precondition(f"{where}.entry[{number}]: the search reported an error and found no "
                                "QuestionnaireResponse: the patient's answers could be missing",
                                f"{where}.entry[{number}].resource")


def _latest(responses: list[tuple[int, Mapping]]) -> Mapping:
    """The latest authored of several responses; 412 when two different ones tie for latest.

    The template sorts by -authored; sort again in case the EHR did not, as instants: text
    order puts 00:30+02:00 after 23:00Z the day before, and would pick the older answers.
    """
    instants = [_authored_instant(r, number) for number, r in responses]
    newest = max(instants)
    latest = [r for (_, r), instant in zip(responses, instants, strict=True) if instant == newest]
    if any(r != latest[0] for r in latest[1:]):
        # Bundle order would decide, and one order could give self-care where the other gives emergency.
        authored = ", ".join(repr(r.get("authored")) for r in latest)
        raise _precondition(f"prefetch.{PREFETCH_KEY}: {len(latest)} different responses were authored at the same "
                            f"instant ({authored}): cannot tell which is the latest")
    return latest[0]


def _authored_instant(response: Mapping, number: int) -> tuple[int, int, int]:
    """When a response was authored, as an instant; 412 when it is not a full dateTime with a zone.

    Several responses are in the Bundle, so the latest must be known for certain: a date
    alone, no time zone, or text that names no real instant cannot be ordered safely.
    """
    authored = response.get("authored")
    try:
        found = fhir.instant(authored)
    except ValueError as problem:
        found, why = None, str(problem)
    else:
        why = f"{authored!r} is a date without a time and zone"
    if found is None:
        raise _precondition(f"prefetch.{PREFETCH_KEY}: several responses, and authored {why}: "
                            "cannot tell which is the latest (send YYYY-MM-DDThh:mm:ss with a zone)",
                            f"prefetch.{PREFETCH_KEY}.entry[{number}].resource.authored")
    return found


def cards(assessment: Assessment, kb: KnowledgeBase) -> dict:
    """The CDS Hooks response for an assessment: one card."""
    level = assessment.urgency
    return {"cards": [{
        "summary": summary(assessment),
        # Made without the safety pack, an info card could hide an emergency: never below warning.
        "indicator": "warning" if assessment.warnings and INDICATOR[level] == "info" else INDICATOR[level],
        "detail": detail(assessment),
        "source": {
            "label": source_label(assessment, kb),
            "topic": {"system": fhir.URGENCY_SYSTEM, "code": level.value, "display": level.label},
        },
    }]}


def summary(assessment: Assessment) -> str:
    """The level, exactly, then the action, cut to fit the under 140 characters a summary may have."""
    unchecked = f" ({RED_FLAGS_NOT_CHECKED}: safety pack off)" if assessment.warnings else ""
    text = f"Pregnancy pain triage: {assessment.urgency.value}{unchecked}. {assessment.action}"
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
