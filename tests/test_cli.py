"""The command line, through click's CliRunner; effects checked through the library."""

from __future__ import annotations

import json
import re

import click
import pytest
import yaml
from click.testing import CliRunner

import triage
from triage.cli import main
from conftest import EXAMPLES, REPO

NIGHT_CRAMPS = str(EXAMPLES / "cases" / "night_cramps_third_trimester.json")


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_assess_text_leads_with_the_urgency_and_action_and_ends_with_the_disclaimer():
    result = run("assess", NIGHT_CRAMPS)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[1].startswith("SELF-CARE") and lines[2].startswith("You can manage this at home")
    assert "Seek help if" in result.output and "not a diagnosis" in result.output
    assert "\033[" not in result.output  # no colour when not on a terminal


def test_assess_json_matches_the_library(engine):
    result = run("assess", "--format", "json", NIGHT_CRAMPS)
    data = json.loads(result.output)
    expected = engine.assess(json.loads(open(NIGHT_CRAMPS).read()), source=NIGHT_CRAMPS)
    assert data == json.loads(expected.model_dump_json())
    assert set(data) >= {"urgency", "causes", "red_flags", "advice", "fired_rules", "worsening_advice", "disclaimer", "knowledge_base"}


def test_assess_explain_shows_each_fired_rule_and_its_quote():
    result = run("assess", "--explain", NIGHT_CRAMPS)
    assert "doc_night_cramps" in result.output and "matched: leg_cramps = yes, night_cramps = yes" in result.output
    assert "Involuntary muscle contractions often occur at night" in result.output


def test_assess_reads_yaml_from_stdin():
    result = run("assess", "--format", "json", "-", input="leg_cramps: yes\nnight_cramps: yes\n")
    assert json.loads(result.output)["urgency"] == "self_care"


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"leg_cramp": true}', "field 'leg_cramp': unknown field (did you mean 'leg_cramps'?)"),
        ('{"id": "c7", "weakness": "very"}', "case 'c7': field 'weakness'"),
        ('{"leg_cramps": true,', "not valid JSON"),
        ("[1, 2]", "holds 2 cases"),
        ('"hello"', "must be a mapping"),
        ('{"fever": true, "fever": false}', "field 'fever': given more than once"),
    ],
)
def test_bad_case_files_give_a_clear_message_and_exit_1(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 1
    assert str(path) in result.output and expected in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("cases.csv", "weeks_pregnant,leg_cramps\n30,yes\n", "a CSV file holds many cases (a row each): assess them with 'triage batch'"),
        ("cases.CSV", "weeks_pregnant\n30\n", "a CSV file holds many cases"),
        ("cases.jsonl", '{"leg_cramps": true}\n{"fever": true}\n', "a JSONL file holds many cases (a line each): assess them with 'triage batch'"),
    ],
)
def test_a_file_of_many_cases_given_to_assess_is_pointed_to_batch(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 1 and f"{path}: {expected}" in result.output and "Traceback" not in result.output


def test_missing_file_is_a_clear_error():
    result = CliRunner().invoke(main, ["assess", "no/such/case.json"])
    assert result.exit_code == 1 and "no/such/case.json: file not found" in result.output


def test_rules_list_json_has_the_agreed_keys(kb):
    rows = json.loads(run("rules", "list", "--format", "json").output)
    assert [r["id"] for r in rows] == [r.id for r in kb.rules]
    assert all(set(r) == {"id", "pack", "title", "urgency", "causes", "sources"} for r in rows)


def test_rules_check_passes_on_the_shipped_knowledge_base():
    result = run("rules", "check")
    assert result.exit_code == 0 and result.output.startswith("ok")


def test_rules_check_fails_on_a_broken_copy_naming_the_rule(kb_copy):
    path = kb_copy / "documents" / "cramps.yaml"
    data = yaml.safe_load(path.read_text())
    data["rules"][0]["sources"][0]["quote"] = "Cramps are caused by the moon."
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["rules", "check", str(kb_copy)])
    assert result.exit_code == 1
    assert "rule doc_night_cramps" in result.output and "quote not found" in result.output
    assert "Traceback" not in result.output


def test_global_rules_option_uses_another_knowledge_base(kb_copy):
    path = kb_copy / "kb.yaml"
    data = yaml.safe_load(path.read_text())
    data["version"] = "9.9.9-test"
    path.write_text(yaml.safe_dump(data))
    result = run("--rules", str(kb_copy), "assess", "--format", "json", NIGHT_CRAMPS)
    assert json.loads(result.output)["knowledge_base"]["version"] == "9.9.9-test"


def test_a_broken_knowledge_base_is_reported_without_traceback(kb_copy):
    (kb_copy / "documents" / "back.yaml").write_text("rules: 3\n")
    result = CliRunner().invoke(main, ["--rules", str(kb_copy), "assess", NIGHT_CRAMPS])
    assert result.exit_code == 1 and "back.yaml" in result.output and "Traceback" not in result.output


def test_version_is_the_package_version_and_names_the_knowledge_base():
    from triage.provenance import knowledge_base_digest

    kb = triage.load_knowledge_base()
    assert run("--version").output.splitlines() == [
        f"triage {triage.__version__}",
        f"knowledge base {kb.name} {kb.version} ({kb.path})",
        f"sha256 {knowledge_base_digest(kb.path)}",
    ]


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in all_commands(main)])
def test_every_command_has_help_and_is_in_the_readme(path):
    command = dict((" ".join(p), c) for p, c in all_commands(main))[path]
    assert command.help and command.help.strip()
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"`triage {re.escape(path)}\b", readme), f"'triage {path}' is not documented in README.md"


def test_repeated_yaml_keys_and_a_byte_order_mark(tmp_path):
    repeated = tmp_path / "r.yaml"
    repeated.write_text("id: x\nid: y\n")
    result = CliRunner().invoke(main, ["assess", str(repeated)])
    assert result.exit_code == 1 and "field 'id': given more than once" in result.output
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"leg_cramps": true}')
    assert CliRunner().invoke(main, ["assess", "--format", "json", str(bom)]).exit_code == 0


def test_colour_is_off_only_for_a_non_empty_no_color(monkeypatch):
    from triage.cli.app import use_colour

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(Terminal()) is False
    monkeypatch.setenv("NO_COLOR", "")
    assert use_colour(Terminal()) is True


def test_a_yaml_number_with_a_leading_zero_is_decimal_not_octal(tmp_path, engine):
    # YAML 1.1 would read 030 as octal 24: a third-trimester case would become second.
    path = tmp_path / "case.yaml"
    path.write_text("weeks_pregnant: 030\nleg_cramps: yes\n")
    result = CliRunner().invoke(main, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(engine.assess({"weeks_pregnant": 30, "leg_cramps": True}).model_dump_json())


def test_a_yaml_time_like_number_is_refused_not_read_as_minutes(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("weeks_pregnant: 1:30\n")  # YAML 1.1 would read 90
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 1 and "field 'weeks_pregnant'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["assess", str(EXAMPLES / "cases" / "back_pain_early.yaml")],
                                     ["audit", str(EXAMPLES / "vignettes")], ["batch", str(EXAMPLES / "batch" / "valid")]])
def test_ctrl_c_in_any_command_exits_130_with_a_message(monkeypatch, command):
    from triage.cli.app import State

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(State, "engine", property(interrupted))  # Ctrl-C while the rules load
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    assert result.exit_code == 130 and "Stopped" in result.output and "Aborted" not in result.output


def _frame_inside_multiprocessing():
    """A real frame whose code claims to be in the multiprocessing package, as when a worker is starting."""
    import multiprocessing
    import os
    import sys

    filename = os.path.join(os.path.dirname(multiprocessing.__file__), "popen_forkserver.py")
    namespace: dict = {"sys": sys}
    exec(compile("def launch():\n    return sys._getframe()\n", filename, "exec"), namespace)
    return namespace["launch"]()


def test_sigterm_while_a_worker_starts_is_postponed_then_stops_the_command():
    import signal
    import sys
    import time

    from triage.cli.app import Terminated, starting_a_process, stop_cleanly_on_termination

    before = signal.getsignal(signal.SIGTERM)
    assert not starting_a_process(sys._getframe())
    inside = _frame_inside_multiprocessing()
    assert starting_a_process(inside)
    with stop_cleanly_on_termination():
        handler = signal.getsignal(signal.SIGTERM)
        assert handler(signal.SIGTERM, inside) is None  # postponed: nothing raised mid-start
        with pytest.raises(Terminated) as stopped:
            time.sleep(5)  # the signal comes again, and stops us here
    assert stopped.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before  # the previous handler is back


def test_rules_list_keeps_its_columns_aligned_whatever_the_length_of_an_id():
    lines = CliRunner().invoke(main, ["rules", "list"]).stdout.splitlines()[:-1]
    pack_columns = {line.index(line.split()[1], len(line.split()[0])) for line in lines}
    assert len(lines) > 50 and len(pack_columns) == 1  # every pack starts in the same column
