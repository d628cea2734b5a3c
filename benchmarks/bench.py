"""Benchmark of triage batch: prints a table of cases per second, peak memory and start-up times.

    python benchmarks/bench.py                      # 100,000 random cases (takes a few minutes)
    python benchmarks/bench.py --cases 1000000 --runs workers2   # memory on a million cases

Not a test: speed is measured here, never asserted by the test suite. Runs:

- baseline: the naive way, a new experta engine (knowledge base compiled, Rete network
  built) for every case; on --baseline-cases cases only, as it is slow;
- workers1, workers2: ``triage batch FILE --workers N -o OUT``, end to end in a
  fresh process (start-up, reading, assessing, writing);
- floor: reading, validating and writing the same cases without inference, in
  this process: what the machinery around the engine costs;
- engine: CPU time per case of ``Engine.assess`` and of ``Engine.fire`` alone (cases
  validated beforehand), in this process, on the first --engine-cases cases; run
  under ``valgrind --tool=callgrind`` with two sizes, the difference in instructions
  divided by the difference in cases is the instructions per case;
- startup: ``triage --help`` and one ``triage assess`` (median of 5).

Peak memory is the largest resident set the run's process tree reached (sampled
every 20 ms from /proc): the main process and each worker are shown separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class PeakMemory:
    """Samples the resident memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peaks: dict[int, int] = {}  # pid -> peak RSS in bytes
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    for child in handle.read().split():
                        pids.extend(self._tree(int(child)))
        except OSError:
            pass
        return pids

    def _run(self):
        while not self._stop.is_set():
            for pid in self._tree(self.pid):
                try:
                    with open(f"/proc/{pid}/status") as handle:
                        status = dict(line.split(":", 1) for line in handle if ":" in line)
                    rss = int(status["VmRSS"].split()[0]) * 1024
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        self.names.setdefault(pid, handle.read().replace(b"\0", b" ").decode()[:60])
                except (OSError, KeyError, ValueError):
                    continue
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            time.sleep(0.02)

    def main_peak(self) -> int:
        return self.peaks.get(self.pid, 0)

    def worker_peak(self) -> int:
        # worker processes: descendants running triage's forkserver or multiprocessing children
        others = [rss for pid, rss in self.peaks.items() if pid != self.pid]
        return max(others, default=0)


def triage_command() -> list[str]:
    script = Path(sys.executable).with_name("triage")
    return [str(script)] if script.exists() else [sys.executable, "-m", "triage"]


def run_batch(path: Path, workers: int, out: Path):
    command = triage_command() + ["batch", str(path), "--workers", str(workers), "-o", str(out), "-q"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO)
    with PeakMemory(process.pid) as memory:
        code = process.wait()
    elapsed = time.perf_counter() - started
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit status {code}")
    return elapsed, memory


def floor(path: Path, out: Path, engine) -> float:
    """Read, validate and write every case as triage batch does, but without running the rules."""
    from triage.errors import CaseError
    from triage.inputs import case_of, read_inputs
    from triage.records import Outcome, format_record

    kb = engine.knowledge_base
    started = time.perf_counter()
    with open(out, "w", encoding="utf-8") as handle:
        for entry in read_inputs([str(path)]):
            try:
                valid = engine.validate(case_of(entry, kb), entry.source)
                valid.answers()
                outcome = Outcome(entry.source, valid.id or entry.source, None, [], valid, None)  # no rules run
            except CaseError as error:
                outcome = Outcome.failed(entry.source, error)
            handle.write(format_record(kb, outcome, "jsonl"))
    return time.perf_counter() - started


def baseline(cases: list[dict], kb) -> float:
    """The naive way: a new experta engine for every case."""
    import triage

    started = time.perf_counter()
    for case in cases:
        triage.Engine(kb).assess(case)
    return time.perf_counter() - started


def engine_cpu(cases: list[dict], engine) -> tuple[float, float]:
    """CPU seconds per case of ``Engine.assess`` and of ``Engine.fire`` on the same cases (engine built first)."""
    engine.assess(cases[0])  # build this thread's experta engine outside the timing
    started = time.process_time()
    for case in cases:
        engine.assess(case)
    assess = (time.process_time() - started) / len(cases)
    valid = [engine.validate(case) for case in cases]
    started = time.process_time()
    for case in valid:
        engine.fire(case)
    return assess, (time.process_time() - started) / len(cases)


def startup(args: list[str], repeat: int = 5, cold: bool = False) -> float:
    """Median seconds of a fresh process; ``cold``: with an empty check cache each time (a knowledge base not yet checked)."""
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache} if cold else None
            started = time.perf_counter()
            subprocess.run(triage_command() + args, cwd=REPO, capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size else "-"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open("/proc/meminfo") as handle:
            memory = int(handle.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        memory = 0
    return f"{os.cpu_count()} CPUs ({model}), {memory / 2**30:.0f} GiB, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="random cases to generate (default 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-cases", type=int, default=200, help="cases for the slow naive baseline")
    parser.add_argument("--engine-cases", type=int, default=5000, help="cases for the in-process engine run")
    parser.add_argument("--runs", default="baseline,workers1,workers2,floor,engine,startup",
                        help="comma-separated: baseline, workers1, workers2, floor, engine, startup")
    options = parser.parse_args()
    runs = set(options.runs.split(","))

    import triage
    from triage.samples import random_cases

    kb = triage.load_knowledge_base()
    engine = triage.Engine(kb)
    rows = []
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as temp:
        path = Path(temp, "cases.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            for case in random_cases(kb.questions, options.cases, options.seed):
                handle.write(json.dumps(case) + "\n")
        out = Path(temp, "out.jsonl")
        if "baseline" in runs:
            cases = list(random_cases(kb.questions, options.baseline_cases, options.seed))
            elapsed = baseline(cases, kb)
            rows.append(("naive: a new experta engine per case (in process)", len(cases), elapsed, "-", "-"))
        for workers in (1, 2):
            if f"workers{workers}" in runs:
                elapsed, memory = run_batch(path, workers, out)
                rows.append((f"triage batch --workers {workers} (end to end)", options.cases, elapsed,
                             mb(memory.main_peak()), mb(memory.worker_peak()) if workers > 1 else "-"))
        if "floor" in runs:
            elapsed = floor(path, out, engine)
            rows.append(("floor: read, validate, write, no inference (in process)", options.cases, elapsed, "-", "-"))

    print(f"\ntriage {triage.__version__}, {len(kb.rules)} rules ({', '.join(kb.packs)}); "
          f"Python {platform.python_version()}; {machine()}\n")
    if rows:
        print("| run | cases | seconds | cases/s | peak RSS main | peak RSS per worker |")
        print("|---|---:|---:|---:|---:|---:|")
    for name, count, elapsed, main_rss, worker_rss in rows:
        print(f"| {name} | {count:,} | {elapsed:,.1f} | {count / elapsed:,.0f} | {main_rss} | {worker_rss} |")
    if "engine" in runs:
        cases = list(random_cases(kb.questions, max(options.engine_cases, 1), options.seed))
        assess, fire = engine_cpu(cases, engine)
        print(f"\n| in process, {len(cases):,} cases | CPU ms per case |\n|---|---:|")
        print(f"| `Engine.assess` | {assess * 1000:.3f} |\n| `Engine.fire` (validated cases) | {fire * 1000:.3f} |")
    if "startup" in runs:
        case = str(REPO / "examples" / "cases" / "night_cramps_third_trimester.json")
        print("\n| start-up (median of 5) | seconds |\n|---|---:|")
        print(f"| `triage --help` | {startup(['--help']):.2f} |")
        print(f"| `triage assess {Path(case).relative_to(REPO)}` | {startup(['assess', case]):.2f} |")
        print(f"| the same, the knowledge base not yet checked (empty check cache) | {startup(['assess', case], cold=True):.2f} |")


if __name__ == "__main__":
    main()
