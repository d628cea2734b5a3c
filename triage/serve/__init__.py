"""``triage serve``: the engine as an HTTP service (install with ``pip install "triage[serve]"``).

One ASGI application (FastAPI on uvicorn) serves a plain JSON API (``/assess``,
``/interview``, ``/questions``), HL7 FHIR (``/Questionnaire`` and the SDC adaptive
``$next-question``), CDS Hooks (``/cds-services``) and the web questionnaire at ``/``.

It is stateless: every request carries the answers so far, and nothing a person
answers is stored or logged.

>>> from triage.serve import ServeConfig, create_app
>>> app = create_app(ServeConfig())           # doctest: +SKIP
"""

from __future__ import annotations

from .app import create_app
from .config import ServeConfig

__all__ = ["ServeConfig", "create_app"]
