"""The knowledge-base package: each check is written once, and the names users import stay.

Checks used to live in three places (triage/knowledge.py, triage/checks.py and the
compiler's strata), and "document ... is not in sources/" was written twice, once for
loading and once for the quote check. These tests keep them in one place each.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import triage
import triage.knowledge
from triage.knowledge.checks import rule_quote_problems

PACKAGE = Path(triage.__file__).resolve().parent
KNOWLEDGE = PACKAGE / "knowledge"

# Phrases that other checks share on purpose: the same wording for the same kind of
# mistake, wherever it is made (a case's answers, a vignette file, a hazard warning).
SHARED_WORDING = {
    "(did you mean": "the suggestion for a misspelt name, as case validation words it",
    "is not a valid answer; expected": "an operand that no answer can take, worded as an invalid answer in a case",
    ": id: duplicate": "a duplicate id, worded as a duplicate vignette id",
    "questions.yaml: question": "where a question is written; hazard warnings name it the same way",
}


def _functions(path: Path):
    """The top-level functions and methods of a module, each with every string in it (nested functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        for function in members:
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                strings = [n.value for n in ast.walk(function) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                yield f"{path.relative_to(PACKAGE.parent)}:{function.name}", strings


def _messages(path: Path):
    """The distinctive words of each formatted message in a module: the longest literal part of each f-string."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            parts = [p.value.strip() for p in node.values if isinstance(p, ast.Constant)]
            if parts and len(max(parts, key=len)) >= 12:
                yield max(parts, key=len)


def test_each_knowledge_base_problem_is_worded_in_one_function():
    functions = dict(item for module in sorted(PACKAGE.rglob("*.py")) for item in _functions(module))
    messages = {message for module in sorted(KNOWLEDGE.glob("*.py")) for message in _messages(module)}
    assert "is not in sources/" in messages and "its facts depend on themselves" in " ".join(messages)
    written_twice = {}
    for message in sorted(messages - set(SHARED_WORDING)):
        owners = [name for name, strings in functions.items() if any(message in s for s in strings)]
        assert owners, message
        if len(owners) > 1:
            written_twice[message] = owners
    assert written_twice == {}


def test_the_checks_that_lived_elsewhere_are_the_package_s_own():
    from triage import compiler
    from triage.knowledge import checks

    assert compiler.strata is checks.strata  # the compiler orders rules with the check's strata, not a copy
    assert not (PACKAGE / "checks.py").exists() and not (PACKAGE / "knowledge.py").exists()


def test_a_missing_or_unreadable_document_reads_the_same_when_loading_and_when_checking_quotes(kb_copy):
    kb = triage.load_knowledge_base(kb_copy)
    rule = kb.rule_by_id["doc_night_cramps"]
    document = kb_copy / "sources" / rule.spec.sources[0].document
    original = document.read_bytes()

    document.unlink()  # gone after loading: the quote check says what loading would
    with pytest.raises(triage.KnowledgeBaseError) as loading:
        triage.load_knowledge_base(kb_copy)
    from_quotes = rule_quote_problems(kb, rule)
    assert from_quotes and all("is not in sources/" in p for p in from_quotes)
    assert set(from_quotes) <= set(loading.value.problems)

    document.write_bytes(b"\xff\xfe" + original.decode("utf-8").encode("utf-16-le"))  # not UTF-8 any more
    with pytest.raises(triage.KnowledgeBaseError) as loading:
        triage.load_knowledge_base(kb_copy)
    from_quotes = rule_quote_problems(kb, rule)  # a problem of the rule, not an exception
    assert from_quotes and all("save it as UTF-8" in p and "doc_night_cramps" in p for p in from_quotes)
    assert set(from_quotes) <= set(loading.value.problems)


def test_every_name_triage_knowledge_gave_before_the_package_is_still_given():
    before = {
        "ID_PATTERN", "Advice", "AdviceFile", "Cause", "CauseFile", "Examples", "KnowledgeBase", "Manifest",
        "PackInfo", "RedFlagSpec", "Rule", "RuleFile", "RuleSpec", "Source", "Then", "check_references",
        "default_path", "load_knowledge_base", "read_yaml",
    }
    assert before <= set(triage.knowledge.__all__)
    assert all(hasattr(triage.knowledge, name) for name in triage.knowledge.__all__)
    # Found from inside the package too: shipped in the wheel (triage/rules) or beside it in the source tree.
    assert triage.knowledge.default_path() in (PACKAGE / "rules", PACKAGE.parent / "rules")
    assert triage.load_knowledge_base is triage.knowledge.load_knowledge_base


def test_no_module_of_the_package_is_over_400_lines():
    # The whole package, not only knowledge/: a module should read in one sitting.
    sizes = {str(module.relative_to(PACKAGE)): len(module.read_text(encoding="utf-8").splitlines())
             for module in PACKAGE.rglob("*.py")}
    assert {"knowledge/models.py", "knowledge/base.py", "knowledge/load.py", "knowledge/checks.py",
            "knowledge/verify.py", "parallel.py", "inputs.py"} <= set(sizes)
    assert {name: size for name, size in sizes.items() if size > 400} == {}
