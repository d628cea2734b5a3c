"""Errors as the client reads them: JSON naming each field, or a FHIR OperationOutcome.

Nothing here ever puts a traceback or an exception's internals in a response: a
request that cannot be answered gets a status (400, 412, 413, 422) and one line per
problem, each naming the field (or FHIR linkId) it is about.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from starlette.responses import Response

from ..errors import CaseError, RepeatedKeyError
from ..reading import decode, parse_json

FHIR_JSON = "application/fhir+json"

# CaseError problems read "field 'x': ..." (cases) or "linkId 'x': ..." (FHIR responses).
_NAMED = re.compile(r"^(?:field|linkId) '([^']+)'")
# ... and a QuestionnaireResponse's own elements ("questionnaire: ...", "field 'x': not an element of a FHIR ...").
_ELEMENT = re.compile(r"^(?:field '([^']+)': not an element of a FHIR QuestionnaireResponse|"
                      r"(questionnaire|contained|status|id|meta|text|identifier|implicitRules|language|extension|"
                      r"basedOn|partOf|authored|(?:subject|encounter|author|source)(?:\.reference)?)\b)")
_FHIR_CODES = {400: "structure", 404: "not-found", 412: "required", 413: "too-long", 422: "invalid"}
# A problem quotes the value it is about: a long value is cut, and a body with
# thousands of problems gets the first ones and a count.
MAX_MESSAGE = 300
MAX_PROBLEMS = CaseError.MAX_PROBLEMS  # one cap for the library and the server


@dataclass
class Problem:
    """One thing wrong with a request, and the field it is about (None: the whole body)."""

    message: str
    field: str | None = None
    expression: str | None = None  # FHIRPath of the element, for an OperationOutcome; else from ``field``


@dataclass
class RequestProblem(Exception):
    """A request the server will not answer with a result; ``status`` is 4xx."""

    status: int
    error: str
    problems: list[Problem] = field(default_factory=list)
    fhir: bool = False  # answer with an OperationOutcome

    def __str__(self) -> str:
        return self.error


def kind_of(value) -> str:
    """What a JSON value is, for a message about a wrong type: 'a number', 'a string', 'null'..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", type(None): "null"}.get(type(value), "an object")


def from_case_error(error: CaseError, fhir: bool = False, status: int = 422) -> RequestProblem:
    """A :class:`~triage.CaseError` as a 422 naming each field."""
    problems = []
    for line in error.problems:
        named = _NAMED.match(line)
        element = _ELEMENT.match(line) if fhir else None
        if element:  # an element of the response, not an item: name it as such, not by linkId
            name = element.group(1) or element.group(2)
            problems.append(Problem(line, name, f"QuestionnaireResponse.{name}"))
        else:
            problems.append(Problem(line, named.group(1) if named else None))
    return RequestProblem(status, "invalid answers", problems, fhir)


BODY = "the body"  # how messages name what was read: a request has a body, not a file


def unreadable_body(error: CaseError, fhir: bool = False) -> RequestProblem:
    """A body the strict JSON reader refused: 422 for a key given twice, else 400 naming the place."""
    if isinstance(error, RepeatedKeyError):
        # The key is a JSON member name, never a linkId, and its path is not known: an
        # OperationOutcome names no expression rather than a wrong one.
        return RequestProblem(422, "invalid request", [Problem(
            f"{error.key}: given twice in one object{_line(error)}; send each key once",
            None if fhir else error.key or None)], fhir)
    return RequestProblem(400, "the body is not valid JSON", [
        Problem(_about_the_body(problem) + _line(error)) for problem in error.problems], fhir)


def _about_the_body(problem: str) -> str:
    # The reader words its problems for files; a request has a body.
    problem = problem.replace("the file is", "the body is").replace("save it as", "send it as")
    problem = problem.replace("cannot read file: ", "")
    return problem if problem.startswith("not valid JSON") else f"not valid JSON: {problem}"


def _line(error: CaseError) -> str:
    """`` (line N)`` when the reader placed the problem on a line of a body of several; else nothing."""
    _, found, line = (error.source or "").rpartition(", line ")
    return f" (line {line})" if found and line.isdigit() else ""


def refuse_repeated_query(request) -> None:
    """A query parameter given twice is refused naming it: frameworks keep one, silently."""
    if b"&" in request.scope.get("query_string", b""):  # the common case (none or one) costs nothing more
        params = request.query_params
        repeated = sorted({key for key in params.keys() if len(params.getlist(key)) > 1})
        if repeated:
            raise RequestProblem(422, "invalid request", [
                # a parameter is no linkId: an OperationOutcome names it in the message only
                Problem(f"{name}: query parameter given {len(params.getlist(name))} times; give it once",
                        None if "fhir" in params.getlist("format") else name)
                for name in repeated], "fhir" in params.getlist("format"))


async def body_problem(request, fhir: bool = False) -> RequestProblem | None:
    """What the strict reader finds wrong with the request's body (an empty one too), or None.

    FastAPI parses a declared body itself, and its errors name no place ("There was an
    error parsing the body"); read again here, a refused body is named as /assess names it.
    """
    try:
        parse_json(decode(await request.body(), BODY), BODY)
    except CaseError as error:
        return unreadable_body(error, fhir)
    return None


def from_validation_errors(errors, fhir: bool = False) -> RequestProblem:
    """pydantic or FastAPI validation errors: 400 for a body that is not JSON, else 422."""
    problems = []
    status = 422
    for item in errors:
        loc = [str(part) for part in item.get("loc", ()) if part != "body"]
        if item.get("type") == "json_invalid":
            status = 400
            reason = (item.get("ctx") or {}).get("error", "")
            problems.append(Problem(f"the body is not valid JSON{': ' + str(reason) if reason else ''}"))
            continue
        name = ".".join(loc) or None
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(Problem(f"{name}: {message}" if name else message, name))
    error = "the body is not valid JSON" if status == 400 else "invalid request"
    return RequestProblem(status, error, problems, fhir)


def _capped(problems: list[Problem]) -> list[Problem]:
    kept = [Problem(p.message if len(p.message) <= MAX_MESSAGE else p.message[: MAX_MESSAGE - 1] + "…",
                    p.field if p.field is None or len(p.field) <= 100 else p.field[:99] + "…",
                    p.expression if p.expression is None or len(p.expression) <= 200 else p.expression[:199] + "…")
            for p in problems]
    # CaseError has already cut its list to MAX_PROBLEMS and a count (one more line): cut only
    # a longer list, so that count is never counted again.
    if len(kept) > MAX_PROBLEMS + 1:
        kept = kept[:MAX_PROBLEMS] + [Problem(f"... and {len(kept) - MAX_PROBLEMS:,} more problems")]
    return kept


def response(problem: RequestProblem) -> Response:
    """The response for ``problem``: JSON ``{"error", "problems"}`` or an OperationOutcome."""
    problem.problems = _capped(problem.problems)
    if problem.fhir:
        return Response(json.dumps(operation_outcome(problem)), problem.status, media_type=FHIR_JSON)
    body = {"error": problem.error, "problems": [{"field": p.field, "message": p.message} for p in problem.problems]}
    return Response(json.dumps(body), problem.status, media_type="application/json")


def operation_outcome(problem: RequestProblem) -> dict:
    """``problem`` as a FHIR R4 OperationOutcome: one issue per problem, the linkId in ``expression``."""
    code = _FHIR_CODES.get(problem.status, "processing")
    issues = []
    for item in problem.problems or [Problem(problem.error)]:
        issue = {"severity": "error", "code": code, "diagnostics": item.message}
        if item.expression:
            issue["expression"] = [item.expression]
        elif item.field:
            issue["expression"] = [f"QuestionnaireResponse.item.where(linkId='{item.field}')"
                                   if problem.fhir and _is_link_id(item.field) else item.field]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def _is_link_id(name: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None
