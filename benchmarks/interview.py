"""Benchmark of the interview: how soon it gives a first result, whether that result is ever
less urgent than the person's full answers, and how long each screen takes.

    python benchmarks/interview.py                     # the shipped vignettes
    python benchmarks/interview.py more/vignettes ...   # and any other files or directories

Each vignette's answers drive ``triage.interview.drive`` (the questionnaire as a person who
knows the answers would use it; an answer the vignette leaves out is "don't know"). A
vignette is a case plus ``id``, ``expected_urgency`` and free-text keys (rationale, source,
author, ...), or holds its answers nested under ``case:``; keys that are not questions are
skipped. Prints: screens to the first result (median, max), how many first results are less
urgent than the full result (must be 0), the path length for someone with only night
cramps, and the median and worst time per screen. Not a test: nothing is asserted here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a source tree without installing

import triage  # noqa: E402
from triage.interview import drive  # noqa: E402
from triage.questionnaire import Questionnaire  # noqa: E402

SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")
META = {"id", "expected_urgency", "expected_causes", "case", "rationale", "source", "sources", "author",
        "notes", "note", "description", "title", "tags"}


def vignette_files(paths: list[Path]) -> list[Path]:
    """The vignette files under ``paths`` (directories searched recursively), each once."""
    files: dict[Path, None] = {}
    for path in paths:
        found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and not p.name.startswith(".")) \
            if path.is_dir() else [path]
        files.update((p.resolve(), None) for p in found)
    return list(files)


def read_vignettes(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        data = yaml.safe_load(text)
        records = data if isinstance(data, list) else [data]
    return [r for r in records if isinstance(r, dict)]


def answers_of(record: dict, questions: set[str], where: str) -> dict:
    """The answers of a vignette: under ``case`` when it has one, else its question keys."""
    source = record["case"] if isinstance(record.get("case"), dict) else record
    unknown = [k for k in source if k not in questions and k not in META]
    if unknown:
        print(f"warning: {where}: not questions, skipped: {', '.join(unknown)}", file=sys.stderr)
    return {k: v for k, v in source.items() if k in questions}


def night_cramps_only(kb) -> dict:
    """Someone whose only complaint is cramps at night: every other yes-or-no answer no, every
    choice with a 'none' none, 30 weeks; the rest (pain score, blood test) not known."""
    case = {q.id: False for q in kb.questions if q.type == "boolean"}
    case.update({q.id: "none" for q in kb.questions if q.type == "choice" and "none" in (q.values or [])})
    case.update(weeks_pregnant=30, leg_cramps=True, night_cramps=True)
    case.pop("trimester", None)
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="more vignette files or directories")
    args = parser.parse_args()
    questionnaire = Questionnaire(triage.Engine())
    kb = questionnaire.engine.knowledge_base
    questions = {q.id for q in kb.questions}
    drive({}, questionnaire)  # build the engine (tens of ms) before timing anything

    paths = [ROOT / "examples" / "vignettes", *args.paths]
    runs = []
    for file in vignette_files(paths):
        for number, record in enumerate(read_vignettes(file), start=1):
            where = f"{file}:{record.get('id', number)}"
            runs.append((where, drive(answers_of(record, questions, where), questionnaire)))
    if not runs:
        sys.exit("no vignettes found")

    screens = [run.screens for _, run in runs]
    below = [(where, run) for where, run in runs if run.below_full]
    times = [t for _, run in runs for t in run.seconds_per_screen]
    cramps = drive(night_cramps_only(kb), questionnaire)

    print(f"interview benchmark: {len(runs)} vignettes from {', '.join(str(p) for p in paths)}")
    print(f"  screens to the first result: median {statistics.median(screens):g}, max {max(screens)}")
    print(f"  questions to the first result: median {statistics.median(len(r.asked) for _, r in runs):g}")
    print(f"  first result below the full result: {len(below)} of {len(runs)}")
    for where, run in below:
        print(f"    {where}: first {run.first.urgency.value}, full {run.full.urgency.value}")
    print(f"  night cramps only: {cramps.screens} screens ({len(cramps.asked)} questions) to "
          f"{cramps.first.urgency.value}")
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    print(f"  time per screen: median {statistics.median(times) * 1000:.1f} ms, 95th percentile {p95 * 1000:.1f} ms, "
          f"worst {max(times) * 1000:.1f} ms ({len(times)} screens; the worst is the most sensitive to other load)")


if __name__ == "__main__":
    main()
