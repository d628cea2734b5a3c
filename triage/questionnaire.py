"""The adaptive questionnaire: what to ask next, from the answers so far. No I/O.

The engine decides, a front end asks (the split of the CLIPS "Auto Demo"): a
terminal, a web page or an HTTP service shows :class:`Step` s and sends back the
answers. :meth:`Questionnaire.next_step` is a pure function of the answers (as
Infermedica's and FHIR SDC's ``$next-question`` are); :class:`Session` keeps them
for one person.

*Answers* are a mapping of question id to value, in the order given. A question
answered "don't know" is present with the value ``None``: it was asked, and stays
unknown (never "no"). So the answers are also the history; going back drops the
last screen's answers.

What to ask follows from the rules (:mod:`triage.relevance`): a question is asked
while an open rule that tests it could still change the result; those whose rules
could conclude ``emergency`` first, then ``urgent``, and so on; ``detail`` questions
(habits that only add causes or advice) last, when the person wants more. Yes-or-no
questions of a group (``groups`` in ``questions.yaml``) share a screen.

The questionnaire stops early, and shows the result at once, only when no open rule
could raise the urgency above what the rules already conclude, and that level is at
least ``stop_at`` (urgent by default); the person may go on for the full picture.

>>> q = Questionnaire()
>>> step = q.next_step({})
>>> step.question.kind, step.question.id
('group', 'warning_signs')
>>> q.next_step({"breathless_or_chest_pain": True}).assessment.urgency.value
'emergency'
"""

from __future__ import annotations

import sys
from typing import Any, Mapping, Union

from .conclusions import conclude, summarise
from .engine import Engine, default_engine, warn_if_safety_off
from .errors import (
    AnswerError,  # noqa: F401  (also importable from here)
    CaseError,
)
from .knowledge import KnowledgeBase
from .prompts import Item, Prompt, Reason, Step
from .questions import Question
from .relevance import Analysis, Relevance, relevance_for
from .replies import Reply, allowed_answers, interpret_group, interpret_question
from .urgency import Urgency

__all__ = ["AnswerError", "Item", "Prompt", "Questionnaire", "Reason", "Reply", "Session", "Step", "allowed_answers",
           "reasons"]

Answers = Mapping[str, Any]


def _level(name: str, value: Urgency | str | None) -> Urgency | None:
    """An urgency level given as itself or its name (None stays None); :class:`AnswerError` naming the allowed ones."""
    if value is None or isinstance(value, Urgency):
        return value
    try:
        return Urgency(value)
    except ValueError:
        levels = ", ".join(u.value for u in Urgency)
        raise AnswerError(f"{name}: {value!r} is not an urgency level; expected one of {levels} (or None)") from None


class Questionnaire:
    """Decide what to ask next from the answers so far; pure, so any front end can drive it.

    ``stop_at`` is the lowest settled urgency at which to stop asking and give the
    assessment at once: a level or its name (None never stops early).
    """

    def __init__(self, engine: Engine | KnowledgeBase | None = None, stop_at: Urgency | str | None = Urgency.URGENT):
        if isinstance(engine, KnowledgeBase):  # what people pass first (new-user trial 4): build its engine
            warn_if_safety_off(engine, sys._getframe(1))
            engine = Engine(engine)
        elif engine is not None and not isinstance(engine, Engine):
            raise TypeError(f"Questionnaire takes an Engine or a KnowledgeBase, not {type(engine).__name__}")
        self.engine = engine if engine is not None else default_engine()
        self.stop_at = _level("stop_at", stop_at)
        kb = self.engine.knowledge_base
        self._warnings = list(kb.warnings)  # on every step: a front end can say so from the first screen
        self.relevance: Relevance = relevance_for(kb)
        self.questions: list[Question] = list(kb.questions)
        self._by_id = {q.id: q for q in self.questions}
        self._position = {q.id: i for i, q in enumerate(self.questions)}
        self._groups = {gid: (group, members) for gid, (group, members) in kb.groups.items()}
        self._group_of = {m: gid for gid, (_, members) in self._groups.items() for m in members}
        self._reasons: dict[str, Reason] = {}
        self._first: dict[tuple, Step] = {}  # the step for no answers, by (acknowledged, details)

    def question(self, question_id: str) -> Question:
        """The question with this id; :class:`AnswerError` when there is none."""
        try:
            return self._by_id[question_id]
        except KeyError:
            raise AnswerError(f"there is no question {question_id!r}") from None

    # ------------------------------------------------------------------ what next

    def analyse(self, answers: Answers) -> Analysis:
        """The rules over the answers so far, in three values (see :mod:`triage.relevance`)."""
        return self.relevance.analyse(answers)

    def pending(self, answers: Answers, details: bool = False, analysis: Analysis | None = None) -> list[Question]:
        """The questions worth asking that are not yet asked, in asking order (detail questions last)."""
        analysis = analysis or self.analyse(answers)
        known = {k: v for k, v in answers.items() if k != "id"}
        # ask_when may narrow only questions no rule uses for an urgency or a warning sign.
        decisive = self.relevance.decisive
        pending = [q for q in self.questions
                   if q.id in analysis.relevant and q.id not in answers
                   and (q.id in decisive or q.applies(known)) and (details or not q.detail)]
        # Most urgent first; within a level the yes-or-no warning signs (a yes to breathlessness
        # alone is an emergency), then the person's own complaints, then what only qualifies them
        # (the weeks, how weak, how numb), then file order.
        def within_level(q: Question) -> int:
            return 0 if q.red_flag is True else 1 if q.required else 2

        return sorted(pending, key=lambda q: (q.detail, -analysis.priority(q.id).rank, within_level(q),
                                              self._position[q.id]))

    def next_step(self, answers: Answers, acknowledged: Urgency | str | None = None, details: bool = False) -> Step:
        """The next screen to show, or the assessment when nothing is left to ask or it should stop.

        ``acknowledged`` is the urgency the person has already been shown and chose to go on
        from: the questionnaire stops again only for a more urgent level. ``details`` asks the
        detail questions too. Raises :class:`CaseError` when the answers are invalid, and
        :class:`AnswerError` when ``acknowledged`` is not an urgency level.
        """
        acknowledged = _level("acknowledged", acknowledged)  # front ends that keep their state as JSON pass the value
        if not answers:
            # Every person starts on the same first screen (a frozen Step): worked out once.
            key = (acknowledged, details)
            if key not in self._first:
                self._first[key] = self._next_step({}, acknowledged, details)
            return self._first[key]
        return self._next_step(answers, acknowledged, details)

    def _next_step(self, answers: Answers, acknowledged: Urgency | None, details: bool) -> Step:
        # What Engine.assess does, in two halves: the rules fire on every screen (their urgency
        # is shown and decides the stop), the full assessment is built only for a result.
        valid = self.engine.validate(answers)
        firings = self.engine.fire(valid)
        analysis = self.analyse(answers)
        queue = self.pending(answers, details, analysis)
        main = [q for q in queue if not q.detail]
        answered = sum(1 for k in answers if k != "id")
        level = summarise(firings).urgency
        stop = (
            analysis.settled
            and self.stop_at is not None
            and level.rank >= self.stop_at.rank
            and (acknowledged is None or level.rank > acknowledged.rank)
            and bool(main)
        )
        if queue and not stop:
            return Step(question=self._screen(queue, answered + 1, analysis), urgency=level, answered=answered,
                        remaining=len(queue), settled=analysis.settled, warnings=self._warnings)
        assessment = conclude(self.engine.knowledge_base, valid.id, firings, valid.answers())
        offered = main if stop else [] if details else self.pending(answers, True, analysis)[len(queue):]
        unanswered = [k for k, v in answers.items() if v is None and k in self._by_id and self._by_id[k].red_flag]
        return Step(assessment=assessment, urgency=level, answered=answered, remaining=len(main),
                    settled=analysis.settled, stopped_early=stop, more_details=0 if stop else len(offered),
                    unanswered_red_flags=unanswered, why=_merge([self.why(q.id, analysis) for q in offered]),
                    warnings=self._warnings)

    def _screen(self, queue: list[Question], number: int, analysis: Analysis) -> Prompt:
        first = queue[0]
        group_id = self._group_of.get(first.id)
        if group_id is None:
            return self.prompt(first, number, analysis)
        group, members = self._groups[group_id]
        # Detail questions stay last: a group shared by both kinds shows only the first's kind.
        waiting = {q.id for q in queue if q.detail == first.detail}
        items = [self._item(self._by_id[m], analysis) for m in members if m in waiting]
        if len(items) == 1:
            return self.prompt(first, number, analysis)
        return Prompt(
            id=group.id, kind="group", number=number, text=group.text, help=group.help, type="group",
            required=any(i.required for i in items), red_flag=any(i.red_flag for i in items),
            allowed="the numbers of the items that apply, none of them, or each item yes, no or don't know",
            items=items, why=_merge([i.why for i in items]),
        )

    def prompt(self, question: Question, number: int, analysis: Analysis | None = None) -> Prompt:
        """How to show ``question`` alone, as the ``number``-th, with the rules it can decide."""
        item = self._item(question, analysis or self.analyse({}))
        return Prompt(kind="question", number=number, items=[item], **item.model_dump(exclude={"why"}), why=item.why)

    def _item(self, question: Question, analysis: Analysis) -> Item:
        return Item(
            id=question.id, text=question.text, help=question.help, type=question.type, **question.type_fields(),
            required=question.required, red_flag=bool(question.red_flag), allowed=question.describe_replies(),
            why=self.why(question.id, analysis),
        )

    def why(self, question_id: str, analysis: Analysis) -> list[Reason]:
        """The rules an answer to the question can still decide, most urgent first."""
        # A rule's Reason is fixed by the rule (and frozen): made once, not on every screen.
        return [self._reason_of(s.rule) for s in _by_urgency(analysis.relevant.get(question_id, ()))]

    def _reason_of(self, rule) -> Reason:
        reason = self._reasons.get(rule.id)
        if reason is None:
            reason = self._reasons[rule.id] = _reason(rule)
        return reason

    # ------------------------------------------------------------------ answers

    def interpret(self, question: Union[Question, Prompt, Item, str], text: str) -> Reply:
        """What a typed reply means for a question or a screen (see :mod:`triage.replies`).

        Raises :class:`AnswerError` saying what is allowed.
        """
        if isinstance(question, Prompt) and question.kind == "group":
            return interpret_group([self.question(i.id) for i in question.items], text)
        return interpret_question(self.question(question if isinstance(question, str) else question.id), text)

    def answer(self, answers: Answers, question_id: str, value: Any) -> dict[str, Any]:
        """New answers with ``value`` (None: "don't know") for the question, given last."""
        return self.answer_all(answers, {question_id: value})

    def answer_all(self, answers: Answers, values: Mapping[str, Any]) -> dict[str, Any]:
        """New answers with every ``values`` item (None: "don't know") given last, in its order."""
        new = dict(answers)
        for question_id, value in values.items():
            q = self.question(question_id)
            if value is None and q.required:
                raise AnswerError(f"{question_id}: this question needs an answer: {q.describe_replies()}")
            if value is not None and not q.accepts(value):
                raise AnswerError(f"{question_id}: {value!r} is not a valid answer; expected {q.describe_allowed()}")
            new.pop(question_id, None)
            new[question_id] = value
        try:
            self.engine.validate(new)
        except CaseError as error:
            raise AnswerError("; ".join(error.problems)) from None
        return new

    def answer_prompt(self, answers: Answers, prompt: Prompt, value: Any) -> dict[str, Any]:
        """New answers after ``prompt``: a single value for one question, or a mapping of item
        id to value (None: "don't know") that answers every item of the screen."""
        ids = [i.id for i in prompt.items]
        if isinstance(value, Mapping):
            missing = [i for i in ids if i not in value]
            extra = [k for k in value if k not in ids]
            if missing or extra:
                parts = ([f"missing {', '.join(missing)} (None means don't know)"] if missing else []) + \
                        ([f"not on this screen: {', '.join(extra)}"] if extra else [])
                raise AnswerError(f"{prompt.id}: answer every item of the screen: {'; '.join(parts)}")
            return self.answer_all(answers, {i: value[i] for i in ids})
        if len(ids) != 1:
            raise AnswerError(f"{prompt.id}: this screen has {len(ids)} questions: answer with a mapping "
                              "of question id to value (None means don't know)")
        return self.answer_all(answers, {ids[0]: value})

    def back(self, answers: Answers, count: int = 1) -> dict[str, Any]:
        """New answers without the last ``count`` given (1 or more), so their screen is asked again.

        Raises :class:`AnswerError` for a count below 1 (``given[-0:]`` would drop every answer).
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise AnswerError(f"back: count must be a whole number of 1 or more (the answers to take back), not {count!r}")
        given = [k for k in answers if k != "id"]
        if not given:
            raise AnswerError("There is no previous question to go back to.")
        dropped = set(given[-count:])
        return {k: v for k, v in answers.items() if k not in dropped}

    def start(self, answers: Answers | None = None) -> "Session":
        """A :class:`Session` for one person, optionally resuming from earlier answers."""
        return Session(self, answers)


class Session:
    """One person's way through a questionnaire: the answers so far and the current step.

    Holds state but does no I/O: a front end shows :attr:`step`, passes what the person
    typed to :meth:`reply` (or the answers to :meth:`answer`), and when :attr:`step` is a
    result with ``stopped_early`` or ``more_details``, may call :meth:`go_on`.
    """

    def __init__(self, questionnaire: Questionnaire, answers: Answers | None = None):
        self.questionnaire = questionnaire
        self._answers: dict[str, Any] = dict(answers or {})
        self._screens: list[int] = []  # how many answers each screen of this session gave, for back
        self.acknowledged: Urgency | None = None
        self.details = False
        self.step = self._next()

    @property
    def answers(self) -> dict[str, Any]:
        """The answers so far, in the order given (None: "don't know")."""
        return dict(self._answers)

    @property
    def screen(self) -> int:
        """The number of the current screen in this session (1 for the first)."""
        return len(self._screens) + 1

    def _next(self) -> Step:
        return self.questionnaire.next_step(self._answers, self.acknowledged, self.details)

    def reply(self, text: str) -> Reply:
        """Act on what the person typed for the current screen; return what it meant.

        ``help``, ``why`` and ``each`` change nothing: the front end shows the help, the
        reasons, or asks the group's items one by one and calls :meth:`answer` with them.
        Raises :class:`AnswerError` (nothing changes) when the reply is not allowed.
        """
        prompt = self._prompt()
        reply = self.questionnaire.interpret(prompt, text)
        if reply.kind in ("answer", "skip"):
            self.answer(reply.value)
        elif reply.kind == "back":
            self.back()
        return reply

    def _prompt(self) -> Prompt:
        if self.step.question is None:
            raise AnswerError("There is no question to answer.")
        return self.step.question

    def answer(self, value: Any) -> Step:
        """Answer the current screen and move on: a value (None: "don't know") for a single
        question, or a mapping of item id to value for a screen with several items."""
        prompt = self._prompt()
        self._answers = self.questionnaire.answer_prompt(self._answers, prompt, value)
        self._screens.append(len(prompt.items))
        self.step = self._next()
        return self.step

    def back(self) -> Step:
        """Take back the last screen's answers, so it is asked again."""
        count = self._screens.pop() if self._screens else 1
        self._answers = self.questionnaire.back(self._answers, count)
        self.step = self._next()
        if self.acknowledged is not None and self.step.urgency.rank < self.acknowledged.rank:
            # The answer that led to the acknowledged level is gone: stop again if it comes back.
            self.acknowledged = self.step.urgency
            self.step = self._next()
        return self.step

    def go_on(self) -> Step:
        """Go on after a result that stopped early or offered more detail questions."""
        step = self.step
        if step.question is not None or not (step.stopped_early or step.more_details):
            raise AnswerError("There are no more questions to answer.")
        if step.stopped_early:
            self.acknowledged = step.urgency
        else:
            self.details = True
        self.step = self._next()
        return self.step


def reasons(analysis: Analysis, question_id: str) -> list[Reason]:
    """The rules an answer to the question can still decide (over ``analysis``), most urgent first."""
    return [_reason(s.rule) for s in _by_urgency(analysis.relevant.get(question_id, ()))]


def _by_urgency(states):
    return sorted(states, key=lambda s: (-(s.rule.spec.then.urgency or Urgency.SELF_CARE).rank, s.rule.order))


def _reason(rule) -> Reason:
    then = rule.spec.then
    return Reason(rule=rule.id, title=rule.spec.title, urgency=then.urgency, causes=list(then.causes),
                  red_flags=[f.id for f in then.red_flags], advice=list(then.advice))


def _merge(lists: list[list[Reason]]) -> list[Reason]:
    seen: dict[str, Reason] = {}
    for reasons in lists:
        for reason in reasons:
            seen.setdefault(reason.rule, reason)
    return sorted(seen.values(), key=lambda r: -(r.urgency or Urgency.SELF_CARE).rank)
