"""Provenance: the knowledge base's sha256 digest, in every assessment and report, and in --version."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

import triage
from triage.cli import main
from triage.provenance import knowledge_base_digest, knowledge_base_files
from conftest import EXAMPLES

CASE = str(EXAMPLES / "cases" / "night_cramps_third_trimester.json")


def test_the_digest_is_of_the_content_not_of_the_place(kb_copy, kb):
    assert knowledge_base_digest(kb_copy) == knowledge_base_digest(kb.path) == kb.sha256
    assert len(kb.sha256) == 64 and int(kb.sha256, 16) >= 0


@pytest.mark.parametrize("name", ["safety/clots.yaml", "questions.yaml", "catalogue/advice.yaml", "catalogue/causes.yaml",
                                  "sources/004_10d097bce40b5dc0.txt", "kb.yaml", "documents/NOT_ENCODED.md"])
def test_any_change_to_any_file_changes_the_digest(kb_copy, name):
    before = knowledge_base_digest(kb_copy)
    path = kb_copy / name
    path.write_bytes(path.read_bytes() + b"\n# one more line\n")
    assert knowledge_base_digest(kb_copy) != before


def test_a_new_or_renamed_file_changes_the_digest(kb_copy):
    before = knowledge_base_digest(kb_copy)
    (kb_copy / "safety" / "clots.yaml").rename(kb_copy / "safety" / "clots2.yaml")
    renamed = knowledge_base_digest(kb_copy)
    (kb_copy / "safety" / "extra.yaml").write_text("rules: []\n")
    assert len({before, renamed, knowledge_base_digest(kb_copy)}) == 3


def test_line_endings_hidden_files_and_file_system_order_do_not_change_it(kb_copy, tmp_path):
    before = knowledge_base_digest(kb_copy)
    for _, path in knowledge_base_files(kb_copy):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a Windows checkout
    (kb_copy / ".rules.yaml.swp").write_bytes(b"editor swap file")
    (kb_copy / "__pycache__").mkdir()
    (kb_copy / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert knowledge_base_digest(kb_copy) == before
    # The same files created in the opposite order (so listed in another order by the file system).
    reversed_copy = tmp_path / "reversed"
    for name, path in reversed(knowledge_base_files(kb_copy)):
        (reversed_copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, reversed_copy / name)
    assert knowledge_base_digest(reversed_copy) == before


def test_every_output_names_the_digest(kb):
    runner = CliRunner()
    assessed = json.loads(runner.invoke(main, ["assess", "--format", "json", CASE]).output)
    assert assessed["knowledge_base"]["sha256"] == kb.sha256
    fhir = json.loads(runner.invoke(main, ["assess", "--format", "fhir", CASE]).output)
    assert kb.sha256 in fhir["method"]["text"]
    explained = runner.invoke(main, ["assess", "--explain", CASE]).output
    assert f"sha256 {kb.sha256}" in explained
    batch = runner.invoke(main, ["batch", "--full", "--workers", "1", "-q", str(EXAMPLES / "batch" / "valid")]).output
    records = [json.loads(line) for line in batch.splitlines()]
    assert records and {r["assessment"]["knowledge_base"]["sha256"] for r in records} == {kb.sha256}
    audited = runner.invoke(main, ["audit", "--format", "json", str(EXAMPLES / "vignettes")]).output
    assert json.loads(audited)["knowledge_base"]["sha256"] == kb.sha256
    assert f"sha256 {kb.sha256}" in runner.invoke(main, ["audit", str(EXAMPLES / "vignettes")]).output


def test_worker_processes_report_the_same_digest(kb):
    records = CliRunner().invoke(main, ["batch", "--full", "--workers", "2", "-q", str(EXAMPLES / "batch" / "valid")]).output
    assert {json.loads(line)["assessment"]["knowledge_base"]["sha256"] for line in records.splitlines()} == {kb.sha256}


def test_version_names_the_knowledge_base_given_with_rules_or_the_environment(kb_copy):
    manifest = kb_copy / "kb.yaml"
    manifest.write_text(re.sub(r"^version: .*$", "version: 7.7.7", manifest.read_text(), flags=re.M))
    for args, env in ((["--rules", str(kb_copy), "--version"], {}), (["--version", "--rules", str(kb_copy)], {}),
                      (["--version"], {"TRIAGE_RULES": str(kb_copy)})):
        lines = CliRunner().invoke(main, args, env=env).output.splitlines()
        assert lines[0] == f"triage {triage.__version__}"
        assert lines[1].startswith("knowledge base pregnancy-pain-triage 7.7.7")
        assert lines[2] == f"sha256 {knowledge_base_digest(kb_copy)}"
