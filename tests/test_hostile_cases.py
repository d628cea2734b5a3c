"""The small hostile cases, one test each: directory entries, names, spreadsheets, terminals, knowledge bases."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import triage
from triage.casefiles import remove_stale_partials
from triage.cli import main
from triage.errors import CaseError
from triage.inputs import directory_entries, read_inputs
from triage.knowledge.checks import rule_example_problems
from triage.records import csv_cell
from conftest import EXAMPLES

CASE = EXAMPLES / "cases" / "night_cramps_third_trimester.json"


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def records(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# --------------------------------------------------------------------------- directories (item 18)


def test_directory_entries_that_cannot_be_read_each_get_an_error_record(tmp_path):
    (tmp_path / "good.json").write_text('{"fever": true}')
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere.json")
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "notes.txt").write_text("not a case file")
    result = run("batch", "-q", tmp_path)
    by_name = {Path(r["source"]).name: r["error"] for r in records(result)}
    assert result.exit_code == 1
    assert by_name["good.json"] is None
    assert "file not found" in by_name["dangling.json"] or "cannot read" in by_name["dangling.json"]
    assert "cannot read file" in by_name["loop.json"]
    assert "not a regular file" in by_name["pipe.jsonl"]
    assert "not followed" in by_name["linked"]
    assert "notes.txt" not in by_name


def test_a_subdirectory_that_cannot_be_listed_is_an_error_record(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = dict(directory_entries(tmp_path))
    assert found[tmp_path / "a.json"] is None and "Permission denied" in found[tmp_path / "locked"]


def test_a_file_name_that_is_not_utf8_is_read_and_written_with_an_escape(tmp_path):
    directory = tmp_path / "cases"
    directory.mkdir()
    (Path(os.fsdecode(bytes(directory) + b"/\xff.json"))).write_text('{"fever": true}')
    out = tmp_path / "out.jsonl"
    result = run("batch", "-q", directory, "-o", out)
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert result.exit_code == 0 and record["source"].endswith("\\xff.json") and record["urgency"] == "within_24h"


def test_an_empty_input_name_is_an_error_record_not_the_current_directory():
    [record] = records(run("batch", "-q", ""))
    assert record["error"] == "an empty name is not a file or directory"


def test_an_empty_output_name_is_a_usage_error():
    result = run("batch", CASE, "-o", "")
    assert result.exit_code == 2 and "-o needs a file name" in result.stderr


def test_a_dask_address_that_is_not_an_address_is_exit_4_with_a_message():
    pytest.importorskip("distributed")
    result = run("batch", CASE, "--dask", "not a url")
    assert result.exit_code == 4 and "cannot reach the Dask scheduler at 'not a url'" in result.stderr


# --------------------------------------------------------------------------- spreadsheets and terminals (16, 17)


@pytest.mark.parametrize("case_id", ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3"])
def test_csv_output_neutralises_formulas(tmp_path, case_id):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": case_id, "fever": True}) + "\n")
    [header, row] = list(csv.reader(io.StringIO(run("batch", "-q", "--format", "csv", path).stdout)))
    assert row[0] == "'" + case_id


def test_csv_cells_escape_control_characters():
    assert csv_cell("a\x1b[31mb") == "a\\x1b[31mb"


def test_control_characters_in_ids_and_file_names_never_reach_the_terminal_raw(tmp_path):
    evil = "\x1b]0;owned\x07\u202e"
    (tmp_path / "ok.json").write_text(json.dumps({"id": "a" + evil, "fever": True}))
    (tmp_path / f"bad{evil}.json").write_text('{"fevr": true}')
    batch = run("batch", "-q", tmp_path)
    assess = run("assess", tmp_path / "ok.json")
    for text in (batch.stdout, batch.stderr, assess.stdout):
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "bad\\x1b]0;owned\\x07\\u202e.json" in batch.stderr
    [ok] = [r for r in records(batch) if r["source"].endswith("ok.json")]
    assert ok["case_id"] == "a" + evil  # JSON escapes them; the value is unchanged


def test_a_huge_field_name_is_not_echoed_in_full():
    with pytest.raises(CaseError) as error:
        triage.assess({"x" * 10_000_000: True})
    assert len(str(error.value)) < 2000 and "more characters" in str(error.value)


def test_thousands_of_problems_are_counted_not_listed():
    with pytest.raises(CaseError) as error:
        triage.assess({f"field_{n}": True for n in range(5000)})
    assert len(error.value.problems) == 21 and "4,980 more problems" in error.value.problems[-1]


# --------------------------------------------------------------------------- knowledge-base files (item 13)


@pytest.mark.parametrize("damage, message", [
    (lambda kb: (kb / "questions.yaml").write_bytes(b"questions:\n  - id: \xff\n"), "not UTF-8"),
    (lambda kb: (kb / "kb.yaml").write_bytes((kb / "kb.yaml").read_text().encode("utf-16")), "UTF-16"),
    (lambda kb: [(kb / "questions.yaml").unlink(), (kb / "questions.yaml").mkdir()], "is a directory"),
    (lambda kb: [(kb / "catalogue" / "causes.yaml").unlink(),
                 (kb / "catalogue" / "causes.yaml").symlink_to(kb / "catalogue" / "causes.yaml")], "cannot read file"),
    (lambda kb: (kb / "documents" / "back.yaml").write_text(
        (kb / "documents" / "back.yaml").read_text().replace("pain_severity, \">=\": 7", "pain_severity, \">=\": " + "7" * 5000)
        + "\nx: " + "9" * 5000 + "\n"), "digits"),
    (lambda kb: next((kb / "sources").iterdir()).write_bytes(b"\x00\xff\xfe binary"), "not UTF-8"),
])
def test_a_damaged_knowledge_base_is_a_list_of_problems_not_a_traceback(kb_copy, damage, message):
    damage(kb_copy)
    for args in (["rules", "check", kb_copy], ["--rules", kb_copy, "assess", CASE]):
        result = run(*args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.stderr)


@pytest.mark.parametrize("reserved", ["model_config", "answers", "id", "model_fields"])
def test_a_question_id_the_case_model_uses_itself_is_refused(kb_copy, reserved):
    path = kb_copy / "questions.yaml"
    path.write_text(path.read_text().replace("- id: high_heels", f"- id: {reserved}", 1))
    result = run("--rules", kb_copy, "assess", CASE)
    assert result.exit_code == 1 and f"'{reserved}' is reserved" in result.stderr


def test_rules_check_runs_each_distinct_example_once(engine, monkeypatch):
    calls = []
    fire = engine.fire
    monkeypatch.setattr(engine, "fire", lambda case: calls.append(case) or fire(case))
    shared: dict = {}
    rules = engine.knowledge_base.rules
    for rule in rules:
        assert rule_example_problems(engine, rule, shared) == []
    examples = {json.dumps(c, sort_keys=True) for r in rules for c in [*r.spec.examples.fires, *r.spec.examples.does_not_fire]}
    assert len(calls) == len(examples)


# --------------------------------------------------------------------------- ask, engines, stale files


def test_ask_refuses_a_5000_digit_reply_and_asks_again():
    # At the first screen (a group: numbers that apply) and at the weeks (a whole number).
    result = run("ask", input="9" * 5000 + "\n")
    assert result.exit_code == 1 and "no more input" in result.stderr
    assert "is not an answer here" in result.stdout and "Traceback" not in result.stderr
    weeks = triage.Questionnaire().prompt(triage.load_knowledge_base().question_by_id["weeks_pregnant"], 1)
    with pytest.raises(triage.AnswerError, match="whole number from 0 to 42"):
        triage.Questionnaire().interpret(weeks, "9" * 5000)


def test_short_lived_threads_share_a_bounded_pool_of_engines(kb):
    engine = triage.Engine(kb)
    built = []
    build = engine._build
    engine._build = lambda: built.append(1) or build()
    for _ in range(30):  # one thread after another, as a web server's request threads come and go
        thread = threading.Thread(target=engine.assess, args=({"fever": True},))
        thread.start()
        thread.join()
    assert len(built) == 1


def test_stale_partial_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "out.jsonl"
    dead = tmp_path / ".out.jsonl.999999999.abc.partial"
    live = tmp_path / f".out.jsonl.{os.getpid()}.def.partial"
    other = tmp_path / ".other.jsonl.999999999.abc.partial"
    for path in (dead, live, other):
        path.write_text("health data")
    assert remove_stale_partials(target) == [dead]
    assert not dead.exists() and live.exists() and other.exists()


def test_an_unreadable_stdin_for_batch_is_an_error_record(monkeypatch):
    [entry] = list(read_inputs(["-"], stdin=io.BytesIO(b"")))
    assert "standard input is empty" in entry.payload


def test_a_device_as_an_input_file_is_an_error_record_not_an_endless_read(tmp_path):
    (tmp_path / "random.jsonl").symlink_to("/dev/urandom")
    found = records(run("batch", "-q", tmp_path / "random.jsonl", "/dev/zero"))
    assert [r["error"] for r in found] == ["is a device, not a file"] * 2


@pytest.mark.parametrize("value, status, message", [
    ("abc", 1, "TRIAGE_MAX_INPUT_BYTES: 'abc' is not a whole number of bytes"),
    ("10", 1, "larger than the input size limit of 10 bytes"),
])
def test_the_size_limit_can_be_set_for_every_command_by_the_environment(value, status, message):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "triage", "assess", str(CASE)], capture_output=True, text=True,
                            env={**os.environ, "TRIAGE_MAX_INPUT_BYTES": value}, timeout=60)
    assert result.returncode == status and message in result.stderr


def test_blank_lines_before_a_csv_header_are_skipped(tmp_path):
    (tmp_path / "c.csv").write_text("\n\n\nid,fever\na,yes\n")
    [record] = records(run("batch", "-q", tmp_path / "c.csv"))
    assert record["error"] is None and record["source"].endswith("c.csv:5") and record["red_flags"] == ["fever"]


def test_batch_clean_removes_only_the_leftovers_of_dead_runs(tmp_path):
    dead = tmp_path / ".out.jsonl.999999999.abc.partial"
    live = tmp_path / f".out.jsonl.{os.getpid()}.def.partial"
    dead.write_text("health data")
    live.write_text("being written")
    result = run("batch", "--clean", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0 and "1 leftover temporary file" in result.stderr
    assert not dead.exists() and live.exists()
    assert run("batch", "--clean").exit_code == 2


def test_a_csv_row_of_empty_cells_is_a_case_and_a_blank_line_is_none(tmp_path):
    # hostile trial (issue 10): the row "," vanished; records out must equal rows in
    path = tmp_path / "e.csv"
    path.write_text("id,breathless_or_chest_pain\n\n\na,yes\n,\n")
    result = run("batch", path)
    got = records(result)
    assert [r["source"] for r in got] == [f"{path}:4", f"{path}:5"] and got[0]["urgency"] == "emergency"
    assert got[1]["error"] is None and got[1]["urgency"] is not None


@pytest.mark.parametrize("command", ["batch", "assess"])
def test_an_enormous_max_input_size_is_a_usage_error_not_a_crash(tmp_path, command):
    path = tmp_path / "c.json"
    path.write_text('{"leg_cramps": true}')
    result = CliRunner().invoke(main, [command, str(path), "--max-input-size", "8589934592G"])
    assert result.exit_code == 2 and "largest size" in result.output and "Traceback" not in result.output
