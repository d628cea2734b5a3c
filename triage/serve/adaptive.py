"""FHIR SDC adaptive forms: ``$next-question`` over the questionnaire.

A form filler sends a QuestionnaireResponse (profile ``sdc-questionnaireresponse-adapt``)
whose contained Questionnaire (profile ``sdc-questionnaire-adapt``) holds the items
asked so far, and the response the answers given. The server appends the next
screen's items to the contained Questionnaire and sends the response back
``in-progress``; when the questionnaire is done (or stops early because the urgency
calls for action now), the response comes back ``completed`` with the
RiskAssessment contained, and a display item with the action.

An item that was asked (it is in the contained Questionnaire) but has no answer is
"don't know": unknown, never "no". Answers are read by the same code that reads
every QuestionnaireResponse (:func:`triage.fhir.case_from_questionnaire_response`),
so every linkId, type and range is checked.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Mapping

from .. import fhir
from ..errors import CaseError
from ..knowledge import KnowledgeBase
from ..questionnaire import Questionnaire, Step
from .interview import next_step, screen_questions
from .problems import Problem, RequestProblem, from_case_error, kind_of

SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
ADAPTIVE_EXTENSION = f"{SDC}/sdc-questionnaire-questionnaireAdaptive"
QUESTIONNAIRE_PROFILE = f"{SDC}/sdc-questionnaire-adapt"
RESPONSE_PROFILE = f"{SDC}/sdc-questionnaireresponse-adapt"
CONTAINED_QUESTIONNAIRE = "questions-asked"
CONTAINED_RISK = "risk"
RESULT_ITEM = "triage-result"  # the display item that carries the action when done
_NOT_REPEATED = ("enableWhen", "enableBehavior")  # the server decides what is relevant


class AdaptiveForm:
    """``$next-question`` for one knowledge base; build once, call from any thread."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.kb: KnowledgeBase = questionnaire.engine.knowledge_base
        self.canonical = f"{fhir.questionnaire_url(self.kb)}|{self.kb.version}"
        self.items = {item["linkId"]: _adaptive_item(item) for item in fhir.questionnaire(self.kb)["item"]}

    def next_question(self, body: Any) -> dict:
        """The response in ``body`` (a QuestionnaireResponse, or Parameters holding one), one step on.

        Raises :class:`RequestProblem` (an OperationOutcome naming the linkId) for a
        request that is not an adaptive response to this questionnaire.
        """
        response = _response_in(body)
        asked = self._asked(response)
        answers = self._answers(response, asked)
        try:
            step = next_step(self.questionnaire, answers)
        except CaseError as error:
            raise from_case_error(error, fhir=True) from None
        return self._updated(response, answers, step)

    # ------------------------------------------------------------------ reading

    def _asked(self, response: Mapping) -> list[str]:
        """The linkIds of the questions asked so far, in order, from the contained Questionnaire.

        Every element read is checked for its type, and nothing is skipped: an item the
        server did not put there (a question nested under another, or under the result)
        is refused naming it, since its answer would otherwise not count as asked.
        """
        asked_in, at = self._contained_questionnaire(response)
        derived = asked_in.get("derivedFrom")
        if derived is not None and not (isinstance(derived, list) and all(isinstance(d, str) for d in derived)):
            raise _invalid(f"{at}.derivedFrom: must be a list of canonical URLs, not {kind_of(derived)}", f"{at}.derivedFrom")
        if derived and derived[0].split("|")[0] != fhir.questionnaire_url(self.kb):
            raise _invalid(f"derivedFrom: this service adapts {fhir.questionnaire_url(self.kb)!r}, "
                           f"not {derived[0]!r}", f"{at}.derivedFrom")
        items = asked_in.get("item")
        if items is not None and not isinstance(items, list):
            raise _invalid(f"{at}.item: must be a list of items, not {kind_of(items)}", f"{at}.item")
        asked = []
        for number, item in enumerate(items or []):
            link = item.get("linkId") if isinstance(item, Mapping) else None
            if not isinstance(link, str):
                raise _invalid(f"contained Questionnaire item[{number}]: an item needs a linkId (a string)",
                               f"{at}.item[{number}]")
            where = f"{at}.item.where(linkId='{link}')"
            if link != RESULT_ITEM and link not in self.items:
                raise _invalid(f"contained Questionnaire item[{number}]: linkId {link!r} is not a question "
                               "of this questionnaire", where)
            self._check_nested(item, link, where)
            if link != RESULT_ITEM:
                asked.append(link)
        return asked

    def _contained_questionnaire(self, response: Mapping) -> tuple[Mapping, str]:
        """The contained Questionnaire of the questions asked (empty before the first call), and its path."""
        contained = response.get("contained")
        if contained is not None and not isinstance(contained, list):
            raise _invalid(f"contained: must be a list of resources, not {kind_of(contained)}", "QuestionnaireResponse.contained")
        questionnaires = []
        for number, resource in enumerate(contained or []):
            where = f"QuestionnaireResponse.contained[{number}]"
            kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
            if not isinstance(kind, str):
                raise _invalid(f"contained[{number}]: must be a resource (an object with a resourceType)", where)
            if kind == "QuestionnaireResponse":  # its answers would not be read
                raise _invalid(f"contained[{number}]: a QuestionnaireResponse inside another is not read; "
                               "send its answers as the response", where)
            if kind == "Questionnaire":
                questionnaires.append((resource, where))
        reference = response.get("questionnaire")
        if reference is not None and not isinstance(reference, str):
            raise _invalid(f"questionnaire: must be a canonical URL or '#id', not {kind_of(reference)}",
                           "QuestionnaireResponse.questionnaire")
        if reference is not None and reference.startswith("#"):
            found = [(q, at) for q, at in questionnaires if q.get("id") == reference[1:]]
            if not found:
                raise _invalid(f"questionnaire: {reference!r} names no contained Questionnaire",
                               "QuestionnaireResponse.questionnaire")
            return found[0]
        if reference is not None and reference.split("|")[0] != fhir.questionnaire_url(self.kb):
            raise _invalid(f"questionnaire: {reference!r} is neither a contained Questionnaire ('#id') "
                           f"nor {fhir.questionnaire_url(self.kb)!r}", "QuestionnaireResponse.questionnaire")
        if len(questionnaires) > 1:  # which holds the questions asked? Either could leave one out
            raise _invalid(f"contained: {len(questionnaires)} Questionnaires, and questionnaire names none of them "
                           "('#id')", "QuestionnaireResponse.questionnaire")
        return questionnaires[0] if questionnaires else ({}, "QuestionnaireResponse.contained")

    def _check_nested(self, item: Mapping, link: str, where: str) -> None:
        """An asked item holds only the nested items the server sent with it (its help text)."""
        nested = item.get("item")
        if nested is None:
            return
        expected = [i["linkId"] for i in self.items[link].get("item", [])] if link in self.items else []
        links = [i.get("linkId") if isinstance(i, Mapping) else None for i in nested] if isinstance(nested, list) else None
        if links is None or any(not isinstance(i, Mapping) or i.get("item") is not None for i in nested) \
                or any(x not in expected for x in links):
            raise _invalid(f"contained Questionnaire: linkId {link!r} holds nested items the server did not send "
                           f"(it sends {expected or 'none'}); a question nested there would not be asked",
                           f"{where}.item")

    def _answers(self, response: Mapping, asked: list[str]) -> dict[str, Any]:
        """The answers in asking order; an asked item without an answer is "don't know" (None)."""
        given = response.get("item")
        if given is not None and not isinstance(given, list):
            raise _invalid(f"item: must be a list of items, not {kind_of(given)}", "QuestionnaireResponse.item")
        items = []
        for item in given or []:
            if isinstance(item, Mapping) and item.get("linkId") == RESULT_ITEM:
                # the result is a display item: an answer or item under it would be dropped unread
                extra = [key for key in item if key not in ("linkId", "text", "id", "extension")]
                if extra:
                    raise _invalid(f"linkId {RESULT_ITEM!r}: a display item takes no {extra[0]}; "
                                   "put the answers in the items of their own questions",
                                   f"QuestionnaireResponse.item.where(linkId='{RESULT_ITEM}').{extra[0]}")
                continue
            items.append(item)
        authored = response.get("authored")
        if authored is not None and not isinstance(authored, str):
            raise _invalid(f"authored: must be a dateTime (a string), not {kind_of(authored)}", "QuestionnaireResponse.authored")
        plain = {k: v for k, v in response.items() if k not in ("contained", "questionnaire", "item")}
        plain.update(questionnaire=self.canonical, item=items)
        try:
            case = fhir.case_from_questionnaire_response(plain, self.kb)
        except CaseError as error:
            raise from_case_error(error, fhir=True) from None
        case.pop("id", None)
        answers = {link: case.get(link) for link in asked}
        answers.update((link, value) for link, value in case.items() if link not in answers)  # never drop one
        return answers

    # ------------------------------------------------------------------ writing

    def _updated(self, response: Mapping, answers: Mapping[str, Any], step: Step) -> dict:
        asked = list(answers)
        if step.question is not None:
            asked += [p.id for p in screen_questions(step.question) if p.id not in answers]
        questionnaire: dict[str, Any] = {
            "resourceType": "Questionnaire",
            "id": CONTAINED_QUESTIONNAIRE,
            "meta": {"profile": [QUESTIONNAIRE_PROFILE]},
            "extension": [{"url": ADAPTIVE_EXTENSION, "valueBoolean": True}],
            "version": self.kb.version,
            "title": f"triage questionnaire ({self.kb.name}), the questions asked",
            "derivedFrom": [self.canonical],
            "status": "active",
            "subjectType": ["Patient"],
            "item": [copy.deepcopy(self.items[link]) for link in asked],
        }
        out: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
        for key in ("id", "identifier", "basedOn", "partOf", "encounter", "author", "source"):
            if key in response:
                out[key] = copy.deepcopy(response[key])
        out["meta"] = {"profile": [RESPONSE_PROFILE]}
        out["contained"] = [questionnaire]
        out["questionnaire"] = f"#{CONTAINED_QUESTIONNAIRE}"
        out["status"] = "in-progress" if step.question is not None else "completed"
        if isinstance(response.get("subject"), Mapping):
            out["subject"] = copy.deepcopy(response["subject"])
        out["authored"] = response.get("authored") or datetime.now(timezone.utc).isoformat(timespec="seconds")
        out["item"] = [self._answered_item(link, value) for link, value in answers.items()]
        if step.question is None:
            questionnaire["item"].insert(0, self._result_item(step))
            out["contained"].append(self._risk(step, out.get("subject")))
        return out

    def _answered_item(self, link: str, value: Any) -> dict:
        question = self.kb.question_by_id[link]
        item: dict[str, Any] = {"linkId": link, "text": question.text}
        if value is not None:
            item["answer"] = [fhir.response_answer(question, value)]
        return item

    def _result_item(self, step: Step) -> dict:
        level = step.assessment.urgency
        return {"linkId": RESULT_ITEM, "type": "display", "text": f"{level.label} ({level.value}): {level.action}"}

    def _risk(self, step: Step, subject: Any) -> dict:
        risk = fhir.risk_assessment(step.assessment, self.kb)
        risk = {"resourceType": "RiskAssessment", "id": CONTAINED_RISK, **{k: v for k, v in risk.items() if k != "resourceType"}}
        if isinstance(subject, Mapping):
            risk["subject"] = copy.deepcopy(subject)
        risk["basis"] = [{"reference": "#", "type": "QuestionnaireResponse"}]  # the response that contains it
        if step.stopped_early:
            risk["note"].insert(0, {"text": f"The questionnaire stopped early because this needs action now; "
                                            f"{step.remaining} more questions could complete the picture."})
        return risk


def _adaptive_item(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in _NOT_REPEATED}


def _response_in(body: Any) -> Mapping:
    if isinstance(body, Mapping) and body.get("resourceType") == "Parameters":
        parameters = body.get("parameter")
        if not isinstance(parameters, list):
            raise _invalid(f"Parameters: parameter must be a list of parameters, not {kind_of(parameters)}",
                           "Parameters.parameter")
        for number, p in enumerate(parameters):
            if not isinstance(p, Mapping) or not isinstance(p.get("name"), str):
                raise _invalid(f"Parameters: parameter[{number}] must be an object with a name",
                               f"Parameters.parameter[{number}]")
        given = [p.get("resource") for p in parameters if p["name"] == "questionnaire-response"]
        if not given:
            raise _invalid("Parameters: no parameter 'questionnaire-response'", "Parameters.parameter")
        if len(given) > 1:  # which one holds the answers? Taking either could drop an emergency answer
            raise _invalid(f"Parameters: 'questionnaire-response' given {len(given)} times; send it once",
                           "Parameters.parameter")
        body = given[0]
    if not isinstance(body, Mapping) or body.get("resourceType") != "QuestionnaireResponse":
        kind = body.get("resourceType") if isinstance(body, Mapping) else kind_of(body)
        raise _invalid(f"expected a QuestionnaireResponse (or Parameters holding one), not {kind}", "resourceType")
    return body


def _invalid(message: str, expression: str | None) -> RequestProblem:
    """A 422 OperationOutcome; ``expression`` is the FHIRPath of the element (or the linkId)."""
    return RequestProblem(422, "not an adaptive QuestionnaireResponse to this questionnaire",
                          [Problem(message, expression, expression)], fhir=True)
