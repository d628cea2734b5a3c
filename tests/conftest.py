"""Shared fixtures: the shipped knowledge base, one engine, paths to the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import triage
from triage.knowledge import default_path

REPO = Path(__file__).resolve().parent.parent
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
