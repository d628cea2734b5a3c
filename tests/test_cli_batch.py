"""``triage batch``: one record per case, broken cases named, same results as ``triage assess``."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.cli.batch import Progress
from triage.inputs import read_inputs
from conftest import EXAMPLES, REPO
from test_parallel import random_cases

MIXED = EXAMPLES / "batch" / "mixed"
VALID = EXAMPLES / "batch" / "valid"
BROKEN = {  # source -> what the error must name
    "cases.csv:4": "field 'weakness': 'very' is not a valid answer",
    "cases.jsonl:3": "field 'leg_cramp': unknown field (did you mean 'leg_cramps'?)",
    "cases.jsonl:5": "not valid JSON",
    "more/list.json:2": "trimester 1 disagrees with weeks_pregnant 30",
}


def run(*args, input=None):
    return CliRunner().invoke(main, ["batch", *args], input=input, catch_exceptions=False)


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def test_a_mixed_batch_writes_one_record_per_case_names_each_broken_one_and_exits_1(engine):
    result = run(str(MIXED), "--workers", "2")
    assert result.exit_code == 1
    out = records(result.stdout)
    entries = list(read_inputs([str(MIXED)]))
    assert [r["source"] for r in out] == [e.source for e in entries]  # one record per case, in order
    broken = {r["source"].replace(f"{MIXED}/", ""): r for r in out if r["error"]}
    assert set(broken) == set(BROKEN)
    for source, message in BROKEN.items():
        assert message in broken[source]["error"] and broken[source]["urgency"] is None
        assert f"{source}: {message}" in result.stderr.replace(f"{MIXED}/", "")
    assert "14 cases" in result.stderr and "4 errors" in result.stderr


def test_every_good_case_matches_triage_assess(engine):
    out = [r for r in records(run(str(MIXED), "-q").stdout) if not r["error"]]
    assert len(out) == 10
    for record in out:
        path, _, item = record["source"].rpartition(":")
        entry = next(e for e in read_inputs([path if item.isdigit() else record["source"]]) if e.source == record["source"])
        case = json.loads(entry.payload) if isinstance(entry.payload, bytes) else entry.payload
        if path.endswith(".csv"):
            from triage.inputs import case_from_row

            case = case_from_row(case, engine.knowledge_base.question_by_id)
        expected = engine.assess(case)
        assert record["case_id"] == (expected.case_id or record["source"])
        assert record["urgency"] == expected.urgency.value
        assert record["causes"] == expected.cause_ids
        assert record["red_flags"] == [f.id for f in expected.red_flags]
        assert record["advice"] == [a.id for a in expected.advice]


def test_a_yaml_case_file_gives_the_same_as_triage_assess_on_it():
    path = MIXED / "more" / "one.yaml"
    assessed = json.loads(CliRunner().invoke(main, ["assess", "--format", "json", str(path)]).stdout)
    [record] = records(run(str(path)).stdout)
    assert record["urgency"] == assessed["urgency"] and record["causes"] == [c["id"] for c in assessed["causes"]]


def test_two_workers_write_exactly_what_one_writes(tmp_path, kb):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in random_cases(kb, 700, seed=3)))
    one = run(str(path), "--workers", "1", "-q")
    two = run(str(path), "--workers", "2", "-q")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == 700


def test_output_file_csv_and_json_formats(tmp_path):
    out = tmp_path / "out.csv"
    result = run(str(VALID), "--format", "csv", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["case_id"] for r in rows] == ["v4", "v5", "v1", "v2", "v3"]
    assert rows[4]["urgency"] == "urgent" and "leg_weakness" in rows[4]["red_flags"].split()
    data = json.loads(run(str(VALID), "--format", "json").stdout)
    assert [r["case_id"] for r in data] == ["v4", "v5", "v1", "v2", "v3"]


def test_full_adds_the_whole_assessment(engine):
    [record, *_] = records(run(str(VALID / "cases.jsonl"), "--full").stdout)
    expected = engine.assess({"id": "v1", "weeks_pregnant": 31, "leg_cramps": True, "night_cramps": True})
    assert record["assessment"] == json.loads(expected.model_dump_json())


def test_interrupted_run_leaves_no_output_file(tmp_path, monkeypatch):
    import triage.parallel

    def interrupted(*args, **kwargs):
        yield triage.parallel.ChunkRecords(["{}\n"], {}, [])
        raise KeyboardInterrupt

    monkeypatch.setattr(triage.parallel, "batch_records", interrupted)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(VALID), "-o", str(out)])
    assert result.exit_code == 130 and "no output file was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_standard_input_is_read_as_jsonl():
    result = run("-", "-q", input='{"id": "s1", "leg_cramps": true}\n{"id": "s2", "fever": "yes"}\n')
    assert result.exit_code == 1
    assert [(r["case_id"], r["source"]) for r in records(result.stdout)] == [("s1", "<stdin>:1"), ("s2", "<stdin>:2")]


def test_a_pretty_printed_json_case_on_standard_input_is_read_as_that_one_case(engine):
    case = {"id": "p1", "weeks_pregnant": 30, "leg_pain": True, "one_leg_swollen": True}
    result = run("-", "-q", input="\n" + json.dumps(case, indent=2) + "\n")
    assert result.exit_code == 0, result.output
    [record] = records(result.stdout)
    assert (record["case_id"], record["source"], record["error"]) == ("p1", "<stdin>", None)
    assert record["urgency"] == engine.assess(case).urgency


def test_a_pretty_printed_json_list_on_standard_input_gives_a_record_per_case():
    cases = [{"id": "l1", "leg_cramps": True}, {"id": "l2", "fever": "yes"}, {"id": "l3", "fever": True}]
    result = run("-", "-q", input=json.dumps(cases, indent=2))
    assert result.exit_code == 1  # l2 is invalid, and said so
    assert [(r["case_id"], r["source"]) for r in records(result.stdout)] == [("l1", "<stdin>:1"), ("l2", "<stdin>:2"),
                                                                            ("l3", "<stdin>:3")]
    assert "field 'fever'" in records(result.stdout)[1]["error"]


def test_a_pretty_printed_case_with_a_key_given_twice_is_one_error_naming_the_key_and_line():
    # It was an error for each of its lines, the first naming the key: one case in, one record out.
    text = '{\n  "id": "x",\n  "breathless_or_chest_pain": true,\n  "breathless_or_chest_pain": false\n}\n'
    result = run("-", "-q", input=text)
    assert result.exit_code == 1
    [record] = records(result.stdout)
    assert record["source"] == "<stdin>" and record["urgency"] is None
    assert record["error"] == "field 'breathless_or_chest_pain': given more than once (line 4)"
    # A JSON line with the same fault is still that line's error.
    [line] = records(run("-", "-q", input=text.replace("\n", "") + "\n").stdout)
    assert line["source"] == "<stdin>:1" and "given more than once" in line["error"]


def test_json_lines_with_a_broken_first_line_keep_every_line_and_say_why_they_are_not_one_document():
    result = run("-", "-q", input='{"id": "a",\n{"id": "b", "leg_cramps": true}\n')
    found = records(result.stdout)
    assert [(r["source"], r["urgency"] is None) for r in found] == [("<stdin>:1", True), ("<stdin>:2", False)]
    assert "nor is standard input as a whole one JSON document" in found[0]["error"]


def test_a_pretty_printed_document_over_the_size_limit_is_read_as_lines_saying_so():
    from triage.reading import max_input_bytes, set_max_input_bytes

    text = json.dumps([{"id": f"c{n}", "leg_cramps": True} for n in range(200)], indent=2)
    previous = max_input_bytes()
    try:
        result = run("-", "-q", "--max-input-size", "1K", input=text)
    finally:
        set_max_input_bytes(previous)  # the option sets the process's limit: the next tests need the default
    found = records(result.stdout)
    assert result.exit_code == 1 and len(found) == len([line for line in text.splitlines() if line.strip()])
    assert "as one JSON document only within the size limit: give the file name" in found[0]["error"]


@pytest.mark.parametrize("args", [["-", "-"], ["-", str(EXAMPLES / "cases"), "-"]])
def test_standard_input_given_twice_is_a_usage_error_before_anything_is_read(args):
    result = run(*args, input='{"id": "s1", "leg_cramps": true}\n')
    assert result.exit_code == 2 and result.stdout == ""
    assert "'-' (standard input) is given more than once" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--format", "csv", "--full", "x"], ["--format", "xml", "x"], [], ["--workers", "0", "x"], ["--workers", "2", "--dask", "a", "x"]],
)
def test_usage_errors_exit_2(args):
    assert CliRunner().invoke(main, ["batch", *args]).exit_code == 2


def test_exit_status_is_documented_in_the_help():
    help_text = run("--help").stdout
    assert "Exit status: 0 when every case was assessed; 1 when any case was invalid or" in help_text


def test_no_progress_bar_when_stderr_is_not_a_terminal():
    result = run(str(VALID))
    assert "\r" not in result.stderr and "5 cases" in result.stderr
    assert run(str(VALID), "-q").stderr == ""


def test_the_progress_bar_draws_on_a_terminal_after_its_delay():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = Progress(total_bytes=1000, enabled=True, stream=stream)
    progress.show(10)
    assert stream.getvalue() == ""  # short runs stay quiet
    progress.started -= Progress.DELAY
    progress.read(500)
    progress.show(10)
    assert "50%" in stream.getvalue() and "10 cases" in stream.getvalue()
    progress.clear()
    assert stream.getvalue().endswith("\r\033[K")


def test_the_console_script_runs_a_batch_in_worker_processes(tmp_path, kb):
    # A real process (not CliRunner), so worker processes start as they do for users.
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in random_cases(kb, 600, seed=4)))
    out = tmp_path / "out.jsonl"
    result = subprocess.run([sys.executable, "-m", "triage", "batch", str(path), "--workers", "2", "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 600 and "600 cases" in result.stderr


def test_dask_cluster_gives_the_same_records(tmp_path, kb):
    import distributed  # in the test extra, so this test runs in CI
    from dask import bag

    import triage
    from triage.parallel import assess_bag

    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in random_cases(kb, 600, seed=5)))
    local = run(str(path), "--workers", "1", "-q")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_dask = run(str(path), "--dask", cluster.scheduler_address, "-q")
        cases = random_cases(kb, 40, seed=6)
        with distributed.Client(cluster):
            assessed = assess_bag(bag.from_sequence(cases, npartitions=3), kb).compute()
    assert on_dask.exit_code == 0 and on_dask.stdout == local.stdout
    assert assessed == list(triage.assess_many(cases, workers=1, knowledge_base=kb))


def test_an_output_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.jsonl").write_text('{"leg_cramps": true}\n')
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "no" / "such" / "out.jsonl")])
    assert result.exit_code == 3
    assert "cannot write the output file" in result.output and "Traceback" not in result.output


def test_csv_with_a_repeated_or_missing_column_is_reported(tmp_path):
    (tmp_path / "a.csv").write_text("id,leg_cramps,leg_cramps\nz,yes,no\n")
    (tmp_path / "b.csv").write_text("id,weeks_pregnant,leg_cramps\nc,30\n")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    assert "the header names it more than once" in records[0]["error"]
    assert "the row has 2 cells but the header names 3" in records[1]["error"]


def test_a_csv_file_with_old_mac_cr_line_ends_gives_a_record_per_row(tmp_path, engine):
    (tmp_path / "mac.csv").write_bytes(b"id,leg_cramps,night_cramps\rm1,yes,yes\rm2,no,\r")
    result = run(str(tmp_path / "mac.csv"), "-q")
    assert result.exit_code == 0, result.output
    found = records(result.stdout)
    assert [(r["case_id"], r["source"], r["error"]) for r in found] == [("m1", f"{tmp_path / 'mac.csv'}:2", None),
                                                                         ("m2", f"{tmp_path / 'mac.csv'}:3", None)]
    assert found[0]["urgency"] == engine.assess({"id": "m1", "leg_cramps": True, "night_cramps": True}).urgency


def _descendants(pid: int) -> set[int]:
    """The live descendants of a process (Linux /proc)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children = [int(child) for child in handle.read().split()]
        except OSError:
            continue
        for child in children:
            found |= {child} | _descendants(child)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads the process tree from Linux /proc")
def test_sigterm_stops_the_workers_and_leaves_no_output_file(tmp_path, kb):
    # Cases come on standard input, which stays open: the batch is mid-run, with
    # its worker processes started and its temporary output file open, when
    # SIGTERM arrives (as from `kill`, a service manager or a job scheduler).
    process = subprocess.Popen([sys.executable, "-m", "triage", "batch", "-", "--workers", "2", "-o", str(tmp_path / "out.jsonl")],
                               cwd=REPO, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write("".join(json.dumps(c) + "\n" for c in random_cases(kb, 3000, seed=5)))
    process.stdin.flush()
    # Wait until records are being written (the first come back once eight chunks
    # are in flight): both workers have then started. A SIGTERM while a worker is
    # still being started can make that worker print a traceback as it dies; that
    # narrow window is not what this test is about.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.stat().st_size for p in tmp_path.iterdir()):
        time.sleep(0.05)
    workers = _descendants(process.pid)
    assert len(workers) >= 3, "the fork server and two workers should be running"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _running(pid)]
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in process.stderr.read()


def test_a_vignette_file_is_pointed_to_triage_audit_with_one_record_per_vignette():
    vignettes = EXAMPLES / "vignettes" / "urgent.yaml"
    result = run(str(vignettes), "-q")
    assert result.exit_code == 1
    found = records(result.stdout)
    in_file = sum(line.startswith("- id:") for line in vignettes.read_text().splitlines())
    assert len(found) == in_file and all("triage audit" in r["error"] for r in found)
    assert (found[0]["case_id"], found[0]["source"]) == ("u01-night-cramps-red-swollen-calf", f"{vignettes}:1")


def test_output_through_a_symlink_replaces_the_file_it_names_not_the_link(tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    result = run(str(VALID), "-q", "-o", str(link))
    assert result.exit_code == 0
    assert link.is_symlink() and len(records(real.read_text())) == 5


def test_output_to_a_device_writes_to_it_and_leaves_it_a_device():
    result = run(str(VALID), "-q", "-o", os.devnull)
    assert result.exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("kind", ["read-only file", "directory"])
def test_output_to_a_read_only_file_or_a_directory_is_refused(tmp_path, kind):
    target = tmp_path / "out.jsonl"
    if kind == "directory":
        target.mkdir()
    else:
        target.write_text("keep\n")
        target.chmod(0o444)
    result = run(str(VALID), "-q", "-o", str(target))
    if kind == "directory":  # refused by the option itself: a usage error
        assert result.exit_code == 2 and "is a directory" in result.output
    else:
        assert result.exit_code == 3 and "cannot write the output file: it is read-only" in result.output
        assert target.read_text() == "keep\n"


@pytest.mark.parametrize("make", ["empty directory", "empty jsonl", "csv header alone", "empty json list",
                                  "directory of other files"])
def test_an_input_with_no_cases_is_an_error_not_a_silent_success(tmp_path, make):
    files = {"empty jsonl": ("cases.jsonl", "\n"), "csv header alone": ("cases.csv", "id,fever\n"),
             "empty json list": ("cases.json", "[]")}
    if make in files:
        name, content = files[make]
        source = tmp_path / name
        source.write_text(content)
    else:
        source = tmp_path / "cases"
        source.mkdir()
        if make == "directory of other files":
            (source / "notes.txt").write_text("not a case")
    result = run(str(source))
    assert result.exit_code == 1
    assert [r["source"] for r in records(result.stdout)] == [str(source)]
    assert "no case" in records(result.stdout)[0]["error"]


def test_empty_standard_input_is_an_error():
    result = run("-", input="")
    assert result.exit_code == 1 and "standard input is empty" in result.stdout


def test_csv_accepts_y_and_n_and_choices_in_any_letter_case(tmp_path, engine):
    path = tmp_path / "cases.csv"
    path.write_text("id,leg_pain,weakness,fever\nc1,Y,Severe,n\n")
    result = run(str(path), "-q")
    assert result.exit_code == 0, result.stdout
    expected = engine.assess({"id": "c1", "leg_pain": True, "weakness": "severe", "fever": False})
    assert records(result.stdout)[0]["urgency"] == expected.urgency.value


def test_the_summary_says_1_case_and_separates_thousands(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text('{"leg_cramps": true}\n')
    assert run(str(one)).stderr.startswith("1 case: 0 emergency")
    many = tmp_path / "many.jsonl"
    many.write_text('{"leg_cramps": true}\n' * 1200)
    assert run(str(many)).stderr.startswith("1,200 cases: ") and "1,200 self_care" in run(str(many)).stderr


def test_a_reader_that_stops_early_ends_the_batch_quietly_with_141(tmp_path, kb):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in random_cases(kb, 3000, seed=6)))
    process = subprocess.Popen([sys.executable, "-m", "triage", "batch", str(path), "--workers", "1", "-q"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert json.loads(process.stdout.readline())["source"] == f"{path}:1"
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == b""


def test_the_output_may_not_be_an_input_or_a_case_file_in_an_input_directory(tmp_path):
    # hostile trial (issue 10): -o an input replaced the cases being read, with exit 0
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "leg_cramps": true}\n')
    for output in (cases, tmp_path / "results.jsonl"):
        result = CliRunner().invoke(main, ["batch", str(tmp_path if output != cases else cases), "-o", str(output)])
        assert result.exit_code == 2 and "would replace the cases being read" in result.output
    assert cases.read_text() == '{"id": "a", "leg_cramps": true}\n' and not (tmp_path / "results.jsonl").exists()
    fine = CliRunner().invoke(main, ["batch", str(tmp_path), "-o", str(tmp_path / "results.txt")])
    assert fine.exit_code == 0 and (tmp_path / "results.txt").read_text().count("\n") == 1


@pytest.mark.parametrize("suffix, text", [
    (".json", '[\n {"fever": true, "lower_back_pain": true},\n {"breathless_or_chest_pain": true},\n'
              ' {"leg_pain": true, "leg_pain": false},\n {"pain_severity": NaN}\n]\n'),
    (".yaml", "- fever: true\n  lower_back_pain: true\n- breathless_or_chest_pain: true\n"
              "- leg_pain: true\n  leg_pain: false\n- pain_severity: 99999999999999999999999999999999999\n"),
])
def test_one_refused_item_of_a_list_is_its_own_record_and_every_other_case_is_assessed(tmp_path, engine, suffix, text):
    # Hostile trial 3: one key given twice in one item lost the whole list, emergencies included.
    path = tmp_path / f"list{suffix}"
    path.write_text(text)
    result = run(str(path), "-q")
    assert result.exit_code == 1
    found = records(result.stdout)
    assert [r["source"] for r in found] == [f"{path}:{n}" for n in (1, 2, 3, 4)]  # records out equal cases in
    assert [r["urgency"] for r in found[:2]] == ["urgent", "emergency"]
    assert found[2]["urgency"] is None and "'leg_pain': given more than once" in found[2]["error"]
    assert found[2]["error"].startswith("line 4" if suffix == ".json" else "line 5")
    assert found[3]["urgency"] is None and found[3]["error"]
    piped = records(run("-", "-q", input=text).stdout) if suffix == ".json" else found
    assert [r["urgency"] for r in piped] == [r["urgency"] for r in found]


def test_the_summary_line_says_when_red_flags_were_not_checked(tmp_path):
    case = tmp_path / "c.json"
    case.write_text('{"leg_cramps": true}')
    unchecked = CliRunner().invoke(main, ["--pack", "core", "--pack", "documents", "batch", str(case)])
    assert unchecked.stderr.splitlines()[-1].endswith("RED FLAGS NOT CHECKED (safety pack not selected)")
    assert "RED FLAGS NOT CHECKED" not in run(str(case)).stderr
