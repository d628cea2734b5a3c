"""Checks of a knowledge base beyond its schema: quotes, examples, fact strata.

``triage rules check`` runs :func:`check_knowledge_base`; the test suite runs the
same checks one rule at a time, so each rule passes or fails under its own name.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .compiler import strata
from .engine import Engine
from .errors import CaseError, KnowledgeBaseError
from .knowledge import KnowledgeBase, Rule, Source, load_knowledge_base


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space, for quote matching."""
    return re.sub(r"\s+", " ", text).strip()


def quote_problems(kb: KnowledgeBase, where: str, sources: list[Source]) -> list[str]:
    """Problems with the document quotes in ``sources``: each must appear verbatim."""
    problems = []
    for source in sources:
        if not source.document:
            continue
        if Path(source.document).name != source.document:  # outside sources/, so outside the digest
            problems.append(f"{where}: sources: document {source.document!r} must be a file name in sources/, not a path")
            continue
        text = kb.document_text(source.document)
        if text is None:
            problems.append(f"{where}: sources: document {source.document!r} is not in sources/")
        elif normalise(source.quote) not in normalise(text):
            problems.append(f"{where}: sources: quote not found in {source.document}: {source.quote!r}")
    return problems


def rule_quote_problems(kb: KnowledgeBase, rule: Rule) -> list[str]:
    """Quotes of one rule that are not in their document."""
    return quote_problems(kb, f"{rule.file}: rule {rule.id}", rule.spec.sources)


def advice_quote_problems(kb: KnowledgeBase) -> list[str]:
    """Quotes of the advice catalogue that are not in their document."""
    return [
        problem
        for item in kb.advice.values()
        for problem in quote_problems(kb, f"catalogue/advice.yaml: advice {item.id}", item.sources)
    ]


def rule_example_problems(engine: Engine, rule: Rule, fired_by_case: dict | None = None) -> list[str]:
    """Examples of one rule that are invalid, do not fire it, or (near misses) do fire it.

    ``fired_by_case``, shared between calls, remembers the rules each distinct
    example fired: knowledge bases repeat examples across rules, and running
    each once keeps checking thousands of rules from growing with their square.
    """
    problems = []
    where = f"{rule.file}: rule {rule.id}: examples"
    cache = fired_by_case if fired_by_case is not None else {}
    for kind, cases, should_fire in (
        ("fires", rule.spec.examples.fires, True),
        ("does_not_fire", rule.spec.examples.does_not_fire, False),
    ):
        for number, case in enumerate(cases, start=1):
            key = json.dumps(case, sort_keys=True, default=repr)
            if key not in cache:
                try:
                    # Only which rules fired matters here: the engine's firings, without building the assessment.
                    cache[key] = frozenset(f.rule.id for f in engine.fire(engine.validate(case)))
                except CaseError as error:
                    cache[key] = error
            fired_ids = cache[key]
            if isinstance(fired_ids, CaseError):
                problems.append(f"{where}.{kind}[{number}]: invalid case: {fired_ids}")
                continue
            fired = rule.id in fired_ids
            if fired != should_fire:
                verb = "does not fire" if should_fire else "fires"
                problems.append(f"{where}.{kind}[{number}]: {case} {verb} the rule")
    return problems


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
    return problems


def check_with_warnings(path: str | os.PathLike | None = None, packs: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The problems of a knowledge base, and the warnings about it (see :mod:`triage.hazards`).

    Warnings are only computed for a knowledge base that loads.
    """
    from .hazards import hazard_warnings

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
