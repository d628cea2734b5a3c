"""The keys of a vignette record beside its answers, and why any other key is refused.

A flat vignette has its answers beside ``id`` and the ``expected_*`` keys; a nested one
has them under ``case``. The free-text keys are kept as notes in both. In the nested
layout any other key beside ``case`` is an error: kept as a note, an answer written
there (a red flag, say) would vanish from the gold-standard case, and a misspelt
``expected_*`` key would drop a gold standard.
"""

from __future__ import annotations

import difflib
from typing import Any, Collection

# Free-text keys a vignette may carry beside its answers; kept, never read as answers.
FREE_TEXT_KEYS = ("rationale", "source", "notes", "author")
VIGNETTE_KEYS = ("id", "expected_urgency", "expected_causes")


def misplaced_key(key: Any, answer_fields: Collection[str] | None) -> str:
    """Why ``key`` beside a nested vignette's ``case`` is refused: a misplaced answer, or an
    unknown key with the closest known one as a hint. ``answer_fields`` are the case's fields
    (None: the shipped knowledge base's questions)."""
    if answer_fields is None:
        from .knowledge import load_knowledge_base

        answer_fields = load_knowledge_base().question_by_id
    if key in answer_fields:
        return f"field {key!r}: an answer beside 'case' (answers go under case:)"
    text = str(key)
    known = [*VIGNETTE_KEYS, "case", *FREE_TEXT_KEYS, *answer_fields]
    hint = difflib.get_close_matches(text, known, n=1) if len(text) <= 64 else []  # difflib is quadratic
    if not hint and text.lower() in answer_fields:
        hint = [text.lower()]
    where = " (answers go under case:)" if hint and hint[0] in answer_fields else ""
    suggestion = f"; did you mean {hint[0]!r}{where}?" if hint else ""
    return (f"field {key!r}: unknown key beside 'case' (a vignette's keys are {', '.join(map(repr, VIGNETTE_KEYS))}, "
            f"'case', and the free-text keys {', '.join(map(repr, FREE_TEXT_KEYS))}){suggestion}")
