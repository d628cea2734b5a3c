"""Benchmark of the hostile-input fixes: prints numbers, asserts nothing.

    python benchmarks/hostile.py                 # all three
    python benchmarks/hostile.py --only threads

- threads: one shared Engine, N short-lived threads one after another, each
  assessing one case (as a web server's request threads): resident memory growth
  after gc, and the median time per thread (it includes building a Rete network
  when the thread cannot reuse one);
- reading: cases per second through the batch reader and parser (JSONL lines
  parsed strictly, validated, no inference), median of 5;
- rules-check: ``triage rules check`` on the shipped knowledge base plus N copies
  of its document rules (as a large knowledge base repeats examples), median of 3.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_threads(count: int) -> None:
    import triage

    engine = triage.Engine()
    engine.assess({"fever": True})
    gc.collect()
    before = rss_kib()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        thread = threading.Thread(target=engine.assess, args=({"leg_cramps": True, "weeks_pregnant": 30},))
        thread.start()
        thread.join()
        times.append(time.perf_counter() - started)
    gc.collect()
    grown = rss_kib() - before
    print(f"threads: {count} short-lived threads: RSS +{grown / 1024:.1f} MiB ({grown / count:.1f} KiB per thread), "
          f"median {statistics.median(times) * 1000:.2f} ms per thread")


def bench_reading(count: int) -> None:
    import triage
    from triage import samples
    from triage.inputs import case_of, read_inputs

    engine = triage.Engine()
    kb = engine.knowledge_base
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "cases.jsonl")
        path.write_text("".join(json.dumps(c) + "\n" for c in samples.random_cases(kb.questions, count, 1)))
        rates = []
        for _ in range(5):
            started = time.perf_counter()
            for entry in read_inputs([str(path)]):
                engine.validate(case_of(entry, kb), entry.source)
            rates.append(count / (time.perf_counter() - started))
    print(f"reading: {count:,} JSONL cases read, parsed and validated: median {statistics.median(rates):,.0f} cases/s")


def bench_rules_check(copies: int) -> None:
    import yaml

    from triage.knowledge import default_path

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory, "rules")
        shutil.copytree(default_path(), root)
        rules = [r for f in sorted((root / "documents").glob("*.yaml")) for r in yaml.safe_load(f.read_text())["rules"]
                 if not r["then"].get("derive")]
        extra = [{**r, "id": f"{r['id']}_copy{n}"} for n in range(copies // len(rules) + 1) for r in rules][:copies]
        (root / "documents" / "zz_copies.yaml").write_text(yaml.safe_dump({"rules": extra}))
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "triage", "rules", "check", str(root)], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - started)
    print(f"rules-check: shipped rules + {copies:,} copies: median {statistics.median(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["threads", "reading", "rules-check"])
    parser.add_argument("--threads", type=int, default=3000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--copies", type=int, default=2000)
    args = parser.parse_args()
    if args.only in (None, "threads"):
        bench_threads(args.threads)
    if args.only in (None, "reading"):
        bench_reading(args.cases)
    if args.only in (None, "rules-check"):
        bench_rules_check(args.copies)


if __name__ == "__main__":
    main()
