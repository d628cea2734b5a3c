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
from .date_time import date_time_problem


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
    _check_element_types(resource, problems)
    contained = resource.get("contained")
    if contained is not None and not isinstance(contained, list):
        problems.append("contained: must be a list of resources")
    elif isinstance(contained, list) and any(isinstance(r, Mapping) and r.get("resourceType") == "QuestionnaireResponse"
                                           for r in contained):
        # its answers would not be read: say so rather than assess without them
        problems.append("contained: a QuestionnaireResponse inside another is not read; send its answers as the response")
    if problems:  # an element of the wrong type: say so before reading answers beside it
        raise CaseError(problems, source, case_id if isinstance(resource.get("id"), str) else None)
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


STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
_REFERENCES = ("subject", "encounter", "author", "source")


def _check_element_types(resource: Mapping, problems: list[str]) -> None:
    """Each element of the response that is read or written back has its FHIR type.

    An element of the wrong type is refused naming it, never kept or guessed at: the
    server echoes these back, and ``subject`` says whose answers these are.
    """
    def wrong(name: str, expected: str) -> None:
        problems.append(f"{name}: must be {expected}, not {_kind(resource[name])}")

    if "id" in resource and not (isinstance(resource["id"], str) and _FHIR_ID.match(resource["id"])):
        problems.append(f"id: must be a FHIR id (1 to 64 letters, digits, '-' or '.'), not {quoted(resource['id'])}"
                        if isinstance(resource["id"], str) else f"id: must be a FHIR id (a string), not {_kind(resource['id'])}")
    for name in ("meta", "text", "identifier"):
        if name in resource and not isinstance(resource[name], Mapping):
            wrong(name, "an object")
    for name in ("implicitRules", "language", "questionnaire"):
        if name in resource and not isinstance(resource[name], str):
            wrong(name, "a string")
    for name in ("extension", "basedOn", "partOf"):
        if name in resource and not (isinstance(resource[name], list) and all(isinstance(e, Mapping) for e in resource[name])):
            wrong(name, "a list of objects")
    if isinstance(resource.get("extension"), list) and any(
            isinstance(e, Mapping) and not isinstance(e.get("url"), str) for e in resource["extension"]):
        problems.append("extension: each extension needs a url (a string)")
    if "status" in resource and resource["status"] not in STATUSES:
        problems.append(f"status: must be one of {', '.join(STATUSES)}, not {quoted(resource['status'], quotes=True)}"
                        if isinstance(resource["status"], str) else f"status: must be a code (a string), not {_kind(resource['status'])}")
    for name in _REFERENCES:
        if name not in resource:
            continue
        if not isinstance(resource[name], Mapping):
            wrong(name, "a Reference (an object)")
        elif "reference" in resource[name] and not isinstance(resource[name]["reference"], str):
            problems.append(f"{name}.reference: must be a string, not {_kind(resource[name]['reference'])}")
    if "authored" in resource:
        problem = date_time_problem(resource["authored"])
        if problem:
            problems.append(f"authored: {problem}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", type(None): "null"}.get(type(value), "an object")


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
            elif answers and _has_data_absent_reason(item):
                self.problems.append(f"linkId {linkid!r}: the item carries a data-absent-reason beside its answer, so "
                                     "the answer cannot be read as given; for \"don't know\" leave the answer out")
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
        if isinstance(answer, Mapping) and _marked_absent(answer):
            # Unknown is never "no": {"valueBoolean": false} marked data-absent-reason is not false.
            self.problems.append(f"linkId {linkid!r}: the answer carries a data-absent-reason or an extension on its "
                                 "value, so its value cannot be read as given; for \"don't know\" leave the answer out")
            return None
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


DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _has_data_absent_reason(element: Mapping) -> bool:
    extensions = element.get("extension")
    return isinstance(extensions, list) and any(isinstance(e, Mapping) and e.get("url") == DATA_ABSENT_REASON
                                                for e in extensions)


def _marked_absent(answer: Mapping) -> bool:
    """Whether an answer says its value is absent or qualified: a data-absent-reason on it, or any
    extension on its value (``_valueBoolean``), which triage does not understand."""
    return _has_data_absent_reason(answer) or any(isinstance(key, str) and key.startswith("_value") for key in answer)


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
