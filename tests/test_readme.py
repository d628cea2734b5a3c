"""The README's commands and code run as written, so the documentation cannot rot."""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys

import pytest

from conftest import REPO

README = (REPO / "README.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


TRIAGE_COMMANDS = [
    line.strip()
    for block in blocks("sh")
    for line in block.splitlines()
    if line.strip().startswith("triage ")
]


def test_the_readme_has_commands_to_test():
    assert len(TRIAGE_COMMANDS) >= 5


@pytest.mark.parametrize("command", TRIAGE_COMMANDS)
def test_readme_triage_command_runs(command):
    # `python -m triage` is the same entry point as the console script.
    # Words with a * are expanded as the shell would (sorted; a pattern matching nothing stays).
    words = [match for word in shlex.split(command)[1:] for match in (sorted(glob.glob(word, root_dir=REPO)) or [word])]
    args = [sys.executable, "-m", "triage", *words]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("code", blocks("python"))
def test_readme_python_block_runs(code):
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "self_care" in result.stdout


def test_readme_test_command_is_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && python -m pytest -q -n auto' in README
    assert '".[test]"' in ci and "-m pytest -q -n auto" in ci
    assert "ruff check ." in README and 'ruff" check .' in ci and ci.index("ruff") < ci.index("-m pytest")
