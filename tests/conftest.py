"""Shared fixtures: the shipped knowledge base, one engine, paths to the repository."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import triage
from triage.knowledge import default_path

REPO = Path(__file__).resolve().parent.parent

# The knowledge-base check cache (triage.checked) goes to a private directory for the
# run, never to the user's own cache; commands run by tests in subprocesses inherit it.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="triage-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def kb():
    return triage.load_knowledge_base()


@pytest.fixture(scope="session")
def engine(kb):
    return triage.Engine(kb)


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A writable copy of the shipped knowledge base, to break on purpose."""
    target = tmp_path / "rules"
    shutil.copytree(default_path(), target)
    return target
