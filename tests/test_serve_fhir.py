"""triage serve, FHIR SDC adaptive forms: ``POST /Questionnaire/$next-question`` over HTTP.

A form filler that knows only the items it is sent answers them from a case; driven
to completion, the contained RiskAssessment is the one ``triage assess --format fhir``
gives for the same answers. Every resource the server emits validates as R4B.
"""

from __future__ import annotations

import json

import httpx
import pytest
import serving
from click.testing import CliRunner
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import triage
from triage import fhir
from triage.casefiles import read_single_case
from triage.cli import main
from triage.samples import random_cases
from triage.serve import adaptive
from conftest import EXAMPLES

server = serving.server  # the fixture: a real triage serve for this module

NEXT = "/Questionnaire/$next-question"
CASE_FILES = sorted((EXAMPLES / "cases").iterdir())
START = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}


def contained(resource, kind):
    return [r for r in resource.get("contained", []) if r["resourceType"] == kind]


def fhir_answer(item, value):
    """How a form answers ``item``: from the item alone (an option is picked by its code)."""
    if item["type"] == "boolean":
        return {"valueBoolean": value}
    if item["type"] == "integer":
        return {"valueInteger": value}
    [option] = [o for o in item["answerOption"] if o["valueCoding"]["code"] == str(value)]
    return {"valueCoding": option["valueCoding"]}


def fill_adaptively(client, case, start=START, limit=80):
    """Drive $next-question to completion, answering each new item from ``case`` (absent: left unanswered)."""
    response = dict(start)
    given = {}
    for _ in range(limit):
        reply = client.post(NEXT, json=response)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "application/fhir+json"
        out = reply.json()
        QuestionnaireResponse.model_validate(out)
        if out["status"] == "completed":
            return out, given
        assert out["status"] == "in-progress"
        [asked] = contained(out, "Questionnaire")
        new = [item for item in asked["item"] if item["linkId"] not in given]
        assert new, "in progress, but no new item"
        items = list(out.get("item", []))
        for item in new:
            value = case.get(item["linkId"])
            if value is None and item.get("required"):
                value = False  # the three main complaints need a yes or no
            given[item["linkId"]] = value
            entry = {"linkId": item["linkId"], "text": item["text"]}
            if value is not None:
                entry["answer"] = [fhir_answer(item, value)]
            items.append(entry)
        response = {**out, "item": items}
    raise AssertionError("the adaptive form did not complete")


def triage_assess_fhir(tmp_path, answers):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    result = CliRunner().invoke(main, ["assess", "--format", "fhir", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


COMPARED = ("extension", "status", "method", "prediction", "mitigation")


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_a_next_question_loop_gives_what_triage_assess_gives_on_the_same_answers(server, tmp_path, path):
    case, _ = read_single_case(str(path))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        done, given = fill_adaptively(client, case)
    [risk] = contained(done, "RiskAssessment")
    expected = triage_assess_fhir(tmp_path, given)
    assert {k: risk.get(k) for k in COMPARED} == {k: expected.get(k) for k in COMPARED}
    assert [n for n in risk["note"] if not n["text"].startswith("The questionnaire stopped early")] == expected["note"]
    assert risk["basis"] == [{"reference": "#", "type": "QuestionnaireResponse"}]
    # The answers come back in asking order; "don't know" items carry no answer.
    assert [i["linkId"] for i in done["item"]] == list(given)
    assert all(("answer" in i) == (given[i["linkId"]] is not None) for i in done["item"])


def test_generated_cases_complete_as_triage_assess_does(server, kb, engine, tmp_path):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for case in random_cases(kb.questions, 12, seed=3):
            done, given = fill_adaptively(client, case)
            [risk] = contained(done, "RiskAssessment")
            assert risk["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == engine.assess(given).urgency.value


def test_the_first_call_asks_the_first_screen_in_an_adaptive_questionnaire(server, kb, engine):
    out = httpx.post(server.url + NEXT, json=START).json()
    [asked] = contained(out, "Questionnaire")
    assert out["questionnaire"] == f"#{asked['id']}" and out["status"] == "in-progress"
    assert out["meta"]["profile"] == [adaptive.RESPONSE_PROFILE] and asked["meta"]["profile"] == [adaptive.QUESTIONNAIRE_PROFILE]
    assert asked["extension"] == [{"url": adaptive.ADAPTIVE_EXTENSION, "valueBoolean": True}]
    assert asked["derivedFrom"] == [f"{fhir.questionnaire_url(kb)}|{kb.version}"] and "url" not in asked
    assert asked["title"] and out["authored"]
    first_screen = triage.Questionnaire(engine).next_step({}).question
    assert [i["linkId"] for i in asked["item"]] == [item.id for item in first_screen.items]
    assert all("enableWhen" not in i for i in asked["item"])


def test_parameters_are_accepted_and_the_subject_is_kept(server):
    subject = {"reference": "Patient/p7"}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "questionnaire-response", "resource": {**START, "subject": subject}}]}
    out = httpx.post(server.url + NEXT, json=body).json()
    assert out["resourceType"] == "QuestionnaireResponse" and out["subject"] == subject


def test_an_emergency_completes_at_once_with_the_action_first(server):
    case = {"weeks_pregnant": 30, "lower_back_pain": False, "leg_pain": False, "leg_cramps": False,
            "breathless_or_chest_pain": True}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        done, given = fill_adaptively(client, case)
    screen = [q.id for q in triage.load_knowledge_base().questions if q.type == "boolean" and q.red_flag is True]
    assert list(given) == screen and screen[0] == "breathless_or_chest_pain"  # stopped after the first screen
    [asked] = contained(done, "Questionnaire")
    assert asked["item"][0]["linkId"] == adaptive.RESULT_ITEM and asked["item"][0]["type"] == "display"
    assert asked["item"][0]["text"].startswith("EMERGENCY (emergency): Call the emergency number now")
    [risk] = contained(done, "RiskAssessment")
    assert risk["note"][0]["text"].startswith("The questionnaire stopped early")


def test_an_asked_item_left_unanswered_is_dont_know_not_no(server, engine):
    first = httpx.post(server.url + NEXT, json=START).json()
    first_ids = [i["linkId"] for i in first["contained"][0]["item"]]
    skipped = httpx.post(server.url + NEXT, json=first).json()  # nothing answered: all "don't know"
    assert skipped["item"] == [{"linkId": i["linkId"], "text": i["text"]} for i in first["contained"][0]["item"]]
    [asked] = contained(skipped, "Questionnaire")
    unknown = {link: None for link in first_ids}
    expected = triage.Questionnaire(engine).next_step(unknown).question
    assert [i["linkId"] for i in asked["item"]] == first_ids + [item.id for item in expected.items]


def bad(server, body):
    response = httpx.post(server.url + NEXT, json=body)
    assert response.status_code == 422 and response.headers["content-type"] == "application/fhir+json", response.text
    OperationOutcome.model_validate(response.json())
    return response.json()["issue"]


def started(server, answers):
    out = httpx.post(server.url + NEXT, json=START).json()
    return {**out, "item": answers}


def test_a_required_item_left_unanswered_is_refused_naming_it(server):
    out = started(server, [{"linkId": "weeks_pregnant", "answer": [{"valueInteger": 30}]}])
    out = httpx.post(server.url + NEXT, json=out).json()  # now asks lower_back_pain, which needs an answer
    issues = bad(server, out)
    assert any("lower_back_pain" in i["expression"][0] and "needs an answer" in i["diagnostics"] for i in issues)


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.update(item=[{"linkId": "weeks_pregnant", "answer": [{"valueInteger": 77}]}]), "77 is out of range"),
    (lambda r: r.update(item=[{"linkId": "weeks_pregnant", "answer": [{"valueString": "30"}]}]), "wrong type"),
    (lambda r: r["contained"][0]["item"].append({"linkId": "leg_cramp", "type": "boolean", "text": "?"}), "'leg_cramp' is not a question"),
    (lambda r: r["contained"][0].update(derivedFrom=["http://example.org/Questionnaire/phq-9"]), "this service adapts"),
    (lambda r: r.update(questionnaire="#elsewhere"), "names no contained Questionnaire"),
    (lambda r: r.update(resourceType="Observation"), "expected a QuestionnaireResponse"),
])
def test_a_bad_adaptive_response_gets_an_operation_outcome(server, change, expected):
    response = httpx.post(server.url + NEXT, json=START).json()
    change(response)
    issues = bad(server, response)
    assert any(expected in issue["diagnostics"] for issue in issues), issues


def test_parameters_with_two_responses_are_refused_not_one_of_them_read(server):
    # hostile trial (issue 10): the second, empty response was read and the emergency dropped
    answered = {**START, "item": [{"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": True}]}]}
    for pair in ([answered, START], [START, answered]):
        body = {"resourceType": "Parameters",
                "parameter": [{"name": "questionnaire-response", "resource": r} for r in pair]}
        response = httpx.post(server.url + NEXT, json=body)
        assert response.status_code == 422 and "given 2 times" in response.text
        assert response.json()["resourceType"] == "OperationOutcome"


def refused(server, body, expected, expression=None):
    issues = bad(server, body)
    assert any(expected in issue["diagnostics"] for issue in issues), issues
    if expression is not None:
        assert expression in [e for issue in issues for e in issue.get("expression", [])], issues
    return issues


WRONG = {"list": [5, "x", True, {"a": 1}], "object": [5, "x", True, [], [{"a": 1}]], "string": [5, True, [], {"a": 1}]}
# Each element $next-question reads from a response (after the first call), and what it must be.
ELEMENTS = [
    (("contained",), "list"), (("contained", 0), "object"), (("contained", 0, "resourceType"), "string"),
    (("contained", 0, "item"), "list"), (("contained", 0, "item", 0), "object"),
    (("contained", 0, "item", 0, "linkId"), "string"), (("contained", 0, "item", 0, "item"), "list"),
    (("contained", 0, "derivedFrom"), "list"), (("contained", 0, "derivedFrom", 0), "string"),
    (("questionnaire",), "string"), (("item",), "list"), (("item", 0), "object"), (("item", 0, "linkId"), "string"),
    (("item", 0, "answer"), "list"), (("item", 0, "answer", 0), "object"), (("item", 0, "item"), "list"),
    (("authored",), "string"),
]


def with_wrong(resource, path, wrong):
    changed = json.loads(json.dumps(resource))
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = wrong
    return changed


@pytest.mark.parametrize("path, kind", ELEMENTS, ids=lambda p: ".".join(map(str, p)) if isinstance(p, tuple) else p)
def test_every_element_read_of_the_wrong_type_is_422_never_500(server, path, kind):
    # hostile trial (round 3): "contained": 5, "item": 5, "derivedFrom": 5 ... were 500s (TypeError)
    answered = started(server, [{"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": False}]}])
    for wrong in WRONG[kind]:
        body = with_wrong(answered, path, wrong)
        for sent in (body, {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": body}]}):
            bad(server, sent)


@pytest.mark.parametrize("body, expected, expression", [
    ({**START, "contained": 5}, "contained: must be a list of resources, not a number", "QuestionnaireResponse.contained"),
    ({**START, "contained": [{"resourceType": "Questionnaire", "item": 5}]}, "item: must be a list of items",
     "QuestionnaireResponse.contained[0].item"),
    ({**START, "contained": [{"resourceType": "Questionnaire", "derivedFrom": 5}]}, "must be a list of canonical URLs",
     "QuestionnaireResponse.contained[0].derivedFrom"),
    ({**START, "item": 5}, "item: must be a list of items, not a number", "QuestionnaireResponse.item"),
    ({**START, "questionnaire": 5}, "questionnaire: must be a canonical URL", "QuestionnaireResponse.questionnaire"),
    ({**START, "questionnaire": "#elsewhere"}, "names no contained Questionnaire", "QuestionnaireResponse.questionnaire"),
    ({**START, "contained": [{"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": True}]}]}]},
     "a QuestionnaireResponse inside another is not read", "QuestionnaireResponse.contained[0]"),
    ({"resourceType": "Parameters", "parameter": 5}, "parameter must be a list of parameters", "Parameters.parameter"),
    ({"resourceType": "Parameters", "parameter": [5]}, "parameter[0] must be an object", "Parameters.parameter[0]"),
])
def test_a_wrong_type_is_refused_naming_the_element_by_its_path(server, body, expected, expression):
    # hostile trial (round 3): the expression read QuestionnaireResponse.item.where(linkId='questionnaire')
    refused(server, body, expected, expression)


def test_answers_nested_under_the_result_item_are_refused_not_dropped(server):
    # hostile trial (round 3): an emergency answer nested under triage-result was dropped: 200 in-progress
    nested = {"linkId": adaptive.RESULT_ITEM, "text": "result",
              "item": [{"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": True}]}]}
    refused(server, started(server, [nested]), "a display item takes no item",
            f"QuestionnaireResponse.item.where(linkId='{adaptive.RESULT_ITEM}').item")
    answered = {"linkId": adaptive.RESULT_ITEM, "answer": [{"valueBoolean": True}]}
    refused(server, started(server, [answered]), "a display item takes no answer")
    echoed = {"linkId": adaptive.RESULT_ITEM, "text": "result"}  # a display item echoed back, as fillers do
    assert httpx.post(server.url + NEXT, json=started(server, [echoed])).status_code == 200


def test_items_nested_in_the_contained_questionnaire_where_the_server_sent_none_are_refused(server):
    # an item the server did not send is not counted as asked: its question would be asked again, unread
    out = httpx.post(server.url + NEXT, json=START).json()
    first = out["contained"][0]["item"][0]["linkId"]
    out["contained"][0]["item"][0]["item"].append({"linkId": "fever", "type": "boolean", "text": "Fever?"})
    refused(server, out, "holds nested items the server did not send",
            f"QuestionnaireResponse.contained[0].item.where(linkId='{first}').item")
    out = httpx.post(server.url + NEXT, json=START).json()
    out["contained"][0]["item"].insert(0, {"linkId": adaptive.RESULT_ITEM, "type": "display", "text": "r",
                                           "item": [{"linkId": "fever", "type": "boolean", "text": "Fever?"}]})
    refused(server, out, "holds nested items the server did not send")


def test_several_contained_questionnaires_and_none_named_is_refused(server):
    out = httpx.post(server.url + NEXT, json=START).json()
    out["contained"].append({**out["contained"][0], "id": "other", "item": []})
    out["questionnaire"] = fhir.questionnaire_url(triage.load_knowledge_base())
    refused(server, out, "2 Questionnaires, and questionnaire names none of them")


def test_an_element_of_the_response_is_named_as_an_element_not_as_a_linkid(server):
    # hostile trial (round 3): a key that is not an item was named QuestionnaireResponse.item.where(linkId=...)
    issues = refused(server, {**START, "fever": True}, "not an element of a FHIR QuestionnaireResponse",
                     "QuestionnaireResponse.fever")
    assert not any("where(linkId='fever')" in e for issue in issues for e in issue.get("expression", []))


@pytest.mark.parametrize("element, expression", [
    ({"subject": "Patient/1"}, "QuestionnaireResponse.subject"),
    ({"subject": {"reference": 5}}, "QuestionnaireResponse.subject.reference"),
    ({"id": {}}, "QuestionnaireResponse.id"), ({"id": "a b"}, "QuestionnaireResponse.id"),
    ({"identifier": "x"}, "QuestionnaireResponse.identifier"),
    ({"status": 5}, "QuestionnaireResponse.status"), ({"status": "bogus"}, "QuestionnaireResponse.status"),
    ({"meta": "x"}, "QuestionnaireResponse.meta"), ({"extension": "x"}, "QuestionnaireResponse.extension"),
    ({"basedOn": 5}, "QuestionnaireResponse.basedOn"),
    ({"authored": "2026-13-45T99:99:99Z"}, "QuestionnaireResponse.authored"),
    ({"authored": "2026-02-29T10:00:00Z"}, "QuestionnaireResponse.authored"),
    ({"authored": "2026-05-01T10:00:00+25:00"}, "QuestionnaireResponse.authored"),
])
def test_an_element_of_the_wrong_fhir_type_is_422_naming_it_never_echoed_back(server, element, expression):
    # hostile trial 3 (9): these came back in a 200, as sent
    answered = started(server, [{"linkId": "breathless_or_chest_pain", "answer": [{"valueBoolean": False}]}])
    issues = bad(server, {**answered, **element})
    assert [expression] in [issue.get("expression") for issue in issues], issues


@pytest.mark.parametrize("authored", ["2026", "2026-05", "2026-05-01", "2026-06-30T23:59:60Z", "2026-05-01T10:00:00+14:00"])
def test_a_valid_partial_or_leap_second_authored_is_kept(server, authored):
    reply = httpx.post(server.url + NEXT, json={**START, "authored": authored})
    assert reply.status_code == 200 and reply.json()["authored"] == authored, reply.text


def test_an_answer_marked_unknown_is_refused_by_next_question_and_cds(server, kb, engine):
    # hostile trial 3 (10): a data-absent-reason answer was read as its value: unknown read as "no"
    marked = {"valueBoolean": False, "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                                   "valueCode": "unknown"}]}
    issues = bad(server, started(server, [{"linkId": "breathless_or_chest_pain", "answer": [marked]}]))
    assert any("leave the answer out" in i["diagnostics"] for i in issues), issues
    assert ["QuestionnaireResponse.item.where(linkId='breathless_or_chest_pain')"] in [i.get("expression") for i in issues]
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "subject": {"reference": "Patient/p1"},
                "item": [{"linkId": "breathless_or_chest_pain", "answer": [marked]}]}
    call = {"hook": "patient-view", "hookInstance": "1", "context": {"userId": "Practitioner/1", "patientId": "p1"},
            "prefetch": {"questionnaireResponse": resource}}
    reply = httpx.post(server.url + "/cds-services/pregnancy-pain-triage", json=call)
    assert reply.status_code == 412 and "leave the answer out" in reply.text
    reply = httpx.post(server.url + "/assess", json=resource)
    assert reply.status_code == 422 and "leave the answer out" in reply.text


# --------------------------------------------------------------------------- bad bodies on every endpoint
ENDPOINTS = ["/assess", "/interview", NEXT, "/cds-services/pregnancy-pain-triage"]


def problem_texts(response):
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        return [issue["diagnostics"] for issue in body["issue"]]
    return [problem["message"] for problem in body["problems"]]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_bad_json_names_its_line_and_column_on_every_endpoint(server, path):
    # hostile trial 3 (8): only /assess said where; the others said "Expecting value" alone
    response = httpx.post(server.url + path, content=b'{\n "a": 1,\n "b": [\n   ,\n}',
                          headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert any("line 4, column 4" in text for text in problem_texts(response)), response.text


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content, expected", [('{"answers": {}}'.encode("utf-16"), "the body is UTF-16"),
                                               (b'{"answers":\n "\xff"}', "not UTF-8 text (line 2, byte 0xff)"),
                                               (b"", "Expecting value")])
def test_a_body_that_does_not_read_is_named_a_body_not_a_file_on_every_endpoint(server, path, content, expected):
    # hostile trial 3 (8): "the file is UTF-16"; FastAPI's "There was an error parsing the body" named nothing
    response = httpx.post(server.url + path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    texts = problem_texts(response)
    assert any(expected in text for text in texts) and not any("file" in text for text in texts), texts


@pytest.mark.parametrize("path", [NEXT, "/cds-services/pregnancy-pain-triage"])
def test_a_repeated_key_on_a_fhir_endpoint_names_no_linkid_it_is_not(server, path):
    # hostile trial 3 (8): the expression read QuestionnaireResponse.item.where(linkId='b') for a key "b"
    response = httpx.post(server.url + path, content=b'{"resourceType": "QuestionnaireResponse", "b": 1, "b": 2}',
                          headers={"content-type": "application/fhir+json"})
    assert response.status_code == 422, response.text
    [issue] = response.json()["issue"]
    assert issue["diagnostics"].startswith("b: given twice") and "expression" not in issue, issue


@pytest.mark.parametrize("details", ["yes", 1, 0, "true", None])
def test_interview_details_must_be_a_boolean(server, details):
    # hostile trial 3 (11b): "yes" and 1 were taken as true
    response = httpx.post(server.url + "/interview", json={"answers": {}, "details": details})
    assert response.status_code == 422, response.text
    assert "details" in [problem["field"] for problem in response.json()["problems"]]


@pytest.mark.parametrize("query", ["format=fhir&format=json", "format=json&format=fhir", "format=json&format=json"])
def test_a_query_parameter_given_twice_is_refused_naming_it(server, query):
    # hostile trial 3 (11b): the last value was taken: ?format=fhir&format=json answered JSON
    response = httpx.post(f"{server.url}/assess?{query}", json={"leg_cramps": True})
    assert response.status_code == 422, response.text
    assert "format: query parameter given 2 times" in response.text
    if "fhir" in query:  # an OperationOutcome: a parameter is no linkId
        [issue] = response.json()["issue"]
        assert "expression" not in issue, issue
    assert httpx.post(f"{server.url}/assess?format=json", json={"leg_cramps": True}).status_code == 200
