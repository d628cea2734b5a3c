"""Fail closed: a knowledge base that fails `triage rules check` is refused by every command; duplicate keys too."""

from __future__ import annotations

import json
import os
import re

import pytest
from click.testing import CliRunner

import triage
from triage import checked
from triage.checked import cache_entry, load_checked_knowledge_base
from triage.cli import main
from conftest import EXAMPLES

CASE = str(EXAMPLES / "cases" / "night_cramps_third_trimester.json")
VIGNETTES = str(EXAMPLES / "vignettes")

COMMANDS = [
    ["assess", CASE],
    ["batch", str(EXAMPLES / "batch" / "valid")],
    ["audit", VIGNETTES],
    ["questions"],
    ["rules", "list"],
    ["schema", "case"],
    ["ask"],
    ["rules", "diff", str(triage.load_knowledge_base().path)],  # NEW_DIR: the one in use
]


def break_a_quote(rules) -> None:
    """The 'quote not in its document' that loaded silently before: only the full check finds it."""
    path = rules / "documents" / "cramps.yaml"
    text = path.read_text()
    quote = "Other factors blamed for leg cramps during pregnancy"
    assert quote in text
    path.write_text(text.replace(quote, "Other factors blamed by the moon for leg cramps during pregnancy", 1))


def repeat_a_key(rules) -> int:
    """Give the pulmonary-embolism rule a second, lower urgency; return the line of the repeat."""
    path = rules / "safety" / "clots.yaml"
    lines = path.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip() == "urgency: emergency")
    lines.insert(first + 1, lines[first].replace("emergency", "routine"))
    path.write_text("".join(lines))
    return first + 2


@pytest.mark.parametrize("how", ["--rules", "TRIAGE_RULES"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_refuses_a_knowledge_base_that_fails_the_check(kb_copy, command, how):
    break_a_quote(kb_copy)
    args, env = (["--rules", str(kb_copy), *command], {}) if how == "--rules" else (command, {"TRIAGE_RULES": str(kb_copy)})
    result = CliRunner().invoke(main, args, env=env, input="")
    assert result.exit_code == 1, result.output
    assert "problem in the knowledge base" in result.output and "quote not found" in result.output
    assert "rule doc_cramps_low_calcium" in result.output and "Traceback" not in result.output


def test_duplicate_keys_are_refused_naming_file_line_and_key(kb_copy):
    line = repeat_a_key(kb_copy)
    check = CliRunner().invoke(main, ["rules", "check", str(kb_copy)])
    assert check.exit_code == 1
    assert f"clots.yaml, line {line}: field 'urgency': given more than once (first at line {line - 1})" in check.output
    assessed = CliRunner().invoke(main, ["--rules", str(kb_copy), "assess", CASE])
    assert assessed.exit_code == 1 and "field 'urgency': given more than once" in assessed.output


@pytest.mark.parametrize("name", ["kb.yaml", "questions.yaml", "catalogue/causes.yaml", "catalogue/advice.yaml"])
def test_duplicate_keys_are_refused_in_every_knowledge_base_file(kb_copy, name):
    path = kb_copy / name
    text = path.read_text()
    if name == "kb.yaml":
        path.write_text(text + "name: another-name\n")
    else:  # the first item of the list gets a second id, at its own indentation
        first = re.search(r"^( *)- id: .*$", text, flags=re.M)
        path.write_text(text[: first.end()] + "\n" + " " * (len(first.group(1)) + 2) + "id: another_id" + text[first.end():])
    with pytest.raises(triage.KnowledgeBaseError) as error:
        triage.load_knowledge_base(kb_copy)
    assert "given more than once" in str(error.value) and name.split("/")[-1] in str(error.value)


def test_a_document_outside_sources_is_refused(kb_copy):
    path = kb_copy / "documents" / "cramps.yaml"
    path.write_text(path.read_text().replace("document: 004_10d097bce40b5dc0.txt", "document: ../kb.yaml", 1))
    result = CliRunner().invoke(main, ["rules", "check", str(kb_copy)])
    assert result.exit_code == 1 and "must be a file name in sources/" in result.output


def test_a_pass_is_cached_by_digest_and_an_edit_is_checked_again(kb_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kb = load_checked_knowledge_base(kb_copy)
    entry = cache_entry(kb)
    assert entry.parent == tmp_path / "cache" / "triage" / "checked"
    assert json.loads(entry.read_text())["sha256"] == kb.sha256
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # written atomically: no temporary left

    def must_not_run(kb):
        raise AssertionError("the check ran again although it passed for this content")

    import triage.knowledge.verify

    monkeypatch.setattr(triage.knowledge.verify, "loaded_knowledge_base_problems", must_not_run)
    load_checked_knowledge_base(kb_copy)  # a cache hit
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    break_a_quote(kb_copy)  # new content, new digest: checked again, and refused
    with pytest.raises(triage.KnowledgeBaseError, match="quote not found"):
        load_checked_knowledge_base(kb_copy)


def test_a_forged_or_stale_cache_entry_is_not_trusted(kb_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    break_a_quote(kb_copy)
    kb = triage.load_knowledge_base(kb_copy)
    entry = cache_entry(kb)
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps({"sha256": "0" * 64, "packs": list(kb.packs)}))  # names other content
    with pytest.raises(triage.KnowledgeBaseError):
        load_checked_knowledge_base(kb_copy)


def test_an_unwritable_cache_only_means_checking_every_time(kb_copy, tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert load_checked_knowledge_base(kb_copy).sha256
    break_a_quote(kb_copy)
    with pytest.raises(triage.KnowledgeBaseError):
        load_checked_knowledge_base(kb_copy)


def test_a_relative_cache_home_is_ignored_as_the_xdg_spec_says(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert checked.cache_dir() == tmp_path / ".cache" / "triage" / "checked"
    assert os.path.isabs(checked.cache_dir())


def test_vignettes_and_case_files_refuse_duplicate_keys_too(tmp_path):
    vignette = tmp_path / "v.yaml"
    vignette.write_text("- id: a\n  expected_urgency: urgent\n  expected_urgency: self_care\n  one_leg_swollen: true\n")
    result = CliRunner().invoke(main, ["audit", str(vignette)])
    assert result.exit_code == 1 and "field 'expected_urgency': given more than once" in result.output
    against = CliRunner().invoke(main, ["audit", str(vignette), "--against", str(triage.load_knowledge_base().path)])
    assert against.exit_code == 1 and "given more than once" in against.output
    # A bad JSONL line is named as such too, never "a case must be a mapping, not CaseError".
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"leg_cramps": true}\n{"fever": true, "fever": false}\n')
    against = CliRunner().invoke(main, ["audit", str(lines), "--against", str(triage.load_knowledge_base().path)])
    assert against.exit_code == 1 and f"{lines}:2" in against.output and "given more than once" in against.output
    assert "not CaseError" not in against.output


def test_new_code_or_libraries_mean_a_new_cache_entry(kb, monkeypatch):
    before = cache_entry(kb)
    assert cache_entry(kb) == before  # stable for the same code
    monkeypatch.setattr(checked, "_code_signature", lambda: "another version of triage")
    assert cache_entry(kb) != before


@pytest.mark.parametrize("name", [".extra.yaml", "__extra.yaml"])
def test_a_hidden_rule_file_is_refused_not_read_beside_the_digest(kb_copy, name):
    # A hidden file is outside the digest: read, it could lower an urgency while the digest
    # (and a cached check) still named the reviewed rules (hostile trial, issue 10).
    before = triage.load_knowledge_base(kb_copy).sha256
    (kb_copy / "core" / name).write_text(
        "rules:\n  - id: stage_extra\n    title: x\n    when: {field: severe_headache_or_vision, equals: true}\n"
        "    then: {derive: [before_20_weeks]}\n    sources: [{reference: x}]\n")
    with pytest.raises(triage.KnowledgeBaseError, match="hidden rule file"):
        triage.load_knowledge_base(kb_copy)
    result = CliRunner().invoke(main, ["--rules", str(kb_copy), "assess", CASE])
    assert result.exit_code == 1 and "hidden rule file" in result.output
    (kb_copy / "core" / name).unlink()
    assert triage.load_knowledge_base(kb_copy).sha256 == before


def test_a_fifo_in_a_pack_is_refused_not_waited_on(kb_copy):
    os.mkfifo(kb_copy / "safety" / "zz.yaml")
    with pytest.raises(triage.KnowledgeBaseError, match="not a regular file"):
        triage.load_knowledge_base(kb_copy)


def link_a_pack(rules, elsewhere, pack: str = "documents") -> None:
    """Move a pack out of the knowledge base and link its directory back in (hostile trial, finding 1)."""
    (rules / pack).rename(elsewhere)
    (rules / pack).symlink_to(elsewhere, target_is_directory=True)


def test_a_linked_pack_is_in_the_digest_so_an_edit_to_it_is_checked_again(kb_copy, tmp_path, kb):
    link_a_pack(kb_copy, tmp_path / "shared_documents")
    assert load_checked_knowledge_base(kb_copy).sha256 == kb.sha256  # linked or copied: the same content
    assert CliRunner().invoke(main, ["--rules", str(kb_copy), "assess", CASE]).exit_code == 0  # checked, cached
    break_a_quote(kb_copy)  # through the link
    assert triage.load_knowledge_base(kb_copy).sha256 != kb.sha256
    result = CliRunner().invoke(main, ["--rules", str(kb_copy), "assess", CASE])
    assert result.exit_code == 1 and "quote not found" in result.output, result.output


def test_a_linked_pack_reaches_worker_processes_whole(kb_copy, tmp_path):
    from triage.workers import RuleData

    link_a_pack(kb_copy, tmp_path / "shared_safety", "safety")
    kb = triage.load_knowledge_base(kb_copy)
    copied = RuleData.of(kb).load()
    assert copied.sha256 == kb.sha256 and [r.id for r in copied.rules] == [r.id for r in kb.rules]


def test_a_link_back_into_the_knowledge_base_is_refused_not_followed_for_ever(kb_copy):
    (kb_copy / "safety" / "again").symlink_to(kb_copy, target_is_directory=True)
    with pytest.raises(triage.KnowledgeBaseError, match="safety/again: a symbolic link to a directory that contains it"):
        triage.load_knowledge_base(kb_copy)


@pytest.mark.parametrize(("name", "says"), [
    ("safety/extra.yml", "rename it to extra.yaml"),
    ("safety/extra.YAML", "rename it to extra.yaml"),
    ("safety/Extra.Yaml", "rename it to Extra.yaml"),
    ("safety/old/extra.yaml", "a YAML file in a subdirectory of pack 'safety' is not read"),
])
def test_a_rule_file_the_loader_would_ignore_is_refused(kb_copy, name, says):
    # Counted in the digest but never read: its rules would silently not apply.
    (kb_copy / name).parent.mkdir(exist_ok=True)
    (kb_copy / name).write_text("rules: []\n")
    with pytest.raises(triage.KnowledgeBaseError, match=re.escape(f"{name}: ")) as refused:
        triage.load_knowledge_base(kb_copy)
    assert says in str(refused.value)
    result = CliRunner().invoke(main, ["--rules", str(kb_copy), "rules", "check"])
    assert result.exit_code == 1 and name in result.output


def test_notes_beside_the_rules_stay_allowed(kb_copy, kb):
    (kb_copy / "safety" / "README.txt").write_text("notes for reviewers\n")
    (kb_copy / "safety" / "drafts").mkdir()
    (kb_copy / "safety" / "drafts" / "ideas.md").write_text("not rules\n")
    loaded = triage.load_knowledge_base(kb_copy)
    assert loaded.sha256 != kb.sha256 and [r.id for r in loaded.rules] == [r.id for r in kb.rules]
    assert (kb_copy / "documents" / "NOT_ENCODED.md").is_file()


def test_a_new_rule_whose_examples_are_out_of_scope_fails_the_check(kb_copy):
    # A question the scope rule does not list: its rule fires beside "not covered by this tool" (finding 5).
    questions = kb_copy / "questions.yaml"
    new = "  - id: itchy_skin\n    text: Is your skin very itchy?\n    help: On the hands or feet.\n    type: boolean\n"
    questions.write_text(questions.read_text().replace("\ngroups:", "\n" + new + "\ngroups:", 1))
    (kb_copy / "safety" / "skin.yaml").write_text(
        "rules:\n  - id: safety_itchy_skin\n    title: Very itchy skin\n    when: {field: itchy_skin, equals: true}\n"
        "    then: {urgency: urgent}\n    sources: [{reference: a test}]\n"
        "    examples: {fires: [{itchy_skin: true}, {itchy_skin: true, leg_cramps: true}], does_not_fire: [{}]}\n")
    result = CliRunner().invoke(main, ["rules", "check", str(kb_copy)])
    assert result.exit_code == 1, result.output
    assert ("safety/skin.yaml: rule safety_itchy_skin: examples.fires[1]: {'itchy_skin': True} also fires "
            "scope_out_of_scope") in result.output
    assert "add the fields this rule acts on (itchy_skin) to the list in core/scope.yaml" in result.output
    assert "examples.fires[2]" not in result.output  # with leg cramps the answers are in scope
    with pytest.raises(triage.KnowledgeBaseError, match="also fires scope_out_of_scope"):
        load_checked_knowledge_base(kb_copy)
    scope = kb_copy / "core" / "scope.yaml"
    scope.write_text(scope.read_text().replace("            - {field: lower_back_pain, equals: true}\n",
                                               "            - {field: lower_back_pain, equals: true}\n"
                                               "            - {field: itchy_skin, equals: true}\n", 1))
    assert CliRunner().invoke(main, ["rules", "check", str(kb_copy)]).exit_code == 0
