"""What runs where a chunk of cases is assessed: the same code in this process, a worker process or on Dask.

A worker gets the knowledge base as its files (:class:`RuleData`), so a worker on
another machine needs nothing but triage installed, and builds its engine once.
Then it runs one of two chunk functions, chunk after chunk:

- :func:`fire_chunk` gives, for each case, the rules that fired (:class:`Fired`,
  rules by id so it travels back small) or its :class:`~triage.CaseError`;
  :func:`triage.assess_many` builds the assessments from them;
- :func:`record_chunk` gives the finished records of ``triage batch``
  (:class:`ChunkRecords`), made by :func:`triage.records.format_record`.
"""

from __future__ import annotations

import hashlib
import signal
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, TypeVar

from .assessment import Assessment
from .conclusions import Firing, conclude
from .engine import Engine
from .errors import CaseError
from .inputs import Entry, case_of
from .knowledge import KnowledgeBase, load_knowledge_base
from .lifeline import die_with
from .provenance import knowledge_base_files
from .records import Outcome, format_record
from .text import quoted

Result = TypeVar("Result")
ChunkTask = Callable[[Engine, list[Entry]], Result]  # a chunk function: fire_chunk, or record_chunk with its format


@dataclass(frozen=True)
class RuleData:
    """A knowledge base as its files, to rebuild it in another process or on another machine."""

    files: tuple[tuple[str, bytes], ...]
    packs: tuple[str, ...]
    digest: str

    @classmethod
    def of(cls, kb: KnowledgeBase) -> "RuleData":
        # The digest's own listing: symbolic links followed, hidden files left out, as the loader reads them.
        files = tuple((name, path.read_bytes()) for name, path in knowledge_base_files(kb.path))
        digest = hashlib.sha256(repr((files, kb.packs)).encode()).hexdigest()
        return cls(files, tuple(kb.packs), digest)

    def load(self) -> KnowledgeBase:
        """Write the files to a private temporary directory, load the knowledge base, remove the directory.

        Removed at once, not when the process exits: worker processes end without
        running exit handlers, and a killed one runs nothing, so a directory left
        for later would leak (one per worker per run).
        """
        with tempfile.TemporaryDirectory(prefix="triage-rules-") as directory:
            for name, content in self.files:
                target = Path(directory, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            return load_knowledge_base(directory, list(self.packs))


# ---------------------------------------------------------------------------
# One engine per process, built once


_ENGINES: dict[str, Engine] = {}
_INSTALLED: list[RuleData] = []


def engine_for(rules: RuleData) -> Engine:
    """This process's engine for these rules, built (Rete network included) on first use."""
    engine = _ENGINES.get(rules.digest)
    if engine is None:
        engine = _ENGINES[rules.digest] = Engine(rules.load())
        engine._rule_engine()  # build the Rete network now, once
    return engine


def install(rules: RuleData, parent: int | None = None) -> None:
    """Process-pool initializer: build this worker's engine once, before any case arrives."""
    # Ctrl-C is for the main process, which stops the pool: a worker would only
    # print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        die_with(parent)
    _INSTALLED[:] = [rules]
    engine_for(rules)


def run_installed(task: ChunkTask[Result], chunk: list[Entry]) -> Result:
    """Run a chunk function in a pool worker, with the engine :func:`install` built."""
    return task(engine_for(_INSTALLED[0]), chunk)


def run_sent(rules: RuleData, task: ChunkTask[Result], chunk: list[Entry]) -> Result:
    """Run a chunk function on a Dask worker, with the engine for the rules sent to it once."""
    return task(engine_for(rules), chunk)


# ---------------------------------------------------------------------------
# Assessing one case


def assess_entry(engine: Engine, entry: Entry):
    """(validated case, firings) of one entry; anything that goes wrong is a :class:`CaseError` naming it.

    Whatever an input holds, one case must never stop the others: an exception
    that is not a CaseError (a bug, or an input no reader foresaw) becomes this
    case's error, so the batch still writes one record per case.
    """
    try:
        valid = engine.validate(case_of(entry, engine.knowledge_base), entry.source)
        return valid, engine.fire(valid)
    except CaseError:
        raise
    except Exception as error:  # noqa: BLE001 - see the docstring
        raise CaseError([unexpected(error)], entry.source) from None


def unexpected(error: BaseException) -> str:
    """The problem line for an exception no check foresaw."""
    detail = quoted(str(error), 200, quotes=False)
    return f"cannot be assessed: {type(error).__name__}" + (f": {detail}" if detail else "")


# ---------------------------------------------------------------------------
# The two chunk functions


class Fired(NamedTuple):
    """A case the rules ran on, as a worker sends it back: the rules by id, so it pickles small."""

    case_id: str | None
    firings: list[tuple[str, dict, list]]  # (rule id, the answers it matched, the facts it matched)
    answers: dict[str, Any]  # the case's known answers, validated

    def assessment(self, kb: KnowledgeBase) -> Assessment:
        """The case's assessment, its firings' rules looked up in ``kb`` (the knowledge base the worker had)."""
        firings = [Firing(kb.rule_by_id[rule], answers, list(facts)) for rule, answers, facts in self.firings]
        return conclude(kb, self.case_id, firings, self.answers)


def fire_chunk(engine: Engine, chunk: list[Entry]) -> list[Fired | CaseError]:
    """Run the rules on every case of a chunk: what fired on each, or its error; one per entry, in order."""
    results: list[Fired | CaseError] = []
    for entry in chunk:
        try:
            valid, firings = assess_entry(engine, entry)
        except CaseError as error:  # a fresh one: no traceback, no context, to travel back
            results.append(CaseError(error.problems, error.source, error.case_id))
        else:
            results.append(Fired(valid.id, [(f.rule.id, f.answers, f.facts) for f in firings], valid.answers()))
    return results


class ChunkRecords(NamedTuple):
    """The records of a chunk, for ``triage batch``."""

    texts: list[str]  # one record per case, in order
    urgencies: Counter  # cases per urgency level
    errors: list[str]  # one line per case that could not be assessed


def record_chunk(engine: Engine, chunk: list[Entry], fmt: str = "jsonl", full: bool = False) -> ChunkRecords:
    """The ``triage batch`` record of every case of a chunk, in ``fmt`` (``full``: with the whole assessment)."""
    kb = engine.knowledge_base
    texts: list[str] = []
    urgencies: Counter = Counter()
    errors: list[str] = []
    for entry in chunk:
        try:
            valid, firings = assess_entry(engine, entry)
        except CaseError as error:
            outcome = Outcome.failed(entry.source, error)
            errors.append(f"{entry.source}: {outcome.error}")
        else:
            outcome = Outcome.assessed(entry.source, valid, firings)
            urgencies[outcome.summary.urgency.value] += 1
        texts.append(format_record(kb, outcome, fmt, full))
    return ChunkRecords(texts, urgencies, errors)
