"""triage audit --coverage: which rules the vignettes fire, which they never test, and --strict."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import triage
from triage.audit import audit, read_vignettes
from triage.cli import main
from triage.coverage import coverage
from conftest import EXAMPLES

# The authors\' set (the top-level files), which is brought to full coverage; the independent
# set below it is audited as written.
VIGNETTE_FILES = [str(p) for p in sorted((EXAMPLES / "vignettes").glob("*.yaml"))]
VIGNETTES = str(EXAMPLES / "vignettes")


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def shipped_coverage():
    engine = triage.Engine()
    report = audit(read_vignettes(VIGNETTE_FILES), engine)
    return report, coverage(engine.knowledge_base, [(o.fired_rules, o.expected_urgency) for o in report.outcomes])


def test_counts_are_the_vignettes_that_fire_each_rule(shipped_coverage):
    report, result = shipped_coverage
    for row in result.rules:
        firing = [o for o in report.outcomes if row.id in o.fired_rules]
        assert row.fired == len(firing)
        assert row.fired_at_its_level == sum(o.expected_urgency == row.urgency for o in firing)
        assert row.decisive <= row.fired_at_its_level
    assert result.cases == report.vignettes and result.fired == sum(1 for r in result.rules if r.fired)


def test_the_shipped_set_covers_every_emergency_and_urgent_rule_at_its_level(shipped_coverage):
    _, result = shipped_coverage
    assert result.serious_without_vignette == []
    assert result.raising_without_vignette_at_level == []
    assert result.never_fired == []
    result = run("audit", *VIGNETTE_FILES, "--coverage", "--strict")
    assert result.exit_code == 0, result.output
    assert "Urgency-raising rules with no vignette at their level (0): none" in result.output


def test_a_set_missing_an_emergency_rule_fails_under_strict(tmp_path):
    only = tmp_path / "few.yaml"
    only.write_text("- {id: dvt, expected_urgency: urgent, one_leg_swollen: true}\n")
    plain = run("audit", str(only), "--coverage")
    assert plain.exit_code == 0  # reported, not failed, without --strict
    assert "safety_pulmonary_embolism (emergency): fired by 0 cases, none expected emergency" in plain.output
    assert "Never fired" in plain.output and "safety_pulmonary_embolism" in plain.output.split("Never fired")[1]
    strict = run("audit", str(only), "--coverage", "--strict")
    assert strict.exit_code == 1 and "emergency or urgent rules with no vignette at their level (--strict)" in strict.output
    assert "safety_pulmonary_embolism" in strict.output.splitlines()[-1]


def test_a_vignette_at_another_level_does_not_count_for_the_rule(tmp_path):
    wrong_level = tmp_path / "v.yaml"
    wrong_level.write_text("- {id: pe, expected_urgency: emergency, breathless_or_chest_pain: true, one_leg_swollen: true}\n")
    data = json.loads(run("audit", str(wrong_level), "--coverage", "--format", "json").stdout)["coverage"]
    dvt = next(r for r in data["rules"] if r["id"] == "safety_dvt")
    assert (dvt["fired"], dvt["fired_at_its_level"], dvt["decisive"]) == (1, 0, 0)
    assert "safety_dvt" in data["serious_without_vignette"]
    pe = next(r for r in data["rules"] if r["id"] == "safety_pulmonary_embolism")
    assert (pe["fired_at_its_level"], pe["decisive"]) == (1, 1)
