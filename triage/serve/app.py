"""The ASGI application: FastAPI routes inside the server's own safety layers.

From the outside in: :class:`CatchAll` (a failure never shows a traceback, and is
logged without the exception's message, which could hold an answer), the access log,
security headers, the body size limit, CORS (only when origins are given), then
FastAPI. The knowledge base is loaded and the engine threads started once per
worker process, when it starts.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import traceback

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from .. import fhir
from ..checked import load_checked_knowledge_base
from ..engine import Engine
from ..errors import CaseError, TriageError
from . import api
from .adaptive import AdaptiveForm
from .config import ServeConfig
from .engines import EnginePool
from .problems import (
    FHIR_JSON,
    Problem,
    RequestProblem,
    body_problem,
    from_case_error,
    from_validation_errors,
    response,
)
from .security import AccessLog, BodyLimit, SecurityHeaders

LOG = logging.getLogger("triage.serve")
_FHIR_PATHS = ("/Questionnaire", "/cds-services")


def create_app(config: ServeConfig | None = None):
    """The ASGI application for ``config`` (defaults: the shipped knowledge base, no CORS).

    Serve it with any ASGI server (``uvicorn.run(create_app())``); its ``fastapi``
    attribute is the FastAPI application inside the safety layers.
    """
    config = config or ServeConfig()
    kb = load_checked_knowledge_base(config.rules_dir, config.packs)  # fails closed, as every command does
    engine = Engine(kb)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool.start()
        # Everything built so far (knowledge base, engines, routes) lives as long as the
        # worker: keep it out of the collector's full passes (max time per request 3.2 -> 1.8 ms).
        gc.freeze()
        yield
        app.state.pool.close()

    app = FastAPI(
        title="triage",
        summary="Rule-based triage of back pain, leg pain and leg cramps in pregnancy (not a diagnosis).",
        version=kb.version,
        # The bundled Swagger and ReDoc pages load scripts from a CDN; the CSP forbids
        # that, and so does "nothing from the network". /openapi.json is the document.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    pool = EnginePool(engine, config.engine_threads)
    app.state.pool = pool
    app.state.adaptive = AdaptiveForm(pool.questionnaire)
    app.state.questions_json = json.dumps(
        [q.model_dump(mode="json", by_alias=True, exclude_none=True) for q in kb.questions]).encode()
    app.state.questionnaire_json = json.dumps(fhir.questionnaire(kb)).encode()
    app.state.health_json = json.dumps(api.health(kb)).encode()
    app.include_router(api.router)
    for route in app.routes:  # the case model is the knowledge base's: its schema is known only now
        if getattr(route, "path", None) == "/assess":
            route.openapi_extra = api.case_body_schema(kb)
    app.mount("/static", StaticFiles(directory=str(api.STATIC)), name="static")
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Content-Type"], max_age=600)
    _handle_errors(app)
    outer = CatchAll(AccessLog(SecurityHeaders(BodyLimit(app, config.max_body))))
    outer.fastapi = app  # for embedding and tests: the routes, their state, the OpenAPI document
    return outer


def app_from_environment():
    """The factory uvicorn calls in each worker process (``triage serve`` set the environment)."""
    return create_app(ServeConfig.from_environment())


def _is_fhir(request) -> bool:
    return request.url.path.startswith(_FHIR_PATHS) or request.query_params.get("format") == "fhir"


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestProblem)
    async def request_problem(_request, problem: RequestProblem):
        return response(problem)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, error: RequestValidationError):
        unreadable = await body_problem(request, _is_fhir(request))  # a body that does not read: say where
        return response(unreadable or from_validation_errors(error.errors(), fhir=_is_fhir(request)))

    @app.exception_handler(CaseError)
    async def invalid_case(request, error: CaseError):
        return response(from_case_error(error, fhir=_is_fhir(request)))

    @app.exception_handler(TriageError)
    async def refused(request, error: TriageError):  # e.g. an AnswerError: what was sent cannot be used
        return response(RequestProblem(422, "invalid request", [Problem(str(error))], fhir=_is_fhir(request)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error: StarletteHTTPException):
        unreadable = await body_problem(request, _is_fhir(request)) if error.status_code == 400 else None
        if unreadable:  # FastAPI could not parse the body ("There was an error parsing the body"): say why
            return response(unreadable)
        message = {404: "there is nothing at this path", 405: "this path does not take that method"}.get(
            error.status_code, str(error.detail))
        reply = response(RequestProblem(error.status_code, message, [Problem(message)], fhir=_is_fhir(request)))
        for name, value in (error.headers or {}).items():
            reply.headers[name] = value
        return reply

    @app.exception_handler(Exception)
    async def internal_error(request, _error: Exception):  # CatchAll logs it
        body = {"error": "internal error: the request could not be answered", "problems": []}
        if _is_fhir(request):
            body = {"resourceType": "OperationOutcome", "issue": [
                {"severity": "fatal", "code": "exception", "diagnostics": body["error"]}]}
        return Response(json.dumps(body), 500, media_type=FHIR_JSON if _is_fhir(request) else "application/json")


class CatchAll:
    """Log an unexpected failure by its type and place only, and never let it reach the server.

    The exception's message is left out of the log: it could quote an answer. The
    response has been sent already (a 500 without details, by the handler above).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            await self.app(scope, receive, send)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            if scope["type"] != "http":
                raise
            where = "".join(traceback.format_tb(error.__traceback__)[-3:])
            LOG.error("internal error on %s %s: %s\n%s", scope.get("method"), scope.get("path"),
                      type(error).__name__, where)
