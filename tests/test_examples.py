"""The shipped example cases give their recorded results, through the library and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from triage.casefiles import read_single_case
from conftest import EXAMPLES

EXPECTED = yaml.safe_load((Path(__file__).with_name("expected_examples.yaml")).read_text())


def test_every_example_case_has_an_expectation():
    files = {str(p.relative_to(EXAMPLES)) for p in (EXAMPLES / "cases").iterdir()}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_case_gives_its_expected_result(engine, name):
    case, source = read_single_case(str(EXAMPLES / name))
    result = engine.assess(case, source=source)
    expected = EXPECTED[name]
    assert result.urgency.value == expected["urgency"]
    assert set(expected.get("causes", [])) <= set(result.cause_ids)
    assert set(expected.get("red_flags", [])) <= {f.id for f in result.red_flags}


def test_examples_cover_every_urgency_level():
    levels = {e["urgency"] for e in EXPECTED.values()}
    assert levels == {"emergency", "urgent", "within_24h", "routine", "self_care"}


def test_the_embedding_example_runs():
    out = subprocess.run([sys.executable, str(EXAMPLES / "embed.py")], capture_output=True, text=True, check=True).stdout
    assert out.startswith("self_care - ")
    assert "error: field 'leg_cramp': unknown field (did you mean 'leg_cramps'?)" in out
