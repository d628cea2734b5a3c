"""Seeded random valid cases, for benchmarks and tests that need many cases."""

from __future__ import annotations

import random
from typing import Iterator

from .case import FOLLOW_UPS
from .questions import Question


def random_cases(questions: list[Question], count: int, seed: int = 0, id_prefix: str = "case-") -> Iterator[dict]:
    """Yield ``count`` valid random cases (the same ones for the same seed).

    Each question is answered with probability 1/2; a yes-or-no answer is yes with
    probability 0.3; numbers and choices are uniform; when weeks are answered the
    trimester is left out, so the two never disagree (nor does an amount of bleeding
    sit beside "no bleeding": triage.case.FOLLOW_UPS).
    """
    rnd = random.Random(seed)
    for number in range(count):
        case = {"id": f"{id_prefix}{number}"}
        for q in questions:
            if rnd.random() < 0.5:
                continue
            case[q.id] = q.random_answer(rnd)
        if "weeks_pregnant" in case:
            case.pop("trimester", None)
        for follow_up, (finding, denial) in FOLLOW_UPS.items():  # e.g. no bleeding amount beside "no bleeding"
            if case.get(finding) == denial:
                case.pop(follow_up, None)
        yield case
