"""triage serve, CDS Hooks: discovery and the patient-view service, over HTTP.

Responses are checked against JSON Schemas written from the CDS Hooks 2.0
specification (discovery response, service response, card); the card's indicator
follows the urgency (critical for emergency and urgent, warning for within 24 hours,
info otherwise) with the exact level in its summary; missing or invalid prefetch is
412 with a valid OperationOutcome.
"""

from __future__ import annotations

import httpx
import jsonschema
import pytest
import serving
from fhir.resources.R4B.operationoutcome import OperationOutcome

from triage import fhir
from triage.samples import random_cases

server = serving.server  # the fixture: a real triage serve for this module

SERVICE = "/cds-services/pregnancy-pain-triage"
CODING = {"type": "object", "properties": {"system": {"type": "string"}, "code": {"type": "string"},
                                           "display": {"type": "string"}}}
DISCOVERY_SCHEMA = {
    "type": "object", "required": ["services"],
    "properties": {"services": {"type": "array", "items": {
        "type": "object", "required": ["hook", "description", "id"],
        "properties": {
            "hook": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "id": {"type": "string", "pattern": "^[A-Za-z0-9._~-]+$"},  # used in the service's URL
            "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
            "usageRequirements": {"type": "string"},
        }}}},
}
CARD_SCHEMA = {
    "type": "object", "required": ["summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string"},
        "summary": {"type": "string", "maxLength": 139, "minLength": 1},
        "detail": {"type": "string"},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "source": {"type": "object", "required": ["label"], "properties": {
            "label": {"type": "string", "minLength": 1}, "url": {"type": "string"}, "icon": {"type": "string"},
            "topic": CODING}},
        "suggestions": {"type": "array"}, "selectionBehavior": {"enum": ["at-most-one", "any"]},
        "overrideReasons": {"type": "array"}, "links": {"type": "array"},
    },
}
RESPONSE_SCHEMA = {"type": "object", "required": ["cards"],
                   "properties": {"cards": {"type": "array", "items": CARD_SCHEMA}, "systemActions": {"type": "array"}}}
INDICATOR = {"emergency": "critical", "urgent": "critical", "within_24h": "warning", "routine": "info", "self_care": "info"}


def hook_request(prefetch=..., patient="p1", **changes):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": patient}}
    if prefetch is not ...:
        body["prefetch"] = {"questionnaireResponse": prefetch}
    body.update(changes)
    return body


def response_for(kb, engine, case, patient="p1"):
    resource = fhir.questionnaire_response(engine.validate(case), kb)
    resource["subject"] = {"reference": f"Patient/{patient}"}
    return resource


def call(server, body):
    return httpx.post(server.url + SERVICE, json=body, timeout=10)


def test_discovery_describes_the_patient_view_service_and_its_prefetch(server, kb):
    body = httpx.get(server.url + "/cds-services").json()
    jsonschema.validate(body, DISCOVERY_SCHEMA)
    [service] = body["services"]
    assert service["hook"] == "patient-view" and service["id"] == SERVICE.rsplit("/", 1)[1]
    template = service["prefetch"]["questionnaireResponse"]
    assert template.startswith("QuestionnaireResponse?") and "{{context.patientId}}" in template
    assert fhir.questionnaire_url(kb) in template


def one_case_per_level(kb, engine):
    found = {}
    for case in random_cases(kb.questions, 3000, seed=11):
        case.pop("id")
        found.setdefault(engine.assess(case).urgency.value, case)
        if len(found) == 5:
            return found
    raise AssertionError(f"no generated case for {set(INDICATOR) - set(found)}")


def test_a_card_per_level_with_its_indicator_exact_level_and_sources(server, kb, engine):
    for level, case in one_case_per_level(kb, engine).items():
        response = call(server, hook_request(response_for(kb, engine, case)))
        assert response.status_code == 200, response.text
        jsonschema.validate(response.json(), RESPONSE_SCHEMA)
        [card] = response.json()["cards"]
        assessment = engine.assess(case)
        assert card["indicator"] == INDICATOR[level]
        assert f"Pregnancy pain triage: {level}." in card["summary"]
        assert assessment.action in card["detail"] and assessment.disclaimer in card["detail"]
        for flag in assessment.red_flags:
            assert flag.reason in card["detail"]
        assert card["source"]["topic"]["code"] == level
        assert f"{kb.name} {kb.version}" in card["source"]["label"]
        top = [r for r in assessment.fired_rules if r.urgency is assessment.urgency]
        for reference in {s.reference for r in top for s in r.sources if s.reference}:
            assert reference in card["source"]["label"]


def test_a_searchset_bundle_gives_the_latest_response(server, kb, engine):
    old = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2024-01-01T09:00:00Z"}
    new = {**response_for(kb, engine, {"leg_cramps": True, "night_cramps": True}), "authored": "2024-03-01T09:00:00Z"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": old}, {"resource": new}]}
    [card] = call(server, hook_request(bundle)).json()["cards"]
    assert "self_care" in card["summary"] and card["indicator"] == "info"


@pytest.mark.parametrize("older, newer", [
    ("2024-05-15T00:30:00+02:00", "2024-05-14T23:00:00Z"),  # text order would pick the older
    ("2024-05-14T10:00:00Z", "2024-05-14T10:00:00.500Z"),
])
def test_the_latest_response_is_found_by_instant_not_by_text(server, kb, engine, older, newer):
    # hostile trial (issue 10): comparing authored as text chose the older, reassuring answers
    calm = {**response_for(kb, engine, {"leg_cramps": True, "night_cramps": True}), "authored": older}
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": newer}
    for entries in ([calm, breathless], [breathless, calm]):
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in entries]}
        [card] = call(server, hook_request(bundle)).json()["cards"]
        assert "emergency" in card["summary"] and card["indicator"] == "critical"


def test_several_responses_with_an_authored_that_is_not_an_instant_is_412(server, kb, engine):
    one = {**response_for(kb, engine, {"leg_cramps": True}), "authored": "garbage"}
    two = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2024-05-14T10:00:00Z"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": one}, {"resource": two}]}
    response = call(server, hook_request(bundle))
    assert response.status_code == 412 and "cannot tell which is the latest" in response.text


def test_no_response_on_record_gives_no_card(server):
    response = call(server, hook_request({"resourceType": "Bundle", "type": "searchset", "total": 0}))
    assert response.status_code == 200 and response.json() == {"cards": []}


@pytest.mark.parametrize("prefetch, expected", [
    (..., "is missing"),
    (None, "is missing"),
    ("QuestionnaireResponse/1", "must be a QuestionnaireResponse or a Bundle"),
    ({"resourceType": "Patient", "id": "p1"}, "is a 'Patient', not a QuestionnaireResponse"),
    ({"resourceType": "QuestionnaireResponse", "status": "completed", "subject": {"reference": "Patient/p2"},
      "item": [{"linkId": "leg_cramps", "answer": [{"valueBoolean": True}]}]}, "not the patient in context"),
    ({"resourceType": "QuestionnaireResponse", "status": "completed", "subject": {"reference": "Patient/p1"},
      "item": [{"linkId": "weeks_pregnant", "answer": [{"valueInteger": 99}]}]}, "99 is out of range"),
    ({"resourceType": "QuestionnaireResponse", "status": "completed",
      "item": [{"linkId": "leg_cramps", "answer": [{"valueBoolean": True}]}]}, "has no subject.reference"),
    ({"resourceType": "QuestionnaireResponse", "status": "completed", "subject": {"display": "Ms P One"},
      "item": [{"linkId": "leg_cramps", "answer": [{"valueBoolean": True}]}]}, "has no subject.reference"),
])
def test_missing_or_invalid_prefetch_is_412_with_an_operation_outcome(server, prefetch, expected):
    response = call(server, hook_request(prefetch))
    assert response.status_code == 412 and response.headers["content-type"] == "application/fhir+json"
    OperationOutcome.model_validate(response.json())
    assert any(expected in issue["diagnostics"] for issue in response.json()["issue"]), response.text


@pytest.mark.parametrize("body, field", [
    (hook_request({}, hook="order-select"), "hook"),
    (hook_request({}, context={"userId": "Practitioner/1"}), "context.patientId"),
    ({"hook": "patient-view", "context": {}}, "hookInstance"),
])
def test_a_malformed_hook_call_is_400_or_422_naming_the_field(server, body, field):
    response = call(server, body)
    assert response.status_code in (400, 422)
    assert field in [problem["field"] for problem in response.json()["problems"]], response.text


def bundle_of(*responses):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in responses]}


def refused(server, prefetch, expected):
    response = call(server, hook_request(prefetch))
    assert response.status_code == 412 and response.headers["content-type"] == "application/fhir+json", response.text
    OperationOutcome.model_validate(response.json())
    assert any(expected in issue["diagnostics"] for issue in response.json()["issue"]), response.text
    return response.json()["issue"]


def test_two_different_responses_authored_at_the_same_instant_are_refused_in_either_order(server, kb, engine):
    # hostile trial (round 3): max() took the first of a tie, so Bundle order chose self-care or emergency
    calm = {**response_for(kb, engine, {"leg_cramps": True, "night_cramps": True}), "authored": "2026-12-01T10:00:00Z"}
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2026-12-01T11:00:00+01:00"}
    for entries in ([calm, breathless], [breathless, calm]):
        refused(server, bundle_of(*entries), "authored at the same instant")


def test_the_same_response_twice_is_no_tie(server, kb, engine):
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2026-12-01T10:00:00Z"}
    older = {**response_for(kb, engine, {"leg_cramps": True}), "authored": "2026-11-01T10:00:00Z"}
    [card] = call(server, hook_request(bundle_of(older, breathless, breathless))).json()["cards"]
    assert "emergency" in card["summary"]


def urgent_response(kb, engine):
    # hostile trial (round 3): an entry shaped wrongly was skipped, so these answers gave no card
    case = next(c for c in random_cases(kb.questions, 3000, seed=11) if engine.assess(c).urgency.value == "urgent")
    case.pop("id")
    return response_for(kb, engine, case)


@pytest.mark.parametrize("shape, expected", [
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": r}}, "entry: must be a list of entries"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": 5}, "entry: must be a list of entries, not a number"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": "x"}, "entry: must be a list of entries, not a string"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": bundle_of(r)}]}, "a Bundle inside the Bundle is not read"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": [r]}, "entry[0]: an entry needs a resource"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r}, 5]}, "entry[1]: an entry needs a resource"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": [r]}]}, "its resource is a list"),
    (lambda r: {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {k: v for k, v in r.items() if k != "resourceType"}}]},
     "has no resourceType"),
], ids=["entry-object", "entry-number", "entry-string", "nested-bundle", "entry-is-the-response", "entry-number-item",
        "resource-list", "resource-without-type"])
def test_a_bundle_whose_entries_cannot_all_be_read_is_412_naming_the_entry(server, kb, engine, shape, expected):
    issues = refused(server, shape(urgent_response(kb, engine)), expected)
    assert all(issue["expression"][0].startswith("prefetch.questionnaireResponse.entry") for issue in issues)


@pytest.mark.parametrize("status", ["in-progress", "stopped", "entered-in-error", None, 5])
def test_a_response_that_is_not_completed_or_amended_is_412_saying_why(server, kb, engine, status):
    # hostile trial (round 3): an in-progress response was triaged as if its answers were complete
    resource = {**response_for(kb, engine, {"leg_cramps": True}), "status": status}
    if status is None:
        del resource["status"]
    refused(server, resource, "not 'completed' or 'amended'")
    refused(server, bundle_of(resource), "not 'completed' or 'amended'")


def test_an_amended_response_is_triaged(server, kb, engine):
    resource = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "status": "amended"}
    [card] = call(server, hook_request(resource)).json()["cards"]
    assert "emergency" in card["summary"]


WRONG = {"list": [5, "x", True, {"a": 1}], "object": [5, "x", True, [], [{"a": 1}]], "string": [5, True, [], {"a": 1}]}
# Each element the service or the reader reads, and what it must be.
ELEMENTS = [
    (("entry",), "list"), (("entry", 0), "object"), (("entry", 0, "resource"), "object"),
    (("entry", 0, "resource", "subject"), "object"), (("entry", 0, "resource", "subject", "reference"), "string"),
    (("entry", 0, "resource", "authored"), "string"), (("entry", 0, "resource", "status"), "string"),
    (("entry", 0, "resource", "item"), "list"), (("entry", 0, "resource", "item", 0), "object"),
    (("entry", 0, "resource", "item", 0, "linkId"), "string"), (("entry", 0, "resource", "item", 0, "answer"), "list"),
    (("entry", 0, "resource", "contained"), "list"),
]


@pytest.mark.parametrize("path, kind", ELEMENTS, ids=lambda p: ".".join(map(str, p)) if isinstance(p, tuple) else p)
def test_every_element_read_of_the_wrong_type_is_412_never_500_nor_a_silent_card(server, kb, engine, path, kind):
    # hostile trial (round 3): {"entry": 5} was a 500 (TypeError); an entry object gave no card
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2026-12-01T10:00:00Z"}
    older = {**response_for(kb, engine, {"leg_cramps": True}), "authored": "2026-11-01T10:00:00Z"}
    for wrong in WRONG[kind]:
        prefetch = bundle_of(breathless, older)
        holder = prefetch
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = wrong
        response = call(server, hook_request(prefetch))
        assert response.status_code == 412, (wrong, response.text)
        OperationOutcome.model_validate(response.json())


def test_a_response_to_another_questionnaire_is_412_naming_the_element(server, kb, engine):
    resource = {**response_for(kb, engine, {"leg_cramps": True}), "questionnaire": "http://example.org/Questionnaire/phq-9"}
    issues = refused(server, resource, "questionnaire: answers 'http://example.org/Questionnaire/phq-9'")
    assert ["QuestionnaireResponse.questionnaire"] in [issue.get("expression") for issue in issues]


def test_an_absolute_subject_must_be_the_patient_on_this_call_s_fhir_server(server, kb, engine):
    # Patient/p1 on another server is another person: a card from those answers would triage
    # this patient on someone else's.
    resource = response_for(kb, engine, {"breathless_or_chest_pain": True})
    ours = "https://ehr.example.org/fhir"
    resource["subject"] = {"reference": f"{ours}/Patient/p1"}
    accepted = call(server, hook_request(resource, fhirServer=ours + "/"))
    assert accepted.status_code == 200 and accepted.json()["cards"][0]["indicator"] == "critical"
    for server_given in ("https://other.example.org/fhir", None):
        changes = {"fhirServer": server_given} if server_given else {}
        refused = call(server, hook_request(resource, **changes))
        assert refused.status_code == 412, refused.text
        assert "not Patient/p1 on this call's fhirServer" in refused.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("authored", ["2026-02-29T10:00:00Z", "2026-02-01T24:00:00Z", "2026-06-30T12:00:00+25:00",
                                      "0000-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "9999-12-31T23:59:59-23:59",
                                      "0001-01-01T00:00:00+14:01"])
def test_an_authored_that_names_no_real_instant_is_412_naming_it_never_500_nor_the_latest(server, kb, engine, authored):
    # hostile trial 3 (1, 6): datetime raised on these (500), and an offset of -23:59 sorted as the latest
    calm = {**response_for(kb, engine, {"leg_cramps": True, "night_cramps": True}), "authored": authored}
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2026-06-01T10:00:00Z"}
    for entries in ([calm, breathless], [breathless, calm]):
        issues = refused(server, bundle_of(*entries), "cannot tell which is the latest")
        number = entries.index(calm)
        assert issues[0]["expression"] == [f"prefetch.questionnaireResponse.entry[{number}].resource.authored"]


def test_a_leap_second_is_an_instant_after_the_59th_second_and_before_the_next_minute(server, kb, engine):
    calm = response_for(kb, engine, {"leg_cramps": True, "night_cramps": True})
    breathless = response_for(kb, engine, {"breathless_or_chest_pain": True})
    for older, newer in (("2026-06-30T23:59:59.999Z", "2026-06-30T23:59:60Z"),
                         ("2026-06-30T23:59:60.5Z", "2026-07-01T00:00:00Z"),
                         ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z")):
        for entries in ([{**calm, "authored": older}, {**breathless, "authored": newer}],
                        [{**breathless, "authored": newer}, {**calm, "authored": older}]):
            response = call(server, hook_request(bundle_of(*entries)))
            assert response.status_code == 200, response.text
            assert "emergency" in response.json()["cards"][0]["summary"]


@pytest.mark.parametrize("reference", ["//evil.example/Patient/p1", "evil/Patient/p1", "Patient?identifier=x/Patient/p1",
                                       "Patient/p1?x=1", "Patient/p1#x", "https://ehr.example/fhir/evil/Patient/p1",
                                       "https://ehr.example/fhir//Patient/p1", "HTTPS://ehr.example/fhir/Patient/p1",
                                       "urn:uuid:Patient/p1", "Patient/p1/_history", "Patient/p1/x"])
def test_a_subject_that_is_not_exactly_the_patient_in_context_is_412_saying_why(server, kb, engine, reference):
    # hostile trial 3 (5): the last two path segments were compared, so these passed as Patient/p1
    resource = response_for(kb, engine, {"breathless_or_chest_pain": True})
    resource["subject"] = {"reference": reference}
    response = call(server, hook_request(resource, fhirServer="https://ehr.example/fhir"))
    assert response.status_code == 412, response.text
    [issue] = response.json()["issue"]
    assert "is not" in issue["diagnostics"] and issue["expression"] == ["prefetch.questionnaireResponse.subject.reference"]


@pytest.mark.parametrize("reference", ["Patient/p1", "Patient/p1/_history/3", "https://ehr.example/fhir/Patient/p1",
                                       "https://ehr.example/fhir/Patient/p1/_history/2"])
def test_the_patient_in_context_is_accepted_relative_or_on_this_fhir_server(server, kb, engine, reference):
    resource = response_for(kb, engine, {"breathless_or_chest_pain": True})
    resource["subject"] = {"reference": reference}
    response = call(server, hook_request(resource, fhirServer="https://ehr.example/fhir/"))
    assert response.status_code == 200 and response.json()["cards"][0]["indicator"] == "critical", response.text


def test_only_a_searchset_bundle_is_read(server, kb, engine):
    # hostile trial 3 (6): a history Bundle's newer DELETE entry with self-care answers won over an emergency
    breathless = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), "authored": "2026-06-01T10:00:00Z"}
    calm = {**response_for(kb, engine, {"leg_cramps": True, "night_cramps": True}), "authored": "2026-07-01T10:00:00Z"}
    history = {"resourceType": "Bundle", "type": "history", "entry": [
        {"resource": breathless, "request": {"method": "PUT", "url": "QuestionnaireResponse/1"}},
        {"resource": calm, "request": {"method": "DELETE", "url": "QuestionnaireResponse/2"}}]}
    for kind in ("history", "transaction", None):
        issues = refused(server, {**history, "type": kind}, "is not read; send the searchset")
        assert issues[0]["expression"] == ["prefetch.questionnaireResponse.type"]
    # a searchset whose entry carries a request (a DELETE) is no search result
    issues = refused(server, {**history, "type": "searchset"}, "a searchset entry has no request (this one is a PUT)")
    assert issues[0]["expression"] == ["prefetch.questionnaireResponse.entry[0].request"]


@pytest.mark.parametrize("mode, accepted", [("match", True), ("include", True), ("outcome", False), ("other", False),
                                            (5, False)])
def test_a_search_mode_other_than_match_or_include_is_412(server, kb, engine, mode, accepted):
    breathless = response_for(kb, engine, {"breathless_or_chest_pain": True})
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": breathless, "search": {"mode": mode}}]}
    response = call(server, hook_request(bundle))
    if accepted:
        assert response.status_code == 200 and response.json()["cards"][0]["indicator"] == "critical"
    else:
        assert response.status_code == 412 and "cannot be read safely" in response.text, response.text


@pytest.mark.parametrize("bundle", [
    {"total": 1},
    {"total": 2, "entry": [{"resource": {"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational"}]}, "search": {"mode": "outcome"}}]},
    {"entry": [{"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
                "search": {"mode": "outcome"}}]},
    {"total": "1"}, {"total": -1}, {"total": True},
], ids=["total-no-entry", "total-outcome-only", "error-outcome", "total-string", "total-negative", "total-boolean"])
def test_a_search_that_matched_answers_the_bundle_does_not_hold_is_412_not_no_card(server, bundle):
    # hostile trial 3 (6): total 1 with no entry gave 200 and no card: answers missing, said nothing
    response = call(server, hook_request({"resourceType": "Bundle", "type": "searchset", **bundle}))
    assert response.status_code == 412, response.text
    OperationOutcome.model_validate(response.json())


def test_a_search_with_nothing_found_and_an_informational_outcome_gives_no_card(server):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": [{"resource": outcome}]}
    response = call(server, hook_request(bundle))
    assert response.status_code == 200 and response.json() == {"cards": []}


@pytest.mark.parametrize("element", [{"id": {}}, {"identifier": "x"}, {"meta": "x"}, {"extension": "x"}, {"basedOn": 5},
                                     {"authored": "2026-02-29T10:00:00Z"}, {"subject": {"reference": "Patient/p1",
                                                                                        "display": 5}} | {"encounter": 5}])
def test_a_prefetched_response_with_an_element_of_the_wrong_fhir_type_is_412_naming_it(server, kb, engine, element):
    # hostile trial 3 (9): the same reader as $next-question and /assess, so the same refusal
    resource = {**response_for(kb, engine, {"breathless_or_chest_pain": True}), **element}
    name = next(iter(element)) if len(element) == 1 else "encounter"
    issues = refused(server, resource, f"{name}: ")
    assert [f"QuestionnaireResponse.{name}"] in [issue.get("expression") for issue in issues], issues
