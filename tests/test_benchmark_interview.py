"""benchmarks/interview.py runs on any vignette directory (answers nested under ``case`` or not,
free-text keys skipped) and reports the interview's figures; the figures themselves are not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "interview.py"


def test_the_benchmark_reads_nested_and_flat_vignettes_and_prints_every_figure(tmp_path):
    (tmp_path / "more.yaml").write_text(yaml.safe_dump([
        {"id": "nested", "expected_urgency": "emergency", "rationale": "free text", "author": "someone",
         "case": {"weeks_pregnant": 30, "vaginal_bleeding": True, "severe_abdominal_pain": True}},
        {"id": "flat", "expected_urgency": "urgent", "source": "free text", "saddle_numbness": True},
    ]))
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for figure in ("screens to the first result: median", "first result below the full result: 0 of",
                   "night cramps only:", "time per screen: median"):
        assert figure in out
    shipped = len(yaml.safe_load((SCRIPT.parent.parent / "examples/vignettes/urgent.yaml").read_text()))
    assert "vignettes from" in out and shipped > 0
    assert "warning" not in result.stderr  # rationale, author and source are skipped quietly
