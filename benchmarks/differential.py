"""Benchmark of the differential check of ``rules diff`` and ``audit --against`` (triage.differential).

    python benchmarks/differential.py               # 5,000 generated cases, median of 5 runs
    python benchmarks/differential.py --cases 20000 --runs 3

Not a test. Prints the CPU time (process time, so other work on a shared machine
counts less) and the wall time of ``compare_generated`` on the shipped knowledge base
against itself, with both engines built beforehand (as the commands build them once),
and the time to build the two engines.
"""

from __future__ import annotations

import argparse
import statistics
import time

import triage
from triage.differential import compare_generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    old, new = triage.Engine(triage.load_knowledge_base()), triage.Engine(triage.load_knowledge_base())
    old._rule_engine(), new._rule_engine()
    built = time.perf_counter() - started
    cpu, wall = [], []
    for run in range(args.runs):
        c0, w0 = time.process_time(), time.perf_counter()
        result = compare_generated(old, new, args.cases, seed=run)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        assert result.compared == args.cases and not result.less_urgent
    print(f"engines built: {built:.2f} s (both)")
    print(f"{args.cases} generated cases, both knowledge bases: median CPU {statistics.median(cpu):.2f} s, "
          f"median wall {statistics.median(wall):.2f} s ({args.runs} runs; "
          f"{statistics.median(cpu) / args.cases * 1000:.2f} ms CPU per case for the two)")


if __name__ == "__main__":
    main()
