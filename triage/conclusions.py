"""Turn the rules that fired for a case into an :class:`Assessment` (or its short summary).

Ordering is deterministic: causes and red flags by urgency (most urgent first),
then by the order of the rules in the knowledge base, so a red flag always leads
and is never hidden behind a likelier benign cause.

:func:`summarise` gives the urgency and the ids of causes, red flags and advice,
which is all ``triage batch`` writes by default; :func:`conclude` gives the whole
assessment. Both order the rules with :func:`_ranked`, so a summary always
matches the assessment of the same case.

The result models are built by their ordinary constructors, so they are validated:
pydantic-core checks a small model in Rust faster than ``model_construct`` copies
its fields in Python (1.0 against 2.2 microseconds for an Evidence), and models
already built (evidence, sources) pass through without being checked again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assessment import (
    AdviceItem,
    Assessment,
    CauseFinding,
    Evidence,
    FiredRule,
    KnowledgeBaseInfo,
    OpenQuestion,
    RedFlag,
)
from .knowledge import KnowledgeBase, Rule
from .urgency import Urgency


@dataclass(slots=True)
class Firing:
    """One rule that fired, with every answer and fact any of its branches matched."""

    rule: Rule
    answers: dict = field(default_factory=dict)
    facts: list = field(default_factory=list)

    def add(self, answers: dict, facts) -> None:
        """Add what one branch of the rule matched: answers by field, and derived facts."""
        self.answers.update(answers)
        for fact in facts:
            if fact not in self.facts:
                self.facts.append(fact)

    @property
    def urgency(self) -> Urgency:
        return self.rule.spec.then.urgency or Urgency.SELF_CARE

    def evidence(self) -> list[Evidence]:
        found = [_evidence(k, v) for k, v in sorted(self.answers.items())]
        return found + [_evidence(None, None, f) for f in sorted(self.facts)]


# Evidence is frozen and holds plain values, so one instance per matched answer or fact serves
# every assessment: a complete case matches ~60 of them, and making each anew was a third of the
# time to conclude. The type is in the key: True == 1, but "= yes" is not "= 1".
_evidence_made: dict[tuple, Evidence] = {}


def _evidence(field_name, value, fact=None) -> Evidence:
    key = (field_name, type(value), value, fact)
    try:
        return _evidence_made[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value: made each time
        return Evidence(field=field_name, value=value) if fact is None else Evidence(fact=fact)
    made = Evidence(field=field_name, value=value) if fact is None else Evidence(fact=fact)
    if len(_evidence_made) < 100_000:  # a bound, for wide integer answers
        _evidence_made[key] = made
    return made


@dataclass(frozen=True)
class Summary:
    """The short form of an assessment: its urgency and the ids it names, in its order."""

    urgency: Urgency
    causes: tuple[str, ...]
    red_flags: tuple[str, ...]
    advice: tuple[str, ...]
    withheld: frozenset[str] = frozenset()  # advice a fired rule withholds (a warning sign outranks self-care)
    out_of_scope: bool = False


def _ranked(firings: list[Firing]) -> tuple[list[Firing], list[Firing]]:
    """The firings in knowledge-base order, and most urgent first (then knowledge-base order)."""
    in_order = sorted(firings, key=lambda f: f.rule.order)
    by_urgency = sorted(in_order, key=lambda f: -f.urgency.rank)  # stable: kb order within a level
    return in_order, by_urgency


def _urgency(firings: list[Firing]) -> Urgency:
    return Urgency.most_urgent(f.rule.spec.then.urgency for f in firings if f.rule.spec.then.urgency)


# The fact a rule derives when the answers show none of the complaints the rules cover
# (rules/core/scope.yaml); the assessment then says so instead of giving a silent self-care.
OUT_OF_SCOPE_FACT = "out_of_scope"


def _action(in_order: list[Firing], urgency: Urgency) -> str:
    """The action for the assessment: the level's own, unless every rule that asks for this
    level gives its own action (then the first in knowledge-base order). One rule without
    one (waters breaking beside labour at term) keeps the level's action, the more cautious."""
    deciding = [f.rule.spec.then.action for f in in_order if f.rule.spec.then.urgency == urgency]
    return deciding[0] if deciding and all(deciding) else urgency.action


def summarise(firings: list[Firing]) -> Summary:
    """The urgency and the ids of the causes, red flags and advice, as :func:`conclude` orders them;
    the advice withheld, and whether the answers are out of scope."""
    _, by_urgency = _ranked(firings)
    thens = [f.rule.spec.then for f in by_urgency]
    return Summary(
        urgency=_urgency(firings),
        causes=tuple(dict.fromkeys(c for then in thens for c in then.causes)),
        red_flags=tuple(dict.fromkeys(flag.id for then in thens for flag in then.red_flags)),
        advice=tuple(_advice_ids(by_urgency)),
        withheld=frozenset(a for then in thens for a in then.withhold_advice),
        out_of_scope=any(OUT_OF_SCOPE_FACT in then.derive for then in thens),
    )


def _advice_ids(by_urgency: list[Firing]) -> list[str]:
    """Advice of the fired rules, most urgent first, less any advice a fired rule withholds
    (a warning sign outranks self-care: no massage for a leg that may hold a clot)."""
    withheld = {a for f in by_urgency for a in f.rule.spec.then.withhold_advice}
    return [a for a in dict.fromkeys(a for f in by_urgency for a in f.rule.spec.then.advice) if a not in withheld]


def unanswered_red_flags(kb: KnowledgeBase, answers: dict) -> list[OpenQuestion]:
    """The warning-sign questions that apply to a case (by their ``ask_when``) but are unanswered.

    ``answers`` holds the case's known answers. An unknown answer is never taken
    as "no": these are the warning signs the assessment could not rule out.
    """
    from .case import ruled_out
    from .relevance import relevance_for

    decisive = relevance_for(kb).decisive  # asked whatever their ask_when (see triage.relevance)
    nothing_to_ask = ruled_out(answers)
    return [
        OpenQuestion(id=q.id, text=q.text)
        for q in kb.questions
        if q.red_flag and answers.get(q.id) is None and q.id not in nothing_to_ask
        and (q.id in decisive or q.applies(answers))
    ]


def conclude(kb: KnowledgeBase, case_id: str | None, firings: list[Firing], answers: dict | None = None) -> Assessment:
    """Build the assessment for a case from the rules that fired (any order).

    ``answers`` (the case's known answers) lets the assessment name the warning-sign
    questions left unanswered; without it that list is empty.
    """
    firings, by_urgency = _ranked(firings)
    urgency = _urgency(firings)
    evidence = {f.rule.id: f.evidence() for f in firings}

    causes: dict[str, dict] = {}
    # Per cause, the evidence it holds, by field or fact: one case has one answer per field,
    # so these name an item as well as comparing the models does, at a fraction of the cost.
    seen: dict[str, set] = {}
    for firing in by_urgency:
        for cause_id in firing.rule.spec.then.causes:
            entry = causes.setdefault(
                cause_id, {"urgency": firing.urgency, "evidence": [], "rules": [], "sources": []}
            )
            entry["rules"].append(firing.rule.id)
            has = seen.setdefault(cause_id, set())
            for item in evidence[firing.rule.id]:
                key = (item.field, item.fact)
                if key not in has:
                    has.add(key)
                    entry["evidence"].append(item)
            for source in firing.rule.spec.sources:
                if source not in entry["sources"]:
                    entry["sources"].append(source)

    red_flags: dict[str, RedFlag] = {}
    for firing in by_urgency:
        for flag in firing.rule.spec.then.red_flags:
            if flag.id not in red_flags:
                red_flags[flag.id] = RedFlag(
                    id=flag.id, reason=flag.reason, urgency=firing.urgency, rule=firing.rule.id
                )

    advice_ids = _advice_ids(by_urgency)

    return Assessment(
        case_id=case_id,
        urgency=urgency,
        action=_action(firings, urgency),
        out_of_scope=any(OUT_OF_SCOPE_FACT in f.rule.spec.then.derive for f in firings),
        warnings=list(kb.warnings),
        causes=[
            CauseFinding(id=cid, label=kb.causes[cid].label, **entry) for cid, entry in causes.items()
        ],
        red_flags=list(red_flags.values()),
        unanswered_red_flags=unanswered_red_flags(kb, answers) if answers is not None else [],
        advice=[
            AdviceItem(id=a.id, text=a.text, evidence=a.evidence, sources=list(a.sources))
            for a in (kb.advice[i] for i in advice_ids)
        ],
        fired_rules=[
            FiredRule(
                id=f.rule.id,
                pack=f.rule.pack,
                title=f.rule.spec.title,
                urgency=f.rule.spec.then.urgency,
                matched=evidence[f.rule.id],
                derived=list(f.rule.spec.then.derive),
                sources=list(f.rule.spec.sources),
            )
            for f in firings
        ],
        worsening_advice=list(kb.manifest.worsening_advice),
        disclaimer=kb.manifest.disclaimer,
        knowledge_base=KnowledgeBaseInfo(name=kb.name, version=kb.version, packs=list(kb.packs), sha256=kb.sha256),
    )
