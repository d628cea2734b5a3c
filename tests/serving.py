"""A real ``triage serve`` in a subprocess on a free 127.0.0.1 port, for the server's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``python -m triage [global options] serve ARGS`` on 127.0.0.1, its log in ``log_path``."""

    def __init__(self, log_path: Path, *args: str, global_args: tuple[str, ...] = (), workers: int = 1):
        self.log_path = log_path
        self.args = args
        self.global_args = global_args
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 30) -> "Server":
        for _ in range(3):  # another process may take the free port first
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            log = open(self.log_path, "ab")
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            self.process = subprocess.Popen(
                [sys.executable, "-m", "triage", *self.global_args, "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(self.workers), *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=env)
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"triage serve did not start: {self.log_path.read_text()[-2000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real `triage serve` (one worker) for the module's tests, stopped at the end."""
    running = Server(tmp_path_factory.mktemp("serve") / "server.log").start()
    yield running
    running.stop()
