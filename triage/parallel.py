"""Assessing many cases: in this process, in worker processes or on a Dask cluster, in order.

Cases travel in chunks. Each worker builds its engine once, from the rule data
(the knowledge base's files are sent to it once, so a worker on another machine
needs nothing but triage installed), and then assesses chunk after chunk. At
most a few chunks per worker are in flight, so memory stays flat however many
cases there are, and results come back in input order. The same function
assesses a chunk everywhere, so the results do not depend on where it ran.

- :func:`assess_many` yields one :class:`~triage.Assessment` per case;
- :func:`batch_records` yields the text records ``triage batch`` writes;
- :func:`assess_bag` maps a Dask bag of cases to a bag of assessments.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import tempfile
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, NamedTuple, overload

from ._main_guard import processes_may_start
from .assessment import Assessment
from .batch import CASE, INVALID, Entry, case_of, format_record, record
from .case import CaseBase
from .conclusions import Firing, conclude, summarise
from .engine import Engine
from .errors import CaseError, WorkerError
from .knowledge import KnowledgeBase, load_knowledge_base
from .lifeline import die_with
from .text import quoted

CHUNK_SIZE = 250  # cases per task: large enough that sending a task costs little per case
IN_FLIGHT = 4  # chunks per worker sent ahead; bounds the memory the stream needs


def default_workers() -> int:
    """The number of CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------
# What a worker needs


@dataclass(frozen=True)
class RuleData:
    """A knowledge base as its files, to rebuild it in another process or on another machine."""

    files: tuple[tuple[str, bytes], ...]
    packs: tuple[str, ...]
    digest: str

    @classmethod
    def of(cls, kb: KnowledgeBase) -> "RuleData":
        root = Path(kb.path)
        files = tuple(
            (path.relative_to(root).as_posix(), path.read_bytes())
            for path in sorted(root.rglob("*"))
            if path.is_file() and not any(p.startswith((".", "__")) for p in path.relative_to(root).parts)
        )
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


@dataclass(frozen=True)
class Work:
    """What each worker does: with which rules, and what it returns for each case.

    ``output`` is ``"firings"`` (for :func:`assess_many`, which builds the
    assessments) or ``"records"`` (text in ``fmt``: jsonl, json or csv; ``full``
    adds the whole assessment to each JSON record).
    """

    rules: RuleData
    output: str = "firings"
    fmt: str = "jsonl"
    full: bool = False


_ENGINES: dict[str, Engine] = {}
_INSTALLED: list[Work] = []


def _engine_for(work: Work) -> Engine:
    engine = _ENGINES.get(work.rules.digest)
    if engine is None:
        engine = _ENGINES[work.rules.digest] = Engine(work.rules.load())
        engine._rule_engine()  # build the Rete network now, once
    return engine


def _install(work: Work, parent: int | None = None) -> None:
    """Process-pool initializer: build this worker's engine once, before any case arrives."""
    # Ctrl-C is for the main process, which stops the pool: a worker would only
    # print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        die_with(parent)
    _INSTALLED[:] = [work]
    _engine_for(work)


def _run_installed(chunk: list[Entry]):
    work = _INSTALLED[0]
    return run_chunk(_engine_for(work), work, chunk)


def _run_sent(work: Work, chunk: list[Entry]):
    return run_chunk(_engine_for(work), work, chunk)


# ---------------------------------------------------------------------------
# Assessing one chunk (the same code, wherever it runs)


class ChunkRecords(NamedTuple):
    """What a chunk gave in ``records`` output."""

    texts: list[str]  # one record per case, in order
    urgencies: Counter  # cases per urgency level
    errors: list[str]  # one line per case that could not be assessed


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


def run_chunk(engine: Engine, work: Work, chunk: list[Entry]):
    """Assess every case of a chunk; one result per entry, in order."""
    kb = engine.knowledge_base
    if work.output == "firings":
        results = []
        for entry in chunk:
            try:
                valid, firings = assess_entry(engine, entry)
            except CaseError as error:
                results.append((False, (error.problems, error.source, error.case_id)))
            else:
                results.append((True, (valid.id, [(f.rule.id, f.answers, f.facts) for f in firings], valid.answers())))
        return results

    texts: list[str] = []
    urgencies: Counter = Counter()
    errors: list[str] = []
    for entry in chunk:
        assessment = None
        try:
            valid, firings = assess_entry(engine, entry)
        except CaseError as error:
            case_id = error.case_id or entry.source
            message = "; ".join(error.problems)
            data = record(case_id, entry.source, None, message)
            errors.append(f"{entry.source}: {message}")
        else:
            case_id = valid.id or entry.source
            summary = summarise(firings)
            urgencies[summary.urgency.value] += 1
            data = record(case_id, entry.source, summary, None)
            if work.full:
                assessment = conclude(kb, case_id, firings, valid.answers())
        text = format_record(data, work.fmt)
        if work.full:  # splice in the assessment's own JSON
            body = assessment.model_dump_json() if assessment is not None else "null"
            text = text.rstrip("\n")[:-1] + ', "assessment": ' + body + "}" + ("\n" if work.fmt == "jsonl" else "")
        texts.append(text)
    return ChunkRecords(texts, urgencies, errors)


# ---------------------------------------------------------------------------
# Running chunks: here, in worker processes, or on a Dask cluster


def _chunks(entries: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _process_pool(workers: int, work: Work) -> ProcessPoolExecutor:
    # forkserver (or spawn) rather than fork: forking a process that runs threads
    # (a web server embedding triage, say) can deadlock. The server process
    # imports triage once, so each worker starts with it already imported.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["triage.parallel"])
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_install, initargs=(work, os.getpid()))


def run_chunks(
    entries: Iterable[Entry],
    work: Work,
    workers: int | None = None,
    engine: Engine | None = None,
    client=None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Any]:
    """Assess entries chunk by chunk; yield each chunk's results, in order.

    With a Dask ``client`` the chunks run on its cluster; else with ``workers`` > 1
    in that many processes; else here, with ``engine`` (or one built from
    ``work.rules``). A batch that fits in one chunk runs here whatever is asked:
    starting processes would cost more than it saves, and the results are the same.
    """
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError("workers must be at least 1")
    chunks = _chunks(entries, chunk_size)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None or (client is None and (workers == 1 or not processes_may_start())):
        local = engine or _engine_for(work)
        for chunk in _prepend(first, second, chunks):
            yield run_chunk(local, work, chunk)
        return
    if client is not None:
        # The rules go to every Dask worker once; each task then carries only its chunk.
        rules = client.scatter(work, broadcast=True, hash=False)
        in_flight = IN_FLIGHT * max(2, sum(client.nthreads().values()))
        try:
            yield from _in_order(lambda chunk: client.submit(_run_sent, rules, chunk, pure=False),
                                 _prepend(first, second, chunks), in_flight)
        except _dask_failures() as error:
            raise WorkerError(f"the Dask cluster failed to assess a chunk: {type(error).__name__}: {error}") from None
        return
    with _process_pool(workers, work) as pool:
        try:
            yield from _in_order(lambda chunk: pool.submit(_run_installed, chunk),
                                 _prepend(first, second, chunks), IN_FLIGHT * workers)
        except (BrokenProcessPool, BrokenPipeError) as error:  # a worker died, or died starting
            _unblock_call_queue(pool)
            raise WorkerError(f"a worker process stopped unexpectedly (out of memory?): {error}") from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _unblock_call_queue(pool: ProcessPoolExecutor) -> None:
    """Let a broken pool shut down on Python 3.10 instead of hanging for ever.

    When workers die with a chunk still being written to them, the pool's feeder
    thread stays blocked on the full pipe and shutting the pool down waits for it
    (CPython gh-94777). Python 3.11 and later close the pipe's reading end when a
    pool breaks; on 3.10 this does it, which makes the blocked write fail and the
    feeder thread end.
    """
    if sys.version_info >= (3, 11):
        return
    reader = getattr(getattr(pool, "_call_queue", None), "_reader", None)
    if reader is not None:
        reader.close()


def _dask_failures() -> tuple[type[BaseException], ...]:
    """What a Dask future raises when the cluster, not the chunk, failed (a worker killed, a lost connection)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    # Not OSError as a whole: reading the input files runs in this loop too.
    return (KilledWorker, CancelledError, CommClosedError)


def _prepend(first, second, rest):
    yield first
    if second is not None:
        yield second
        yield from rest


def _in_order(submit, chunks: Iterable, window: int) -> Iterator[Any]:
    """Submit chunks, at most ``window`` ahead of the one whose result is yielded next."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


# ---------------------------------------------------------------------------
# The library's entry points


_PLAIN = (str, int, float, bool, type(None))


def _case_entries(cases: Iterable[Any], engine: Engine | None = None) -> Iterator[Entry]:
    """Each case as an entry that can travel to a worker process.

    A plain mapping of text keys to plain values goes as it is. Anything else (a
    FHIR resource, a mapping of another type, values of other types, which might
    not pickle) is validated here first, the same way for any number of workers:
    a valid case travels as its plain answers, an invalid one as its error.
    """
    for number, case in enumerate(cases):
        source = f"cases[{number}]"
        if isinstance(case, CaseBase):  # case models are built at run time and do not pickle
            case = case.model_dump(exclude_none=True)
        elif engine is not None and not (type(case) is dict and all(
                type(key) is str and type(value) in _PLAIN for key, value in case.items())):
            try:
                case = engine.validate(case, source).model_dump(exclude_none=True)
            except CaseError as error:
                yield Entry(source, INVALID, (error.problems, error.case_id))
                continue
            except Exception as error:  # noqa: BLE001 - one case must not stop the stream
                yield Entry(source, INVALID, ([unexpected(error)], None))
                continue
        yield Entry(source, CASE, case)


@overload
def assess_many(cases: Iterable[Any], workers: int | None = None, *, knowledge_base: KnowledgeBase | None = None,
                errors: Literal["raise"] = "raise") -> Iterator[Assessment]: ...
@overload
def assess_many(cases: Iterable[Any], workers: int | None = None, *, knowledge_base: KnowledgeBase | None = None,
                errors: Literal["return"]) -> Iterator[Assessment | CaseError]: ...
def assess_many(
    cases: Iterable[Any],
    workers: int | None = None,
    *,
    knowledge_base: KnowledgeBase | None = None,
    errors: Literal["raise", "return"] = "raise",
) -> Iterator[Assessment] | Iterator[Assessment | CaseError]:
    """Assess many cases; yield one :class:`~triage.Assessment` per case, in input order.

    ``cases`` is any iterable of mappings (or case models), consumed as a stream.
    ``workers`` processes assess them (default: one per CPU; 1 assesses them in
    this process); the results are the same whatever the number. An invalid case
    raises :class:`~triage.CaseError` (naming ``cases[N]``, its position), or with
    ``errors="return"`` is yielded in place as that ``CaseError``, and the rest go on.

    Worker processes run the main script again as they start, so a script must
    call this under ``if __name__ == "__main__":``. A script that does not is
    noticed: its cases are assessed in this process, with a ``RuntimeWarning``
    naming the line (instead of multiprocessing's "bootstrapping" failure).
    """
    if errors not in ("raise", "return"):
        raise ValueError("errors must be 'raise' or 'return'")
    engine = Engine(knowledge_base) if knowledge_base is not None else _default_engine()
    kb = engine.knowledge_base
    work = Work(RuleData.of(kb), "firings")
    for results in run_chunks(_case_entries(cases, engine), work, workers, engine=engine):
        for ok, value in results:
            if ok:
                yield _assessment(kb, *value)
            elif errors == "raise":
                raise CaseError(*value)
            else:
                yield CaseError(*value)


def _assessment(kb: KnowledgeBase, case_id: str | None, fired: list, answers: dict):
    """The assessment of a case from what a worker sent back: its id, the rules that fired, its answers."""
    return conclude(kb, case_id, [Firing(kb.rule_by_id[r], a, list(f)) for r, a, f in fired], answers)


def _default_engine() -> Engine:
    from .engine import default_engine

    return default_engine()


@dataclass
class Totals:
    """What a batch gave: cases, cases per urgency level, and the cases that could not be assessed."""

    cases: int = 0
    urgencies: Counter = field(default_factory=Counter)
    errors: int = 0


def batch_records(
    entries: Iterable[Entry],
    engine: Engine,
    fmt: str = "jsonl",
    full: bool = False,
    workers: int | None = None,
    client=None,
    totals: Totals | None = None,
) -> Iterator[ChunkRecords]:
    """The records of ``triage batch`` for a stream of entries, chunk by chunk, in order.

    ``totals``, when given, is kept up to date as chunks arrive.
    """
    work = Work(RuleData.of(engine.knowledge_base), "records", fmt, full)
    for chunk in run_chunks(entries, work, workers, engine=engine, client=client):
        if totals is not None:
            totals.cases += len(chunk.texts)
            totals.urgencies.update(chunk.urgencies)
            totals.errors += len(chunk.errors)
        yield chunk


def dask_client(address: str):
    """A client of the Dask cluster at ``address`` (needs ``pip install "triage[dask]"``)."""
    try:
        from distributed import Client
    except ImportError:
        raise WorkerError('Dask is not installed: pip install "triage[dask]"') from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as error:  # ValueError: not an address at all
        raise WorkerError(f"cannot reach the Dask scheduler at {quoted(address)}: {quoted(str(error), 200, quotes=False)}") from None


def assess_bag(bag, knowledge_base: KnowledgeBase | None = None):
    """Assess a Dask bag of cases, partition by partition; a bag of assessments, in order.

    Each partition is assessed like a chunk (with the engine its worker built
    once); an invalid case gives its :class:`~triage.CaseError` in its place.
    """
    engine = Engine(knowledge_base) if knowledge_base is not None else _default_engine()
    work = Work(RuleData.of(engine.knowledge_base), "firings")
    return bag.map_partitions(_assess_partition, work)


def _assess_partition(cases, work: Work) -> list:
    engine = _engine_for(work)
    kb = engine.knowledge_base
    results = run_chunk(engine, work, list(_case_entries(cases, engine)))
    return [_assessment(kb, *value) if ok else CaseError(*value) for ok, value in results]
