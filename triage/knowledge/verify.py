"""The whole of ``triage rules check``: load a knowledge base, then run every check on it.

The order of the problems is the order of the checks: loading (schema, ids,
references), then facts that depend on themselves, the advice quotes, and each
rule's quotes and examples (and whether its examples also fire the out-of-scope
rule) in knowledge-base order; last, whether the out-of-scope rule fires beside a warning
sign, a cause or an urgency above routine on any example or generated case.
"""

from __future__ import annotations

import os

from ..engine import Engine
from ..errors import KnowledgeBaseError
from .base import KnowledgeBase
from .checks import (
    advice_quote_problems,
    out_of_scope_problems,
    rule_example_problems,
    rule_quote_problems,
    scope_contradiction_problems,
    strata,
)
from .load import load_knowledge_base


def check_knowledge_base(path: str | os.PathLike | None = None, packs: list[str] | None = None) -> list[str]:
    """Every problem in a knowledge base: schema, ids, references, strata, quotes, examples.

    Returns an empty list when the knowledge base is sound.
    """
    try:
        kb = load_knowledge_base(path, packs)
    except KnowledgeBaseError as error:
        return error.problems
    return loaded_knowledge_base_problems(kb)


def loaded_knowledge_base_problems(kb: KnowledgeBase) -> list[str]:
    """The problems of a knowledge base that loaded: strata, quotes, examples (empty when sound)."""
    try:
        strata(kb.rules)
    except KnowledgeBaseError as error:
        return error.problems
    engine = Engine(kb)
    problems = advice_quote_problems(kb)
    fired_by_case: dict = {}
    for rule in kb.rules:
        problems += rule_quote_problems(kb, rule)
        problems += rule_example_problems(engine, rule, fired_by_case)
        problems += out_of_scope_problems(engine, rule, fired_by_case)
    # Out of scope beside a warning sign, a cause or an urgency: on every example, and on generated cases.
    return problems + scope_contradiction_problems(engine, fired_by_case)


def check_with_warnings(path: str | os.PathLike | None = None, packs: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The problems of a knowledge base, and the warnings about it (see :mod:`triage.hazards`).

    Warnings are only computed for a knowledge base that loads.
    """
    from ..hazards import hazard_warnings

    try:
        kb = load_knowledge_base(path, packs)
    except KnowledgeBaseError as error:
        return error.problems, []
    problems = loaded_knowledge_base_problems(kb)
    try:
        warnings = hazard_warnings(kb)
    except KnowledgeBaseError:  # cyclic facts: already among the problems
        warnings = []
    return problems, warnings
