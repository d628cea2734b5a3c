"""Audit a vignette set for under-triage, as symptom-checker studies report it.

A vignette is a case plus ``expected_urgency`` (the gold standard) and optional
``expected_causes``, in one of two layouts: flat (the answers beside ``id`` and the
``expected_*`` keys) or nested (the answers under ``case``, the layout of vignette sets
written independently of the rules). Free-text keys (``rationale``, ``source``, ``notes``,
``author``) are kept as ``notes`` and shown with the outcome, never refused; in the
nested layout any other key beside ``case`` (an answer in the wrong place, a misspelt
key) is refused, since kept as a note it would drop an answer from the case. Definitions (see ``../shared/clinical/red-flags.md``):

- appropriate: the advice equals the gold level;
- over-triage: more urgent than gold; under-triage: less urgent (the unsafe error);
- safe (Gilbert et al. 2020): at the gold level, more urgent, or at most one level less urgent;
- cause recall: the share of expected causes that the assessment names;
- accuracy by level: appropriate triage among the vignettes of each gold level;
- over/under-triage odds (Schmieding et al. 2022): over-triage errors per under-triage error.

Every proportion carries its 95% Wilson interval (:mod:`triage.stats`): on a few
dozen vignettes the interval, not the point figure, says what the set shows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Collection, Iterable

from pydantic import BaseModel, ConfigDict, ValidationError

from .assessment import KnowledgeBaseInfo
from .engine import Engine
from .errors import CaseError
from .inputs import directory_entries, files_in
from .list_items import RefusedItem, parse_cases
from .reading import decode, display_name, parse_json, read_bytes, read_document
from .stats import Proportion, all_correct_means, over_under_odds, proportion
from .urgency import Urgency
from .vignette_keys import FREE_TEXT_KEYS, misplaced_key

LEVELS = [u.value for u in Urgency]  # most urgent first


class Vignette(BaseModel):
    """A case with its gold-standard urgency and, optionally, the causes it should name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    expected_urgency: Urgency
    expected_causes: list[str] = []
    case: dict[str, Any]
    source: str  # where the vignette was read from (file, and record)
    notes: dict[str, str] = {}  # the free-text keys (rationale, source, notes, author), as written


class Outcome(BaseModel):
    """How the engine did on one vignette."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: str
    expected_urgency: Urgency
    actual_urgency: Urgency
    verdict: str  # appropriate | over | under
    safe: bool
    expected_causes: list[str]
    missed_causes: list[str]
    fired_rules: list[str]
    red_flags: list[str]
    notes: dict[str, str] = {}


class AuditReport(BaseModel):
    """The figures of an audit, and each vignette's outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vignettes: int
    appropriate: int
    over_triage: int
    under_triage: int
    safe: int
    appropriate_rate: float
    over_triage_rate: float
    under_triage_rate: float
    safe_rate: float
    cause_recall: float | None
    expected_causes: int
    found_causes: int
    levels: list[str]
    confusion: dict[str, dict[str, int]]  # expected level -> actual level -> count
    figures: dict[str, Proportion]  # appropriate, over_triage, under_triage, safe, cause_recall: with 95% CIs
    accuracy_by_level: dict[str, Proportion]  # expected level -> appropriate triage among its vignettes
    over_under_odds: float | None  # over-triage errors per under-triage error; None without under-triage
    all_correct_means: str  # what 100% on this many vignettes shows
    knowledge_base: KnowledgeBaseInfo | None = None
    under_triaged: list[Outcome]
    outcomes: list[Outcome]

    @property
    def serious_under_triage(self) -> list[Outcome]:
        """Under-triaged vignettes whose gold level is emergency or urgent."""
        return [o for o in self.under_triaged if o.expected_urgency in (Urgency.EMERGENCY, Urgency.URGENT)]


VIGNETTE_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")


def vignette_files(paths: Iterable[str | os.PathLike]) -> list[str]:
    """The files to read: each file given, and the vignette files in each directory (recursively, sorted)."""
    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            found = [str(p) for p in files_in(Path(path), VIGNETTE_SUFFIXES)]
            if not found:
                raise CaseError([f"no vignette files in this directory (looked for {', '.join(VIGNETTE_SUFFIXES)})"], str(path))
            files.extend(found)
        else:
            files.append(str(path))
    return files


def read_vignettes(paths: Iterable[str | os.PathLike], problems: list[str] | None = None,
                   answer_fields: Collection[str] | None = None) -> list[Vignette]:
    """Read vignettes from JSON, YAML (a record or a list) and JSONL files, and directories of them.

    ``answer_fields`` are the case's fields (by default the shipped knowledge base's
    questions): one beside a nested vignette's ``case`` is refused as misplaced.

    Raises :class:`CaseError` listing every bad record by file, record and field;
    or, given a ``problems`` list, adds them to it and returns every vignette
    that could be read (one bad file or record hides nothing else).
    """
    vignettes: list[Vignette] = []
    collect = problems is not None
    problems = problems if problems is not None else []
    files: list[str] = []
    for path in paths:
        if not Path(path).is_dir():
            files.append(str(path))
            continue
        found = directory_entries(Path(path), VIGNETTE_SUFFIXES)
        if not found:
            problems.append(f"{display_name(path)}: no vignette files in this directory (looked for {', '.join(VIGNETTE_SUFFIXES)})")
        for entry, problem in found:
            if problem is None:
                files.append(str(entry))
            else:
                problems.append(f"{display_name(entry)}: {problem}")
    for path in files:
        try:
            records = list(_records(path))
        except CaseError as error:
            problems.append(str(error))
            continue
        for source, record in records:
            if isinstance(record, CaseError):
                problems.append(str(record))
                continue
            try:
                vignettes.append(_vignette(record, source, answer_fields))
            except CaseError as error:
                problems.append(str(error))
    seen: dict[str, str] = {}
    for vignette in vignettes:
        if vignette.id in seen:
            problems.append(f"{vignette.source}: vignette {vignette.id!r}: id: duplicate (also at {seen[vignette.id]})")
        seen.setdefault(vignette.id, vignette.source)
    if problems and not collect:
        raise CaseError(problems)
    return vignettes


def _records(path: str) -> list[tuple[str, Any]]:
    """(source, record) for each record of one file; a bad JSONL line is its own record (an error)."""
    name = display_name(path)
    if path.endswith(".jsonl"):
        found: list[tuple[str, Any]] = []
        data = decode(read_bytes(path), name)
        for number, line in enumerate(data.splitlines(), start=1):
            if line.strip():
                where = f"{name}:{number}"
                try:
                    found.append((where, parse_json(line, where)))
                except CaseError as error:
                    found.append((where, error))
        return found
    data, source = read_document(path, parse=parse_cases)  # a refused item of a list is its own record
    if isinstance(data, list):
        return [(f"{source}#{number}", CaseError([item.problem], f"{source}#{number}") if isinstance(item, RefusedItem)
                 else item) for number, item in enumerate(data, start=1)]
    return [(source, data)]


def _vignette(record: Any, source: str, answer_fields: Collection[str] | None = None) -> Vignette:
    """One vignette from its record; ``answer_fields`` (the case fields, by default the
    shipped knowledge base's questions) tells an answer misplaced beside ``case`` from an unknown key."""
    if not isinstance(record, dict):
        raise CaseError([f"a vignette must be a mapping, not {type(record).__name__}"], source)
    record = dict(record)
    vignette_id = record.get("id")
    missing = [key for key in ("id", "expected_urgency") if record.get(key) is None]
    if missing:
        raise CaseError([f"field {key!r}: required" for key in missing], source, vignette_id)
    expected = record.pop("expected_urgency")
    causes = record.pop("expected_causes", []) or []
    record.pop("id")
    if "case" in record:
        # Nested: the answers are under `case`; beside it only the vignette keys and the
        # free-text keys. Anything else (an answer in the wrong place, a misspelt key) is
        # refused: kept as a note it would silently drop an answer or a gold standard.
        case = record.pop("case")
        if not isinstance(case, dict):
            raise CaseError([f"field 'case': must be a mapping of answers, not {type(case).__name__}"], source, str(vignette_id))
        unknown = [key for key in record if key not in FREE_TEXT_KEYS]
        if unknown:
            raise CaseError([misplaced_key(key, answer_fields) for key in unknown], source, str(vignette_id))
        extra = record
    else:
        # Flat: the answers sit beside the vignette keys; only the known free-text keys are not answers.
        extra = {key: record.pop(key) for key in FREE_TEXT_KEYS if key in record}
        case = record
    case = {"id": vignette_id, **{k: v for k, v in case.items() if k != "id"}}
    notes = {str(key): _as_text(value) for key, value in extra.items() if value is not None}
    try:
        return Vignette(id=str(vignette_id), expected_urgency=expected, expected_causes=causes, case=case,
                        source=source, notes=notes)
    except ValidationError as error:
        problems = [f"field {'.'.join(map(str, e['loc']))}: {e['msg']}".replace("field expected_urgency", "field 'expected_urgency'") for e in error.errors()]
        raise CaseError(problems, source, str(vignette_id)) from None


def _as_text(value: Any) -> str:
    """A free-text value as text: strings as written, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def audit(vignettes: list[Vignette], engine: Engine, problems: list[str] | None = None) -> AuditReport:
    """Assess every vignette and compare with its gold standard.

    Raises :class:`CaseError` (naming the file, vignette and field) if a vignette's
    answers are invalid, or it expects a cause the knowledge base does not know;
    or, given a ``problems`` list, adds them to it and reports on the others.
    """
    collect = problems is not None
    problems = problems if problems is not None else []
    outcomes = []
    for vignette in vignettes:
        unknown = [c for c in vignette.expected_causes if c not in engine.knowledge_base.causes]
        if unknown:
            problems.append(f"{vignette.source}: vignette {vignette.id!r}: field 'expected_causes': unknown cause {unknown[0]!r}")
            continue
        try:
            result = engine.assess(vignette.case, source=vignette.source)
        except CaseError as error:
            problems.append(str(error))
            continue
        expected, actual = vignette.expected_urgency, result.urgency
        verdict = "appropriate" if actual == expected else "over" if actual.rank > expected.rank else "under"
        outcomes.append(
            Outcome(
                id=vignette.id,
                source=vignette.source,
                expected_urgency=expected,
                actual_urgency=actual,
                verdict=verdict,
                safe=actual.rank >= expected.rank - 1,
                expected_causes=vignette.expected_causes,
                missed_causes=[c for c in vignette.expected_causes if c not in result.cause_ids],
                fired_rules=[r.id for r in result.fired_rules],
                red_flags=[f.id for f in result.red_flags],
                notes=vignette.notes,
            )
        )
    if problems and not collect:
        raise CaseError(problems)
    kb = engine.knowledge_base
    info = KnowledgeBaseInfo(name=kb.name, version=kb.version, packs=list(kb.packs), sha256=kb.sha256)
    return _report(outcomes).model_copy(update={"knowledge_base": info})


def _report(outcomes: list[Outcome]) -> AuditReport:
    total = len(outcomes)

    def rate(count: int) -> float:
        return round(count / total, 4) if total else 0.0

    count = {v: sum(o.verdict == v for o in outcomes) for v in ("appropriate", "over", "under")}
    safe = sum(o.safe for o in outcomes)
    expected_causes = sum(len(o.expected_causes) for o in outcomes)
    found_causes = expected_causes - sum(len(o.missed_causes) for o in outcomes)
    confusion = {e: {a: 0 for a in LEVELS} for e in LEVELS}
    for outcome in outcomes:
        confusion[outcome.expected_urgency.value][outcome.actual_urgency.value] += 1
    figures = {
        "appropriate": proportion(count["appropriate"], total),
        "over_triage": proportion(count["over"], total),
        "under_triage": proportion(count["under"], total),
        "safe": proportion(safe, total),
        "cause_recall": proportion(found_causes, expected_causes),
    }
    by_level = {
        level: proportion(confusion[level][level], sum(confusion[level].values()))
        for level in LEVELS
        if sum(confusion[level].values())
    }
    return AuditReport(
        vignettes=total,
        appropriate=count["appropriate"],
        over_triage=count["over"],
        under_triage=count["under"],
        safe=safe,
        appropriate_rate=rate(count["appropriate"]),
        over_triage_rate=rate(count["over"]),
        under_triage_rate=rate(count["under"]),
        safe_rate=rate(safe),
        cause_recall=round(found_causes / expected_causes, 4) if expected_causes else None,
        expected_causes=expected_causes,
        found_causes=found_causes,
        levels=LEVELS,
        confusion=confusion,
        figures=figures,
        accuracy_by_level=by_level,
        over_under_odds=over_under_odds(count["over"], count["under"]),
        all_correct_means=all_correct_means(total, count["appropriate"]),
        under_triaged=[o for o in outcomes if o.verdict == "under"],
        outcomes=outcomes,
    )


def render_report(report: AuditReport) -> str:
    """The audit as a plain-text table, the way symptom-checker studies report it."""

    f = report.figures
    lines = []
    if report.knowledge_base is not None:
        kb = report.knowledge_base
        lines += [f"Knowledge base {kb.name} {kb.version} (packs: {', '.join(kb.packs)})", f"  sha256 {kb.sha256}"]
    lines += [
        f"Vignettes: {report.vignettes}  (each figure: count/total, rate, 95% Wilson interval)",
        f"  appropriate triage (exact level):   {f['appropriate'].describe()}",
        f"  over-triage (more urgent):          {f['over_triage'].describe()}",
        f"  under-triage (less urgent):         {f['under_triage'].describe()}",
        f"  safe advice (Gilbert et al. 2020):  {f['safe'].describe()}",
        f"  cause recall:                       {f['cause_recall'].describe()}",
        f"  over/under-triage odds (Schmieding et al. 2022): {_odds(report)}",
        f"  {report.all_correct_means}.",
        "",
        "Appropriate triage by expected level",
    ]
    lines += [f"  {level:<11} {share.describe()}" for level, share in report.accuracy_by_level.items()]
    lines += ["", "Confusion matrix (rows: expected, columns: given)"]
    width = max(len(level) for level in report.levels) + 2
    lines.append(" " * width + "".join(f"{level:>{width}}" for level in report.levels))
    for expected in report.levels:
        row = report.confusion[expected]
        lines.append(f"{expected:<{width}}" + "".join(f"{row[a]:>{width}}" for a in report.levels))
    lines.append("")
    if report.under_triaged:
        lines.append(f"Under-triaged ({len(report.under_triaged)}):")
        for o in report.under_triaged:
            lines.append(f"  {o.id} ({o.source}): expected {o.expected_urgency.value}, given {o.actual_urgency.value}")
            lines.append(f"    fired: {', '.join(o.fired_rules) or '-'}")
            if o.red_flags:
                lines.append(f"    red flags: {', '.join(o.red_flags)}")
            lines += [f"    {key}: {text}" for key, text in o.notes.items()]
    else:
        lines.append("Under-triaged: none")
    missed = [o for o in report.outcomes if o.missed_causes]
    if missed:
        lines.append("")
        lines.append(f"Missed causes ({len(missed)} vignettes):")
        lines += [f"  {o.id}: {', '.join(o.missed_causes)}" for o in missed]
    return "\n".join(lines)


def _odds(report: AuditReport) -> str:
    if report.over_under_odds is None:
        if not report.over_triage:
            return "no triage errors either way: no odds to give"
        return f"no under-triage ({report.over_triage} over-triaged): the odds are unbounded"
    return f"{report.over_under_odds:.2f} ({report.over_triage} over-triaged per {report.under_triage} under-triaged)"


def report_json(report: AuditReport) -> str:
    """The audit report as JSON (every figure and each vignette's outcome)."""
    return json.dumps(report.model_dump(mode="json"), indent=2)
