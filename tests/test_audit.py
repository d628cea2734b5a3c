"""The vignette audit: its figures, its exit codes, and the shipped vignette set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import triage
from triage.audit import audit, read_vignettes
from triage.cli import main
from conftest import EXAMPLES

# The authors' set (top level, written with the rules) and the independent set (written from
# the guidelines by a reviewer who had not read rules/), audited and held to the same targets.
VIGNETTE_FILES = sorted((EXAMPLES / "vignettes").glob("*.yaml"))
INDEPENDENT_FILES = sorted((EXAMPLES / "vignettes" / "independent").glob("*.yaml"))
ALL_VIGNETTE_FILES = sorted(p for p in (EXAMPLES / "vignettes").rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".jsonl"))
SETS = {"authors": VIGNETTE_FILES, "independent": INDEPENDENT_FILES}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def mixed_set(tmp_path):
    # One exact, one over-triaged, one under-triaged emergency, one under-triaged by one level.
    return write(
        tmp_path,
        "mixed.jsonl",
        "\n".join(
            json.dumps(v)
            for v in [
                {"id": "exact", "expected_urgency": "self_care", "expected_causes": ["benign_leg_cramps"], "leg_cramps": True, "night_cramps": True},
                {"id": "over", "expected_urgency": "self_care", "one_leg_swollen": True},
                {"id": "under-emergency", "expected_urgency": "emergency", "expected_causes": ["dvt"], "leg_cramps": True},
                {"id": "under-by-one", "expected_urgency": "routine", "lower_back_pain": True},
            ]
        ),
    )


def test_figures_follow_the_published_definitions(engine, mixed_set):
    report = audit(read_vignettes([mixed_set]), engine)
    assert (report.vignettes, report.appropriate, report.over_triage, report.under_triage) == (4, 1, 1, 2)
    # safe = at gold, above it, or at most one level below: all but the emergency sent home
    assert report.safe == 3 and report.safe_rate == 0.75
    assert report.expected_causes == 2 and report.found_causes == 1 and report.cause_recall == 0.5
    assert report.confusion["emergency"]["self_care"] == 1
    assert report.confusion["self_care"]["urgent"] == 1
    assert sum(sum(row.values()) for row in report.confusion.values()) == 4
    assert [o.id for o in report.under_triaged] == ["under-emergency", "under-by-one"]
    assert [o.id for o in report.serious_under_triage] == ["under-emergency"]


def test_cli_exits_1_on_serious_under_triage_and_names_it(mixed_set):
    result = CliRunner().invoke(main, ["audit", mixed_set])
    assert result.exit_code == 1
    assert "under-emergency" in result.output and "expected emergency, given self_care" in result.output
    assert "fired:" in result.output


def test_strict_fails_on_any_under_triage(tmp_path):
    path = write(tmp_path, "v.yaml", "- {id: a, expected_urgency: routine, lower_back_pain: true}\n")
    assert CliRunner().invoke(main, ["audit", path]).exit_code == 0
    assert CliRunner().invoke(main, ["audit", "--strict", path]).exit_code == 1


def test_json_output_has_every_figure(mixed_set):
    result = CliRunner().invoke(main, ["audit", "--format", "json", mixed_set])
    data = json.loads(result.output[: result.output.rindex("}") + 1])
    assert data["under_triage"] == 2 and data["levels"][0] == "emergency"
    assert len(data["outcomes"]) == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("- {expected_urgency: routine, leg_pain: true}\n", "field 'id': required"),
        ("- {id: a, leg_pain: true}\n", "field 'expected_urgency': required"),
        ("- {id: a, expected_urgency: soon}\n", "expected_urgency"),
        ("- {id: a, expected_urgency: routine, leg_pian: true}\n", "did you mean 'leg_pain'"),
        ("- {id: a, expected_urgency: routine, expected_causes: [moon]}\n", "unknown cause 'moon'"),
        ("- {id: a, expected_urgency: routine}\n- {id: a, expected_urgency: routine}\n", "duplicate"),
    ],
)
def test_bad_vignettes_are_named_without_traceback(tmp_path, text, expected):
    path = write(tmp_path, "bad.yaml", text)
    result = CliRunner().invoke(main, ["audit", path])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and expected in result.output and "Traceback" not in result.output


# The shipped vignette sets (examples/vignettes/), audited as a safety officer would.

@pytest.fixture(scope="module")
def shipped():
    vignettes = read_vignettes(VIGNETTE_FILES)
    return vignettes, audit(vignettes, triage.Engine())


@pytest.fixture(scope="module", params=sorted(SETS))
def each_set(request):
    vignettes = read_vignettes(SETS[request.param])
    return request.param, vignettes, audit(vignettes, triage.Engine())


def test_shipped_set_has_at_least_60_vignettes_over_all_five_levels(shipped):
    vignettes, _ = shipped
    assert len(vignettes) >= 60
    assert {v.expected_urgency for v in vignettes} == set(triage.Urgency)


def test_the_independent_set_is_kept_with_its_free_text():
    vignettes = read_vignettes(INDEPENDENT_FILES)
    assert len(vignettes) >= 70
    assert all(v.notes.get("rationale") and v.notes.get("source") for v in vignettes)
    assert {v.expected_urgency for v in vignettes} == set(triage.Urgency)


def test_shipped_set_includes_the_hard_cases(shipped):
    vignettes, _ = shipped
    questions = triage.load_knowledge_base().question_by_id
    red_flag_with_benign = [
        v for v in vignettes
        if any(questions[k].is_red_flag_answer(val) for k, val in v.case.items() if k in questions)
        and any(v.case.get(k) for k in ("leg_cramps", "night_cramps", "lower_back_pain", "pelvic_pain"))
    ]
    explicit_no = [v for v in vignettes if list(v.case.values()).count(False) >= 3]
    weeks_unknown = [v for v in vignettes if "weeks_pregnant" not in v.case]
    first_trimester = [v for v in vignettes if v.case.get("trimester") == 1 or v.case.get("weeks_pregnant", 99) <= 13]
    assert len(red_flag_with_benign) >= 10
    assert len(explicit_no) >= 5 and len(weeks_unknown) >= 8 and len(first_trimester) >= 5


def test_the_authors_set_uses_every_new_field(shipped):
    vignettes, _ = shipped
    used = {k for v in vignettes for k in v.case}
    new = {"upper_abdominal_pain", "vomiting", "bleeding_amount", "baby_moving_less", "contractions_5_min_apart",
           "fainted_or_collapsed", "coughing_blood", "hip_or_groin_pain", "outer_thigh_numbness", "painful_hard_vein",
           "ankles_swollen_gradually", "blood_in_urine"}
    assert new <= used, new - used


def test_no_emergency_or_urgent_vignette_is_under_triaged(each_set):
    name, _, report = each_set
    assert [o.id for o in report.serious_under_triage] == [], name


def test_appropriate_triage_is_at_least_90_percent(each_set):
    name, _, report = each_set
    assert report.appropriate_rate >= 0.90, (name, report.appropriate_rate)


def test_over_triage_is_at_most_8_percent(each_set):
    name, _, report = each_set
    assert report.over_triage_rate <= 0.08, (name, report.over_triage_rate)


def test_advice_is_always_safe(each_set):
    name, _, report = each_set
    assert report.safe_rate == 1.0, (name, [o.id for o in report.outcomes if not o.safe])


def test_the_authors_set_has_no_under_triage(shipped):
    _, report = shipped
    assert [o.id for o in report.under_triaged] == []


def test_cli_audit_of_the_shipped_set_exits_0():
    result = CliRunner().invoke(main, ["audit", *map(str, VIGNETTE_FILES)])
    assert result.exit_code == 0, result.output
    assert "under-triage (less urgent):         0/" in result.output


def test_a_directory_of_vignettes_is_read_like_its_files_in_sorted_order():
    from_directory = read_vignettes([EXAMPLES / "vignettes"])
    assert from_directory == read_vignettes(ALL_VIGNETTE_FILES)
    assert len(from_directory) == len(read_vignettes(VIGNETTE_FILES)) + len(read_vignettes(INDEPENDENT_FILES))
    result = CliRunner().invoke(main, ["audit", str(EXAMPLES / "vignettes")])
    assert result.exit_code == 0 and f"Vignettes: {len(from_directory)}" in result.output


def test_a_directory_without_vignettes_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("none here")
    result = CliRunner().invoke(main, ["audit", str(tmp_path)])
    assert result.exit_code == 1 and "no vignette files in this directory" in result.output
    assert "Traceback" not in result.output


# The independent layout: answers nested under `case`, free-text keys kept and shown.

NESTED = """\
- id: n-under
  expected_urgency: emergency
  expected_causes: [dvt]
  case:
    weeks_pregnant: 30
    leg_cramps: true
  rationale: Written to be under-triaged.
  source: NHS "Deep vein thrombosis"
  author: independent-A
  notes: {reviewed: 2026}
- id: n-exact
  expected_urgency: self_care
  case: {leg_cramps: true, night_cramps: true}
  rationale: Ordinary night cramps.
"""


def test_nested_vignettes_are_read_and_their_free_text_is_kept(tmp_path):
    vignettes = read_vignettes([write(tmp_path, "indep.yaml", NESTED)])
    first = vignettes[0]
    assert first.case == {"id": "n-under", "weeks_pregnant": 30, "leg_cramps": True}
    assert first.notes == {"rationale": "Written to be under-triaged.", "source": 'NHS "Deep vein thrombosis"',
                           "author": "independent-A", "notes": '{"reviewed": 2026}'}
    assert first.source.endswith("indep.yaml#1")  # where it was read from stays separate from its `source` key


def test_nested_free_text_is_shown_for_an_under_triaged_vignette(tmp_path):
    result = CliRunner().invoke(main, ["audit", write(tmp_path, "indep.yaml", NESTED)])
    assert result.exit_code == 1
    assert "n-under" in result.output and "rationale: Written to be under-triaged." in result.output
    assert 'source: NHS "Deep vein thrombosis"' in result.output and "author: independent-A" in result.output
    data = json.loads(CliRunner().invoke(main, ["audit", "--format", "json", write(tmp_path, "i.yaml", NESTED)]).output.split("\nError")[0])
    assert data["under_triaged"][0]["notes"]["author"] == "independent-A"


def test_flat_vignettes_may_carry_the_free_text_keys_too(tmp_path):
    path = write(tmp_path, "flat.yaml", "- {id: a, expected_urgency: self_care, leg_cramps: true, night_cramps: true, rationale: why, author: me}\n")
    (vignette,) = read_vignettes([path])
    assert vignette.notes == {"rationale": "why", "author": "me"} and "rationale" not in vignette.case


@pytest.mark.parametrize(
    "text, expected",
    [
        ("- {id: a, expected_urgency: routine, case: {leg_pian: true}}\n", "did you mean 'leg_pain'"),
        ("- {id: a, expected_urgency: routine, case: [leg_pain]}\n", "field 'case': must be a mapping"),
        ("- {id: a, expected_urgency: routine, expected_cause: [dvt], case: {leg_pain: true}}\n", "field 'expected_cause': unknown"),
        # An answer beside `case` kept as a note would vanish from the gold-standard case.
        ("- {id: a, expected_urgency: emergency, case: {leg_pain: true}, breathless_or_chest_pain: true}\n",
         "case 'a': field 'breathless_or_chest_pain': an answer beside 'case' (answers go under case:)"),
        ("- {id: a, expected_urgency: emergency, case: {leg_pain: true}, Breathless_or_chest_pain: true}\n",
         "field 'Breathless_or_chest_pain': unknown key beside 'case'"),
        ("- {id: a, expected_urgency: emergency, case: {leg_pain: true}, Breathless_or_chest_pain: true}\n",
         "did you mean 'breathless_or_chest_pain' (answers go under case:)?"),
        ("- {id: a, expected_urgency: routine, case: {leg_pain: true}, autor: me}\n", "field 'autor': unknown key beside 'case'"),
        ("- {id: a, expected_urgency: routine, case: {leg_pain: true}, autor: me}\n", "did you mean 'author'?"),
    ],
)
def test_bad_nested_vignettes_are_named(tmp_path, text, expected):
    result = CliRunner().invoke(main, ["audit", write(tmp_path, "bad.yaml", text)])
    assert result.exit_code == 1 and expected in result.output and "Traceback" not in result.output


def test_every_proportion_has_a_wilson_interval_in_json_and_text(engine, mixed_set):
    from triage.stats import wilson

    report = audit(read_vignettes([mixed_set]), engine)
    for name, (count, total) in {"appropriate": (1, 4), "over_triage": (1, 4), "under_triage": (2, 4), "safe": (3, 4),
                                 "cause_recall": (1, 2)}.items():
        share = report.figures[name]
        low, high = wilson(count, total)
        assert (share.count, share.total, share.low, share.high) == (count, total, round(low, 4), round(high, 4))
    # accuracy by expected level, and the odds of over- to under-triage (Schmieding et al. 2022)
    assert {k: (v.count, v.total) for k, v in report.accuracy_by_level.items()} == {
        "emergency": (0, 1), "routine": (0, 1), "self_care": (1, 2)}
    assert report.over_under_odds == 0.5
    result = CliRunner().invoke(main, ["audit", mixed_set])
    assert "under-triage (less urgent):         2/4  50.0% (95% CI 15.0-85.0%)" in result.output
    assert "over/under-triage odds (Schmieding et al. 2022): 0.50" in result.output
    data = json.loads(CliRunner().invoke(main, ["audit", "--format", "json", mixed_set]).stdout)
    assert data["figures"]["safe"]["low"] == round(wilson(3, 4)[0], 4) and data["accuracy_by_level"]["self_care"]["count"] == 1


def test_the_output_says_what_100_percent_means(shipped):
    vignettes, report = shipped
    assert report.figures["appropriate"].rate == 1.0
    assert f"100% on {len(vignettes)} vignettes means, with 95% confidence, at least" in report.all_correct_means
    text = CliRunner().invoke(main, ["audit", *map(str, VIGNETTE_FILES)]).output
    assert report.all_correct_means in text


@pytest.mark.parametrize("extra", [[], ["--against", str(EXAMPLES.parent / "rules")]])
def test_an_input_with_no_vignettes_is_an_error_not_a_clean_audit(tmp_path, extra):
    path = write(tmp_path, "empty.yaml", "[]\n")
    result = CliRunner().invoke(main, ["audit", path, *extra])
    assert result.exit_code == 1 and "nothing to" in result.output and "Traceback" not in result.output


def test_an_answer_beside_case_is_refused_by_the_library_and_by_a_change_impact_audit(tmp_path):
    from triage.knowledge import default_path

    path = write(tmp_path, "beside.yaml",
                 "- {id: pe, expected_urgency: emergency, case: {leg_pain: true}, breathless_or_chest_pain: true, rationale: r}\n")
    problems: list[str] = []
    assert read_vignettes([path], problems) == []
    assert len(problems) == 1 and "case 'pe': field 'breathless_or_chest_pain': an answer beside 'case'" in problems[0]
    result = CliRunner().invoke(main, ["audit", path, "--against", str(default_path())])
    assert result.exit_code == 1 and "answers go under case:" in result.output and "Traceback" not in result.output


def test_problems_are_listed_in_the_order_of_the_files_and_their_vignettes(tmp_path):
    # Answers are checked when a vignette is assessed, structure when it is read: a file's bad
    # answers used to come after every later file's bad structure.
    (tmp_path / "a.yaml").write_text("- id: a1\n  expected_urgency: self_care\n  leg_cramps: maybe\n"
                                     "- id: a2\n  expected_urgency: routine\n  fever: 3\n")
    (tmp_path / "b.yaml").write_text("- id: b1\n  expected_urgency: nope\n  leg_cramps: true\n")
    (tmp_path / "c.yaml").write_text("- id: c1\n  expected_urgency: self_care\n  leg_crmps: true\n")
    files = [str(tmp_path / name) for name in ("c.yaml", "a.yaml", "b.yaml")]
    result = CliRunner().invoke(main, ["audit", *files])
    assert result.exit_code == 1
    listed = [line.split(": ", 2)[1] for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert listed == [f"{files[0]}#1", f"{files[1]}#1", f"{files[1]}#2", f"{files[2]}#1"]


def test_a_vignette_with_a_key_given_twice_is_refused_alone_and_the_others_are_audited(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("- id: v1\n  expected_urgency: emergency\n  breathless_or_chest_pain: true\n"
                    "- id: v2\n  expected_urgency: self_care\n  leg_cramps: true\n  leg_cramps: false\n")
    result = CliRunner().invoke(main, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["vignettes"] == 1
    assert f"{path}#2: line 7: field 'leg_cramps': given more than once" in result.stderr


def test_json_lists_the_vignettes_left_out_and_does_not_read_as_a_clean_audit(tmp_path):
    # Hostile trial 3: an emergency vignette nested as `case: {case: ...}` was dropped; the JSON
    # showed 1 vignette, 100% appropriate, and the drop was only on standard error.
    path = write(tmp_path, "two.yaml",
                 "- {id: ok, expected_urgency: self_care, case: {leg_cramps: true, night_cramps: true}}\n"
                 "- {id: pe, expected_urgency: emergency, case: {case: {breathless_or_chest_pain: true}}}\n")
    result = CliRunner().invoke(main, ["audit", path, "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["vignettes"] == 1 and data["complete"] is False
    assert len(data["problems"]) == 1 and f"{path}#2" in data["problems"][0]
    text = CliRunner().invoke(main, ["audit", path])
    assert text.exit_code == 1 and text.stdout.startswith("INCOMPLETE AUDIT: 1 problem with the vignettes")
    clean = json.loads(CliRunner().invoke(main, ["audit", str(VIGNETTE_FILES[0]), "--format", "json"]).stdout)
    assert clean["complete"] is True and clean["problems"] == []


def test_the_saved_report_says_what_was_left_out_and_that_red_flags_were_not_checked(tmp_path):
    # New-user trial 4: the HTML page to sign said nothing of vignettes left out, and nothing of
    # the safety pack being off (75% under-triage with no reason given).
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: b1\n  expected_urgency: emergency\n  breathless_or_chest_pain: maybe\n")
    page = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "audit", str(VIGNETTE_FILES[0]),
                                       str(bad), "--html", str(page)])
    assert result.exit_code == 1
    assert result.stdout.startswith("INCOMPLETE AUDIT") and "WARNING: The safety pack was not selected" in result.stdout
    html_text = page.read_text()
    assert "INCOMPLETE AUDIT" in html_text and "safety pack was not selected" in html_text
    assert f"{bad}#1" in html_text  # the vignette left out is named on the page itself
    data = json.loads(CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "audit",
                                                str(VIGNETTE_FILES[0]), "--format", "json"]).stdout)
    assert data["warnings"] and "safety pack" in data["warnings"][0]
    assert json.loads(CliRunner().invoke(main, ["audit", str(VIGNETTE_FILES[0]), "--format", "json"]).stdout)["warnings"] == []
