"""A FHIR ``QuestionnaireResponse`` in as a case (every answer checked against the
questionnaire), and a validated case out as one."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from ..case import CaseBase
from ..errors import CaseError
from ..knowledge import KnowledgeBase
from ..questions import Question
from ..text import quoted
from .common import _FHIR_ID, CASE_ID_SYSTEM, HELP_SUFFIX, questionnaire_url, response_answer


def is_fhir_resource(data: Any) -> bool:
    """Whether ``data`` is a FHIR resource (a mapping with ``resourceType``), not a plain case."""
    return isinstance(data, Mapping) and "resourceType" in data


def case_from_questionnaire_response(resource: Mapping, kb: KnowledgeBase, source: str | None = None) -> dict:
    """The case (a plain mapping of answers) a FHIR ``QuestionnaireResponse`` gives.

    Every answer is checked against the questionnaire; problems (unknown linkId,
    wrong value type, value out of range or not an allowed option, more than one
    answer) raise :class:`CaseError`, one line per problem naming the linkId.
    Items without an answer are unknown. The case id is the resource ``id``, else
    its ``identifier.value``.
    """
    resource_type = resource.get("resourceType")
    if resource_type != "QuestionnaireResponse":
        raise CaseError([f"field 'resourceType': a FHIR {quoted(resource_type, quotes=not isinstance(resource_type, str))} is not a case; send a QuestionnaireResponse"],
                        source)
    # A key FHIR does not define is refused, never ignored: {"resourceType": ..., "fever": true}
    # is a case whose answers would otherwise silently vanish.
    unknown = _unknown_keys(resource, _RESPONSE_ELEMENTS)
    if unknown:
        raise CaseError([f"field {quoted(key)}: not an element of a FHIR QuestionnaireResponse"
                         + (" (answers go in item[].answer; a plain case has no resourceType)"
                            if key in kb.question_by_id else "")
                         for key in unknown[:5]], source)
    case_id = resource.get("id")
    identifier = resource.get("identifier")
    if case_id is None and isinstance(identifier, Mapping):
        case_id = identifier.get("value")
    case_id = str(case_id) if case_id is not None else None

    problems: list[str] = []
    _refuse_modifiers(resource, "QuestionnaireResponse", problems)
    contained = resource.get("contained")
    if contained is not None and not isinstance(contained, list):
        problems.append("contained: must be a list of resources")
    elif isinstance(contained, list) and any(isinstance(r, Mapping) and r.get("resourceType") == "QuestionnaireResponse"
                                           for r in contained):
        # its answers would not be read: say so rather than assess without them
        problems.append("contained: a QuestionnaireResponse inside another is not read; send its answers as the response")
    if resource.get("status") == "entered-in-error":
        problems.append("status is entered-in-error: these answers were withdrawn")
    canonical = resource.get("questionnaire")
    if canonical is not None:
        url = str(canonical).split("|")[0]
        if url != questionnaire_url(kb):
            problems.append(f"questionnaire: answers {url!r}, not this knowledge base's {questionnaire_url(kb)!r}")

    reader = _ResponseReader(kb.question_by_id, problems)
    reader.read_items(resource.get("item"), "item")
    if problems:
        raise CaseError(problems, source, case_id)
    case: dict[str, Any] = {"id": case_id} if case_id is not None else {}
    case.update(reader.answers)
    return case


MAX_ITEM_DEPTH = 16  # our questionnaire nests items 2 deep

# The elements FHIR R4 defines for a QuestionnaireResponse, its items and their answers.
# A primitive element may carry its extensions under "_" + its name.
def _refuse_modifiers(element: Mapping, where: str, problems: list[str]) -> None:
    """A modifierExtension changes what its element means (it could negate an answer), and
    triage understands none: FHIR says such an element must be refused, not read."""
    if element.get("modifierExtension"):
        problems.append(f"{where}: modifierExtension: not understood, so this cannot be read safely")


_RESOURCE_BASE = {"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension",
                  "modifierExtension"}
_RESPONSE_ELEMENTS = _RESOURCE_BASE | {"identifier", "basedOn", "partOf", "questionnaire", "status", "subject",
                                       "encounter", "authored", "author", "source", "item"}
_ITEM_ELEMENTS = {"id", "extension", "modifierExtension", "linkId", "definition", "text", "answer", "item"}
_ANSWER_ELEMENTS = {"id", "extension", "modifierExtension", "item"} | {
    "value" + kind for kind in ("Boolean", "Decimal", "Integer", "Date", "DateTime", "Time", "String", "Uri",
                                "Attachment", "Coding", "Quantity", "Reference")}


def _unknown_keys(mapping: Mapping, elements: set[str]) -> list:
    """The keys of ``mapping`` that are not FHIR elements (nor ``_element`` extensions of them)."""
    return [key for key in mapping
            if not (isinstance(key, str) and (key in elements or (key[:1] == "_" and key[1:] in elements)))]


class _ResponseReader:
    """Walks the items of a response (nested ones too) and collects checked answers."""

    def __init__(self, questions: Mapping[str, Question], problems: list[str]):
        self.questions = questions
        self.help_ids = {q.id + HELP_SUFFIX for q in questions.values()}
        self.problems = problems
        self.answers: dict[str, Any] = {}
        self.seen: set[str] = set()

    def read_items(self, items: Any, where: str, depth: int = 0) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            self.problems.append(f"{where}: must be a list of items")
            return
        if depth > MAX_ITEM_DEPTH:
            self.problems.append(f"{where}: items nested more than {MAX_ITEM_DEPTH} levels deep")
            return
        for number, item in enumerate(items):
            self.read_item(item, f"{where}[{number}]", depth)

    def read_item(self, item: Any, where: str, depth: int = 0) -> None:
        if not isinstance(item, Mapping) or not isinstance(item.get("linkId"), str):
            self.problems.append(f"{where}: an item needs a linkId")
            return
        linkid = item["linkId"]
        unknown = _unknown_keys(item, _ITEM_ELEMENTS)
        if unknown:
            self.problems.append(f"linkId {quoted(linkid)}: field {quoted(unknown[0])}: not an element of an item")
            return
        _refuse_modifiers(item, f"linkId {quoted(linkid)}", self.problems)
        for answer in item.get("answer") or [] if isinstance(item.get("answer"), list) else []:
            bad = _unknown_keys(answer, _ANSWER_ELEMENTS) if isinstance(answer, Mapping) else []
            if bad:
                self.problems.append(f"linkId {quoted(linkid)}: answer: field {quoted(bad[0])}: not an element of an answer")
                return
            if isinstance(answer, Mapping):
                _refuse_modifiers(answer, f"linkId {quoted(linkid)}: answer", self.problems)
        answers = item.get("answer") or []
        if not isinstance(answers, list):
            self.problems.append(f"linkId {linkid!r}: answer must be a list")
            answers = []
        question = self.questions.get(linkid)
        if question is not None:
            if linkid in self.seen:
                self.problems.append(f"linkId {linkid!r}: the question appears more than once")
            elif len(answers) > 1:
                self.problems.append(f"linkId {linkid!r}: {len(answers)} answers, but the question takes one")
            elif answers:
                value = self.answer_value(question, answers[0])
                if value is not None:
                    self.answers[linkid] = value
            self.seen.add(linkid)
        elif linkid in self.help_ids:
            if answers:
                self.problems.append(f"linkId {linkid!r}: a help text (display item) takes no answer")
        else:
            hint = difflib.get_close_matches(linkid, list(self.questions), n=1) if len(linkid) <= 64 else []
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problems.append(f"linkId {linkid!r}: unknown linkId, not a question of this questionnaire{suggestion}")
        self.read_items(item.get("item"), f"linkId {linkid!r}: item", depth + 1)
        for answer in answers:
            if isinstance(answer, Mapping):
                self.read_items(answer.get("item"), f"linkId {linkid!r}: answer.item", depth + 1)

    def answer_value(self, question: Question, answer: Any) -> Any:
        """The typed value of one answer, or None after recording the problem."""
        linkid = question.id
        expected = "value" + question.fhir_value_type
        keys = [key for key in answer if isinstance(key, str) and key.startswith("value")] if isinstance(answer, Mapping) else []
        if len(keys) != 1:
            self.problems.append(f"linkId {linkid!r}: an answer needs exactly one value[x]; expected {expected}")
            return None
        key, value = keys[0], answer[keys[0]]
        if key != expected:
            self.problems.append(
                f"linkId {linkid!r}: wrong type: {key} given, expected {expected} ({question.describe_allowed()})"
            )
            return None
        try:
            return question.fhir_read(value)
        except ValueError as problem:
            self.problems.append(f"linkId {linkid!r}: {problem}")
            return None


def questionnaire_response(case: CaseBase, kb: KnowledgeBase, resource_id: str | None = None) -> dict:
    """A validated case as a completed ``QuestionnaireResponse`` to this knowledge base's Questionnaire.

    The case id goes in ``identifier`` (and in ``id`` when it is a valid FHIR id
    and no ``resource_id`` is given); unknown answers are left out.
    """
    answers = case.answers()
    resource: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if resource_id is not None:
        resource["id"] = resource_id
    elif case.id is not None and _FHIR_ID.match(case.id):
        resource["id"] = case.id
    if case.id is not None:
        resource["identifier"] = {"system": CASE_ID_SYSTEM, "value": case.id}
    resource["questionnaire"] = f"{questionnaire_url(kb)}|{kb.version}"
    resource["status"] = "completed"
    resource["item"] = [
        {"linkId": q.id, "text": q.text, "answer": [response_answer(q, answers[q.id])]}
        for q in kb.questions
        if q.id in answers
    ]
    return resource
