"""Faults, run for real in a separate process: a full disk, closed streams, kill -9 of the parent, a killed worker.

Each runs the installed command as a user would (``python -m triage``) and
checks the exit status, the message and what is left behind.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO

CASE = EXAMPLES / "cases" / "night_cramps_third_trimester.json"
TRIAGE = f"{shlex.quote(sys.executable)} -m triage"


def shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a shell command line (for redirections such as >&-) with ``triage`` meaning this Python's triage."""
    return subprocess.run(["bash", "-c", command.replace("triage ", TRIAGE + " ", 1)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, **kwargs)


def big_input(path: Path, count: int = 40_000) -> Path:
    line = json.dumps({"weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True, "fever": False}) + "\n"
    path.write_text(line * count)
    return path


def descendants(pid: int) -> set[int]:
    """Every process whose ancestry reaches ``pid`` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- a full disk


@pytest.mark.parametrize("command", [
    "triage batch {case} -o /dev/full",
    "triage batch {case} > /dev/full",
    "triage assess {case} > /dev/full",
    "triage assess {case} --format json > /dev/full",
    "(printf '30\\n'; for i in $(seq 80); do printf 'n\\ns\\n'; done) | triage ask --save /dev/full",
])
def test_a_full_disk_is_a_clear_message_and_exit_3(command):
    result = shell(command.format(case=CASE))
    assert result.returncode == 3, result.stderr
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- closed standard streams


def test_batch_with_standard_output_closed_is_exit_3_and_says_so():
    result = shell(f"triage batch {CASE} >&-")
    assert result.returncode == 3 and "standard output is closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_assess_with_standard_output_closed_does_not_claim_success():
    result = shell(f"triage assess {CASE} >&-")
    assert result.returncode == 3 and "standard output is closed" in result.stderr


def test_batch_with_standard_error_closed_still_writes_every_record(tmp_path):
    out = tmp_path / "out.jsonl"
    result = shell(f"triage batch {EXAMPLES / 'batch' / 'valid'} -o {out} 2>&-")
    assert result.returncode == 0 and len(out.read_text().splitlines()) > 1


def test_batch_with_standard_output_closed_but_an_output_file_works(tmp_path):
    out = tmp_path / "out.jsonl"
    result = shell(f"triage batch {CASE} -o {out} >&-")
    assert result.returncode == 0 and json.loads(out.read_text())["urgency"] == "self_care"


def test_ask_with_standard_input_closed_stops_as_at_end_of_input():
    result = shell("triage ask <&-")
    assert result.returncode == 1 and "no more input" in result.stderr and "Traceback" not in result.stderr


def test_an_output_file_never_takes_a_closed_descriptor(tmp_path):
    # With fd 1 closed, the output file would be opened as fd 1, and anything printed would land in it.
    out = tmp_path / "out.jsonl"
    shell(f"triage batch {CASE} -o {out} >&-")
    assert out.read_text().count("\n") == 1


# --------------------------------------------------------------------------- kill -9, a killed worker, leaks


def start_batch(tmp_path, *args) -> subprocess.Popen:
    # The batch's own temporary directory, seen from the test as tmp_path / "tmp". Its real path
    # is short: the forkserver's socket goes there, a socket path has at most 107 bytes, and
    # tmp_path under pytest-xdist (.../popen-gw0/test_name0/) can be longer than that allows.
    short = Path(tempfile.mkdtemp(prefix="batch-"))
    atexit.register(shutil.rmtree, short, ignore_errors=True)
    (tmp_path / "tmp").symlink_to(short, target_is_directory=True)
    env = {**os.environ, "TMPDIR": str(short)}
    return subprocess.Popen([sys.executable, "-m", "triage", "batch", "-q", "--workers", "2", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_kill_9_of_the_parent_takes_the_workers_with_it_and_the_next_run_removes_its_partial_file(tmp_path):
    source = big_input(tmp_path / "big.jsonl")
    out = tmp_path / "out.jsonl"
    process = start_batch(tmp_path, str(source), "-o", str(out))
    # Two workers under the forkserver, and a partial output file: the batch is under way.
    assert wait_for(lambda: len(descendants(process.pid)) >= 4 and list(tmp_path.glob(".out.jsonl.*.partial")))
    family = descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in family), 20), [p for p in family if alive(p)]
    [partial] = tmp_path.glob(".out.jsonl.*.partial")
    small = tmp_path / "small.jsonl"
    small.write_text(source.read_text().split("\n", 1)[0] + "\n")
    again = subprocess.run([sys.executable, "-m", "triage", "batch", "-q", str(small), "-o", str(out)], cwd=REPO)
    assert again.returncode == 0 and not partial.exists() and len(out.read_text().splitlines()) == 1


def test_a_killed_worker_is_exit_4_an_infrastructure_failure_not_an_invalid_case(tmp_path):
    process = start_batch(tmp_path, str(big_input(tmp_path / "big.jsonl")), "-o", str(tmp_path / "out.jsonl"))
    assert wait_for(lambda: len(descendants(process.pid)) >= 4)
    workers = [pid for pid in descendants(process.pid) if Path(f"/proc/{pid}/status").exists()
               and os.getppid() != pid and pid not in _children(process.pid)]
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 4 and "worker process stopped unexpectedly" in stderr
    assert "Traceback" not in stderr and not list(tmp_path.glob("out.jsonl*")) and not list(tmp_path.glob(".out*"))


def _children(pid: int) -> set[int]:
    """The direct children of ``pid`` (the forkserver and the resource tracker, for a batch)."""
    return {child for child in descendants(pid) if int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid}


def test_a_run_with_workers_leaves_no_temporary_rule_directories(tmp_path):
    process = start_batch(tmp_path, str(big_input(tmp_path / "cases.jsonl", 600)), "-o", str(tmp_path / "out.jsonl"))
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_ctrl_c_stops_a_batch_started_in_the_background_of_a_script(tmp_path):
    # A non-interactive shell starts background jobs with SIGINT ignored; the batch restores it.
    source = big_input(tmp_path / "big.jsonl")
    script = f"{TRIAGE} batch -q --workers 1 {source} -o {tmp_path / 'out.jsonl'} & echo $!; wait $!"
    process = subprocess.Popen(["bash", "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = int(process.stdout.readline())
    assert wait_for(lambda: list(tmp_path.glob(".out.jsonl.*.partial")))
    os.kill(pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Stopped" in stderr
    assert not list(tmp_path.glob("*out.jsonl*"))


@pytest.mark.parametrize("command", ["triage --version >&-", "triage --help > /dev/full", "triage batch --help >&-",
                                     "triage questions >&-", "triage rules list > /dev/full"])
def test_every_command_that_cannot_deliver_its_output_exits_3_without_a_traceback(command):
    result = shell(command)
    assert result.returncode == 3 and "Traceback" not in result.stderr and "Error: standard output" in result.stderr


@pytest.mark.parametrize("command", ["rules list", "questions"])
def test_a_reader_that_stops_early_gives_the_sigpipe_status_not_invalid_input(command):
    # `true` reads nothing and exits at once, long before triage has started: every write fails.
    result = shell(f"triage {command} | true; exit ${{PIPESTATUS[0]}}")
    assert result.returncode == 141 and "Traceback" not in result.stderr
