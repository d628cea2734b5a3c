"""The rules, run in a few long-lived threads of each worker process.

An experta engine costs 20-30 ms to build and must not be shared between threads.
:class:`triage.Engine` already keeps one experta engine per thread; this pool gives
it a fixed set of threads that live as long as the worker, so each engine is built
once, when the worker starts, and the event loop never runs the rules itself.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from ..engine import Engine
from ..questionnaire import Questionnaire

T = TypeVar("T")


class EnginePool:
    """One :class:`~triage.Engine` and the ``threads`` threads that run it."""

    def __init__(self, engine: Engine, threads: int = 1):
        self.engine = engine
        self.questionnaire = Questionnaire(engine)
        self.threads = max(1, threads)
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="triage-engine")

    def start(self) -> None:
        """Start every thread and build its experta engine now, not on the first request."""
        ready = threading.Barrier(self.threads)

        def warm() -> None:
            ready.wait(timeout=30)  # all threads at once: the executor must start each one
            self.engine.assess({})

        for future in [self._executor.submit(warm) for _ in range(self.threads)]:
            future.result()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` in one of the engine threads and wait for it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    def close(self) -> None:
        """Stop the threads once the work they have is done."""
        self._executor.shutdown(wait=True)
