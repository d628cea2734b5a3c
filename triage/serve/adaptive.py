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
from .problems import Problem, RequestProblem, from_case_error

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
        """The linkIds of the questions asked so far, in order, from the contained Questionnaire."""
        reference = response.get("questionnaire")
        contained = [r for r in response.get("contained") or [] if isinstance(r, Mapping)]
        questionnaires = [r for r in contained if r.get("resourceType") == "Questionnaire"]
        if isinstance(reference, str) and reference.startswith("#"):
            found = [q for q in questionnaires if q.get("id") == reference[1:]]
            if not found:
                raise _invalid(f"questionnaire: {reference!r} names no contained Questionnaire", "questionnaire")
            asked_in = found[0]
        elif reference is not None and str(reference).split("|")[0] != fhir.questionnaire_url(self.kb):
            raise _invalid(f"questionnaire: {reference!r} is neither a contained Questionnaire ('#id') "
                           f"nor {fhir.questionnaire_url(self.kb)!r}", "questionnaire")
        else:
            asked_in = questionnaires[0] if questionnaires else {}
        derived = asked_in.get("derivedFrom") or []
        if derived and str(derived[0]).split("|")[0] != fhir.questionnaire_url(self.kb):
            raise _invalid(f"derivedFrom: this service adapts {fhir.questionnaire_url(self.kb)!r}, "
                           f"not {derived[0]!r}", "derivedFrom")
        asked = []
        for number, item in enumerate(asked_in.get("item") or []):
            link = item.get("linkId") if isinstance(item, Mapping) else None
            if link == RESULT_ITEM:
                continue
            if link not in self.items:
                raise _invalid(f"contained Questionnaire item[{number}]: linkId {link!r} is not a question "
                               "of this questionnaire", link if isinstance(link, str) else None)
            asked.append(link)
        return asked

    def _answers(self, response: Mapping, asked: list[str]) -> dict[str, Any]:
        """The answers in asking order; an asked item without an answer is "don't know" (None)."""
        items = [i for i in response.get("item") or [] if not (isinstance(i, Mapping) and i.get("linkId") == RESULT_ITEM)]
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
        given = [p.get("resource") for p in body.get("parameter") or []
                 if isinstance(p, Mapping) and p.get("name") == "questionnaire-response"]
        if not given:
            raise _invalid("Parameters: no parameter 'questionnaire-response'", None)
        if len(given) > 1:  # which one holds the answers? Taking either could drop an emergency answer
            raise _invalid(f"Parameters: 'questionnaire-response' given {len(given)} times; send it once", None)
        body = given[0]
    if not isinstance(body, Mapping) or body.get("resourceType") != "QuestionnaireResponse":
        kind = body.get("resourceType") if isinstance(body, Mapping) else type(body).__name__
        raise _invalid(f"expected a QuestionnaireResponse (or Parameters holding one), not {kind}", "resourceType")
    return body


def _invalid(message: str, field: str | None) -> RequestProblem:
    return RequestProblem(422, "not an adaptive QuestionnaireResponse to this questionnaire",
                          [Problem(message, field)], fhir=True)
