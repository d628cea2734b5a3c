"""Change impact: what a new knowledge base does to the answers, case by case.

``triage audit FILES --against OLD_RULES_DIR`` assesses every case with the old and
the new knowledge base and reports, for a hazard log or a clinical release note:

- each case whose urgency, action (what to do), causes, red flags, advice or out-of-scope
  verdict changed (old, new, and the rules that fired in each);
- the cases given advice unsafely (advice newly given to an emergency or urgent case, or
  advice the old knowledge base withheld now given) and the cases now out of scope beside a
  warning sign, a cause or an urgency above routine: safety changes, whatever the level;
- the transition matrix of old level against new level;
- the vignettes that became under-triaged, and those that became correct;
- the generated cases (:mod:`triage.differential`) now less urgent, which finds a
  narrowed condition where no vignette sits.

Vignettes (cases with ``expected_urgency``) and plain cases (also CSV files, as
``triage batch`` reads them) can be mixed; plain cases have no gold level, so they
give changes only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, computed_field

from .assessment import Assessment, KnowledgeBaseInfo
from .audit import LEVELS, VIGNETTE_SUFFIXES, Vignette, _records, _vignette
from .differential import GeneratedComparison, render_generated, scope_contradiction, unsafe_advice
from .engine import Engine
from .errors import CaseError
from .inputs import ERROR, case_from_row, files_in, read_file
from .knowledge import KnowledgeBase
from .urgency import Urgency

SERIOUS = (Urgency.EMERGENCY, Urgency.URGENT)
CASE_SUFFIXES = (*VIGNETTE_SUFFIXES, ".csv")


@dataclass(frozen=True)
class Record:
    """A case to compare: a vignette (with a gold level) or a plain case."""

    id: str
    source: str
    case: Any
    vignette: Vignette | None = None

    @property
    def expected_urgency(self) -> Urgency | None:
        return self.vignette.expected_urgency if self.vignette is not None else None


class Side(BaseModel):
    """What one knowledge base concluded for a case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgency: Urgency
    action: str  # what the person is told to do (a rule's own action, or the level's)
    verdict: str | None  # appropriate | over | under, for a vignette
    causes: list[str]
    red_flags: list[str]
    fired_rules: list[str]
    advice: list[str] = []  # the advice ids the person is given
    withheld_advice: list[str] = []  # advice a fired rule withholds
    out_of_scope: bool = False  # "NOT COVERED BY THIS TOOL"

    @property
    def scope_contradiction(self) -> bool:
        """Out of scope beside a warning sign, a cause or an urgency above routine."""
        return scope_contradiction(self.out_of_scope, self.urgency, self.causes, self.red_flags)


class CaseChange(BaseModel):
    """A case whose urgency, action, causes, red flags, advice or out-of-scope verdict differ between the knowledge bases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: str
    expected_urgency: Urgency | None
    changed: list[str]  # of urgency, action, causes, red_flags, advice, out_of_scope
    old: Side
    new: Side

    @property
    def less_urgent(self) -> bool:
        return self.new.urgency.rank < self.old.urgency.rank

    @computed_field  # in --format json too
    @property
    def unsafe_advice(self) -> list[str]:
        """Advice newly given to an emergency or urgent case, or advice the old answer withheld now given."""
        return unsafe_advice(self.old.advice, self.old.withheld_advice, self.new.advice, self.new.urgency)

    @computed_field  # in --format json too
    @property
    def new_scope_contradiction(self) -> bool:
        """Now out of scope beside a warning sign, a cause or an urgency above routine (and not before)."""
        return self.new.scope_contradiction and not self.old.scope_contradiction


class ImpactReport(BaseModel):
    """The change impact of a new knowledge base on a set of cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    old_knowledge_base: KnowledgeBaseInfo
    new_knowledge_base: KnowledgeBaseInfo
    cases: int
    vignettes: int  # cases with a gold level
    levels: list[str]
    transitions: dict[str, dict[str, int]]  # old level -> new level -> cases
    changes: list[CaseChange]
    less_urgent: list[str]  # ids of the cases now less urgent
    more_urgent: list[str]
    newly_under_triaged: list[str]  # vignettes under-triaged now and not before
    newly_correct: list[str]  # vignettes appropriate now and not before
    new_only: list[str] = []  # cases only the new knowledge base can read (e.g. new questions), with why
    generated: GeneratedComparison | None = None  # both knowledge bases on generated cases (triage.differential)

    @computed_field  # in --format json too
    @property
    def unsafe_advice(self) -> list[str]:
        """Cases given advice unsafely by the change (see :meth:`CaseChange.unsafe_advice`): a failure."""
        return [c.id for c in self.changes if c.unsafe_advice]

    @computed_field  # in --format json too
    @property
    def scope_contradictions(self) -> list[str]:
        """Cases now out of scope beside a warning sign, a cause or an urgency above routine: a failure."""
        return [c.id for c in self.changes if c.new_scope_contradiction]

    @property
    def serious_newly_under_triaged(self) -> list[str]:
        """Newly under-triaged vignettes whose gold level is emergency or urgent."""
        by_id = {c.id: c for c in self.changes}
        return [i for i in self.newly_under_triaged if by_id[i].expected_urgency in SERIOUS]


def read_records(paths: Iterable[str | os.PathLike], kb: KnowledgeBase) -> list[Record]:
    """Read vignettes and plain cases; raise :class:`CaseError` listing every bad one.

    JSON, YAML and JSONL files hold vignettes or cases; CSV files (as ``triage batch``
    reads them, each cell by the type of its question in ``kb``) hold cases.
    Directories are searched recursively, in sorted order.
    """
    records: list[Record] = []
    problems: list[str] = []
    for path in _case_files(paths):
        try:
            found = list(_csv_records(path, kb) if path.lower().endswith(".csv") else _records(path))
        except CaseError as error:
            problems.append(str(error))
            continue
        for source, item in found:
            if isinstance(item, CaseError):  # a bad JSONL line, or a refused item of a list: named, never a case
                problems.append(str(item))
            elif isinstance(item, dict) and "expected_urgency" in item:
                try:
                    vignette = _vignette(item, source, kb.question_by_id)
                except CaseError as error:
                    problems.append(str(error))
                    continue
                records.append(Record(vignette.id, source, vignette.case, vignette))
            elif isinstance(item, dict):
                records.append(Record(str(item.get("id") or source), source, item))
            else:
                problems.append(f"{source}: a case must be a mapping, not {type(item).__name__}")
    if problems:
        raise CaseError(problems)
    return records


def _case_files(paths: Iterable[str | os.PathLike]) -> list[str]:
    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            found = [str(p) for p in files_in(Path(path), CASE_SUFFIXES)]
            if not found:
                raise CaseError([f"no case files in this directory (looked for {', '.join(CASE_SUFFIXES)})"], str(path))
            files.extend(found)
        else:
            files.append(str(path))
    return files


def _csv_records(path: str, kb: KnowledgeBase):
    """(source, case) for each row of a CSV file; raises :class:`CaseError` for a file or row that cannot be read."""
    for entry in read_file(Path(path)):
        if entry.kind == ERROR:
            raise CaseError([entry.payload], entry.source)
        yield entry.source, case_from_row(entry.payload, kb.question_by_id)


def compare(records: list[Record], old: Engine, new: Engine) -> ImpactReport:
    """Assess every record with both engines; raise :class:`CaseError` if either refuses a case."""
    problems = []
    changes = []
    transitions = {a: {b: 0 for b in LEVELS} for a in LEVELS}
    newly_under, newly_correct, less, more, new_only = [], [], [], [], []
    for record in records:
        try:
            after = _side(new.assess(record.case, source=record.source), record.expected_urgency, new)
        except CaseError as error:  # the knowledge base in use cannot read it: the input is wrong
            problems.append(str(error))
            continue
        try:
            before = _side(old.assess(record.case, source=record.source), record.expected_urgency, old)
        except CaseError as error:  # e.g. it answers a question the old knowledge base did not have
            new_only.append(f"{record.id}: the old knowledge base cannot assess it: {error}")
            continue
        transitions[before.urgency.value][after.urgency.value] += 1
        changed = _differences(before, after)
        if changed:
            changes.append(CaseChange(id=record.id, source=record.source, expected_urgency=record.expected_urgency,
                                      changed=changed, old=before, new=after))
        if after.urgency.rank < before.urgency.rank:
            less.append(record.id)
        elif after.urgency.rank > before.urgency.rank:
            more.append(record.id)
        if after.verdict == "under" and before.verdict != "under":
            newly_under.append(record.id)
        if after.verdict == "appropriate" and before.verdict != "appropriate":
            newly_correct.append(record.id)
    if problems:
        raise CaseError(problems)
    return ImpactReport(
        old_knowledge_base=_info(old), new_knowledge_base=_info(new), cases=len(records),
        vignettes=sum(r.expected_urgency is not None for r in records), levels=LEVELS, transitions=transitions,
        changes=changes, less_urgent=less, more_urgent=more, newly_under_triaged=newly_under,
        newly_correct=newly_correct, new_only=new_only,
    )


def _differences(before: Side, after: Side) -> list[str]:
    """Which of urgency, action, causes, red flags, advice and out of scope differ (causes, red flags
    and advice as sets: a new order is no change).

    The action's meaning cannot be checked, so any change of its text is a change to look at,
    unless it is only the new level's own action in place of the old level's (the urgency says that).
    """
    changed = ["urgency"] if before.urgency != after.urgency else []
    if before.action != after.action and (before.action, after.action) != (before.urgency.action, after.urgency.action):
        changed.append("action")
    changed += [name for name in ("causes", "red_flags", "advice") if set(getattr(before, name)) != set(getattr(after, name))]
    return changed + (["out_of_scope"] if before.out_of_scope != after.out_of_scope else [])


def _side(assessment: Assessment, expected: Urgency | None, engine: Engine) -> Side:
    actual = assessment.urgency
    verdict = None
    if expected is not None:
        verdict = "appropriate" if actual == expected else "over" if actual.rank > expected.rank else "under"
    rules = engine.knowledge_base.rule_by_id
    withheld = dict.fromkeys(a for r in assessment.fired_rules for a in rules[r.id].spec.then.withhold_advice)
    return Side(urgency=actual, action=assessment.action, verdict=verdict, causes=assessment.cause_ids,
                red_flags=[f.id for f in assessment.red_flags], fired_rules=[r.id for r in assessment.fired_rules],
                advice=[a.id for a in assessment.advice], withheld_advice=list(withheld),
                out_of_scope=assessment.out_of_scope)


def _info(engine: Engine) -> KnowledgeBaseInfo:
    kb = engine.knowledge_base
    return KnowledgeBaseInfo(name=kb.name, version=kb.version, packs=list(kb.packs), sha256=kb.sha256)


def render_impact(report: ImpactReport) -> str:
    """The change impact as text: what changed, the transition matrix, new under-triage and new successes."""
    old, new = report.old_knowledge_base, report.new_knowledge_base
    lines = [
        "Change impact",
        f"  old: {old.name} {old.version}, sha256 {old.sha256}",
        f"  new: {new.name} {new.version}, sha256 {new.sha256}",
        f"  {report.cases} cases ({report.vignettes} with an expected level): {len(report.changes)} changed, "
        f"{len(report.less_urgent)} less urgent, {len(report.more_urgent)} more urgent",
    ]
    if report.vignettes < report.cases:
        lines.append(f"  {report.cases - report.vignettes} plain cases have no expected level: changes only")
    if report.new_only:
        count = len(report.new_only)
        lines.append(f"  {count} case{'s' if count != 1 else ''} only the new knowledge base can assess "
                     "(left out of the comparison):")
        lines += [f"    {reason}" for reason in report.new_only]
    alerts = []
    if report.unsafe_advice:
        alerts += [f"UNSAFE ADVICE ({len(report.unsafe_advice)}): advice newly given to an emergency or urgent case, "
                     f"or advice the old knowledge base withheld now given: {', '.join(report.unsafe_advice)} "
                     "(see Changed cases below)", ""]
    if report.scope_contradictions:
        alerts += [f"OUT OF SCOPE BESIDE A FINDING ({len(report.scope_contradictions)}): 'not covered by this tool' "
                     f"beside a warning sign, a cause or an urgency above routine: {', '.join(report.scope_contradictions)}"
                     " (see Changed cases below)", ""]
    if report.generated is not None and report.generated.safety_changes:
        alerts += [f"UNSAFE ADVICE OR OUT OF SCOPE ON GENERATED CASES ({len(report.generated.safety_changes)}): see "
                   "Generated cases below", ""]
    lines[1:1] = alerts  # under the heading, above everything else: a reviewer cannot miss them
    lines += ["", "Transitions (rows: old level, columns: new level)"]
    width = max(len(level) for level in report.levels) + 2
    lines.append(" " * width + "".join(f"{level:>{width}}" for level in report.levels))
    for level in report.levels:
        lines.append(f"{level:<{width}}" + "".join(f"{report.transitions[level][b]:>{width}}" for b in report.levels))
    lines.append("")
    lines.append(f"Newly under-triaged ({len(report.newly_under_triaged)}): {', '.join(report.newly_under_triaged) or 'none'}")
    lines.append(f"Newly correct ({len(report.newly_correct)}): {', '.join(report.newly_correct) or 'none'}")
    lines.append("")
    lines.append(f"Changed cases ({len(report.changes)}):" + ("" if report.changes else " none"))
    for change in report.changes:
        expected = f", expected {change.expected_urgency.value}" if change.expected_urgency else ""
        flag = "  LESS URGENT" if change.less_urgent else ""
        lines.append(f"  {change.id} ({change.source}{expected}): {change.old.urgency.value} -> {change.new.urgency.value}{flag}")
        if "action" in change.changed:
            lines.append(f"    action: {change.old.action} -> {change.new.action}")
        for name in ("causes", "red_flags", "advice"):
            if name in change.changed:
                lines.append(f"    {name}: {', '.join(getattr(change.old, name)) or '-'} -> {', '.join(getattr(change.new, name)) or '-'}")
        if change.unsafe_advice:
            why = (f"newly given to an {change.new.urgency.value} case" if change.new.urgency in SERIOUS
                   else "withheld by the old answer, now given")
            lines.append(f"    UNSAFE ADVICE: {', '.join(change.unsafe_advice)} ({why})")
        if "out_of_scope" in change.changed:
            flag = "  OUT OF SCOPE BESIDE A FINDING" if change.new_scope_contradiction else ""
            lines.append(f"    out of scope: {change.old.out_of_scope} -> {change.new.out_of_scope}{flag}")
        lines.append(f"    old fired: {', '.join(change.old.fired_rules) or '-'}")
        lines.append(f"    new fired: {', '.join(change.new.fired_rules) or '-'}")
    if report.generated is not None:
        lines += ["", *render_generated(report.generated)]
    return "\n".join(lines)
