"""Running ``triage serve``: one uvicorn process, or N worker processes that share the port fairly.

uvicorn's own ``--workers`` shares one listening socket between its workers, so the
worker that wakes first accepts a whole burst of connections; with keep-alive
connections (a load balancer's pool, an EHR's client) one worker then does all the
work while the others idle. Here each worker opens its own socket on the port with
``SO_REUSEPORT``, and the kernel spreads new connections across them. A small
supervisor starts the workers, replaces one that dies, and stops them all on
Ctrl-C or SIGTERM. Where ``SO_REUSEPORT`` is missing, uvicorn's workers are used.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

import uvicorn

LOG = logging.getLogger("triage.serve")
APP = "triage.serve.app:app_from_environment"  # the factory each worker calls
QUICK_DEATH = 5.0  # seconds: a worker that dies sooner than this did not start
MAX_QUICK_DEATHS = 5


def run(host: str, port: int, workers: int, **uvicorn_options: Any) -> int:
    """Serve until stopped; the exit status (0, or 1 when the workers cannot start).

    Call :func:`check_port` first: ``port`` must be a free port, not 0.
    """
    options = dict(uvicorn_options, host=host, port=port, factory=True)
    if workers == 1:
        uvicorn.run(APP, **options)
        return 0
    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, workers=workers, **options)
        return 0
    return _Supervisor(options, workers).run()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port(host: str, port: int) -> int:
    """The port to listen on (a free one for 0); :class:`OSError` when something listens there already.

    The probe binds without ``SO_REUSEPORT``, so it is refused while any socket listens
    on the port, another ``triage serve`` included: two servers never share a port.
    """
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return probe.getsockname()[1]


def _worker(options: dict) -> None:
    """One worker process: its own socket on the shared port, then uvicorn."""
    sock = socket.socket(_family(options["host"]))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((options["host"], options["port"]))
    config = uvicorn.Config(APP, **options)
    uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    def __init__(self, options: dict, workers: int):
        self.options = options
        self.count = workers
        self.context = multiprocessing.get_context("spawn")  # a clean interpreter: no state shared
        self.stopping = threading.Event()
        self.processes: list = []
        self.quick_deaths = 0

    def _start(self):
        process = self.context.Process(target=_worker, args=(self.options,), name="triage-serve-worker")
        process.start()
        process.started_at = time.monotonic()
        return process

    def run(self) -> int:
        previous = {s: signal.signal(s, lambda *_: self.stopping.set()) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start() for _ in range(self.count)]
            LOG.info("started %d workers: %s", self.count, ", ".join(str(p.pid) for p in self.processes))
            while not self.stopping.wait(0.25):
                for number, process in enumerate(self.processes):
                    if process.is_alive():
                        continue
                    quick = time.monotonic() - process.started_at < QUICK_DEATH
                    self.quick_deaths = self.quick_deaths + 1 if quick else 0
                    if self.quick_deaths >= MAX_QUICK_DEATHS:
                        LOG.error("workers keep dying as they start; stopping")
                        return 1
                    LOG.warning("worker %d exited (status %s); starting another", process.pid, process.exitcode)
                    self.processes[number] = self._start()
            return 0
        finally:
            self._stop_all()
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests it has, then exits
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()
