"""Benchmark of triage serve: requests per second and latency under a bounded load.

    python benchmarks/serve.py                    # 1 and 2 workers, /assess alone and a mix
    python benchmarks/serve.py --requests 2000 --workers 2 --kill

Not a test. It starts ``triage serve`` on 127.0.0.1 (a free port), sends a bounded
number of requests from C concurrent keep-alive connections (spread over a few client
processes; a minimal HTTP/1.1 client, as wrk is, so that the load generator, on the
same CPUs, leaves them to the server), checks every answer and
prints a table: requests/s, p50 and p99 latency, errors and wrong answers, and the
CPU time the server and the clients spent per request (on a machine shared with
other work, requests/s and latency follow the load; CPU time per request much less).

- ``assess``: ``POST /assess`` with seeded random cases;
- ``mixed``: a third each of ``/assess``, ``/interview`` (answers part of the way
  through a session) and ``$next-question`` (an adaptive response part of the way);
- ``--kill``: with 2 workers, SIGKILL one worker process while ``/assess`` load runs.
  A request the killed worker had not answered fails (the connection is reset); no
  request may be answered 200 with a wrong result. The supervisor starts a new worker.

Every 200 answer is checked against the expected urgency (computed here with the
same engine), so a wrong result is counted, not just an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import triage  # noqa: E402
from triage.samples import random_cases  # noqa: E402

NEXT = "/Questionnaire/$next-question"


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str, timeout: float) -> bool:
    """Whether ``GET /healthz`` answers 200 (not through a proxy: the server is on 127.0.0.1)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/healthz", timeout=timeout) as answer:
            return answer.status == 200
    except urllib.error.HTTPError:
        return False


class Server:
    def __init__(self, workers: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triage", "serve", "--port", str(self.port), "--workers", str(workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if healthy(self.url, timeout=1) and len(self.workers()) >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("triage serve did not start")

    def workers(self) -> list[int]:
        """The worker processes (uvicorn starts them with multiprocessing's spawn)."""
        found = []
        for task in os.listdir(f"/proc/{self.process.pid}/task"):
            with open(f"/proc/{self.process.pid}/task/{task}/children") as handle:
                for child in map(int, handle.read().split()):
                    try:
                        cmdline = open(f"/proc/{child}/cmdline", "rb").read()
                    except OSError:
                        continue
                    if b"spawn_main" in cmdline:
                        found.append(child)
        return found or [self.process.pid]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server: the supervisor and its live workers."""
        total = 0.0
        for pid in {self.process.pid, *self.workers()}:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------- the requests


def requests_for(scenario: str, count: int, seed: int) -> list[tuple[str, bytes, str]]:
    """(path, body, expected urgency) for ``count`` requests, made before the clock starts."""
    kb = triage.load_knowledge_base()
    engine = triage.Engine(kb)
    questionnaire = triage.Questionnaire(engine)
    rnd = random.Random(seed)
    cases = [c for c in random_cases(kb.questions, 400, seed=seed)]
    for case in cases:
        case.pop("id")
    made = []
    kinds = ["assess"] if scenario == "assess" else ["assess", "interview", "next"]
    pool: dict[str, list] = {kind: [] for kind in kinds}
    for case in cases[:200]:
        pool.setdefault("assess", []).append(("/assess", case, engine.assess(case).urgency.value))
    if "interview" in pool:
        for case in cases[200:300]:
            answers = session_answers(questionnaire, case, rnd.randint(1, 4))
            step = questionnaire.next_step(answers)
            pool["interview"].append(("/interview", {"answers": answers}, step.urgency.value))
        from triage.serve.adaptive import AdaptiveForm

        form = AdaptiveForm(questionnaire)
        for case in cases[300:400]:
            response = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
            for _ in range(rnd.randint(0, 2)):
                response = answered(form.next_question(response), case)
            out = form.next_question(response)
            pool["next"].append((NEXT, response, out["status"]))
    for number in range(count):
        path, body, expected = rnd.choice(pool[kinds[number % len(kinds)]])
        made.append((path, json.dumps(body).encode(), expected))  # encoded now: the clients' time is the server's
    return made


def session_answers(questionnaire, case, screens):
    answers: dict = {}
    for _ in range(screens):
        step = questionnaire.next_step(answers)
        if step.question is None:
            break
        for item in step.question.items:
            answers[item.id] = case.get(item.id, False if item.required else None)
    return answers


def answered(response, case):
    items = list(response.get("item", []))
    given = {i["linkId"] for i in items}
    for item in response["contained"][0]["item"]:
        if item["linkId"] in given or item["type"] == "display":
            continue
        value = case.get(item["linkId"], False if item.get("required") else None)
        entry = {"linkId": item["linkId"]}
        if value is not None:
            if item["type"] == "choice":
                [option] = [o for o in item["answerOption"] if o["valueCoding"]["code"] == str(value)]
                entry["answer"] = [{"valueCoding": option["valueCoding"]}]
            else:
                entry["answer"] = [{"valueBoolean" if item["type"] == "boolean" else "valueInteger": value}]
        items.append(entry)
    return {**response, "item": items}


def check(path: str, body: dict, expected: str) -> bool:
    if path == NEXT:
        return body.get("status") == expected
    return body.get("urgency") == expected


# --------------------------------------------------------------------------- the clients


class Connection:
    """One HTTP/1.1 keep-alive connection speaking just enough of the protocol, as wrk does.

    httpx spent as much CPU per request as the server spends answering it, on the
    same two vCPUs; this writes a request built before the clock started and reads
    the status line, the headers (for Content-Length) and exactly that many bytes.
    Anything it does not expect (no Content-Length, a closed connection) is an error.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` and give (status, body); reconnects first if the last exchange failed."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length = None
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length is None:
                raise ConnectionError("a response without Content-Length")
            body = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_request(host: str, port: int, path: str, body: bytes) -> bytes:
    """The bytes of one ``POST path`` with a JSON body, built before the clock starts."""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _load(url: str, work: list, clients: int, stop_at: float | None):
    """``clients`` connections, one per simulated user, taking requests from one queue."""
    latencies: list[float] = []
    errors = wrong = 0  # errors: no answer, or not 200; wrong: 200 with a result that is not the expected one
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    port = int(port)
    queue = [(path, http_request(host, port, path, body), expected) for path, body, expected in reversed(work)]

    async def one_client():
        nonlocal errors, wrong
        connection = Connection(host, port)
        try:
            while queue and (stop_at is None or time.monotonic() < stop_at):
                path, request, expected = queue.pop()
                start = time.perf_counter()
                try:
                    status, body = await connection.exchange(request)
                except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
                elif not check(path, json.loads(body), expected):  # every answer, parsed whole
                    wrong += 1
        finally:
            connection.close()

    cpu = time.process_time()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, errors, wrong, time.process_time() - cpu


def _client_process(args):
    url, work, clients, stop_at = args
    try:
        import uvloop  # the server's event loop, installed with triage[serve]: cheaper per request here too

        return uvloop.run(_load(url, work, clients, stop_at))
    except ImportError:
        return asyncio.run(_load(url, work, clients, stop_at))


def run_load(url: str, work: list, clients: int, processes: int, stop_at: float | None = None):
    """Send ``work`` from ``clients`` concurrent clients over ``processes`` processes: (seconds, latencies, errors, wrong)."""
    shares = [work[i::processes] for i in range(processes)]
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        start = time.perf_counter()
        results = pool.map(_client_process, [(url, share, n, stop_at) for share, n in zip(shares, per, strict=True)])
        elapsed = time.perf_counter() - start
    latencies = [x for r in results for x in r[0]]
    return elapsed, latencies, sum(r[1] for r in results), sum(r[2] for r in results), sum(r[3] for r in results)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


# --------------------------------------------------------------------------- main


def kill_a_worker(args) -> None:
    server = Server(2)
    try:
        work = requests_for("assess", args.requests, seed=9)
        victims = server.workers()
        killed = {}

        def kill_later():
            time.sleep(1.0)
            killed["pid"] = victims[0]
            os.kill(victims[0], signal.SIGKILL)

        threading.Thread(target=kill_later, daemon=True).start()
        elapsed, latencies, errors, wrong, _ = run_load(server.url, work, args.clients, args.client_processes)
        time.sleep(2)
        after = server.workers()
        ok = healthy(server.url, timeout=5)
        print(f"kill a worker under load: {len(work)} requests from {args.clients} clients in {elapsed:.1f} s; "
              f"worker {killed.get('pid')} killed after 1 s; {len(work) - errors - wrong} answered 200 and correct, "
              f"{wrong} answered 200 with a wrong result, {errors} failed; workers after: {len(after)} "
              f"({'new pid' if killed.get('pid') not in after else 'same'}), /healthz {'ok' if ok else 'FAILING'}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000, help="requests per run (default 6000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the clients run in (default 2)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server workers to try (default 1 2)")
    parser.add_argument("--scenarios", nargs="+", default=["assess", "mixed"], choices=["assess", "mixed"])
    parser.add_argument("--kill", action="store_true", help="also kill a worker under load (2 workers)")
    args = parser.parse_args()

    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{args.requests} requests a run from {args.clients} clients in {args.client_processes} processes; "
          f"load average {os.getloadavg()[0]:.1f} (the other work on the machine moves req/s and latency)")
    print("| workers | requests | req/s | p50 ms | p99 ms | errors | wrong | server CPU ms/request | client CPU ms/request |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for workers in args.workers:
        server = Server(workers)
        try:
            for scenario in args.scenarios:
                work = requests_for(scenario, args.requests, seed=workers)
                run_load(server.url, work[: max(200, args.clients * 4)], args.clients, args.client_processes)  # warm up
                server_cpu = server.cpu_seconds()
                elapsed, latencies, errors, wrong, client_cpu = run_load(
                    server.url, work, args.clients, args.client_processes)
                server_cpu = server.cpu_seconds() - server_cpu
                label = "/assess" if scenario == "assess" else "mixed (assess, interview, $next-question)"
                print(f"| {workers} | {label} | {len(work) / elapsed:,.0f} | {percentile(latencies, 0.5):.1f} | "
                      f"{percentile(latencies, 0.99):.1f} | {errors} | {wrong} | {server_cpu / len(work) * 1000:.2f} | "
                      f"{client_cpu / len(work) * 1000:.2f} |", flush=True)
        finally:
            server.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.kill:
        kill_a_worker(args)


if __name__ == "__main__":
    main()
