"""The routes: the JSON API, FHIR, CDS Hooks, health and the web page.

Every route that runs the rules does it through the worker's
:class:`~triage.serve.engines.EnginePool` and answers with a model the OpenAPI
document describes. Invalid input raises :class:`RequestProblem` (or a CaseError),
which the application turns into a 4xx naming the field.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from .. import fhir
from ..assessment import Assessment
from ..errors import CaseError
from ..questionnaire import Step
from ..reading import decode, parse_json
from ..urgency import Urgency
from . import cds
from .interview import next_step
from .problems import (
    BODY,
    FHIR_JSON,
    Problem,
    RequestProblem,
    from_case_error,
    from_validation_errors,
    refuse_repeated_query,
    unreadable_body,
)

router = APIRouter()
JSON = "application/json"


class InterviewRequest(BaseModel):
    """The answers so far (in the order given; null: "don't know") and where the person is."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(default_factory=dict, description="question id to answer, in the order given")
    acknowledged: Urgency | None = Field(None, description="the urgency the person was shown and chose to go on from")
    details: bool = Field(False, strict=True, description="ask the detail questions too (true or false, nothing else)")


def _json(data: Any, media_type: str = JSON) -> Response:
    return Response(json.dumps(data), media_type=media_type)


def _state(request: Request):
    return request.app.state


def case_body_schema(kb) -> dict:
    """The OpenAPI request body of ``/assess``: a case (its JSON Schema) or a QuestionnaireResponse."""
    case = kb.case_model.model_json_schema()
    response = {"type": "object", "title": "QuestionnaireResponse", "description": "A FHIR R4 QuestionnaireResponse "
                "to the Questionnaire of GET /Questionnaire", "required": ["resourceType"],
                "properties": {"resourceType": {"const": "QuestionnaireResponse"}}}
    schema = {"oneOf": [case, response]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema},
                                                         FHIR_JSON: {"schema": schema}}}}


async def read_json(request: Request, fhir_errors: bool = False) -> Any:
    """The request body as JSON, read by the strict reader every file goes through.

    Text that is not JSON (or not UTF-8, nested too deeply, a lone surrogate, a
    number of hundreds of digits) is a 400 naming the place; a key given twice is a
    422, because two answers to one question would otherwise lose one without a word.
    """
    body = await request.body()  # read once by Starlette, and kept: FastAPI's own parsing reads the same bytes
    try:
        return parse_json(decode(body, BODY), BODY)
    except CaseError as error:
        raise unreadable_body(error, fhir_errors) from None


@router.post("/assess", tags=["JSON API"], response_model=Assessment,
             responses={200: {"content": {FHIR_JSON: {}}, "description": "The Assessment, or with format=fhir a RiskAssessment"}})
async def assess(request: Request,
                 format: Literal["json", "fhir"] = Query("json", description="json: the Assessment; fhir: a RiskAssessment")):
    """Assess one case: how urgently to seek care, the likely causes, what to do and why.

    The body is a case (question id to answer; missing or null: unknown) or a FHIR
    QuestionnaireResponse.
    """
    refuse_repeated_query(request)
    state = _state(request)
    # Read here rather than declared as a body parameter: the hot path, and the
    # schema (the case model, built from the knowledge base) is set in the app.
    case = await read_json(request, format == "fhir")
    if not isinstance(case, dict):
        raise RequestProblem(422, "invalid request", [Problem(
            f"the body must be a JSON object (a case or a QuestionnaireResponse), not {type(case).__name__}")],
            format == "fhir")
    wants_fhir = format == "fhir" or fhir.is_fhir_resource(case)
    try:
        if format == "fhir":
            resource = await state.pool.run(_risk_assessment, state.pool.engine, case)
            return _json(resource, FHIR_JSON)
        assessment = await state.pool.run(state.pool.engine.assess, case)
    except CaseError as error:
        raise from_case_error(error, fhir=wants_fhir) from None
    return Response(assessment.model_dump_json(), media_type=JSON)


def _risk_assessment(engine, case) -> dict:
    return fhir.risk_assessment(engine.assess(case), engine.knowledge_base, case)


@router.post("/interview", tags=["JSON API"], response_model=Step)
async def interview(request: Request, body: InterviewRequest):
    """The next step of the questionnaire for the answers so far: a question, or the assessment.

    The same semantics as ``triage.Session``: it stops early (the assessment, with
    ``stopped_early``) once the urgency is urgent or more, unless ``acknowledged``
    says the person has seen that level and chose to go on.
    """
    await read_json(request)  # FastAPI parsed the body already; this refuses a key given twice
    pool = _state(request).pool
    try:
        step = await pool.run(next_step, pool.questionnaire, body.answers, body.acknowledged, body.details)
    except CaseError as error:
        raise from_case_error(error) from None
    return Response(step.model_dump_json(), media_type=JSON)


@router.get("/questions", tags=["JSON API"])
async def questions(request: Request):
    """Every question a case may answer: id, text, help, type, allowed values, when it is asked."""
    return Response(_state(request).questions_json, media_type=JSON)


@router.get("/Questionnaire", tags=["FHIR"], responses={200: {"content": {FHIR_JSON: {}}}})
async def questionnaire(request: Request):
    """The questions as a FHIR R4 Questionnaire."""
    return Response(_state(request).questionnaire_json, media_type=FHIR_JSON)


@router.post("/Questionnaire/$next-question", tags=["FHIR"], responses={200: {"content": {FHIR_JSON: {}}}})
async def next_question(request: Request, body: Annotated[dict[str, Any], Body(
        description="An adaptive QuestionnaireResponse (or Parameters with 'questionnaire-response')")]):
    """FHIR SDC adaptive form: the response with the next questions appended, or completed with the RiskAssessment."""
    await read_json(request, fhir_errors=True)  # refuses a key given twice
    state = _state(request)
    resource = await state.pool.run(state.adaptive.next_question, body)
    return _json(resource, FHIR_JSON)


@router.get("/cds-services", tags=["CDS Hooks"])
async def cds_discovery(request: Request):
    """CDS Hooks discovery: the patient-view triage service and its prefetch."""
    return _json(cds.discovery(_state(request).pool.engine.knowledge_base))


@router.post(f"/cds-services/{cds.SERVICE_ID}", tags=["CDS Hooks"])
async def cds_service(request: Request, body: Annotated[dict[str, Any], Body(description="A CDS Hooks request")]):
    """CDS Hooks patient-view: one card from the prefetched QuestionnaireResponse."""
    await read_json(request, fhir_errors=True)  # refuses a key given twice
    try:
        call = cds.CdsRequest.model_validate(body)
    except ValidationError as error:
        raise from_validation_errors(error.errors()) from None
    patient = cds.check_request(call)
    response = cds.prefetched_response(call, patient)
    if response is None:
        return _json({"cards": []})  # the patient has no answers on record: nothing to say
    engine = _state(request).pool.engine
    try:
        assessment = await _state(request).pool.run(engine.assess, response)
    except CaseError as error:
        problem = from_case_error(error, fhir=True, status=412)
        problem.error = "the prefetched QuestionnaireResponse is invalid"
        raise problem from None
    return _json(cds.cards(assessment, engine.knowledge_base))


@router.api_route("/healthz", methods=["GET", "HEAD"], tags=["Operations"])  # health checkers often send HEAD
async def healthz(request: Request):
    """Liveness, and which knowledge base this server runs: name, version, packs, digest."""
    return Response(_state(request).health_json, media_type=JSON)


@router.get("/", include_in_schema=False)
async def page():
    """The web questionnaire."""
    return Response(STATIC.joinpath("index.html").read_bytes(), media_type="text/html; charset=utf-8")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon():
    """No icon (browsers ask for one): an empty answer rather than a 404 in every log."""
    return Response(status_code=204)


STATIC = resources.files(__package__).joinpath("static")


def health(kb) -> dict:
    """The body of ``GET /healthz``."""
    from .. import __version__

    # `warnings` as every assessment gives them: a monitor can see red flags are not checked.
    return {"status": "ok", "triage": __version__, "warnings": list(kb.warnings), "knowledge_base": {
        "name": kb.name, "version": kb.version, "packs": list(kb.packs),
        # `sha256` is the bare hex every assessment names; `digest` the same, algorithm-prefixed.
        "sha256": kb.sha256, "digest": f"sha256:{kb.sha256}"}}
