"""Where the rules run in each worker process: its event-loop thread, or a few long-lived threads.

An experta engine costs 20-30 ms to build and must not be shared between threads.
:class:`triage.Engine` already keeps one experta engine per thread, so what matters
is that the threads that run it live as long as the worker: each engine is built
once, when the worker starts.

By default (``threads=0``) the rules run in the worker's event-loop thread, between
reading one request and the next. A case takes well under a millisecond and the
work is pure Python, which holds the GIL, so a second thread could not run it any
sooner; handing it over costs a thread switch per request and, when the event loop
wants the GIL back, waits of up to the interpreter's switch interval (5 ms), which
is what the p99 latency showed. ``threads=N`` runs the rules in N threads instead,
for knowledge bases slow enough that the event loop must stay free meanwhile.
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
    """One :class:`~triage.Engine`, run in the calling thread (``threads=0``) or ``threads`` threads."""

    def __init__(self, engine: Engine, threads: int = 0):
        self.engine = engine
        self.questionnaire = Questionnaire(engine)
        self.threads = max(0, threads)
        self._executor = (ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="triage-engine")
                          if self.threads else None)

    def start(self) -> None:
        """Build the experta engine of every thread that will run the rules, now rather than on the first request."""
        if self._executor is None:
            self._warm()  # the event-loop thread: start() is called from it (the app's lifespan)
            return
        ready = threading.Barrier(self.threads)

        def warm() -> None:
            ready.wait(timeout=30)  # all threads at once: the executor must start each one
            self._warm()

        for future in [self._executor.submit(warm) for _ in range(self.threads)]:
            future.result()

    def _warm(self) -> None:
        self.engine.assess({})  # builds this thread's experta engine
        self.questionnaire.next_step({})  # and what the questionnaire computes once

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` where the rules run, and give its result."""
        if self._executor is None:
            return function(*args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    def close(self) -> None:
        """Stop the threads once the work they have is done."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
