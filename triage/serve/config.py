"""What ``triage serve`` was started with, passed to every worker process."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

# uvicorn starts each worker process by importing the application factory, so the
# options reach the workers through the environment, as JSON.
ENVIRONMENT_VARIABLE = "TRIAGE_SERVE_CONFIG"

# A case is a few hundred bytes and an adaptive QuestionnaireResponse that has asked
# every question (with its contained Questionnaire) about 60 KiB.
DEFAULT_MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """The server's options.

    ``rules_dir`` and ``packs`` choose the knowledge base (None: the shipped one, its
    default packs); ``cors_origins`` are the origins allowed to call the API from a
    browser (none: no CORS headers at all); ``max_body`` is the largest request body in
    bytes; ``engine_threads`` the threads per worker process that run the rules, each
    with its own experta engine (0: the worker's event-loop thread, see
    :mod:`triage.serve.engines`).
    """

    rules_dir: str | None = None
    packs: list[str] | None = None
    cors_origins: list[str] = field(default_factory=list)
    max_body: int = DEFAULT_MAX_BODY
    engine_threads: int = 0

    def to_environment(self) -> None:
        """Put this configuration where :meth:`from_environment` (in a worker) finds it."""
        os.environ[ENVIRONMENT_VARIABLE] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> "ServeConfig":
        """The configuration the ``serve`` command left in the environment (defaults if none)."""
        raw = os.environ.get(ENVIRONMENT_VARIABLE)
        return cls(**json.loads(raw)) if raw else cls()
