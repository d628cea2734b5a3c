"""HL7 FHIR R4 (as R4B resources): the questions out as a ``Questionnaire``, a
``QuestionnaireResponse`` in as a case, an assessment out as a ``RiskAssessment``.

Resources are plain dicts in FHIR JSON; no FHIR library is needed at run time
(the tests validate every resource this module emits with the ``fhir.resources``
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
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .assessment import Assessment, CauseFinding
from .case import CaseBase, validate_case
from .conditions import AllOf, AnyOf, FactTest, FieldTest, NotOf, negation_normal_form
from .errors import CaseError
from .knowledge import KnowledgeBase
from .questions import Choice, Question
from .urgency import Urgency

BASE = "https://triage.example/fhir"
ANSWER_SYSTEM = f"{BASE}/CodeSystem/answers"  # + "/<question id>"
CAUSE_SYSTEM = f"{BASE}/CodeSystem/cause"
URGENCY_SYSTEM = f"{BASE}/CodeSystem/urgency"
KNOWLEDGE_BASE_SYSTEM = f"{BASE}/CodeSystem/knowledge-base"
URGENCY_EXTENSION = f"{BASE}/StructureDefinition/urgency"
CASE_ID_SYSTEM = f"{BASE}/case-id"

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
LOINC = "http://loinc.org"

# Standard codes only where they were checked against LOINC, and only when the
# question still has the meaning (type and range) the code was checked for.
VERIFIED_CODES: dict[str, tuple[str, str, dict]] = {
    "weeks_pregnant": ("49051-6", "Gestational age in weeks", {"type": "integer"}),
    "pain_severity": (
        "72514-3",
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        {"type": "integer", "min": 0, "max": 10},
    ),
}

# qualitativeRisk of a likely cause: high when a rule naming it found a warning sign,
# else from the urgency the rules gave it. The rules estimate no probability: this
# says how much the cause matters to act on, not how likely it is.
RISK_BY_URGENCY = {
    Urgency.EMERGENCY: "high",
    Urgency.URGENT: "high",
    Urgency.WITHIN_24H: "moderate",
    Urgency.ROUTINE: "low",
    Urgency.SELF_CARE: "low",
}
RISK_DISPLAY = {"high": "High likelihood", "moderate": "Moderate likelihood", "low": "Low likelihood"}

HELP_SUFFIX = ".help"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_VALUE_KEY = {"boolean": "valueBoolean", "integer": "valueInteger", "choice": "valueCoding"}
_MAX_POINTS = 64  # the most `=` tests one negated integer test may expand to


# --------------------------------------------------------------------------- identifiers


def questionnaire_url(kb: KnowledgeBase) -> str:
    """The canonical URL of the knowledge base's Questionnaire (local, does not resolve)."""
    return f"{BASE}/Questionnaire/{_fhir_id(kb.name)}"


def answer_system(question: Question) -> str:
    """The local code system of a choice question's answers."""
    return f"{ANSWER_SYSTEM}/{question.id}"


def answer_coding(question: Question, choice: Choice) -> dict:
    """The Coding of one answer option: the value as text, in the question's local system."""
    return {"system": answer_system(question), "code": str(choice.value), "display": choice.label}


def _fhir_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]
    return cleaned or "triage"


def _computable_name(text: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name[:1].isalpha() else "Triage" + name


def _choice(question: Question, value: Any) -> Choice:
    return next(c for c in question.choices if c.value == value and type(c.value) is type(value))


# --------------------------------------------------------------------------- enableWhen


@dataclass(frozen=True)
class EnableWhen:
    """A condition as FHIR ``enableWhen``.

    ``conditions`` is the flat list (empty: always enabled), ``behavior`` is
    ``all`` or ``any`` when there are several, and ``exact`` says whether FHIR
    enables the item for exactly the answers the condition holds for; when not
    exact it enables it for more (never fewer) answers.
    """

    conditions: list[dict]
    behavior: str | None
    exact: bool


@dataclass(frozen=True)
class _Flat:
    tests: tuple  # enableWhen dicts; empty means "always"
    behavior: str  # how the tests combine, when there are several
    exact: bool


def _always(exact: bool) -> _Flat:
    return _Flat((), "all", exact)


def enable_when(condition, questions: Mapping[str, Question]) -> EnableWhen:
    """Map an ``ask_when`` condition to ``enableWhen`` / ``enableBehavior``.

    Our ``not`` means "not known to hold", so it is true for an unanswered field.
    FHIR's ``!=`` says the same on paper ("no answer equals") but form fillers
    disagree about unanswered items, so it is never used: a negated test becomes
    ``exists = false`` OR ``=`` each value it leaves (``<``/``>`` for integer tails),
    which every reading of the standard evaluates the same way.

    FHIR can say one flat ``all`` or one flat ``any``. Conditions are put in
    negation normal form; an ``any`` inside an ``all`` is dropped from it, and an
    ``all`` inside an ``any`` is cut to its first test. Both only weaken the
    condition, so the question is enabled whenever it is relevant (and maybe more
    often): asking more is safe, hiding a relevant question is not. Derived facts
    and unknown fields cannot be tested in FHIR and count as true.
    """
    flat = _flatten(negation_normal_form(condition), questions)
    tests = [dict(test) for test in flat.tests]
    return EnableWhen(tests, flat.behavior if len(tests) > 1 else None, flat.exact)


def _dedupe(tests) -> tuple:
    unique: list[dict] = []
    for test in tests:
        if test not in unique:
            unique.append(test)
    return tuple(unique)


def _flatten(condition, questions: Mapping[str, Question]) -> _Flat:
    if isinstance(condition, FieldTest):
        return _literal(condition, False, questions)
    if isinstance(condition, NotOf):
        if isinstance(condition.not_, FieldTest):
            return _literal(condition.not_, True, questions)
        return _always(False)  # not of a derived fact: no FHIR equivalent
    if isinstance(condition, FactTest):
        return _always(False)

    if isinstance(condition, AnyOf):
        parts = [_flatten(c, questions) for c in condition.any]
        if len(parts) == 1:
            return parts[0]
        always = [p for p in parts if not p.tests]
        if always:  # true or anything is true
            return _always(any(p.exact for p in always))
        exact = all(p.exact for p in parts)
        tests: list[dict] = []
        for part in parts:
            if len(part.tests) > 1 and part.behavior == "all":
                tests.append(part.tests[0])  # a and b implies a: weaker, so safe
                exact = False
            else:
                tests.extend(part.tests)
        return _Flat(_dedupe(tests), "any", exact)

    parts = [_flatten(c, questions) for c in condition.all]
    exact = all(p.exact for p in parts)
    conjuncts: list[dict] = []
    disjunctions: list[_Flat] = []
    for part in parts:
        if not part.tests:
            continue  # true and x is x
        if len(part.tests) == 1 or part.behavior == "all":
            conjuncts.extend(part.tests)
        else:
            disjunctions.append(part)
    if conjuncts:
        # Dropping the disjunctions only weakens the condition.
        return _Flat(_dedupe(conjuncts), "all", exact and not disjunctions)
    if disjunctions:
        return _Flat(disjunctions[0].tests, "any", exact and len(disjunctions) == 1)
    return _always(exact)


def _literal(test: FieldTest, negated: bool, questions: Mapping[str, Question]) -> _Flat:
    """One test, or its negation, as an exact disjunction of enableWhen tests."""
    question = questions.get(test.field)
    if question is None:
        return _always(False)
    linkid = question.id

    def exists(flag: bool) -> dict:
        return {"question": linkid, "operator": "exists", "answerBoolean": flag}

    def equals(value) -> dict:
        if question.type == "boolean":
            return {"question": linkid, "operator": "=", "answerBoolean": value}
        if question.type == "integer":
            return {"question": linkid, "operator": "=", "answerInteger": value}
        return {"question": linkid, "operator": "=", "answerCoding": answer_coding(question, _choice(question, value))}

    if test.operator == "known":
        return _Flat((exists(bool(test.operand) != negated),), "any", True)

    try:
        domain = _domain(question)
        holds = [value for value in domain if test.holds_for(value)]
    except (TypeError, StopIteration):  # a test that does not fit the question: cannot say it
        return _always(False)

    def matching(values: list) -> list[dict]:
        return _integer_tests(question, values, equals) if question.type == "integer" else [equals(v) for v in values]

    if not negated:
        if test.operator in (">=", "<=", ">", "<") and question.type == "integer":
            tests = [{"question": linkid, "operator": test.operator, "answerInteger": test.operand}]
        elif not holds:
            return _always(False)  # never true; FHIR cannot say "never", so enabling is the safe side
        else:
            tests = matching(holds)
    else:
        # Not known to hold: unanswered, or answered with a value the test rejects.
        rest = [value for value in domain if value not in holds]
        if not holds:
            return _always(True)  # holds for no answer, so its negation always holds
        tests = [exists(False)] + matching(rest)
    if len(tests) > _MAX_POINTS:
        return _always(False)
    return _Flat(tuple(tests), "any", True)


def _domain(question: Question) -> list:
    if question.type == "boolean":
        return [True, False]
    if question.type == "integer":
        return list(range(question.min, question.max + 1))
    return list(question.values)


def _integer_tests(question: Question, values: list[int], equals) -> list[dict]:
    """Tests true exactly for ``values`` (sorted, within min..max): ``<=``/``>=`` for runs at an end, ``=`` inside."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    tests = []
    for run in runs:
        if len(run) > 1 and run[0] == question.min:
            tests.append({"question": question.id, "operator": "<=", "answerInteger": run[-1]})
        elif len(run) > 1 and run[-1] == question.max:
            tests.append({"question": question.id, "operator": ">=", "answerInteger": run[0]})
        else:
            tests.extend(equals(v) for v in run)
    return tests


# --------------------------------------------------------------------------- Questionnaire


def questionnaire(kb: KnowledgeBase) -> dict:
    """The knowledge base's questions as a FHIR R4 ``Questionnaire`` (JSON as a dict)."""
    from .relevance import relevance_for

    by_id = kb.question_by_id
    # The interview asks a question a rule uses for an urgency or a warning sign whatever its
    # ask_when (triage.relevance): enableWhen must not hide it, so it gets none.
    decisive = relevance_for(kb).decisive
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(kb.name),
        "url": questionnaire_url(kb),
        "version": kb.version,
        "name": _computable_name(kb.name),
        "title": f"triage questionnaire ({kb.name})",
        "status": "active",
        "subjectType": ["Patient"],
        "description": kb.manifest.disclaimer,
        "item": [_question_item(q, by_id, q.id not in decisive) for q in kb.questions],
    }


def _question_item(question: Question, by_id: Mapping[str, Question], conditional: bool = True) -> dict:
    item: dict[str, Any] = {}
    if question.type == "integer":
        item["extension"] = [
            {"url": MIN_VALUE, "valueInteger": question.min},
            {"url": MAX_VALUE, "valueInteger": question.max},
        ]
    item["linkId"] = question.id
    code = _verified_code(question)
    if code:
        item["code"] = [code]
    item["text"] = question.text
    item["type"] = question.type
    if question.ask_when is not None and conditional:
        mapped = enable_when(question.ask_when, by_id)
        if mapped.conditions:
            item["enableWhen"] = mapped.conditions
            if mapped.behavior:
                item["enableBehavior"] = mapped.behavior
    if getattr(question, "required", False):
        item["required"] = True  # the questionnaire takes no "don't know"; a case may still leave it unknown
    if question.type == "choice":
        item["answerOption"] = [{"valueCoding": answer_coding(question, c)} for c in question.choices]
    item["item"] = [{
        "extension": [{
            "url": ITEM_CONTROL,
            "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help-Button"}]},
        }],
        "linkId": question.id + HELP_SUFFIX,
        "text": question.help,
        "type": "display",
    }]
    return item


def _verified_code(question: Question) -> dict | None:
    entry = VERIFIED_CODES.get(question.id)
    if entry is None:
        return None
    code, display, shape = entry
    if any(getattr(question, key) != value for key, value in shape.items()):
        return None
    return {"system": LOINC, "code": code, "display": display}


# --------------------------------------------------------------------------- QuestionnaireResponse


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
        raise CaseError([f"a FHIR {resource_type} is not a case; send a QuestionnaireResponse"], source)
    case_id = resource.get("id")
    identifier = resource.get("identifier")
    if case_id is None and isinstance(identifier, Mapping):
        case_id = identifier.get("value")
    case_id = str(case_id) if case_id is not None else None

    problems: list[str] = []
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


class _ResponseReader:
    """Walks the items of a response (nested ones too) and collects checked answers."""

    def __init__(self, questions: Mapping[str, Question], problems: list[str]):
        self.questions = questions
        self.help_ids = {q.id + HELP_SUFFIX for q in questions.values()}
        self.problems = problems
        self.answers: dict[str, Any] = {}
        self.seen: set[str] = set()

    def read_items(self, items: Any, where: str) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            self.problems.append(f"{where}: must be a list of items")
            return
        for number, item in enumerate(items):
            self.read_item(item, f"{where}[{number}]")

    def read_item(self, item: Any, where: str) -> None:
        if not isinstance(item, Mapping) or not isinstance(item.get("linkId"), str):
            self.problems.append(f"{where}: an item needs a linkId")
            return
        linkid = item["linkId"]
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
            hint = difflib.get_close_matches(linkid, list(self.questions), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problems.append(f"linkId {linkid!r}: unknown linkId, not a question of this questionnaire{suggestion}")
        self.read_items(item.get("item"), f"linkId {linkid!r}: item")
        for answer in answers:
            if isinstance(answer, Mapping):
                self.read_items(answer.get("item"), f"linkId {linkid!r}: answer.item")

    def answer_value(self, question: Question, answer: Any) -> Any:
        """The typed value of one answer, or None after recording the problem."""
        linkid = question.id
        expected = _VALUE_KEY[question.type]
        keys = [key for key in answer if key.startswith("value")] if isinstance(answer, Mapping) else []
        if len(keys) != 1:
            self.problems.append(f"linkId {linkid!r}: an answer needs exactly one value[x]; expected {expected}")
            return None
        key, value = keys[0], answer[keys[0]]
        if key != expected:
            self.problems.append(
                f"linkId {linkid!r}: wrong type: {key} given, expected {expected} ({question.describe_allowed()})"
            )
            return None
        if question.type == "boolean":
            if not isinstance(value, bool):
                self.problems.append(f"linkId {linkid!r}: wrong type: valueBoolean must be true or false, not {value!r}")
                return None
            return value
        if question.type == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                self.problems.append(f"linkId {linkid!r}: wrong type: valueInteger must be a whole number, not {value!r}")
                return None
            if not question.accepts(value):
                self.problems.append(f"linkId {linkid!r}: {value} is out of range; expected {question.describe_allowed()}")
                return None
            return value
        return self.coded_value(question, value)

    def coded_value(self, question: Question, coding: Any) -> Any:
        linkid = question.id
        options = ", ".join(repr(str(v)) for v in question.values)
        if not isinstance(coding, Mapping) or not isinstance(coding.get("code"), str):
            self.problems.append(f"linkId {linkid!r}: valueCoding needs a code, one of {options}")
            return None
        system = coding.get("system")
        if system is not None and system != answer_system(question):
            self.problems.append(
                f"linkId {linkid!r}: code system {system!r} is not the question's {answer_system(question)!r}"
            )
            return None
        for choice in question.choices:
            if str(choice.value) == coding["code"]:
                return choice.value
        self.problems.append(f"linkId {linkid!r}: {coding['code']!r} is not an allowed option; expected one of {options}")
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
        {"linkId": q.id, "text": q.text, "answer": [_answer(q, answers[q.id])]}
        for q in kb.questions
        if q.id in answers
    ]
    return resource


def _answer(question: Question, value: Any) -> dict:
    if question.type == "choice":
        return {"valueCoding": answer_coding(question, _choice(question, value))}
    return {_VALUE_KEY[question.type]: value}


# --------------------------------------------------------------------------- RiskAssessment


def urgency_coding(level: Urgency) -> dict:
    """The Coding of an urgency level in the local urgency code system."""
    return {"system": URGENCY_SYSTEM, "code": level.value, "display": level.label}


def urgency_extension(level: Urgency) -> dict:
    """The extension that carries an urgency level and, as its text, the action."""
    return {
        "url": URGENCY_EXTENSION,
        "valueCodeableConcept": {"coding": [urgency_coding(level)], "text": level.action},
    }


def risk_assessment(assessment: Assessment, kb: KnowledgeBase, case: Any = None) -> dict:
    """An assessment as a FHIR R4 ``RiskAssessment`` (JSON as a dict).

    ``case`` is what was assessed (a QuestionnaireResponse, a plain case mapping
    or a case model). ``basis`` refers to the response by ``QuestionnaireResponse/<id>``
    when it has an id; otherwise the answers are contained as a QuestionnaireResponse
    (``#answers``) and ``basis`` points to that.
    """
    resource: dict[str, Any] = {"resourceType": "RiskAssessment"}
    basis = None
    if case is not None:
        if is_fhir_resource(case) and isinstance(case.get("id"), str) and _FHIR_ID.match(case["id"]):
            basis = {"reference": f"QuestionnaireResponse/{case['id']}", "type": "QuestionnaireResponse"}
        else:
            plain = case_from_questionnaire_response(case, kb) if is_fhir_resource(case) else case
            answers = questionnaire_response(validate_case(kb.case_model, plain), kb, resource_id="answers")
            resource["contained"] = [answers]
            basis = {"reference": "#answers", "type": "QuestionnaireResponse"}

    info = assessment.knowledge_base
    resource["extension"] = [urgency_extension(assessment.urgency)]
    resource["status"] = "final"
    resource["method"] = {
        "coding": [{"system": KNOWLEDGE_BASE_SYSTEM, "code": info.name, "display": f"{info.name} {info.version}"}],
        "text": f"triage rule-based expert system, knowledge base {info.name} version {info.version} "
                f"(packs: {', '.join(info.packs)})",
    }
    subject = case.get("subject") if is_fhir_resource(case) else None
    if isinstance(subject, Mapping):
        resource["subject"] = dict(subject)
    else:
        who = f" (case {assessment.case_id})" if assessment.case_id else ""
        resource["subject"] = {"display": f"The person who answered the questionnaire{who}"}
    if basis is not None:
        resource["basis"] = [basis]
    if assessment.causes:
        flagged = {flag.rule for flag in assessment.red_flags}
        resource["prediction"] = [_prediction(cause, flagged) for cause in assessment.causes]
    resource["mitigation"] = _mitigation(assessment)
    resource["note"] = (
        [{"text": f"Warning sign: {flag.reason} [{flag.id}]"} for flag in assessment.red_flags]
        + [{"text": assessment.disclaimer}]
    )
    return resource


def qualitative_risk(cause: CauseFinding, flagged_rules: set[str]) -> str:
    """``high``, ``moderate`` or ``low`` (HL7 risk-probability codes) for a likely cause.

    ``high`` when a rule naming the cause reported a warning sign (a rule in
    ``flagged_rules``), else by urgency: emergency and urgent high, within 24 hours
    moderate, routine and self-care low.
    """
    if flagged_rules.intersection(cause.rules):
        return "high"
    return RISK_BY_URGENCY[cause.urgency]


def _prediction(cause: CauseFinding, flagged_rules: set[str]) -> dict:
    risk = qualitative_risk(cause, flagged_rules)
    because = ", ".join(e.describe() for e in cause.evidence) or "the answers given"
    return {
        "extension": [urgency_extension(cause.urgency)],
        "outcome": {"coding": [{"system": CAUSE_SYSTEM, "code": cause.id, "display": cause.label}], "text": cause.label},
        "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY, "code": risk, "display": RISK_DISPLAY[risk]}]},
        "rationale": f"Because: {because}. Rules: {', '.join(cause.rules)}.",
    }


def _mitigation(assessment: Assessment) -> str:
    lines = [assessment.action]
    if assessment.advice:
        lines += ["", "What you can do:"] + [f"- {item.text}" for item in assessment.advice]
    lines += ["", "Seek help if:"] + [f"- {text}" for text in assessment.worsening_advice]
    return "\n".join(lines)


def urgency_code_system() -> dict:
    """The local urgency code system as a FHIR ``CodeSystem`` resource (most urgent first)."""
    return {
        "resourceType": "CodeSystem",
        "id": "urgency",
        "url": URGENCY_SYSTEM,
        "name": "TriageUrgency",
        "title": "triage urgency levels",
        "status": "active",
        "description": "How soon to seek care, most urgent first. Local to triage; not registered.",
        "caseSensitive": True,
        "content": "complete",
        "concept": [
            {"code": level.value, "display": level.label, "definition": level.action} for level in Urgency
        ],
    }
