"""Drive the questionnaire with a case's answers, as a person who knows them would.

Used by ``benchmarks/interview.py`` and the tests, and by anyone who wants to know what
the interview would have shown a person: the first result, after how many screens,
against the result of all the person's answers (``assess(case)``). The person answers
each screen with the case's values; an answer the case leaves out is "don't know".

>>> run = drive({"weeks_pregnant": 30, "breathless_or_chest_pain": True})
>>> run.first.urgency.value, run.full.urgency.value, run.screens
('emergency', 'emergency', 1)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .assessment import Assessment
from .questionnaire import Questionnaire, Step


@dataclass
class InterviewRun:
    """One case driven through the questionnaire to its first result."""

    first: Step  # the first result shown (stopped early, or the main questions done)
    full: Assessment  # the assessment of all the case's answers
    screens: int  # screens shown before the first result
    asked: list[str] = field(default_factory=list)  # question ids asked, in order
    screen_items: list[list[str]] = field(default_factory=list)  # the question ids of each screen
    seconds_per_screen: list[float] = field(default_factory=list)  # time to compute each step

    @property
    def below_full(self) -> bool:
        """Whether the first result is less urgent than the case's own answers warrant."""
        return self.first.urgency.rank < self.full.urgency.rank


def drive(case: Mapping[str, Any], questionnaire: Questionnaire | None = None) -> InterviewRun:
    """Answer each screen with ``case``'s values (missing: "don't know") up to the first result.

    Goes through :meth:`Questionnaire.next_step` with the answers so far, as a stateless
    front end does, so a question the questionnaire requires may be left unknown here
    exactly as the case leaves it.
    """
    questionnaire = questionnaire if questionnaire is not None else Questionnaire()
    given = {k: v for k, v in case.items() if k != "id"}
    answers: dict[str, Any] = {}
    asked: list[str] = []
    screens: list[list[str]] = []
    times: list[float] = []
    while True:
        started = time.perf_counter()
        step = questionnaire.next_step(answers)
        times.append(time.perf_counter() - started)
        if step.done:
            break
        screens.append([item.id for item in step.question.items])
        for item in step.question.items:
            answers[item.id] = given.get(item.id)
            asked.append(item.id)
    full = questionnaire.engine.assess(given)
    return InterviewRun(first=step, full=full, screens=len(screens), asked=asked,
                        screen_items=screens, seconds_per_screen=times)
