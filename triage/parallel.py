"""Assessing many cases: in this process, in worker processes or on a Dask cluster, in order.

Cases travel in chunks. Each worker builds its engine once, from the rule data
(the knowledge base's files are sent to it once, so a worker on another machine
needs nothing but triage installed), and then assesses chunk after chunk. At
most a few chunks per worker are in flight, so memory stays flat however many
cases there are, and results come back in input order. The same chunk function
(:mod:`triage.workers`) runs everywhere, so the results do not depend on where it ran.

- :func:`assess_many` yields one :class:`~triage.Assessment` per case;
- :func:`batch_records` yields the text records ``triage batch`` writes;
- :func:`assess_bag` maps a Dask bag of cases to a bag of assessments.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Iterable, Iterator, Literal, overload

from ._main_guard import processes_may_start
from .assessment import Assessment
from .case import CaseBase
from .engine import Engine
from .errors import CaseError, WorkerError
from .inputs import CASE, INVALID, Entry
from .knowledge import KnowledgeBase
from .text import quoted
from .workers import (
    ChunkRecords,
    ChunkTask,
    Fired,
    Result,
    RuleData,
    engine_for,
    fire_chunk,
    install,
    record_chunk,
    run_installed,
    run_sent,
    unexpected,
)

__all__ = ["CHUNK_SIZE", "IN_FLIGHT", "ChunkRecords", "RuleData", "Totals", "assess_bag", "assess_many",
           "batch_records", "dask_client", "default_workers", "run_chunks"]

CHUNK_SIZE = 250  # cases per task: large enough that sending a task costs little per case
IN_FLIGHT = 4  # chunks per worker sent ahead; bounds the memory the stream needs


def default_workers() -> int:
    """The number of CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


def _process_pool(workers: int, rules: RuleData) -> ProcessPoolExecutor:
    # forkserver (or spawn) rather than fork: forking a process that runs threads
    # (a web server embedding triage, say) can deadlock. The server process
    # imports triage once, so each worker starts with it already imported.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["triage.parallel"])
    return ProcessPoolExecutor(workers, mp_context=context, initializer=install, initargs=(rules, os.getpid()))


def run_chunks(
    entries: Iterable[Entry],
    rules: RuleData,
    task: ChunkTask[Result],
    workers: int | None = None,
    engine: Engine | None = None,
    client=None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Result]:
    """Run ``task`` (a chunk function of :mod:`triage.workers`) on the entries chunk by chunk; yield its results, in order.

    With a Dask ``client`` the chunks run on its cluster; else with ``workers`` > 1
    in that many processes; else here, with ``engine`` (or one built from
    ``rules``). A batch that fits in one chunk runs here whatever is asked:
    starting processes would cost more than it saves, and the results are the same.
    ``task`` must pickle (a module's function, or a ``functools.partial`` of one).
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
        local = engine or engine_for(rules)
        for chunk in _prepend(first, second, chunks):
            yield task(local, chunk)
        return
    if client is not None:
        # The rules go to every Dask worker once; each task then carries its chunk and the chunk function (by name).
        sent = client.scatter(rules, broadcast=True, hash=False)
        in_flight = IN_FLIGHT * max(2, sum(client.nthreads().values()))
        try:
            yield from _in_order(lambda chunk: client.submit(run_sent, sent, task, chunk, pure=False),
                                 _prepend(first, second, chunks), in_flight)
        except _dask_failures() as error:
            raise WorkerError(f"the Dask cluster failed to assess a chunk: {type(error).__name__}: {error}") from None
        return
    with _process_pool(workers, rules) as pool:
        try:
            yield from _in_order(lambda chunk: pool.submit(run_installed, task, chunk),
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
    for results in run_chunks(_case_entries(cases, engine), RuleData.of(kb), fire_chunk, workers, engine=engine):
        for result in results:
            if isinstance(result, Fired):
                yield result.assessment(kb)
            elif errors == "raise":
                raise result
            else:
                yield result


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
    task = partial(record_chunk, fmt=fmt, full=full)
    for chunk in run_chunks(entries, RuleData.of(engine.knowledge_base), task, workers, engine=engine, client=client):
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
    return bag.map_partitions(_assess_partition, RuleData.of(engine.knowledge_base))


def _assess_partition(cases, rules: RuleData) -> list[Assessment | CaseError]:
    engine = engine_for(rules)
    kb = engine.knowledge_base
    results = fire_chunk(engine, list(_case_entries(cases, engine)))
    return [result.assessment(kb) if isinstance(result, Fired) else result for result in results]
