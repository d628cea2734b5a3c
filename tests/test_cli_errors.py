"""Every command's errors become one documented exit status, in one place: the command group."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

import triage
from triage.cli import app, main
from conftest import EXAMPLES, REPO

# Each of triage's errors and the status its documentation promises.
PROMISED = [
    (triage.TriageError, 1),
    (triage.KnowledgeBaseError, 1),
    (triage.CaseError, 1),
    (triage.AnswerError, 1),
    (triage.OutputError, 3),
    (triage.WorkerError, 4),
]


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    """Every command under ``group``, as (its words on the command line, the command): new ones included."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(leaf_commands(main))


def make(kind: type[triage.TriageError]) -> triage.TriageError:
    if kind is triage.KnowledgeBaseError:
        return kind(["rules/x.yaml: rule 'r': field 'when': broken on purpose"])
    if kind is triage.CaseError:
        return kind(["field 'fever': broken on purpose"], source="case.json")
    return kind("broken on purpose")


def test_the_commands_found_are_the_ones_the_readme_documents():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"assess", "ask", "batch", "audit", "rules list", "rules check"} <= names


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
@pytest.mark.parametrize("kind, status", PROMISED, ids=[k.__name__ for k, _ in PROMISED])
def test_every_command_maps_every_error_to_its_exit_status(monkeypatch, path, command, kind, status):
    error = make(kind)

    def fails(*args, **kwargs):
        raise error

    # The command's own body and arguments are replaced: what is tested is that
    # whatever it raises reaches the group's mapping, whichever command it is.
    monkeypatch.setattr(command, "callback", fails)
    monkeypatch.setattr(command, "params", [])
    result = CliRunner().invoke(main, list(path))
    assert result.exit_code == status, result.output
    assert f"Error: {error}" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_the_statuses_are_distinct_where_they_mean_different_things():
    assert len({app.EXIT_INVALID, app.EXIT_USAGE, app.EXIT_OUTPUT, app.EXIT_WORKER, app.EXIT_INTERRUPTED}) == 5
    assert app.exit_status(triage.WorkerError("x")) != app.exit_status(triage.CaseError(["x"]))


def test_only_the_group_turns_errors_into_statuses():
    # A command catching TriageError itself would bypass the mapping.
    for module in sorted((REPO / "triage" / "cli").glob("*.py")):
        if module.name != "app.py":
            assert "except TriageError" not in module.read_text() and "handle_errors" not in module.read_text(), module


def test_help_and_readme_document_every_status():
    help_text = CliRunner().invoke(main, ["--help"]).output
    readme = (REPO / "README.md").read_text()
    for status in (app.EXIT_INVALID, app.EXIT_USAGE, app.EXIT_OUTPUT, app.EXIT_WORKER, app.EXIT_INTERRUPTED):
        assert re.search(rf"^\s+{status}\s+\w", help_text, re.MULTILINE), status
        assert f"| {status} |" in readme, status


# End to end: real failures, real commands.

def test_an_output_file_that_cannot_be_written_exits_3(tmp_path):
    target = tmp_path / "missing-directory" / "answers.json"
    case = str(EXAMPLES / "cases" / "night_cramps_third_trimester.json")
    result = CliRunner().invoke(main, ["batch", case, "-q", "-o", str(target)])
    assert result.exit_code == 3, result.output
    assert f"{target}: cannot write the output file" in result.stderr and not target.exists()


def test_a_worker_process_that_dies_exits_4_and_leaves_no_output(tmp_path, monkeypatch):
    # Worker processes that die as they start (as when killed, or out of memory):
    # the pool breaks, for real, in the middle of a batch of several chunks.
    def dying_pool(workers, work):
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=os._exit, initargs=(1,))

    monkeypatch.setattr("triage.parallel._process_pool", dying_pool)
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"leg_cramps": true}\n' * 600)
    output = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(cases), "--workers", "2", "-q", "-o", str(output)])
    assert result.exit_code == 4, result.output
    assert "a worker process stopped unexpectedly" in result.stderr
    assert not output.exists() and list(tmp_path.iterdir()) == [cases]


def test_dask_missing_is_a_worker_failure_not_an_invalid_case(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    case = str(EXAMPLES / "cases" / "night_cramps_third_trimester.json")
    result = CliRunner().invoke(main, ["batch", case, "--dask", "tcp://127.0.0.1:1"])
    assert result.exit_code == 4 and 'pip install "triage[dask]"' in result.stderr


def test_a_dask_task_lost_with_its_worker_is_a_worker_failure(monkeypatch):
    from distributed import KilledWorker

    from triage import parallel
    from triage.workers import fire_chunk

    class LostTask:  # a Dask future whose worker was killed every time it ran the task
        def result(self):
            raise KilledWorker("chunk", SimpleNamespace(address="tcp://127.0.0.1:9"), 3)

    class LostCluster:  # the part of a Dask client run_chunks uses
        def scatter(self, data, **kwargs):
            return data

        def nthreads(self):
            return {"tcp://127.0.0.1:9": 1}

        def submit(self, *args, **kwargs):
            return LostTask()

    rules = parallel.RuleData.of(triage.load_knowledge_base())
    entries = parallel._case_entries([{"fever": True}] * 3)
    with pytest.raises(triage.WorkerError, match="KilledWorker"):
        list(parallel.run_chunks(entries, rules, fire_chunk, client=LostCluster(), chunk_size=1))


def test_workers_that_fail_as_they_start_are_a_worker_error_not_a_broken_pipe(tmp_path):
    # A worker process that fails while starting breaks the pipe it is started
    # through (here: a script without a main guard, with the check that notices
    # it switched off). That BrokenPipeError must not pass for a closed output.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import triage\n"
        "import triage.parallel\n"
        "triage.parallel.processes_may_start = lambda: True\n"
        "try:\n"
        "    list(triage.assess_many([{'leg_cramps': True}] * 600, workers=2))\n"
        "except triage.WorkerError as error:\n"
        "    print('WorkerError:', error)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("WorkerError: a worker process stopped unexpectedly")
