"""The knowledge base: questions, catalogue and rule packs, loaded from YAML and validated.

Layout of a knowledge base directory (see ``rules/`` and the README)::

    kb.yaml                 name, version, packs, disclaimer, worsening advice
    questions.yaml          the questionnaire; the case model is built from it
    catalogue/causes.yaml   cause ids and labels
    catalogue/advice.yaml   advice ids, texts and sources
    sources/                the source documents quoted by rules
    <pack>/*.yaml           rule files of each pack

Every problem is reported with the file, the rule id and the field.

One module per job:

- :mod:`~triage.knowledge.models`: the pydantic models of the files (rules, ``kb.yaml``, causes, advice);
- :mod:`~triage.knowledge.base`: :class:`KnowledgeBase`, a loaded knowledge base;
- :mod:`~triage.knowledge.load`: reading one, fail-closed (:func:`load_knowledge_base`);
- :mod:`~triage.knowledge.checks`: every consistency check, each written once;
- :mod:`~triage.knowledge.verify`: all of ``triage rules check`` (:func:`~triage.knowledge.verify.check_knowledge_base`),
  not imported here because it needs the engine.
"""

from __future__ import annotations

from .base import RED_FLAGS_NOT_CHECKED, KnowledgeBase
from .checks import check_references
from .load import default_path, load_knowledge_base, read_yaml
from .models import (
    ID_PATTERN,
    Advice,
    AdviceFile,
    Cause,
    CauseFile,
    Examples,
    Manifest,
    PackInfo,
    RedFlagSpec,
    Rule,
    RuleFile,
    RuleSpec,
    Source,
    Then,
)

__all__ = [
    "ID_PATTERN",
    "Advice",
    "AdviceFile",
    "Cause",
    "CauseFile",
    "Examples",
    "KnowledgeBase",
    "RED_FLAGS_NOT_CHECKED",
    "Manifest",
    "PackInfo",
    "RedFlagSpec",
    "Rule",
    "RuleFile",
    "RuleSpec",
    "Source",
    "Then",
    "check_references",
    "default_path",
    "load_knowledge_base",
    "read_yaml",
]
